"""Accounts: people, organizations, memberships and roles, login, invitations, API tokens."""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, request, session, url_for
from flask_login import current_user

from lms.accounts.sessions import SESSION_KEY
from lms.extensions import db, login_manager

__all__ = ["SESSION_KEY", "init_app"]

# What a person whose organization requires a second factor may still open before setting
# one up: the set-up pages, logging out, the language, and the static files they need.
ENROLMENT_ENDPOINTS = frozenset({
    "static", "accounts.logout", "accounts.end_all_sessions",
    "account_security.second_factor_page", "account_security.second_factor_setup",
    "account_security.second_factor_confirm",
    "choose_language", "healthz",
})


def init_app(app: Flask) -> None:
    """Set up logins and register the accounts pages."""
    from lms.accounts import cli, second_factor, sessions
    from lms.accounts.models import User, UserSession
    from lms.accounts.security_views import account_bp, org_security_bp
    from lms.accounts.views import bp, org_bp

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        # A cookie opens nothing unless its server-side session is live: logout, "log out
        # everywhere" and a password change delete the row, so old copies stop working.
        try:
            uid = int(user_id)
        except ValueError:
            return None
        row = sessions.find(session.get(SESSION_KEY), uid)
        if row is None:
            return None
        user = db.session.get(User, uid)
        if user is None or not user.active:
            return None
        request.environ["relais.user_session"] = row
        return user

    @app.before_request
    def _touch_session() -> None:
        # Before any view has written anything, so this small commit carries nothing else.
        if request.endpoint == "static" or SESSION_KEY not in session:
            return
        if current_user.is_authenticated:
            row: UserSession | None = request.environ.get("relais.user_session")
            if row is not None and sessions.touch(row):
                db.session.commit()

    @app.before_request
    def _require_second_factor() -> Any:
        # Right after a password login, and on every page after, until it is set up: an
        # organization's requirement cannot be skipped by typing another address. Single
        # sign-on sessions are exempt (the identity provider does its own MFA).
        if request.endpoint in ENROLMENT_ENDPOINTS or SESSION_KEY not in session:
            return None
        if not current_user.is_authenticated:  # loads the session row (the user loader)
            return None
        row: UserSession | None = request.environ.get("relais.user_session")
        if row is None or row.method != "password" or not second_factor.must_enrol(
                current_user.id):
            return None
        return redirect(url_for("account_security.second_factor_page"))

    app.register_blueprint(bp)
    app.register_blueprint(org_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(org_security_bp)
    app.cli.add_command(cli.second_factor_off_command)
