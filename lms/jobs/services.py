"""Writes for background jobs: enqueue, claim, progress, finish, cancel.

Claiming and progress are conditional UPDATEs on the job row, so they are atomic on SQLite and
PostgreSQL alike: two runners never hold the same job, and one whose lease expired can no longer
write.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_, select, update

from lms.accounts.models import Organization, User
from lms.core.errors import Conflict, ValidationFailed
from lms.core.models import owned_by, utcnow
from lms.extensions import db
from lms.jobs import messages
from lms.jobs.models import Job, JobState
from lms.jobs.registry import handler_for

# Enqueued job ids waiting for the transaction to commit before a broker message is sent.
PENDING_KEY = "relais_jobs_to_dispatch"


def worker_name() -> str:
    """This process, as shown on the job page (host:pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def jobs_dir() -> Path:
    """The folder holding job inputs and results (must be shared by every worker host)."""
    configured = current_app.config["JOBS_DIR"]
    path = Path(configured) if configured else Path(current_app.instance_path) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_folder(job: Job) -> Path:
    """The folder of one job's files, created on demand."""
    path = jobs_dir() / str(job.id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_job_file(job: Job, name: str, data: bytes) -> Path:
    """Write a job's file atomically (a rerun after a crash overwrites it whole).

    :raise ValidationFailed: ``name`` is not a plain file name.
    """
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValidationFailed(_l("Invalid file name."),
                               fields={"name": _l("A plain file name is expected.")})
    path = job_folder(job) / name
    tmp = path.with_name(f".{name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def set_result_file(job: Job, name: str) -> None:
    """Make ``name`` (already written with :func:`write_job_file`) the job's download."""
    job.result_path = f"{job.id}/{name}"


def result_file(job: Job) -> Path | None:
    """The absolute path of a job's result file, None if it has none or it is gone."""
    if not job.result_path:
        return None
    path = jobs_dir() / job.result_path
    return path if path.is_file() else None


def enqueue(*, kind: str, organization: Organization | None, created_by: User | None,
            params: dict[str, Any] | None = None, total: int | None = None,
            max_attempts: int | None = None) -> Job:
    """Create a queued job; it is handed to a runner once the transaction commits.

    :raise ValidationFailed: no handler is registered for ``kind``.
    """
    if handler_for(kind) is None:
        raise ValidationFailed(_l("Unknown job kind %(kind)s.", kind=kind),
                               fields={"kind": _l("Unknown job kind.")})
    job = Job(kind=kind, organization=organization, created_by=created_by, params=params or {},
              progress_total=total, state=JobState.QUEUED,
              max_attempts=max_attempts or int(current_app.config["JOBS_MAX_ATTEMPTS"]))
    db.session.add(job)
    db.session.flush()
    # SQLite may reuse the id of a deleted job: never let its old files leak into this one.
    shutil.rmtree(jobs_dir() / str(job.id), ignore_errors=True)
    db.session.info.setdefault(PENDING_KEY, []).append(job.id)
    return job


def runnable_condition(now: Any) -> Any:
    """SQL condition of jobs a runner may take: due queued jobs and lease-expired running ones."""
    return or_(
        and_(Job.state == JobState.QUEUED, or_(Job.run_after.is_(None), Job.run_after <= now)),
        and_(Job.state == JobState.RUNNING, Job.lease_until < now),
    )


def runnable_ids(limit: int = 10) -> list[int]:
    """Ids of jobs a runner may take now, oldest first."""
    now = utcnow()
    return list(db.session.scalars(
        select(Job.id).where(runnable_condition(now)).order_by(Job.id).limit(limit)))


def claim(job_id: int, *, worker: str | None = None) -> str | None:
    """Take a job for this runner and commit; returns the claim token, None if not runnable.

    Commits its own small transaction: a claim must be visible to other runners at once.
    """
    now = utcnow()
    token = secrets.token_hex(16)
    lease = timedelta(seconds=float(current_app.config["JOBS_LEASE_SECONDS"]))
    result = db.session.execute(
        update(Job).where(Job.id == job_id, runnable_condition(now))
        .values(state=JobState.RUNNING, claim_token=token, lease_until=now + lease,
                attempts=Job.attempts + 1, worker=(worker or worker_name())[:200],
                started_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return token if result.rowcount == 1 else None  # type: ignore[attr-defined]


def renew(job: Job, token: str, *, current: int | None = None, total: int | None = None,
          message: Any = None) -> tuple[bool, bool]:
    """Renew the lease and record progress in the current transaction (no commit).

    Returns (still ours, cancel requested). When it is no longer ours the caller must roll back.
    """
    lease = timedelta(seconds=float(current_app.config["JOBS_LEASE_SECONDS"]))
    values: dict[str, Any] = {"lease_until": utcnow() + lease}
    if current is not None:
        values["progress_current"] = current
    if total is not None:
        values["progress_total"] = total
    if message is not None:
        values["message"] = messages.encode(message)
    result = db.session.execute(
        update(Job).where(Job.id == job.id, Job.claim_token == token,
                          Job.state == JobState.RUNNING)
        .values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False, False
    cancel = db.session.scalar(select(Job.cancel_requested).where(Job.id == job.id))
    return True, bool(cancel)


def finish(job_id: int, token: str, *, state: JobState, error: str | None = None,
           message: Any = None, result: dict[str, Any] | None = None,
           result_path: str | None = None, run_after: Any = None) -> bool:
    """Move a claimed job to ``state`` in the current transaction; False if it is not ours."""
    values: dict[str, Any] = {"state": state, "lease_until": None, "claim_token": None}
    if state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED):
        values["finished_at"] = utcnow()
    if error is not None:
        values["error"] = error[:10000]
    if message is not None:
        values["message"] = messages.encode(message)
    if result is not None:
        values["result"] = result
    if result_path is not None:
        values["result_path"] = result_path
    values["run_after"] = run_after
    outcome = db.session.execute(
        update(Job).where(Job.id == job_id, Job.claim_token == token)
        .values(**values).execution_options(synchronize_session=False)
    )
    return outcome.rowcount == 1  # type: ignore[attr-defined]


def request_cancel(*, job: Job) -> None:
    """Cancel a queued job now, or ask a running one to stop at its next progress report.

    :raise Conflict: the job already finished.
    """
    if job.finished:
        raise Conflict(_l("This job has already finished."))
    if job.state == JobState.QUEUED:
        job.state = JobState.CANCELLED
        job.finished_at = utcnow()
        job.message = messages.encode(_l("Cancelled before it started."))
    else:
        job.cancel_requested = True
    db.session.flush()


def fail_unknown_kind(job: Job) -> None:
    """Record that no handler exists for a job's kind (a worker on older code)."""
    job.state = JobState.FAILED
    job.error = messages.encode(_l("No handler is registered for the job kind %(kind)s.",
                                   kind=repr(job.kind)))
    job.finished_at = utcnow()
    job.lease_until = None
    job.claim_token = None
    db.session.flush()


_FINISHED = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


def finished_before(cutoff: datetime, *, organization_id: int | None) -> Select[Any]:
    """Finished jobs of the organization (None: of no organization) that ended before
    ``cutoff``, oldest first.
    """
    return (select(Job).where(owned_by(Job.organization_id, organization_id),
                              Job.state.in_(_FINISHED), Job.finished_at < cutoff)
            .order_by(Job.finished_at, Job.id))


def purge_finished(*, older_than_days: int | None = None, before: datetime | None = None,
                   organization_id: int | None = None, limit: int = 1000) -> int:
    """Delete at most ``limit`` finished jobs of the organization (None: jobs of no
    organization) that ended before ``before`` (or ``older_than_days`` ago), and their files;
    returns how many.

    Organizations' jobs follow each one's retention period (lms/privacy/retention.py).
    """
    cutoff = before if before is not None else utcnow() - timedelta(days=older_than_days or 0)
    old = db.session.scalars(finished_before(cutoff, organization_id=organization_id)
                             .limit(limit)).all()
    base = jobs_dir()
    for job in old:
        shutil.rmtree(base / str(job.id), ignore_errors=True)
        db.session.delete(job)
    db.session.flush()
    return len(old)
