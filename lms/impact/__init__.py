"""Impact: a trained cohort against colleagues not yet trained (difference in differences with
a bootstrap interval), formats compared, and the return on investment with its PDF.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the settings model, the pages, the demo step (after advocacy's), the skill
    pages' activity signals and the daily recertification by activity.
    """
    from lms import demo
    from lms.advocacy.demo import demo_step as advocacy_demo_step
    from lms.assessments.recommendations import register_activity_source
    from lms.impact import (
        behaviour,
        models,  # noqa: F401  (tables known to migrations and tests)
        views,
    )
    from lms.impact.demo import demo_step, parrot_step
    from lms.jobs import register_periodic

    app.register_blueprint(views.bp)
    # Explicit wiring: the skill pages show activity signals without knowing advocacy.
    register_activity_source(behaviour.SOURCE)
    register_periodic("impact.recertify_by_activity", 24 * 3600, behaviour.recertify_quiet_all)
    demo.STEPS.add(demo_step, after=advocacy_demo_step)
    demo.STEPS.add(parrot_step, after=demo_step)
