"""``relais second-factor-off --email E``: turn off the second factor of someone who lost both
their phone and their recovery codes.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.core.cli import commit_or_fail, fail


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
