"""Command: ``relais coaching-due --org SLUG [--coach EMAIL] [--days N]``."""

from __future__ import annotations

import click
from sqlalchemy import select

from lms.accounts.models import Membership, Organization, User
from lms.coaching import queries
from lms.courses.sessions.services import local_zone
from lms.extensions import db


def _title(text: dict[str, str]) -> str:
    return text.get("fr") or text.get("en") or next(iter(text.values()), "")


@click.command("coaching-due")
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@click.option("--coach", "coach_email", help="Only this coach's follow-ups (their e-mail).")
@click.option("--days", type=click.IntRange(0, 365), default=7, show_default=True,
              help="Coming follow-ups within this many days.")
def due_command(org_slug: str, coach_email: str | None, days: int) -> None:
    """List overdue follow-ups (past, not recorded) and those due soon, one per line."""
    from lms.core.cli import fail

    org = db.session.scalar(select(Organization).where(Organization.slug == org_slug))
    if org is None:
        fail(f"no organization {org_slug!r}")
        return
    coach = None
    if coach_email:
        coach = db.session.scalar(select(Membership).join(User).where(
            Membership.organization_id == org.id, User.email == coach_email.strip().lower()))
        if coach is None:
            fail(f"no member {coach_email!r} in {org_slug!r}")
            return
    due = queries.due_followups(org.id, coach=coach, days=days)
    zone = local_zone()
    for item in due:
        f = item.followup
        click.echo("\t".join([
            "overdue" if item.overdue else "due",
            f.scheduled_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            item.learner.user.display_name, _title(f.module.title),
            f.coach.user.display_name if f.coach else "-"]))
    overdue = sum(1 for d in due if d.overdue)
    click.echo(f"{overdue} overdue, {len(due) - overdue} due within {days} days", err=True)


COMMANDS = [due_command]
