"""Completion certificates: issuing (on completion or by hand), PDF rendering from templates
as data, public verification, revocation and re-issue, bulk export.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    """Register the completion hook, pages, export job, command and demo step."""
    from lms import demo
    from lms.certificates import (
        export,
        models,  # noqa: F401  (tables known to migrations and tests)
        recertification,
        services,
        views,
    )
    from lms.certificates.cli import COMMANDS
    from lms.certificates.demo import demo_step
    from lms.courses.demo import demo_step as courses_demo_step
    from lms.courses.signals import enrollment_completed
    from lms.jobs import register_job, register_periodic

    # Explicit wiring: courses knows nothing of certificates.
    enrollment_completed.connect(services.issue_on_completion, weak=False)
    # Certificates the charter gate held back go once the learner accepts it.
    from lms.charter.signals import charter_accepted

    charter_accepted.connect(services.issue_after_charter, weak=False)
    app.register_blueprint(views.bp)
    app.register_blueprint(views.public)
    register_job(export.KIND, export.run_export, label=_l("Certificates export"))
    register_periodic("certificates.recertify", 24 * 3600, recertification.recertify_all)
    register_periodic("certificates.clean_cache", 24 * 3600, _clean_cache)
    for command in COMMANDS:
        app.cli.add_command(command)
    # After the courses step, which builds the pilot cohort this step completes.
    demo.STEPS.add(demo_step, after=courses_demo_step)


def _clean_cache() -> int:
    from lms.certificates.rendering import clean_cache

    return clean_cache()[0]
