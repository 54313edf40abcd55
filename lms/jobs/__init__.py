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


def init_app(app: Flask) -> None:
    """Register job kinds, periodic tasks, the jobs pages, API and commands."""
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
