"""Running jobs: one job in this process, and the runner loops that find work.

Two transports deliver "run job <id>":
- with ``RELAIS_BROKER_URL`` set, Celery workers (``relais worker``) receive a message;
- without one (the embedded default), a daemon thread in ``relais serve``/``relais demo`` (or a
  ``relais worker`` without broker) polls the jobs table.
Either way the job row decides: a runner claims it with a lease it renews at each progress
report, and a job whose lease expired (its worker died) is claimed again and resumes.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.extensions import db
from lms.jobs import messages, services
from lms.jobs.models import Job, JobState
from lms.jobs.registry import JobCancelled, JobLost, RetryableError, handler_for, label_for

log = logging.getLogger("relais.jobs")

TRANSIENT = (RetryableError, OperationalError, ConnectionError, TimeoutError)


def broker_url(app: Flask | None = None) -> str | None:
    """The Celery broker URL, or None in embedded mode."""
    cfg = (app or current_app).config
    url = cfg.get("BROKER_URL")
    return str(url) if url else None


class _Progress:
    """The ``report_progress`` callable given to a handler."""

    def __init__(self, job: Job, token: str) -> None:
        self.job = job
        self.token = token

    def __call__(self, current: int, total: int | None = None,
                 message: Any = None) -> None:
        """Record progress with the work done so far, commit, and stop if cancelled or lost."""
        ours, cancel = services.renew(self.job, self.token, current=current, total=total,
                                      message=message)
        if not ours:
            db.session.rollback()
            raise JobLost(f"job {self.job.id} was taken over by another runner")
        # The commit expires the handler's objects: they reload, job figures included.
        db.session.commit()
        if cancel:
            raise JobCancelled()


def run_job(job_id: int, *, worker: str | None = None) -> str | None:
    """Claim and run one job to its end in the current app context.

    Returns the job's final state, or None when the job was not runnable (already taken,
    finished or not due) — a duplicate message is harmless.
    """
    token = services.claim(job_id, worker=worker)
    if token is None:
        return None
    job = db.session.execute(
        select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
    ).scalar_one()
    if job.attempts > job.max_attempts:
        services.finish(job_id, token, state=JobState.FAILED,
                        error=messages.encode(_l(
                            "Gave up after %(count)d attempts (the worker running it stopped or "
                            "the failure repeated).", count=job.max_attempts)))
        db.session.commit()
        return JobState.FAILED.value
    handler = handler_for(job.kind)
    if handler is None:
        services.fail_unknown_kind(job)
        db.session.commit()
        return JobState.FAILED.value
    log.info("job=%s kind=%s attempt=%s event=start", job.id, job.kind, job.attempts)
    started = time.monotonic()
    try:
        result = handler(job, _Progress(job, token))
    except JobLost:
        db.session.rollback()
        log.warning("job=%s event=lost (another runner took it over)", job_id)
        return None
    except JobCancelled:
        db.session.rollback()
        services.finish(job_id, token, state=JobState.CANCELLED, message=_l("Cancelled."))
        db.session.commit()
        log.info("job=%s event=cancelled", job_id)
        return JobState.CANCELLED.value
    except TRANSIENT as exc:
        db.session.rollback()
        return _retry_or_fail(job_id, token, exc)
    except DomainError as exc:
        # A refusal the person can act on (the file is not UTF-8, the course is gone), not a
        # bug: its message is stored untranslated and shown in the reader's language.
        db.session.rollback()
        log.warning("job=%s event=refused code=%s error=%r", job_id, exc.code, str(exc))
        raw = exc.args[0] if exc.args and isinstance(exc.args[0], LazyString) else exc.message
        services.finish(job_id, token, state=JobState.FAILED, error=messages.encode(raw))
        db.session.commit()
        return JobState.FAILED.value
    except Exception as exc:
        db.session.rollback()
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return _retry_or_fail(job_id, token, exc)
        log.exception("job=%s event=failed", job_id)
        services.finish(job_id, token, state=JobState.FAILED, error=_describe(exc))
        db.session.commit()
        return JobState.FAILED.value
    # Whatever the handler left unflushed belongs to its last step: commit it with the end.
    db.session.flush()
    done = services.finish(job_id, token, state=JobState.SUCCEEDED,
                           result=result if isinstance(result, dict) else None,
                           result_path=job.result_path,
                           message=job.message or _l("Done."))
    if not done:
        db.session.rollback()
        return None
    db.session.commit()
    log.info("job=%s kind=%s event=succeeded seconds=%.2f", job_id, job.kind,
             time.monotonic() - started)
    return JobState.SUCCEEDED.value


def _describe(exc: BaseException) -> str:
    # The last frames are enough to locate a bug; the full trace is in the worker's log.
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def _retry_or_fail(job_id: int, token: str, exc: BaseException) -> str:
    attempts = db.session.scalar(select(Job.attempts).where(Job.id == job_id)) or 0
    maximum = db.session.scalar(select(Job.max_attempts).where(Job.id == job_id)) or 1
    if attempts >= maximum:
        services.finish(job_id, token, state=JobState.FAILED,
                        error=messages.encode(_l("Failed %(count)d times; last error: %(error)s",
                                                 count=attempts, error=_describe(exc)[:300])))
        db.session.commit()
        log.warning("job=%s event=failed attempts=%s error=%r", job_id, attempts, str(exc))
        return JobState.FAILED.value
    # Exponential back-off: 5 s, 20 s, 80 s… (JOBS_RETRY_SECONDS × 4^(attempt-1)).
    delay = float(current_app.config["JOBS_RETRY_SECONDS"]) * 4 ** (attempts - 1)
    services.finish(job_id, token, state=JobState.QUEUED,
                    message=_l("Retrying after a temporary failure: %(error)s",
                               error=str(exc)[:300]),
                    run_after=utcnow() + timedelta(seconds=delay))
    db.session.commit()
    log.warning("job=%s event=retry attempts=%s delay=%.0fs error=%r", job_id, attempts, delay,
                str(exc))
    return JobState.QUEUED.value


# -- dispatch after commit ----------------------------------------------------------------------

WAKE = threading.Event()


def dispatch(job_ids: list[int], app: Flask | None = None) -> None:
    """Tell runners about new jobs: a Celery message with a broker, a wake-up without."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if not broker_url(app):
        WAKE.set()
        return
    from lms.jobs.celery_app import send_run_job

    for job_id in job_ids:
        try:
            send_run_job(app, job_id)
        except Exception:  # the broker is down: the workers' sweep sends it again later
            log.exception("job=%s event=dispatch_failed", job_id)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    ids = session.info.pop(services.PENDING_KEY, None)
    if ids:
        try:
            dispatch(ids)
        except RuntimeError:  # no app context: the runners' polling finds the jobs anyway
            pass


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(services.PENDING_KEY, None)


# -- runner loops -------------------------------------------------------------------------------

def run_available(limit: int = 10) -> int:
    """Run the jobs that are runnable now, one after another; returns how many ran."""
    ran = 0
    for job_id in services.runnable_ids(limit):
        db.session.rollback()
        if run_job(job_id) is not None:
            ran += 1
    db.session.rollback()
    return ran


def tick(app: Flask, *, run_jobs: bool, stop: threading.Event | None = None) -> None:
    """One round of background duties: periodic tasks, then jobs (embedded) or a sweep (Celery).

    :param run_jobs: run runnable jobs in this thread (embedded); otherwise send a Celery
        message for each (recovering jobs whose message or worker was lost).
    """
    from lms.jobs.periodic import run_due

    with app.app_context():
        try:
            run_due()
            if run_jobs:
                while run_available() and not (stop and stop.is_set()):
                    pass
            else:
                sweep(app)
        finally:
            db.session.remove()


def sweep(app: Flask) -> int:
    """Send a Celery message for jobs left waiting (lost message, dead worker); returns count.

    A queued job gets one when it has waited longer than a poll interval, so fresh jobs whose
    message is on its way are not sent twice (a second message would be harmless anyway).
    """
    from lms.jobs.celery_app import send_run_job

    grace = timedelta(seconds=max(5.0, 2 * float(app.config["JOBS_POLL_SECONDS"])))
    now = utcnow()
    ids = db.session.scalars(
        select(Job.id).where(services.runnable_condition(now),
                             Job.created_at < now - grace).order_by(Job.id).limit(100)).all()
    db.session.rollback()
    for job_id in ids:
        send_run_job(app, job_id)
    return len(ids)


class BackgroundLoop(threading.Thread):
    """A daemon thread calling :func:`tick` every ``JOBS_POLL_SECONDS`` until stopped."""

    def __init__(self, app: Flask, *, run_jobs: bool) -> None:
        super().__init__(name="relais-jobs", daemon=True)
        self.app = app
        self.run_jobs = run_jobs
        self.stop_event = threading.Event()

    def run(self) -> None:
        """Tick every ``JOBS_POLL_SECONDS`` (sooner when woken) until stopped."""
        interval = float(self.app.config["JOBS_POLL_SECONDS"])
        while not self.stop_event.is_set():
            try:
                tick(self.app, run_jobs=self.run_jobs, stop=self.stop_event)
            except Exception:  # a database hiccup must not kill the loop
                log.exception("event=runner_error")
            WAKE.wait(interval)
            WAKE.clear()

    def stop(self, timeout: float = 10) -> None:
        """Ask the loop to stop and wait for it (the current job finishes first)."""
        self.stop_event.set()
        WAKE.set()
        self.join(timeout)


def start_background(app: Flask, *, run_jobs: bool | None = None) -> BackgroundLoop:
    """Start the background loop of this process (jobs embedded unless a broker is set)."""
    if run_jobs is None:
        run_jobs = not broker_url(app)
    loop = BackgroundLoop(app, run_jobs=run_jobs)
    loop.start()
    log.info("event=runner_started mode=%s", "embedded" if run_jobs else "sweeper")
    return loop


def job_status(job: Job) -> dict[str, Any]:
    """The JSON view of a job shared by the page poll and the API."""
    return {
        "id": job.id, "kind": job.kind, "kind_label": label_for(job.kind),
        "state": job.state.value, "state_label": messages.state_label(job.state),
        "progress": {"current": job.progress_current, "total": job.progress_total,
                     "percent": job.percent},
        "message": messages.text(job.message) or None, "error": messages.text(job.error) or None,
        "result": job.result,
        "has_result_file": bool(job.result_path), "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "created_by": job.created_by.email if job.created_by else None,
        "cancel_requested": job.cancel_requested,
    }
