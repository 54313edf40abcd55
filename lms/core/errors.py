"""Errors raised by services; the web and API edges turn them into responses.

Messages are written in English and marked for translation where they are raised, with
``flask_babel.lazy_gettext`` (imported as ``_l``) and ``%(name)s`` parameters::

    raise ValidationFailed(_l("The cohort cannot be created."),
                           fields={"ends_on": _l("Ends on %(day)s at the latest.", day=...)})

A lazy string is translated when it is read, so ``exc.message`` and ``exc.fields`` are plain
strings in the language of the request that reads them (the page's flash, the API's JSON
envelope), and in the default language in the CLI and background jobs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

# A message as services pass it: a plain string, or a lazy string (flask_babel.LazyString)
# translated when it is read.
Text = Any


class DomainError(Exception):
    """Base class of errors a user can act on.

    ``code`` is a stable machine-readable identifier, ``status`` the HTTP status the API
    answers with, ``fields`` maps field names to messages where the error is about input. A
    subclass gives its code and status in its class line:
    ``class Conflict(DomainError, code="conflict", status=409)``.
    """

    code = "error"
    status = 400

    def __init_subclass__(cls, *, code: str | None = None, status: int | None = None,
                          **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if status is not None:
            cls.status = status

    def __init__(self, message: Text, *, fields: Mapping[str, Text] | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self._message = message
        self._fields: dict[str, Text] = dict(fields or {})
        if code:
            self.code = code

    @property
    def message(self) -> str:
        """The message, translated into the reader's language."""
        return str(self._message)

    @property
    def fields(self) -> dict[str, str]:
        """Field name → message, translated into the reader's language."""
        return {name: str(text) for name, text in self._fields.items()}

    @fields.setter
    def fields(self, value: Mapping[str, Text]) -> None:
        self._fields = dict(value)

    def __str__(self) -> str:
        return self.message


class ValidationFailed(DomainError, code="validation_failed", status=422):
    """Input is well-formed but breaks a rule (HTTP 422)."""


class BadRequest(DomainError, code="bad_request", status=400):
    """Input cannot be understood (HTTP 400)."""


class NotFound(DomainError, code="not_found", status=404):
    """The object does not exist or is not visible to the caller (HTTP 404)."""


class Forbidden(DomainError, code="forbidden", status=403):
    """The caller is known but lacks the role (HTTP 403)."""


class Conflict(DomainError, code="conflict", status=409):
    """The change contradicts existing data (HTTP 409)."""


def joined(texts: Iterable[Text], separator: str = "\n") -> Text:
    """Messages (plain or lazy) joined into one message, translated when it is read."""
    items = list(texts)
    return LazyString(lambda: separator.join(str(text) for text in items))


def checked_text(value: str | None, *, field: str, max_length: int, too_long: Text,
                 required: tuple[Text, Text] | None = None) -> str:
    """``value`` without its surrounding spaces, refused when over ``max_length`` characters.

    :param field: the field the messages stand next to.
    :param too_long: the message of an over-long value (the field says the limit).
    :param required: the message and the field's message of an empty value, where one is
        refused (None: empty is fine).
    :raise ValidationFailed: empty where required, or over-long.
    """
    text = (value or "").strip()
    if required is not None and not text:
        raise ValidationFailed(required[0], fields={field: required[1]})
    if len(text) > max_length:
        raise ValidationFailed(too_long, fields={
            field: _l("At most %(count)d characters.", count=max_length)})
    return text
