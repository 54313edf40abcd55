"""``relais scim-token --org SLUG``: issue an organization's SCIM bearer token."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.core.cli import commit_or_fail, fail
from lms.extensions import db


@click.command("scim-token")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
@click.option("--days", default=365, show_default=True, type=click.IntRange(min=0),
              help="Days the token is valid; 0 for no expiry.")
@with_appcontext
def scim_token_command(org_slug: str, days: int) -> None:
    """Issue the organization's SCIM token (earlier ones stop working); prints it once."""
    from lms.accounts.models import Organization
    from lms.identity.services import issue_scim_token

    org = db.session.scalar(db.select(Organization).where(Organization.slug == org_slug))
    if org is None:
        fail(f"no organization with slug {org_slug!r}")
    _token, raw = commit_or_fail(lambda: issue_scim_token(organization=org, days=days or None))
    click.echo(f"SCIM base URL: /scim/v2/{org.slug}")
    click.echo(f"Bearer token:  {raw}")
