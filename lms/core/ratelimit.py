"""Rate limits per credential on the machine surfaces: the JSON API (per bearer token), the LRS
(per key of its HTTP Basic credentials) and the advocacy webhook (per organization, whose secret
signs it). Requests without credentials on those surfaces are limited per client address.

Flask-Limiter counts, in Redis when one is configured (``RATELIMIT_STORAGE_URL``, else a
``redis://`` ``BROKER_URL``) so every process shares the counts, otherwise in the process's
memory (each process then allows the full limit). Limits are settings read on each request
(``RATELIMIT_API``, ``RATELIMIT_LRS``, ``RATELIMIT_WEBHOOK``, ``RATELIMIT_ANONYMOUS``). The
count runs before authentication, so a flood costs no database query. Over the limit the answer
is 429 with ``Retry-After``, in the error format of the surface. Pages are not limited here:
logins and password resets have their own throttles (lms/accounts).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import time
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask_babel import ngettext
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

EXTENSION = "relais.ratelimit"

# The header that carries each surface's credentials; the webhook's is its signature.
SIGNATURE_HEADER = "X-Relais-Signature"


def storage_url(app: Flask) -> str:
    """Where counts are kept: the configured Redis, else memory."""
    url = app.config["RATELIMIT_STORAGE_URL"] or app.config["BROKER_URL"] or ""
    return str(url) if str(url).startswith(("redis://", "rediss://")) else "memory://"


# Where a request keeps its credential's key: each limited request asks three times (the
# key of its limit, and whether each of the surface's two limits applies to it).
_CREDENTIAL_KEY = "relais.ratelimit.credential"


def _credential() -> str | None:
    """A key naming the request's credentials, or None when it has none.

    The LRS key is the user name of its Basic credentials (not secret); a bearer token is
    never kept, only a digest of it.
    """
    environ = request.environ
    if _CREDENTIAL_KEY not in environ:
        environ[_CREDENTIAL_KEY] = _read_credential()
    return environ[_CREDENTIAL_KEY]  # type: ignore[no-any-return]


def _read_credential() -> str | None:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip()
    if not raw:
        return None
    if scheme.lower() == "basic":
        try:
            return "lrs:" + base64.b64decode(raw, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return "lrs-bad:" + hashlib.sha256(raw.encode()).hexdigest()[:32]
    if scheme.lower() == "bearer":
        return "token:" + hashlib.sha256(raw.encode()).hexdigest()[:32]
    return None


def _webhook_credential() -> str | None:
    if not request.headers.get(SIGNATURE_HEADER):
        return None
    return "webhook:" + str((request.view_args or {}).get("org_slug", ""))


def limiter(app: Flask) -> Limiter:
    """The application's limiter (one per application: it holds the counts' storage)."""
    return app.extensions[EXTENSION]  # type: ignore[no-any-return]


def limit_surface(app: Flask, bp: Blueprint, setting: str, *, webhook: bool = False) -> None:
    """Limit every route of ``bp``: ``setting`` per credential, and ``RATELIMIT_ANONYMOUS``
    per address for requests that carry none.

    :param webhook: the credential is the organization named in the URL, for requests that
        carry a signature.
    """
    credential: Callable[[], str | None] = _webhook_credential if webhook else _credential
    limits = limiter(app)
    # CORS preflights carry no credentials and cost nothing; packages in a browser send one
    # before their requests, often from many learners behind one company address.
    limits.limit(lambda: str(current_app.config[setting]),
                  key_func=lambda: credential() or "",
                  exempt_when=lambda: request.method == "OPTIONS" or credential() is None,
                  scope=setting)(bp)
    limits.limit(lambda: str(current_app.config["RATELIMIT_ANONYMOUS"]),
                  key_func=get_remote_address,
                  exempt_when=lambda: request.method == "OPTIONS" or credential() is not None,
                  scope=f"{setting}:anonymous")(bp)


def retry_after() -> int:
    """Seconds until the exceeded limit lets the client through again (at least 1)."""
    current = limiter(current_app).current_limit
    if current is None:
        return 1
    return max(1, math.ceil(current.reset_at - time.time()))


def init_app(app: Flask) -> None:
    """Bind the limiter to ``app`` (after the request-size check) and answer 429s."""
    url = storage_url(app)
    # Redis down must not take the API down with it: count in memory meanwhile.
    options: dict[str, str | int] = (
        {"socket_connect_timeout": 2, "socket_timeout": 2} if url != "memory://" else {})
    app.extensions[EXTENSION] = Limiter(get_remote_address, app=app, storage_uri=url,
                                        storage_options=options,
                                        in_memory_fallback_enabled=True)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> tuple[Response, int, dict[str, str]]:
        seconds = retry_after()
        headers = {"Retry-After": str(seconds)}
        message = ngettext("Too many requests: try again in %(num)d second.",
                           "Too many requests: try again in %(num)d seconds.", seconds)
        if request.path.startswith("/xapi/"):
            return jsonify({"error": {"code": 429, "message": message}}), 429, headers
        return jsonify({"error": {"code": "too_many_requests", "message": message,
                                  "fields": {}}}), 429, headers
