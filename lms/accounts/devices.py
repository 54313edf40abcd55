"""Known devices: a signed, long-lived cookie left by a successful login (OWASP's "device cookie").

A limit on failed logins per account lets anyone lock the owner out by guessing wrong on
purpose. So a stranger's failures are counted per account and address, per address, and per
account over every address, while a browser that has logged in to the account before (its
cookie names the account and a random nonce, signed with ``SECRET_KEY``) is held only by the
failures made with that same cookie: the owner's right password goes through while strangers
are throttled. The cookie proves nothing by itself (the password and second factor are still
asked), it only says whose failures count.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

COOKIE = "relais_device"
# Sent only to the login pages, the one place it is read.
COOKIE_PATH = "/login"
_SALT = "relais-known-device"
# Accounts remembered by one browser (a shared computer): the most recent ones.
MAX_ACCOUNTS = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _max_age() -> int:
    return int(current_app.config["LOGIN_DEVICE_COOKIE_DAYS"]) * 86400


def _entries(raw: str | None) -> dict[str, str]:
    """The cookie's ``{user id: nonce}``; empty when absent, forged, malformed or expired."""
    if not raw:
        return {}
    try:
        data = _serializer().loads(raw, max_age=_max_age())
    except BadData:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def device_id(raw: str | None, user_id: int) -> str | None:
    """This browser's device id for ``user_id`` (a hash of the nonce), or None for a stranger.

    :param raw: the cookie as the browser sent it.
    """
    nonce = _entries(raw).get(str(user_id))
    return hashlib.sha256(nonce.encode()).hexdigest() if nonce else None


def remember(response: Response, raw: str | None, user_id: int) -> None:
    """Make this browser a known device of ``user_id`` (a new nonce, so the failures counted
    against the previous one are behind it), keeping the other accounts it knows.
    """
    entries = {k: v for k, v in _entries(raw).items() if k != str(user_id)}
    entries[str(user_id)] = secrets.token_urlsafe(16)
    kept = dict(list(entries.items())[-MAX_ACCOUNTS:])
    response.set_cookie(COOKIE, _serializer().dumps(kept), max_age=_max_age(), path=COOKIE_PATH,
                        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
                        httponly=True, samesite="Strict")
