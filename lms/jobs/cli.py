"""Commands: ``relais worker``, ``relais jobs-selftest``, ``relais backup``, ``relais restore``."""

from __future__ import annotations

import os
import signal
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.core.web import absolute_url
from lms.extensions import db


@click.command("worker")
@click.option("--concurrency", "-c", type=int, default=None,
              help="Jobs run at once by this worker (default: the number of CPUs).")
@click.option("--pool", type=click.Choice(["prefork", "threads", "solo"]), default="prefork",
              show_default=True, help="Celery execution pool.")
@click.option("--loglevel", default="info", show_default=True)
@click.option("--hostname", "-n", default=None, help="Celery node name (default celery@host).")
@with_appcontext
def worker_command(concurrency: int | None, pool: str, loglevel: str,
                   hostname: str | None) -> None:
    """Run background jobs: a Celery worker with RELAIS_BROKER_URL, else a database poller."""
    from lms import serving
    from lms.jobs.runner import broker_url

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    serving.configure_logging(app)
    if broker_url(app):
        try:
            from lms.jobs.celery_app import run_worker
        except ImportError:
            from lms.core.cli import fail

            fail("RELAIS_BROKER_URL is set but Celery is not installed: "
                 "pip install 'relais[workers]'")
        run_worker(app, concurrency=concurrency or os.cpu_count() or 1, pool=pool,
                   loglevel=loglevel, hostname=hostname)
        return
    _poll_forever(app)


def _poll_forever(app: Any) -> None:
    """Embedded transport in its own process: poll the jobs table until SIGTERM or Ctrl+C."""
    from lms.jobs.runner import start_background

    click.echo("No RELAIS_BROKER_URL: running jobs from the database (Ctrl+C to stop).")
    loop = start_background(app, run_jobs=True)

    def _stop(_signum: int, _frame: Any) -> None:
        loop.stop_event.set()

    signal.signal(signal.SIGTERM, _stop)
    try:
        while loop.is_alive():
            loop.join(0.5)
    except KeyboardInterrupt:
        pass
    loop.stop()


@click.command("jobs-selftest")
@click.option("--org", "org_slug", required=True, help="Organization that owns the job.")
@click.option("--steps", default=20, show_default=True, type=click.IntRange(1, 100000))
@click.option("--seconds", default=0.5, show_default=True, type=click.FloatRange(0, 60),
              help="Duration of each step.")
@with_appcontext
def selftest_command(org_slug: str, steps: int, seconds: float) -> None:
    """Queue a self-test job and print its page: checks that workers run and report progress."""
    from lms.accounts.models import Organization
    from lms.core.cli import commit_or_fail, fail
    from lms.jobs import selftest, services

    org = db.session.scalar(select(Organization).where(Organization.slug == org_slug))
    if org is None:
        fail(f"no organization with slug {org_slug!r}")
    job = commit_or_fail(lambda: services.enqueue(
        kind=selftest.KIND, organization=org, created_by=None,
        params={"steps": steps, "seconds": seconds}, total=steps))
    click.echo(f"Job {job.id} queued: {absolute_url(f'/o/{org_slug}/jobs/{job.id}')}")


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="File to write (SQLite: a database file; PostgreSQL: pg_dump custom format).")
@with_appcontext
def backup_command(out: str) -> None:
    """Write a consistent copy of the database to a file, while Relais keeps running."""
    from lms import backup
    from lms.core.cli import fail

    try:
        size = backup.backup(out)
    except backup.BackupError as exc:
        fail(str(exc))
    click.echo(f"Backup written to {out} ({size} bytes).")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(file: str, yes: bool) -> None:
    """Replace the whole database with a backup (stop app and workers first)."""
    from lms import backup
    from lms.core.cli import fail

    target = db.engine.url.render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Replace everything in {target} with {file}?", abort=True)
    try:
        backup.restore(file)
    except backup.BackupError as exc:
        fail(str(exc))
    click.echo(f"Restored {file} into {target}. Run `relais init` if the backup is older "
               "than this version (it applies the newer migrations).")


COMMANDS = [worker_command, selftest_command, backup_command, restore_command]
