"""Errors raised by services; the web and API edges turn them into responses."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of errors a user can act on.

    ``code`` is a stable machine-readable identifier, ``status`` the HTTP status the API
    answers with, ``fields`` maps field names to messages where the error is about input.
    """

    code = "error"
    status = 400

    def __init__(self, message: str, *, fields: dict[str, str] | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class ValidationFailed(DomainError):
    """Input is well-formed but breaks a rule (HTTP 422)."""

    code = "validation_failed"
    status = 422


class BadRequest(DomainError):
    """Input cannot be understood (HTTP 400)."""

    code = "bad_request"
    status = 400


class NotFound(DomainError):
    """The object does not exist or is not visible to the caller (HTTP 404)."""

    code = "not_found"
    status = 404


class Forbidden(DomainError):
    """The caller is known but lacks the role (HTTP 403)."""

    code = "forbidden"
    status = 403


class Conflict(DomainError):
    """The change contradicts existing data (HTTP 409)."""

    code = "conflict"
    status = 409
