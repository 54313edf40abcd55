"""Notifications: the e-mail digest of what each person has to do (a section per package,
added through :data:`lms.notifications.sections.SECTIONS`), per-person frequency, one-click
unsubscribe, sent by the periodic work.

It sits beside xapi, low in the layers, so that every package above can add its section
without this package importing them.
"""

from __future__ import annotations

from flask import Flask

# About hourly: each person's digest goes when their period (a day, a week) is over.
PERIODIC_SECONDS = 3600


def init_app(app: Flask) -> None:
    """Register the models, pages and the periodic sending."""
    from lms.jobs import register_periodic
    from lms.notifications import (
        models,  # noqa: F401  (tables known to migrations and tests)
        services,
        views,
    )

    app.register_blueprint(views.bp)
    register_periodic("notifications.digests", PERIODIC_SECONDS, services.send_due)
