"""What every page shares: the home redirect, the navigation context and HTML error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lms.accounts.models import Role


def init_app(app: Flask) -> None:
    """Register the home page, template globals and error pages on ``app``."""

    @app.route("/")
    def home() -> Any:
        """Send people to their organization's dashboard, or to the login page."""
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login"))
        # A membership the company's directory deactivated no longer leads anywhere.
        memberships = sorted((m for m in current_user.memberships if m.active),
                             key=lambda m: m.organization.name)
        if not memberships:
            return render_template("no_organization.html")
        return redirect(url_for("reports.dashboard", org_slug=memberships[0].organization.slug))

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        memberships = []
        if current_user.is_authenticated:
            memberships = sorted((m for m in current_user.memberships if m.active),
                                 key=lambda m: m.organization.name)
        return {
            "Role": Role,
            "my_memberships": memberships,
            "current_org": getattr(g, "organization", None),
            "current_member": getattr(g, "membership", None),
        }

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Any:
        return render_template("error.html", code=400, message=exc.description), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        # The API blueprint has its own JSON handlers; this one answers pages only.
        if request.path.startswith(("/api/", "/xapi/", "/hooks/")):
            return exc
        return render_template("error.html", code=exc.code, message=exc.description), exc.code
