"""Impact: a trained cohort against colleagues not yet trained (difference in differences with
a bootstrap interval), formats compared, and the return on investment with its PDF.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the settings model, the pages and the demo step (after advocacy's)."""
    from lms import demo
    from lms.advocacy.demo import demo_step as advocacy_demo_step
    from lms.impact import (
        models,  # noqa: F401  (tables known to migrations and tests)
        views,
    )
    from lms.impact.demo import demo_step

    app.register_blueprint(views.bp)
    demo.STEPS.add(demo_step, after=advocacy_demo_step)
