"""The accounts commands, and what every package's commands share about accounts: finding the
organization named on the command line.

``relais second-factor-off --email E`` turns off the second factor of someone who lost both
their phone and their recovery codes.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.accounts.models import Organization
from lms.core.cli import commit_or_fail, fail
from lms.extensions import db


def organization_or_fail(slug: str) -> Organization:
    """The organization ``slug``; else an error on stderr and exit status 1."""
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        fail(f"no organization with slug {slug!r}")
    return org


@click.command("second-factor-off")
@click.option("--email", required=True, help="The person's e-mail address.")
@with_appcontext
def second_factor_off_command(email: str) -> None:
    """Turn off a person's second factor (they lost their phone and recovery codes)."""
    from lms.accounts import second_factor, services

    user = services.find_user(email)
    if user is None:
        fail(f"no user with e-mail {email}")
    commit_or_fail(lambda: second_factor.turn_off(user=user, actor=None, address=None))
    click.echo(f"Second factor turned off for {user.email}; they log in with their password "
               "alone (and must set one up again if their organization requires it).")
