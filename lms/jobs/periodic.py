"""Periodic work (purges, forwarding retries, reminders), run by whichever runner is up.

No separate beat process: every runner loop (the embedded thread, each ``relais worker``) calls
:func:`run_due`; a task's row in ``periodic_tasks`` is claimed with a conditional UPDATE, so each
due task runs once however many runners there are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from lms.core.models import utcnow
from lms.extensions import db
from lms.jobs.models import PeriodicTask

log = logging.getLogger("relais.jobs")


@dataclass(frozen=True)
class Periodic:
    """A function run every ``seconds``; it flushes, the scheduler commits."""

    name: str
    seconds: float
    func: Callable[[], Any]


PERIODIC: dict[str, Periodic] = {}


def register_periodic(name: str, seconds: float, func: Callable[[], Any]) -> None:
    """Run ``func()`` (in an app context, then commit) about every ``seconds``.

    :raise ValueError: ``seconds`` is not positive.
    """
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    PERIODIC[name] = Periodic(name=name, seconds=float(seconds), func=func)


def _ensure_rows() -> set[str]:
    """Create the rows of tasks that have none; the names of those due now (with the new)."""
    now = utcnow()
    rows = db.session.execute(select(PeriodicTask.name, PeriodicTask.next_run_at)).all()
    due = {name for name, next_run_at in rows if next_run_at <= now}
    known = {name for name, _next in rows}
    missing = [p for p in PERIODIC.values() if p.name not in known]
    if not missing:
        return due
    # First run soon after start, then every period.
    for task in missing:
        db.session.add(PeriodicTask(name=task.name, next_run_at=utcnow()))
    try:
        db.session.commit()
    except IntegrityError:  # another runner created them at the same moment
        db.session.rollback()
    return due | {task.name for task in missing}


def run_due() -> list[str]:
    """Run every periodic task that is due and not taken by another runner; returns names run."""
    if not PERIODIC:
        return []
    # Read first, claim after: every runner ticks every few seconds (each web process, in
    # embedded mode), and a claim is a write transaction — on SQLite, the database's write
    # lock, which the LRS's requests wait for. Only the tasks the read found due are claimed;
    # the claim still checks, so two runners never both run one.
    due = _ensure_rows()
    ran = []
    for task in list(PERIODIC.values()):
        if task.name not in due:
            continue
        now = utcnow()
        claimed = db.session.execute(
            update(PeriodicTask)
            .where(PeriodicTask.name == task.name, PeriodicTask.next_run_at <= now)
            .values(next_run_at=now + timedelta(seconds=task.seconds), last_started_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        db.session.commit()
        if claimed != 1:
            continue
        error = None
        try:
            outcome = task.func()
            db.session.commit()
            log.info("periodic=%s event=done outcome=%s", task.name, outcome)
        except Exception as exc:
            db.session.rollback()
            error = f"{type(exc).__name__}: {exc}"[:2000]
            log.exception("periodic=%s event=failed", task.name)
        db.session.execute(
            update(PeriodicTask).where(PeriodicTask.name == task.name)
            .values(last_finished_at=utcnow(), last_error=error)
            .execution_options(synchronize_session=False))
        db.session.commit()
        ran.append(task.name)
    return ran


# -- the built-in periodic tasks ----------------------------------------------------------------

def purge_login_failures() -> int:
    """Forget failed logins older than the rate-limit window."""
    from lms.accounts.services import purge_login_failures as purge

    return purge()


def purge_expired_invitations() -> int:
    """Delete invitations that expired unused more than a week ago (kept a while for support)."""
    from lms.accounts.models import Invitation

    cutoff = utcnow() - timedelta(days=7)
    result = db.session.execute(
        delete(Invitation).where(Invitation.accepted_at.is_(None), Invitation.expires_at < cutoff))
    return result.rowcount or 0  # type: ignore[attr-defined]


def purge_old_jobs() -> int:
    """Delete finished jobs of no organization (a person's own data export) older than
    ``RELAIS_JOBS_RETENTION_DAYS`` and their files; each organization's jobs follow its
    retention period (the privacy package's periodic run).
    """
    from lms.jobs.services import purge_finished

    return purge_finished(older_than_days=int(current_app.config["JOBS_RETENTION_DAYS"]))


def register_builtin() -> None:
    """Register the periodic tasks Relais ships (idempotent)."""
    register_periodic("accounts.purge_login_failures", 3600, purge_login_failures)
    register_periodic("accounts.purge_expired_invitations", 24 * 3600, purge_expired_invitations)
    register_periodic("jobs.purge_old", 24 * 3600, purge_old_jobs)
