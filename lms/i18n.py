"""French and English: the locale comes from the user, then the browser.

Catalogues live in ``lms/translations``; ``scripts/i18n.sh`` extracts, updates and compiles them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

from lms.extensions import babel


def select_locale() -> str | None:
    """Pick the user's saved locale, else the best match for the browser's languages."""
    if not has_request_context():
        return None  # CLI and background work: the default locale
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale  # type: ignore[no-any-return]
    return request.accept_languages.best_match(languages)


def role_label(role: Any) -> str:
    """The translated name of a role (``learner`` → "Apprenant" in French)."""
    # Imported here: accounts depends on this module's babel binding, not the reverse.
    from lms.accounts.forms import ROLE_LABELS
    from lms.accounts.models import Role

    try:
        return str(ROLE_LABELS[Role(getattr(role, "value", role))])
    except (KeyError, ValueError):
        return str(getattr(role, "value", role))


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to ``app`` with the project's locale selector."""
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["role_label"] = role_label
