"""The database out of reach: 503 with ``Retry-After`` instead of a 500, on every surface.

A connection refused, a network cut or a database file that cannot be opened raise
SQLAlchemy's ``OperationalError`` (PostgreSQL and SQLite alike). The API, the LRS and the
webhook answer in their JSON error format; pages show a short page that itself needs no
database (the usual layout looks up the logged-in user).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, render_template, request
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)
MESSAGE = "The database is not reachable at the moment. Try again shortly."


def init_app(app: Flask) -> None:
    """Register the 503 answer on ``app``."""

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError) -> tuple[Response | str, int, dict[str, str]]:
        from lms.extensions import db

        # No secret in the log: the driver's message, never the connection URL.
        log.error("event=database_unavailable error=%s", type(exc.orig).__name__)
        try:
            db.session.rollback()
        except OperationalError:
            pass
        retry = {"Retry-After": str(int(app.config["UNAVAILABLE_RETRY_AFTER"]))}
        path = request.path
        if path.startswith("/xapi/"):
            return jsonify({"error": {"code": 503, "message": MESSAGE}}), 503, retry
        if path.startswith(("/api/", "/hooks/")):
            return jsonify({"error": {"code": "unavailable", "message": MESSAGE,
                                      "fields": {}}}), 503, retry
        # The page's language would look up the logged-in user: treat the reader as anonymous.
        from lms.extensions import login_manager

        g._login_user = login_manager.anonymous_user()
        return render_template("unavailable.html"), 503, retry
