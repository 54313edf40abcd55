"""Read-only dashboards and exports across modules."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the dashboards."""
    from lms.reports.views import bp

    app.register_blueprint(bp)
