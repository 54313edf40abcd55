"""Commands: ``relais personal-data export|erase --org SLUG --email E`` and
``relais retention --org SLUG [--dry-run]``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy import select

from lms.accounts import audit
from lms.accounts.models import Membership, Organization, User
from lms.extensions import db


def _member(org_slug: str, email: str) -> Membership:
    from lms.core.cli import fail

    org = db.session.scalar(select(Organization).where(Organization.slug == org_slug))
    if org is None:
        fail(f"no organization {org_slug!r}")
    membership = db.session.scalar(select(Membership).join(User).where(
        Membership.organization_id == org.id, User.email == email.strip().lower()))
    if membership is None:
        fail(f"no member {email!r} in {org_slug!r}")
    return membership


@click.group("personal-data")
def personal_data() -> None:
    """A person's data in an organization: export it (GDPR art. 15, 20) or erase it (art. 17)."""


@personal_data.command("export")
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@click.option("--email", required=True, help="The person's e-mail address.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The ZIP file to write.")
def export_command(org_slug: str, email: str, out: Path) -> None:
    """Write the person's data in the organization to a ZIP file."""
    from lms.privacy.export import build_zip

    membership = _member(org_slug, email)
    data = build_zip(membership.user, membership.organization)
    out.write_bytes(data)
    audit.record(action="personal_data.export", actor=None,
                 organization=membership.organization, target=f"membership:{membership.id}",
                 details={"by": "cli"})
    db.session.commit()
    click.echo(f"{out} ({len(data)} bytes)")


@personal_data.command("erase")
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@click.option("--email", required=True, help="The person's e-mail address.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_command(org_slug: str, email: str, yes: bool) -> None:
    """Erase the person from the organization: list what goes and stays, then erase."""
    from lms.core.cli import commit_or_fail
    from lms.privacy import services

    membership = _member(org_slug, email)
    plan = services.erasure_plan(membership)
    click.echo("deleted: " + ", ".join(f"{k}={v}" for k, v in plan.deleted.items()))
    click.echo("kept without identity: " + ", ".join(f"{k}={v}" for k, v in plan.kept.items())
               + ", statements (pseudonymised)")
    if not yes:
        click.confirm(f"Erase {email} from {org_slug}? This cannot be undone", abort=True)
    result = commit_or_fail(lambda: services.erase_member(membership=membership, by=None))
    services.remove_files(result.files)
    click.echo(f"erased: now {result.pseudonym}; "
               + ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items())))


def _cli_language(lang: str | None) -> str:
    """The language of the command's output: ``--lang``, else the shell's ``LANG``, else the
    instance's default.
    """
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    for candidate in (lang, os.environ.get("LANG", "")[:2]):
        if candidate in languages:
            return str(candidate)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


@click.command("retention")
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@click.option("--dry-run", is_flag=True, help="Only count what would go, change nothing.")
@click.option("--lang", default=None, help="Language of the output (fr, en); default: $LANG.")
def retention_command(org_slug: str, dry_run: bool, lang: str | None) -> None:
    """Apply the organization's retention periods; print, per kind, how many records go."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from lms.core.cli import fail
    from lms.privacy import retention
    from lms.privacy.register import period_text

    org = db.session.scalar(select(Organization).where(Organization.slug == org_slug))
    with force_locale(_cli_language(lang)):
        if org is None:
            fail(_("no organization %(slug)s", slug=repr(org_slug)))
        settings = retention.settings_of(org)
        if dry_run:
            counts = retention.plan(org)
            db.session.rollback()
            click.echo(_("Dry run, nothing is changed. Would be deleted or pseudonymised:"))
        else:
            counts = retention.run(organization=org, commit=db.session.commit, source="cli")
            click.echo(_("Deleted or pseudonymised:"))
        for kind in retention.KINDS:
            click.echo(_("  %(kind)s (%(period)s, then %(fate)s): %(count)s", kind=kind.label,
                         period=period_text(kind, retention.period(settings, kind)),
                         fate=kind.fate, count=counts[kind.key]))


COMMANDS = [personal_data, retention_command]
