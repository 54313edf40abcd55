"""JSON API under /api/v1: bearer-token auth, one error envelope, one file per resource."""

from __future__ import annotations

from flask import Flask

from lms.extensions import csrf


def init_app(app: Flask) -> None:
    """Register the API blueprint (exempt from CSRF: it authenticates with bearer tokens)."""
    # One file per resource; importing them adds their routes and OpenAPI paths to ``bp``.
    from lms.api import (  # noqa: F401
        advocacy,
        advocacy_calendar,
        advocacy_impact,
        assessments,
        certificates,
        charter,
        coaching,
        course_sessions,
        courses,
        exercises,
        impact,
        jobs,
        me,
        members,
        openapi,
        privacy,
        query,
        surveys,
        teams,
    )
    from lms.api.base import bp
    from lms.core.ratelimit import limit_surface

    csrf.exempt(bp)
    limit_surface(app, bp, "RATELIMIT_API")
    app.register_blueprint(bp)
