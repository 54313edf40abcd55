"""The social-media charter: versions per organization in French and English, each member's
acceptance (an xAPI "accepted" statement), and what acceptance gates (advocacy figures,
exercises on personal accounts, certificates) — higher packages check the gates through
:mod:`lms.charter.services` and :mod:`lms.charter.queries`.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the models, pages, digest section and demo step."""
    from lms import demo
    from lms.charter import (
        digest,
        models,  # noqa: F401  (tables known to migrations and tests)
        views,
    )
    from lms.charter.demo import demo_step
    from lms.notifications.sections import SECTIONS

    app.register_blueprint(views.bp)
    SECTIONS.add(digest.section)
    demo.STEPS.add(demo_step)
