"""JSON API under /api/v1: bearer-token auth, one error envelope, one file per resource."""

from __future__ import annotations

from flask import Flask

from lms.extensions import csrf


def init_app(app: Flask) -> None:
    """Register the API blueprint (exempt from CSRF: it authenticates with bearer tokens)."""
    from lms.api import members, me, openapi  # noqa: F401  (routes register on import)
    from lms.api import jobs  # noqa: F401
    from lms.api.base import bp

    csrf.exempt(bp)
    app.register_blueprint(bp)
