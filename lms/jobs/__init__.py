"""Background jobs with progress, periodic work, and the production commands.

Embedded mode (no ``RELAIS_BROKER_URL``) needs no server: a thread of ``relais serve`` polls the
jobs table. Production runs ``relais worker`` (Celery on Redis). See ``runner.py``.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from lms.jobs.periodic import register_periodic
from lms.jobs.registry import RetryableError, register_job

__all__ = ["register_job", "register_periodic", "RetryableError", "init_app"]

JOB_DEFAULTS = {
    "BROKER_URL": None,            # redis://host:6379/0 → Celery workers; unset → embedded
    "RESULT_BACKEND": None,        # defaults to the broker
    "JOBS_DIR": None,              # defaults to <instance>/jobs; shared storage across hosts
    "JOBS_LEASE_SECONDS": 60,      # a job whose runner is silent this long is taken over
    "JOBS_POLL_SECONDS": 2,
    "JOBS_MAX_ATTEMPTS": 3,
    "JOBS_RETRY_SECONDS": 5,
    "JOBS_RETENTION_DAYS": 30,
    "JOBS_IMPORT_CHUNK": 100,
}


def init_app(app: Flask) -> None:
    """Register job kinds, periodic tasks, the jobs pages, API and commands."""
    for key, value in JOB_DEFAULTS.items():
        app.config.setdefault(key, value)

    from lms.jobs import members_import, runner, selftest  # noqa: F401  (runner: commit hooks)
    from lms.jobs.cli import COMMANDS
    from lms.jobs.periodic import register_builtin
    from lms.jobs.views import bp

    register_job(members_import.KIND, members_import.run_import, label=_l("Member import"))
    register_job(selftest.KIND, selftest.run_selftest, label=_l("Worker self-test"))
    register_builtin()
    app.register_blueprint(bp)
    for command in COMMANDS:
        app.cli.add_command(command)
