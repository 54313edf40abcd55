"""What the pages of every package share: the plain POST form, texts in the reader's language,
reading optional values from a submitted form, committing a change or showing it refused.

Packages import these from here, never from one another's views.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, has_request_context, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import SubmitField

from lms.core.errors import DomainError, Text
from lms.extensions import db

T = TypeVar("T")
FormT = TypeVar("FormT", bound=FlaskForm)

# Relais is French first: a text missing in the reader's language is shown in French.
FALLBACK_LANGUAGE = "fr"


class PostForm(FlaskForm):
    """A POST button whose fields are read from ``request.form`` (CSRF is checked by
    ``CSRFProtect`` for every POST; the form renders the token).
    """

    submit = SubmitField(_l("Confirm"))


def current_language() -> str:
    """The two-letter language of the page being served (``fr``, ``en``)."""
    return str(get_locale() or FALLBACK_LANGUAGE)[:2]


def localized(text: dict[str, str] | None, lang: str | None = None) -> str:
    """A text given per language, in ``lang`` (by default the page's), else in French, else in
    any language it has; ``""`` when there is none.
    """
    if not text:
        return ""
    return (text.get(lang or current_language()) or text.get(FALLBACK_LANGUAGE)
            or next((v for v in text.values() if v), ""))


def request_memo(name: str) -> dict[Any, Any]:
    """A dict kept under ``name`` for the rest of the request, for answers a page asks again
    and again; outside a request (a job, the CLI) a new empty one each time, so nothing is
    kept.
    """
    if not has_request_context():
        return {}
    memo: dict[Any, Any] = g.setdefault(name, {})
    return memo


def absolute_url(path: str = "") -> str:
    """``path`` (``/o/demo/charter``) as an address that works away from the page (an e-mail,
    a QR code, an identity provider's settings): under ``BASE_URL``, as people reach Relais.
    """
    return f"{str(current_app.config['BASE_URL']).rstrip('/')}{path}"


# An id no row has, standing for the one :func:`url_per_id` writes in.
_SOME_ID = 987654321987


def url_per_id(endpoint: str, name: str, **values: Any) -> Callable[[int], str]:
    """``url_for(endpoint, **{name: id}, **values)`` as a function of an integer id, built
    once: a page linking hundreds of rows (a cohort's learners) pays one ``url_for``, not
    one per row. The id must be a path segment of ``endpoint``'s rule (not a query value):
    the last occurrence of a stand-in id is replaced, so a slug before it holding the same
    digits changes nothing.
    """
    arguments: dict[str, Any] = {**values, name: _SOME_ID}
    head, found, tail = url_for(endpoint, **arguments).rpartition(str(_SOME_ID))
    assert found, f"{name} is not in {endpoint}'s URL"
    return lambda ident: f"{head}{int(ident)}{tail}"


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (a ``next`` to go back to), else None."""
    # Only local paths: an open redirect (after login, after choosing a language) would help
    # phishing. Browsers read "//x", "/\\x" and paths with tabs or newlines in them as another
    # host, so those are refused too.
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 33 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def form_int(value: str | None) -> int | None:
    """An optional integer typed in a form: None when empty or not a number."""
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def form_date(value: str | None) -> date | None:
    """An optional ISO date (``YYYY-MM-DD``) from a form: None when empty or invalid."""
    value = (value or "").strip()
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def form_datetime(day: str | None, time: str | None, zone: tzinfo) -> datetime | None:
    """A day and a time typed in a form, as an aware datetime in ``zone``; None when invalid."""
    try:
        moment = datetime.fromisoformat(f"{(day or '').strip()}T{(time or '').strip()}")
    except ValueError:
        return None
    return moment.replace(tzinfo=zone)


def chosen_file(missing: Text, name: str = "file") -> FileStorage | None:
    """The file sent in the form's field ``name``; None, flashing ``missing``, when no file was
    chosen.
    """
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        flash(str(missing), "error")
        return None
    return upload


def require_submitted(form: FormT) -> FormT:
    """``form``, posted and valid (its CSRF token included); otherwise a bad request (400)."""
    if not form.validate_on_submit():
        abort(400)
    return form


def flash_error(exc: DomainError) -> None:
    """Show a refused change at the top of the next page: its message, then each field's."""
    details = " ".join(str(v) for v in exc.fields.values())
    flash(f"{exc.message} {details}".strip(), "error")


def commit_or_flash(change: Callable[[], T],
                    success: Text | Callable[[T], Text] | None = None) -> T | None:
    """Make one change from a page: commit it and flash ``success``, or roll it back and flash
    why it was refused.

    :param change: calls the service (which only flushes) and returns its result.
    :param success: the message, or a function of the result giving it; None flashes nothing.
    :return: the service's result, or None when it was refused.
    """
    try:
        result = change()
    except DomainError as exc:
        db.session.rollback()
        flash_error(exc)
        return None
    db.session.commit()
    if success is not None:
        flash(str(success(result) if callable(success) else success), "success")
    return result


def commit_or_mark(form: FlaskForm, change: Callable[[], T],
                   success: Text | Callable[[T], Text] | None = None,
                   field: str | None = None, *, summary: bool = True,
                   field_text: Callable[[str, str], Text] | None = None) -> T | None:
    """Make one change from a WTForms page: commit it and flash ``success``, or roll it back and
    put each refusal next to its field, so the page shows again with what was typed.

    :param field: the field that shows a refusal naming none of the form's fields; without it,
        the refusal's message is flashed.
    :param summary: also flash the message when fields were marked (False: the marks suffice).
    :param field_text: how this page words a field's refusal, given the field's name and the
        service's words (by default, the service's words).
    :return: the service's result, or None when it was refused.
    """
    try:
        result = change()
    except DomainError as exc:
        db.session.rollback()
        placed = False
        for name, message in exc.fields.items():
            if name in form._fields:
                text = field_text(name, message) if field_text is not None else message
                form[name].errors = [*form[name].errors, text]
                placed = True
        if not placed and field is not None:
            form[field].errors = [*form[field].errors, str(exc.message)]
        elif summary or not placed:
            flash(str(exc.message), "error")
        return None
    db.session.commit()
    if success is not None:
        flash(str(success(result) if callable(success) else success), "success")
    return result


def commit_or_errors(action: Callable[[], object],
                     fallback: str | None = None) -> dict[str, str] | None:
    """Run ``action()`` (a service call) and commit: None; a refused change is rolled back and
    gives its field errors, for the form to show next to the fields with the typed values.

    :param fallback: the field that shows the message of a refusal naming no field.
    """
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        if not exc.fields and fallback is not None:
            return {fallback: exc.message}
        return exc.fields
    db.session.commit()
    return None


def committed(action: Callable[[], object], success: Text | None = None) -> bool:
    """:func:`commit_or_flash` for a service call that returns nothing: whether it was done."""
    return commit_or_flash(lambda: action() or True, success) is not None


def get_or_404(model: type[T], ident: Any, *,
               outside: Callable[[T], bool] = lambda _row: False) -> T:
    """The row ``ident`` of ``model``, else 404; 404 too when ``outside(row)`` (the row belongs
    to another organization, program, cohort… than the page's).
    """
    row = db.session.get(model, ident)
    if row is None or outside(row):
        abort(404)
    return row
