"""Server-side login sessions: a browser session is valid only while its row exists.

The signed Flask cookie carries a random session id; the database keeps its SHA-256 (so a
copy of the database does not give working cookies) with its creation and last-use times.
Idle and absolute lifetimes are settings (``SESSION_IDLE_MINUTES``,
``SESSION_ABSOLUTE_HOURS``). Functions flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, session
from flask_login import login_user
from sqlalchemy import delete, or_

from lms.accounts.models import User, UserSession
from lms.core.models import utcnow
from lms.extensions import db

# The key of the server-side session id in the signed session cookie.
SESSION_KEY = "sid"
# The key of a login waiting for its second step (the person's id, when the password was
# right, where to go next): it opens no page, only the code form.
PENDING_KEY = "login_pending"
# Last-use times are written at most this often, so pages do not write on every request.
TOUCH_EVERY = timedelta(seconds=60)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _limits() -> tuple[timedelta, timedelta]:
    cfg = current_app.config
    return (timedelta(minutes=int(cfg["SESSION_IDLE_MINUTES"])),
            timedelta(hours=int(cfg["SESSION_ABSOLUTE_HOURS"])))


def start(user: User, *, method: str = "password") -> str:
    """Open a new session for ``user`` and return its id (for the cookie).

    The user's expired sessions are removed on the way, so the table stays small.

    :param method: how the person logged in: ``"password"`` or ``"sso"`` (single sign-on,
        exempt from an organization's second-factor requirement).
    """
    idle, absolute = _limits()
    now = utcnow()
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.last_seen_at < now - idle, UserSession.created_at < now - absolute)))
    session_id = secrets.token_urlsafe(32)
    db.session.add(UserSession(id_hash=_hash(session_id), user_id=user.id, created_at=now,
                               last_seen_at=now, method=method))
    db.session.flush()
    return session_id


def log_in(user: User, *, method: str = "password") -> None:
    """Log ``user`` in to this browser with a new server-side session (flushed; the caller
    commits).

    The id is new at every login, so a cookie captured or planted before the login opens
    nothing afterwards (no session fixation). Other keys (a scanned sign-in code) survive.
    Every way of logging in (password, invitation, single sign-on) goes through here, after
    the second factor when the person has one.

    :param method: ``"password"`` or ``"sso"`` (see :func:`start`).
    """
    session_id = start(user, method=method)
    for key in (SESSION_KEY, PENDING_KEY, "_user_id", "_fresh", "_id", "_remember"):
        session.pop(key, None)
    session[SESSION_KEY] = session_id
    login_user(user)


def find(session_id: str | None, user_id: int) -> UserSession | None:
    """The live session ``session_id`` of ``user_id``, or None (unknown, ended or expired)."""
    if not session_id or not isinstance(session_id, str) or len(session_id) > 100:
        return None
    row = db.session.get(UserSession, _hash(session_id))
    if row is None or row.user_id != user_id:
        return None
    idle, absolute = _limits()
    now = utcnow()
    if row.last_seen_at < now - idle or row.created_at < now - absolute:
        return None
    return row


def touch(row: UserSession) -> bool:
    """Record that the session was used now; returns whether anything changed."""
    now = utcnow()
    if now - row.last_seen_at < TOUCH_EVERY:
        return False
    row.last_seen_at = now
    db.session.flush()
    return True


def end(session_id: str | None) -> None:
    """End one session (logout)."""
    if session_id and isinstance(session_id, str):
        db.session.execute(delete(UserSession).where(UserSession.id_hash == _hash(session_id)))


def end_all(user: User, *, keep: str | None = None) -> int:
    """End every session of ``user`` but ``keep``'s; returns how many ended."""
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        stmt = stmt.where(UserSession.id_hash != _hash(keep))
    result = db.session.execute(stmt)
    return result.rowcount or 0  # type: ignore[attr-defined]


def count(user: User) -> int:
    """How many live sessions ``user`` has (the account page shows it)."""
    idle, absolute = _limits()
    now = utcnow()
    return db.session.scalar(
        db.select(db.func.count()).select_from(UserSession).where(
            UserSession.user_id == user.id, UserSession.last_seen_at >= now - idle,
            UserSession.created_at >= now - absolute)) or 0
