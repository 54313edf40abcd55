"""Celery on Redis (production): a message only says "run job <id>"; the job row decides.

Imported only when ``RELAIS_BROKER_URL`` is set, so embedded mode runs without Celery installed.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_ready, worker_shutdown
from flask import Flask

log = logging.getLogger("relais.jobs")

TASK_NAME = "relais.run_job"
QUEUE = "relais"


def celery_for(app: Flask) -> Celery:
    """The Celery application bound to ``app`` (created once per Flask app)."""
    existing = app.extensions.get("relais_celery")
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    broker = app.config["BROKER_URL"]
    celery = Celery("relais", broker=broker,
                    backend=app.config["RESULT_BACKEND"] or broker, set_as_current=False)
    celery.conf.update(
        task_default_queue=QUEUE,
        # A message is acknowledged after the job ran, and given back if the worker dies.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json", accept_content=["json"], result_serializer="json",
        result_expires=24 * 3600,
        broker_connection_retry_on_startup=True,
        # A request that queues a job must not hang when Redis is down: the job is in the
        # database anyway, and the workers' sweep sends its message later.
        broker_connection_timeout=2,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0,
                                   "interval_step": 0.2, "interval_max": 0.5},
        broker_transport_options={"visibility_timeout": 3600},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )

    @celery.task(name=TASK_NAME, bind=True)
    def run_job_task(self: Any, job_id: int) -> str | None:
        from lms.extensions import db
        from lms.jobs.runner import run_job

        with app.app_context():
            try:
                state = run_job(int(job_id))
            finally:
                db.session.remove()
        _store_result(self, state)
        return state

    app.extensions["relais_celery"] = celery
    return celery


def _store_result(task: Any, state: str | None) -> None:
    # Messages are sent with ignore_result (see send_run_job), so Celery would not store this:
    # the outcome goes to the result store here, for Celery's tools (`celery result <id>`).
    try:
        task.backend.store_result(task.request.id, state, "SUCCESS")
    except Exception:  # the job row holds the truth; a result-store hiccup changes nothing
        log.warning("event=result_store_failed task=%s", task.request.id)


def send_run_job(app: Flask, job_id: int) -> None:
    """Publish "run job <id>" on the broker."""
    # The sender never waits for a result (the job row has it): with ignore_result Celery does
    # not subscribe to the result channel, which would pile up subscriptions in a web process
    # and hang for 20 s when Redis is down.
    celery_for(app).send_task(TASK_NAME, args=[job_id], queue=QUEUE, ignore_result=True)


def run_worker(app: Flask, *, concurrency: int, pool: str, loglevel: str,
               hostname: str | None) -> None:
    """Run a Celery worker for ``app`` in the foreground, with the sweep-and-periodic loop."""
    from lms.extensions import db
    from lms.jobs.runner import start_background

    celery = celery_for(app)
    loops: list[Any] = []

    @worker_process_init.connect(weak=False)
    def _fresh_connections(**_: Any) -> None:
        # A forked pool process must not reuse the parent's database connections.
        with app.app_context():
            db.engine.dispose(close=False)

    @worker_ready.connect(weak=False)
    def _start_sweeper(**_: Any) -> None:
        loops.append(start_background(app, run_jobs=False))

    @worker_shutdown.connect(weak=False)
    def _stop_sweeper(**_: Any) -> None:
        for loop in loops:
            loop.stop()

    argv = ["worker", f"--concurrency={concurrency}", f"--pool={pool}",
            f"--loglevel={loglevel}", f"--queues={QUEUE}", "--without-gossip",
            "--without-mingle", "--without-heartbeat"]
    if hostname:
        argv.append(f"--hostname={hostname}")
    celery.worker_main(argv=argv)
