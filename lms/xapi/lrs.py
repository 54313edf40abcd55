"""The LRS blueprint under /xapi/: HTTP Basic auth, the version header, CORS and errors.

Resources add their routes to ``bp`` in their own modules (statements, documents, about).
"""

from __future__ import annotations

import base64
import hmac
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from lms.accounts.services import hash_token
from lms.core.database import driver_sql, time_processor
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.core.web import absolute_url
from lms.extensions import db

bp = Blueprint("xapi", __name__, url_prefix="/xapi")

VERSION = "1.0.3"
SUPPORTED_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3")
# Endpoints reachable without credentials or version header.
PUBLIC_ENDPOINTS = {"xapi.about"}


def lrs_error(status: int, message: str) -> Response:
    """Build the LRS's error response (a JSON object with the message)."""
    response = jsonify({"error": {"code": status, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="relais-lrs"'
    return response


@dataclass(frozen=True)
class Credential:
    """The LRS credentials that authenticated a request (what the resources read of them)."""

    id: int
    organization_id: int
    key: str
    label: str
    scope_agent: str | None
    scope_registration: str | None
    # Whether the organization forwards its statements to an external LRS, read with the
    # credentials (one query fewer for every statement write).
    forwards: bool = False


def current_credential() -> Credential:
    """The credentials that authenticated this request."""
    return g.lrs_credential  # type: ignore[no-any-return]


def current_organization_id() -> int:
    """The organization this LRS request reads and writes."""
    return current_credential().organization_id


# Every LRS request runs it: plain driver SQL (building and compiling an ORM query cost more
# than the lookup itself). Revocation and expiry are checked in the query, on every request,
# so a revoked or expired credential is refused at once by every process. Whether the
# organization forwards comes along (its unique key on xapi_external_lrs): a statement write
# would ask otherwise.
_CREDENTIAL_SQL = (
    "SELECT c.id, c.organization_id, c.key, c.label, c.scope_agent, c.scope_registration, "
    "c.secret_hash, f.enabled AS forwards FROM xapi_credentials c "
    "LEFT JOIN xapi_external_lrs f ON f.organization_id = c.organization_id "
    "WHERE c.key = ? AND c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at >= ?)")


def authenticate_basic(header: str | None) -> Credential | None:
    """Return valid, unexpired credentials for an ``Authorization: Basic`` header, or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        key, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    rows = driver_sql(_CREDENTIAL_SQL, (key, time_processor()(utcnow()))).rows
    row = rows[0] if rows else None
    if row is None or not hmac.compare_digest(row.secret_hash, hash_token(secret)):
        return None
    return Credential(row.id, row.organization_id, row.key, row.label, row.scope_agent,
                      row.scope_registration, bool(row.forwards))


# Form fields of the alternate request syntax that stand for headers (Communication 1.3).
_HEADER_FIELDS = {"authorization": "HTTP_AUTHORIZATION",
                  "x-experience-api-version": "HTTP_X_EXPERIENCE_API_VERSION",
                  "content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH",
                  "if-match": "HTTP_IF_MATCH", "if-none-match": "HTTP_IF_NONE_MATCH"}
ALTERNATE_ERROR = "relais.xapi.alternate_error"


class AlternateSyntax:
    """WSGI middleware turning xAPI's alternate request syntax into the ordinary request.

    ``POST /xapi/...?method=PUT`` with a form body carrying headers, parameters and
    ``content`` becomes the ``PUT`` it stands for, so every LRS resource supports it without
    knowing. A malformed one is flagged and answered 400 by the blueprint.
    """

    def __init__(self, app: Callable[..., Any], prefix: str = "/xapi/",
                 max_bytes: Callable[[], int] | None = None) -> None:
        self.app = app
        self.prefix = prefix
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        """Turn an alternate-syntax request into the ordinary one, then pass it on."""
        if environ.get("PATH_INFO", "").startswith(self.prefix):
            query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            if "method" in query and not self._too_large(environ):
                error = self._rewrite(environ, query)
                if error:
                    environ[ALTERNATE_ERROR] = error
        return self.app(environ, start_response)  # type: ignore[no-any-return]

    def _too_large(self, environ: dict[str, Any]) -> bool:
        # Left unread and unchanged: the app's size check answers 413 from Content-Length.
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        return self.max_bytes is not None and length > self.max_bytes()

    @staticmethod
    def _rewrite(environ: dict[str, Any], query: dict[str, list[str]]) -> str | None:
        if environ.get("REQUEST_METHOD") != "POST":
            return "the alternate request syntax must be sent as a POST"
        if set(query) != {"method"}:
            return "with the alternate request syntax, only 'method' may be in the query string"
        method = query["method"][0].upper()
        if method not in ("GET", "PUT", "POST", "DELETE", "HEAD"):
            return f"unsupported method {method!r} in the alternate request syntax"
        content_type = environ.get("CONTENT_TYPE", "")
        if not content_type.lower().startswith("application/x-www-form-urlencoded"):
            return "the alternate request syntax needs an application/x-www-form-urlencoded body"
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return "invalid Content-Length"
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
        except (ValueError, UnicodeDecodeError):
            return "the alternate request syntax body is not url-encoded"
        content = b""
        params: list[tuple[str, str]] = []
        environ.pop("CONTENT_TYPE", None)
        for name, values in form.items():
            if name.lower() in _HEADER_FIELDS:
                if name.lower() != "content-length":
                    environ[_HEADER_FIELDS[name.lower()]] = values[0]
            elif name == "content":
                content = values[0].encode("utf-8")
            else:
                params.extend((name, value) for value in values)
        if content and "CONTENT_TYPE" not in environ:
            environ["CONTENT_TYPE"] = "application/json"
        if method in ("PUT", "POST") and not content:
            return "the alternate request syntax needs a 'content' form parameter"
        environ["REQUEST_METHOD"] = method
        environ["QUERY_STRING"] = urlencode(params)
        environ["wsgi.input"] = io.BytesIO(content)
        environ["CONTENT_LENGTH"] = str(len(content))
        environ["relais.xapi.alternate"] = True
        return None


@bp.record_once
def _install_alternate_syntax(state: Any) -> None:
    config = state.app.config
    state.app.wsgi_app = AlternateSyntax(
        state.app.wsgi_app, f"{bp.url_prefix}/",
        max_bytes=lambda: int(config["XAPI_MAX_STATEMENTS_BYTES"]))


def credential_authority(credential: Credential) -> dict[str, Any]:
    """The authority set on statements sent with these credentials."""
    return {"objectType": "Agent", "name": credential.label,
            "account": {"homePage": absolute_url("/xapi"),
                        "name": credential.key}}


@bp.before_request
def _check_request() -> Response | None:
    if request.method == "OPTIONS":
        return None
    if ALTERNATE_ERROR in request.environ:
        return lrs_error(400, request.environ[ALTERNATE_ERROR])
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


# What every LRS response says, whatever the view: the version and CORS (browser-launched
# content calls the LRS from another origin).
_CORS = [("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE, HEAD, OPTIONS"),
         ("Access-Control-Allow-Headers",
          "Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match"),
         ("Access-Control-Expose-Headers",
          "ETag, Last-Modified, X-Experience-API-Version, X-Experience-API-Consistent-Through")]
_SET_HERE = {name.lower() for name, _value in _CORS} | {
    "x-experience-api-version", "access-control-allow-origin",
    "access-control-allow-credentials"}


@bp.after_request
def _headers(response: Response) -> Response:
    headers = response.headers
    # Replaced if a view set one (rare); then added in one go, not scanning the headers
    # once for each name as setting them one by one would.
    for name in {name.lower() for name, _value in headers} & _SET_HERE:
        del headers[name]
    origin = request.headers.get("Origin")
    added = [("X-Experience-API-Version", VERSION), ("Access-Control-Allow-Origin", origin or "*"),
             *_CORS]
    if origin:
        added.append(("Access-Control-Allow-Credentials", "true"))
    headers.extend(added)
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


# The resources register their routes on ``bp`` when imported.
from lms.xapi import activities, statements  # noqa: E402,F401
