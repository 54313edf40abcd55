"""French and English: the locale comes from the user, then the browser."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import current_user

from flask_babel import get_locale

from lms.extensions import babel


def select_locale() -> str | None:
    """Pick the user's saved locale, else the best match for the browser's languages."""
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale  # type: ignore[no-any-return]
    return request.accept_languages.best_match(languages) if request else None


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to ``app`` with the project's locale selector."""
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
