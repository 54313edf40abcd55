"""Privacy: personal-data export and erasure (GDPR art. 15, 17, 20) and the audit log page.

Privacy sits above every domain module (DESIGN: ``… ← {reports, privacy, notifications} ←
api``): it reads and erases their data through their models and services, and no lower
module imports it.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pages and the ``personal-data`` commands."""
    from lms.privacy.cli import COMMANDS
    from lms.privacy.views import bp, org_bp

    app.register_blueprint(bp)
    app.register_blueprint(org_bp)
    for command in COMMANDS:
        app.cli.add_command(command)
