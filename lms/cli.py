"""The ``relais`` command line (also ``flask --app lms``): thin commands over services."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from lms.core.cli import commit_or_fail, fail
from lms.extensions import db


def main() -> None:
    """Entry point of the ``relais`` console script."""
    from lms import create_app

    cli = FlaskGroup(create_app=lambda: create_app(), add_default_commands=True,
                     help="Relais: blended social-media training with xAPI at its core.")
    cli.main(prog_name="relais")


def upgrade_database() -> None:
    """Apply every pending migration."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database and load the built-in content."""
    upgrade_database()
    from lms.content import load_builtin_content

    for line in load_builtin_content():
        click.echo(line)
    db.session.commit()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("create-org")
@click.option("--slug", required=True, help="Short name used in URLs, e.g. acme.")
@click.option("--name", required=True, help="The company's name.")
@with_appcontext
def create_org_command(slug: str, name: str) -> None:
    """Create an organization."""
    from lms.accounts.services import create_organization

    org = commit_or_fail(lambda: create_organization(slug=slug, name=name))
    click.echo(f"Created organization {org.slug} ({org.name}).")


@click.command("create-user")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["learner", "trainer", "hr", "admin"]))
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--password", default=None,
              help="Set a password now; without one an invitation link is printed.")
@with_appcontext
def create_user_command(org_slug: str, email: str, role: str, display_name: str | None,
                        password: str | None) -> None:
    """Add a person to an organization (creating their account if needed)."""
    from lms.accounts import services
    from lms.accounts.models import Organization

    org = db.session.scalar(db.select(Organization).where(Organization.slug == org_slug))
    if org is None:
        fail(f"no organization with slug {org_slug!r}")

    def action() -> tuple[Any, str | None]:
        result = services.provision_member(organization=org, email=email, role=role,
                                           display_name=display_name)
        raw = None
        if password is not None:
            services.set_password(result.membership.user, password)
        elif result.membership.user.password_hash is None:
            _invitation, raw = services.invite_existing(membership=result.membership)
        return result, raw

    result, raw = commit_or_fail(action)
    verb = "Added" if result.created else "Updated"
    click.echo(f"{verb} {result.membership.user.email} as {role} in {org_slug}.")
    if raw:
        click.echo(f"Invitation link (send it to them): {services.invitation_url(raw)}")


@click.command("token")
@click.option("--email", required=True)
@click.option("--name", default="CLI token", help="What the token is for.")
@with_appcontext
def token_command(email: str, name: str) -> None:
    """Print a new personal API token for a user."""
    from lms.accounts import services

    user = services.find_user(email)
    if user is None:
        fail(f"no user with e-mail {email}")
    if not user.active:
        fail(f"the account {user.email} is disabled: its tokens would not work")
    _token, raw = commit_or_fail(lambda: services.issue_api_token(user=user, name=name))
    click.echo(raw)


def serve_app(app: Flask, host: str, port: int) -> None:
    """Serve ``app`` with gunicorn (Linux) or Waitress until interrupted, with the job runner."""
    from lms.serving import serve

    serve(app, host, port)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve Relais with a production WSGI server (gunicorn, or Waitress)."""
    click.echo(f"Relais on http://{host}:{port}/ (Ctrl+C to stop)")
    serve_app(current_app._get_current_object(), host, port)  # type: ignore[attr-defined]


# The banner lists this many learners; ``--all-logins`` lists every one.
DEMO_LEARNERS_SHOWN = 3


@contextmanager
def _quiet_logs(quiet: bool) -> Iterator[None]:
    """Silence INFO logs (Alembic's "Running upgrade" lines) for the block when ``quiet``."""
    if not quiet:
        yield
        return
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--reset", is_flag=True, help="Delete the demo organization and create it anew.")
@click.option("--no-serve", is_flag=True, help="Load the demo data and exit.")
@click.option("--all-logins", is_flag=True, help="List every demo account, not only three "
              "learners.")
@click.option("--verbose", is_flag=True, help="Also print the migrations' and the server's "
              "logs.")
@with_appcontext
def demo_command(port: int, reset: bool, no_serve: bool, all_logins: bool,
                 verbose: bool) -> None:
    """Create the database, load the demo organization and serve it on 127.0.0.1."""
    from lms.content import load_builtin_content
    from lms.demo import DEMO_PASSWORD, load_demo

    with _quiet_logs(not verbose):
        upgrade_database()
        load_builtin_content()
        logins = load_demo(reset=reset)
        db.session.commit()
    staff = [pair for pair in logins if pair[0] != "learner"]
    learners = [pair for pair in logins if pair[0] == "learner"]
    shown = staff + (learners if all_logins else learners[:DEMO_LEARNERS_SHOWN])
    url = f"http://127.0.0.1:{port}/"
    click.secho("Relais demo is ready.", bold=True)
    click.echo(f"  URL:      {url}")
    click.echo(f"  Password: {DEMO_PASSWORD} (for every account below)")
    for role, email in shown:
        click.echo(f"  {role:<9} {email}")
    hidden = len(logins) - len(shown)
    if hidden:
        click.echo(f"  …         and {hidden} more learners: `relais demo --no-serve "
                   "--all-logins` lists every account")
    click.echo(f"  Language: the demo accounts read French; for English, open {url}account "
               "(Votre compte) and set Langue.")
    if no_serve:
        return
    click.echo("Serving until Ctrl+C (`relais demo --verbose` also prints the server's logs).")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not verbose:
        # The banner stays the last thing on screen: only warnings and errors are logged.
        app.config["LOG_LEVEL"] = "WARNING"
    serve_app(app, "127.0.0.1", port)


COMMANDS = [init_command, create_org_command, create_user_command, token_command,
            serve_command, demo_command]


def init_app(app: Flask) -> None:
    """Register the commands on ``app.cli``."""
    for command in COMMANDS:
        app.cli.add_command(command)
