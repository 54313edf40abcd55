"""``relais lti rotate-key`` and ``relais lti keys``: the tool's signing keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.core.cli import commit_or_fail
from lms.lti import keys

lti_group = AppGroup("lti", help="LTI 1.3 tool: signing keys.")


@lti_group.command("rotate-key")
@click.option("--grace-days", default=keys.DEFAULT_GRACE_DAYS, show_default=True,
              type=click.IntRange(min=0),
              help="Days the previous key stays published in the JWKS.")
def rotate_key_command(grace_days: int) -> None:
    """Sign with a new key from now on; the previous one stays published for a while."""
    row = commit_or_fail(lambda: keys.rotate(grace_days=grace_days))
    click.echo(f"New signing key: {row.kid}")
    click.echo(f"Previous keys stay published for {grace_days} days.")


@lti_group.command("keys")
def keys_command() -> None:
    """List the published keys (the first one signs)."""
    commit_or_fail(keys.current_key)
    for row in keys.published():
        until = row.published_until.isoformat() if row.published_until else "current"
        click.echo(f"{row.kid}  {until}")
