"""Accounts: people, organizations, memberships and roles, login, invitations, API tokens."""

from __future__ import annotations

from flask import Flask

from lms.extensions import db, login_manager


def init_app(app: Flask) -> None:
    """Set up logins and register the accounts pages."""
    from lms.accounts.models import User
    from lms.accounts.views import bp, org_bp

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    app.register_blueprint(bp)
    app.register_blueprint(org_bp)
