"""Read-only dashboards and exports across modules; "My team" for managers and champions."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the dashboards, "Results to share" and "My team", and the menu's test for
    "My team".
    """
    from lms import demo
    from lms.accounts import groups
    from lms.accounts.authz import member_test
    from lms.reports import (
        sharing_views,  # noqa: F401 (its routes on the dashboards' bp)
        team_views,
    )
    from lms.reports.demo import demo_step
    from lms.reports.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(team_views.bp)
    demo.STEPS.add(demo_step)

    @app.context_processor
    def _team_nav() -> dict[str, Any]:
        # Whether the current member follows anyone (the "My team" menu entry).
        return {"show_team": member_test(groups.follows_anyone)}
