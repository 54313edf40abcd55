"""The API blueprint, its authentication and its error envelope.

Errors always have the shape ``{"error": {"code": str, "message": str, "fields": {...}}}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, g, jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from werkzeug.exceptions import HTTPException

from lms.accounts.authz import REQUIRED_ROLES_ATTR, check_role, membership_for
from lms.accounts.models import Membership, Role, User
from lms.accounts.services import user_for_api_token
from lms.core.errors import BadRequest, DomainError, NotFound, Text, ValidationFailed
from lms.core.inputs import json_problems
from lms.courses.cohorts.models import Enrollment
from lms.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M")

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large",
              415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests"}


def error_response(status: int, code: str, message: Any,
                   fields: dict[str, Any] | None = None) -> Response:
    """Build a JSON error response in the documented envelope.

    Messages may be lazy strings: they are read here, in the request's language.
    """
    response = jsonify({"error": {"code": code, "message": str(message),
                                  "fields": {name: str(text)
                                             for name, text in (fields or {}).items()}}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="relais"'
    return response


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    db.session.rollback()
    return error_response(exc.status, exc.code, exc.message, exc.fields)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    response = error_response(status, HTTP_CODES.get(status, "error"),
                              exc.description or exc.name)
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


@bp.after_app_request
def _routing_error_as_json(response: Response) -> Response:
    # An unknown API path or a wrong method fails before any blueprint is chosen, so the
    # blueprint's handlers never see it and the page handler answers in HTML: put it in the
    # envelope here so API clients get JSON for every error.
    if (request.url_rule is None and response.status_code in (404, 405)
            and (request.path == bp.url_prefix or request.path.startswith(f"{bp.url_prefix}/"))):
        status = response.status_code
        message = (_l("No such API endpoint.") if status == 404
                   else _l("Method %(method)s is not allowed here.", method=request.method))
        json_response = error_response(status, HTTP_CODES[status], message)
        if "Allow" in response.headers:
            json_response.headers["Allow"] = response.headers["Allow"]
        return json_response
    return response


class Unauthorized(DomainError, code="unauthorized", status=401):
    """No valid bearer token (HTTP 401)."""


def current_api_user() -> User:
    """The user whose token authenticated this request."""
    return g.api_user  # type: ignore[no-any-return]


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in {"api.openapi_document"}:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized(_l("Send a personal API token as 'Authorization: Bearer <token>'."))
    user = user_for_api_token(raw.strip())
    if user is None:
        raise Unauthorized(_l("This API token is unknown or revoked."))
    # The last-use stamp is its own small change, committed before the request's own work.
    db.session.commit()
    g.api_user = user


def org_member(*roles: str | Role) -> Callable[[F], F]:
    """Decorate an endpoint under ``/orgs/<org_slug>``: 404 for non-members, 403 without a role.

    The view receives ``membership`` instead of ``org_slug``.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, org_slug: str, **kwargs: Any) -> Any:
            membership: Membership = membership_for(current_api_user(), org_slug)
            if roles:
                check_role(membership, roles)
            g.organization = membership.organization
            g.membership = membership
            return view(*args, membership=membership, **kwargs)

        setattr(wrapped, REQUIRED_ROLES_ATTR, frozenset(Role(r) for r in roles))
        return wrapped  # type: ignore[return-value]

    return decorator


def json_body(*, dates: bool = True) -> dict[str, Any]:
    """Return the request's JSON object.

    :param dates: refuse date-shaped texts that do not exist or are out of range; off where
        the service checks its own dates (see :func:`lms.core.inputs.json_problems`).
    :raise BadRequest: the body is not a JSON object.
    :raise ValidationFailed: an integer out of range, NUL or a lone surrogate in a string, a
        date that does not exist or is outside 1900–2100 (``fields`` names each).
    """
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest(
            _l("The request body must be a JSON object (Content-Type: application/json)."))
    problems = json_problems(data, dates=dates)
    if problems:
        raise ValidationFailed(_l("Some values cannot be accepted."), fields=problems)
    return data


def body_int(body: dict[str, Any], name: str) -> int | None:
    """An optional integer of a JSON body: None when absent or null.

    :raise ValidationFailed: anything else than an integer (booleans included).
    """
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(_l("Invalid number."), fields={name: _l("An integer.")})
    return value


def body_text(body: dict[str, Any], name: str) -> str | None:
    """An optional string of a JSON body: None when absent or null.

    :raise ValidationFailed: anything else than a string.
    """
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(_l("Invalid text."), fields={name: _l("A string.")})
    return value


def body_date(body: dict[str, Any], name: str) -> date | None:
    """An optional ISO date (``YYYY-MM-DD``) of a JSON body: None when absent, null or empty.

    :raise ValidationFailed: anything else than such a date.
    """
    value = body.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationFailed(_l("Invalid date."), fields={name: _l("Use YYYY-MM-DD.")}) from exc


def in_org(membership: Membership, model: type[M], ident: Any, message: str) -> M:
    """The ``model`` row ``ident`` of the caller's organization.

    :raise NotFound: (with ``message``) no such row, or one of another organization.
    """
    row = db.session.get(model, ident)
    if row is None or getattr(row, "organization_id", None) != membership.organization_id:
        raise NotFound(message)
    return row


def body_member(membership: Membership, body: dict[str, Any], name: str) -> Membership | None:
    """The member of the caller's organization whose id a JSON body gives, None when absent.

    :raise ValidationFailed: not an integer, or no such member in the organization.
    """
    member_id = body_int(body, name)
    if member_id is None:
        return None
    member = db.session.get(Membership, member_id)
    if member is None or member.organization_id != membership.organization_id:
        raise ValidationFailed(_l("No such member."), fields={name: _l("No such member.")})
    return member


def body_enrollment(membership: Membership, body: dict[str, Any], name: str, message: Text,
                    field_message: Text) -> Enrollment:
    """The enrolment of the caller's organization whose id a JSON body gives under ``name``.

    :raise ValidationFailed: (``message``, and ``field_message`` for ``name``) the id is missing
        or names no enrolment of the organization.
    """
    enrollment = db.session.get(Enrollment, str(body.get(name) or ""))
    if enrollment is None or enrollment.organization_id != membership.organization_id:
        raise ValidationFailed(message, fields={name: field_message})
    return enrollment


MAX_PAGE = 1_000_000


def page_args(default_size: int = 50, max_size: int = 200) -> tuple[int, int]:
    """Read ``page`` (1 to 1,000,000) and ``per_page`` (1 to ``max_size``) query arguments.

    :raise BadRequest: either is not an integer in its range (``fields`` names which).
    """
    fields: dict[str, str] = {}
    values: dict[str, int] = {}
    for name, default, limit in (("page", 1, MAX_PAGE), ("per_page", default_size, max_size)):
        raw = request.args.get(name)
        if raw is None:
            values[name] = default
            continue
        if not raw.isascii() or not raw.isdigit():
            fields[name] = _l("integer expected")
        elif len(raw) > 9 or not 1 <= int(raw) <= limit:
            fields[name] = _l("must be between 1 and %(limit)d", limit=limit)
        else:
            values[name] = int(raw)
    if fields:
        raise BadRequest(_l("invalid pagination arguments"), fields=fields)
    return values["page"], values["per_page"]


def paged(stmt: Select[M], to_json: Callable[[M], dict[str, Any]]) -> dict[str, Any]:
    """The list response for the page of ``stmt``'s rows that the ``page`` and ``per_page``
    query arguments ask for: ``items`` (each through ``to_json``), ``page``, ``per_page`` and
    the ``total`` number of rows.
    """
    page, per_page = page_args()
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.offset((page - 1) * per_page).limit(per_page)).all()
    return {"items": [to_json(row) for row in rows], "page": page, "per_page": per_page,
            "total": total or 0}
