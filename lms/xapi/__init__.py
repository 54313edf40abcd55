"""xAPI at the core: the statement record, Relais' own LRS, projections and forwarding.

This package knows nothing of courses or advocacy: domain packages register projection
handlers with it at app creation (see ``projections.py``), never the reverse.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the LRS endpoints under /xapi/ and the xAPI commands."""
    from lms.core.ratelimit import limit_surface
    from lms.core.security import without_cookie_session
    from lms.extensions import csrf
    from lms.xapi import cli, document_views  # noqa: F401  (its import adds routes to bp)
    from lms.xapi.lrs import bp

    csrf.exempt(bp)
    limit_surface(app, bp, "RATELIMIT_LRS")
    # HTTP Basic on every request: the cookie session is neither read nor signed again.
    without_cookie_session(app, f"{bp.url_prefix}/")
    app.register_blueprint(bp)
    for command in cli.COMMANDS:
        app.cli.add_command(command)

    from lms.xapi.forwarding_views import init_forwarding

    init_forwarding(app)

    # Forwarding retries run on the job runners' schedule (a worker, or the embedded runner).
    from lms.jobs import register_periodic
    from lms.xapi.forwarding import drain
    from lms.xapi.services import purge_expired_credentials

    register_periodic("xapi.forward_statements", 30, drain)
    register_periodic("xapi.purge_expired_credentials", 24 * 3600, purge_expired_credentials)
    # PostgreSQL: the store's monthly partitions, made ahead (a statement of a month not made
    # yet would land in the DEFAULT partition, which every read then opens).
    from lms.xapi.partitions import create_months

    register_periodic("xapi.statement_months", 24 * 3600, create_months)

    from lms.xapi.viewer import init_viewer

    init_viewer(app)
