"""Read-only dashboards and exports across modules."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the dashboards."""
    from lms.reports import sharing_views  # noqa: F401 (its routes on the dashboards' bp)
    from lms.reports.views import bp

    app.register_blueprint(bp)
