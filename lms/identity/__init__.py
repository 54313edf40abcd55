"""Identity: single sign-on with OpenID Connect and SCIM 2.0 provisioning, onto accounts."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the SSO pages, the SCIM API, the CLI command and the password-login check."""
    from lms.accounts.signals import password_login
    from lms.identity import cli, scim_views, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.org_bp)
    app.register_blueprint(scim_views.bp)
    app.add_template_global(views.login_sso_form, "identity_sso_form")
    app.cli.add_command(cli.scim_token_command)
    # A module-level receiver: connecting it again when create_app runs twice is a no-op.
    password_login.connect(_refuse_password)


def _refuse_password(user: Any, **_extra: Any) -> str | None:
    """Why ``user`` may not log in with a password (an organization requires SSO), or None."""
    from lms.identity.services import password_refusal

    return password_refusal(user)
