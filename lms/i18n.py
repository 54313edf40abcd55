"""French and English: the locale comes from the user, then the browser.

Catalogues live in ``lms/translations``; ``scripts/i18n.sh`` extracts, updates and compiles them.
"""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import Flask, abort, current_app, has_request_context, redirect, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from lms.core import formatting
from lms.core.web import local_path
from lms.extensions import babel

# Set by the language links in the footer, for people not logged in (a shared computer, an
# English browser in a French company); a logged-in user's saved choice still comes first.
COOKIE = "relais_lang"


def select_locale() -> str | None:
    """Pick the user's saved locale, else the language chosen in the footer, else the best
    match for the browser's languages.
    """
    if not has_request_context():
        return None  # CLI and background work: the default locale
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale  # type: ignore[no-any-return]
    if request.cookies.get(COOKIE) in languages:
        return request.cookies[COOKIE]
    return request.accept_languages.best_match(languages)


def choose_language(code: str) -> Any:
    """Remember the language chosen in the footer, then go back to the page."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    response = redirect(local_path(request.args.get("next")) or url_for("home"))
    response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=request.is_secure)
    return response


def role_label(role: Any) -> str:
    """The translated name of a role (``learner`` → "Apprenant" in French)."""
    # Imported here: accounts depends on this module's babel binding, not the reverse.
    from lms.accounts.forms import ROLE_LABELS
    from lms.accounts.models import Role

    try:
        return str(ROLE_LABELS[Role(getattr(role, "value", role))])
    except (KeyError, ValueError):
        return str(getattr(role, "value", role))


def language_choices() -> list[tuple[str, str]]:
    """The configured languages as (code, name in that language): ("fr", "Français")."""
    return [(code, (Locale.parse(code).get_display_name(code) or code).capitalize())
            for code in current_app.config["LANGUAGES"]]


def remember_user_language(response: Any) -> Any:
    """After a page for a logged-in person who chose a language, remember it in this browser,
    so the login page after logging out speaks the language their pages spoke (and not the
    browser's, which may differ: a French account on an English browser).
    """
    if response.mimetype != "text/html":
        # Before touching current_user: loading it costs a query, and the LRS and the API
        # (thousands of requests a second) answer no pages.
        return response
    languages = current_app.config["LANGUAGES"]
    locale = getattr(current_user, "locale", None) if current_user else None
    if (current_user and current_user.is_authenticated
            and locale in languages
            and request.cookies.get(COOKIE) != locale):
        response.set_cookie(COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True, secure=request.is_secure)
    return response


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to ``app`` with the project's locale selector."""
    babel.init_app(app, locale_selector=select_locale)
    app.after_request(remember_user_language)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["language_choices"] = language_choices
    app.jinja_env.filters["role_label"] = role_label
    formatting.init_jinja(app.jinja_env)
    app.add_url_rule("/language/<code>", "choose_language", choose_language)
