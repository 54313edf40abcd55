"""The LRS blueprint under /xapi/: HTTP Basic auth, the version header, CORS and errors.

Resources add their routes to ``bp`` in their own modules (statements, documents, about).
"""

from __future__ import annotations

import base64
import hmac
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from lms.accounts.services import hash_token
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi.models import LrsCredential

bp = Blueprint("xapi", __name__, url_prefix="/xapi")

VERSION = "1.0.3"
SUPPORTED_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3")
# Endpoints reachable without credentials or version header.
PUBLIC_ENDPOINTS = {"xapi.about"}


class LrsError(DomainError):
    """An error answered by the LRS with a status and a plain JSON message."""


def lrs_error(status: int, message: str) -> Response:
    """Build the LRS's error response (a JSON object with the message)."""
    response = jsonify({"error": {"code": status, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="relais-lrs"'
    return response


def current_credential() -> LrsCredential:
    """The credentials that authenticated this request."""
    return g.lrs_credential  # type: ignore[no-any-return]


def current_organization_id() -> int:
    """The organization this LRS request reads and writes."""
    return current_credential().organization_id


def authenticate_basic(header: str | None) -> LrsCredential | None:
    """Return valid, unexpired credentials for an ``Authorization: Basic`` header, or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        key, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    credential = db.session.scalar(select(LrsCredential).where(LrsCredential.key == key))
    if credential is None or credential.revoked_at is not None:
        return None
    if credential.expires_at is not None and credential.expires_at < utcnow():
        return None
    if not hmac.compare_digest(credential.secret_hash, hash_token(secret)):
        return None
    return credential


@bp.before_request
def _check_request() -> Response | None:
    if request.method == "OPTIONS":
        return None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    credential = authenticate_basic(request.headers.get("Authorization"))
    if credential is None:
        return lrs_error(401, "valid LRS credentials are required (HTTP Basic)")
    g.lrs_credential = credential
    version = request.headers.get("X-Experience-API-Version")
    if version is None:
        return lrs_error(400, "the X-Experience-API-Version header is required")
    if version not in SUPPORTED_VERSIONS:
        return lrs_error(400, f"unsupported xAPI version {version!r}; use 1.0.x")
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["X-Experience-API-Version"] = VERSION
    # Browser-launched content calls the LRS from another origin.
    origin = request.headers.get("Origin")
    response.headers["Access-Control-Allow-Origin"] = origin or "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, PUT, POST, DELETE, HEAD, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = (
        "Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match")
    response.headers["Access-Control-Expose-Headers"] = (
        "ETag, Last-Modified, X-Experience-API-Version, X-Experience-API-Consistent-Through")
    if origin:
        response.headers["Access-Control-Allow-Credentials"] = "true"
    return response


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    db.session.rollback()
    return lrs_error(exc.status, exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return lrs_error(exc.code or 500, exc.description or exc.name)


@bp.route("/about", methods=["GET"])
def about() -> Any:
    """The LRS's supported versions (no authentication, as the specification says)."""
    return {"version": list(SUPPORTED_VERSIONS),
            "extensions": {"https://relais.dev/xapi/lrs": {"name": "Relais"}}}
