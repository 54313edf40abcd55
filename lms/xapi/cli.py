"""xAPI commands: LRS credentials."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.accounts.models import Organization
from lms.core.cli import commit_or_fail, fail
from lms.core.web import absolute_url
from lms.extensions import db


@click.command("lrs-credentials")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
@click.option("--label", default="LRS client", help="What the credentials are for.")
@with_appcontext
def lrs_credentials_command(org_slug: str, label: str) -> None:
    """Print a new key and secret for the organization's LRS (HTTP Basic at /xapi/)."""
    from lms.xapi.services import create_lrs_credentials

    org = db.session.scalar(select(Organization).where(Organization.slug == org_slug))
    if org is None:
        fail(f"no organization with slug {org_slug!r}")
    credential, secret = commit_or_fail(
        lambda: create_lrs_credentials(organization=org, label=label))
    click.echo(f"endpoint: {absolute_url('/xapi/')}")
    click.echo(f"key:      {credential.key}")
    click.echo(f"secret:   {secret}")


@click.command("statement-months")
@click.option("--ahead", default=2, show_default=True,
              help="Months to make after the current one.")
@with_appcontext
def statement_months_command(ahead: int) -> None:
    """PostgreSQL: make the statement store's monthly partitions ahead; list the months."""
    from lms.xapi import partitions

    if not partitions.partitioned():
        click.echo("the statement store is not partitioned (SQLite): nothing to do")
        return
    made = commit_or_fail(lambda: partitions.create_months(ahead))
    for month in partitions.months():
        click.echo(f"{month // 12:04d}-{month % 12 + 1:02d}"
                   + (" (new)" if month in made else ""))


COMMANDS = [lrs_credentials_command, statement_months_command]
