"""The tool's signing keys: the JWKS platforms read, signing, and rotation with a grace period.

Keys are RS256 pairs made with joserfc. The private half is stored encrypted
(``lms.core.crypto``); the public half is published at ``/lti/jwks``. Rotating makes a new key
the signer at once and keeps the old one published for a grace period, so a platform that
cached the old key still accepts what it signed (a deep-linking answer, a token request)
until it fetches the JWKS again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import insert, or_, select

from lms.core import crypto
from lms.core.models import utcnow
from lms.extensions import db
from lms.lti.models import LtiKey

PURPOSE = "lti-tool-private-key"
ALGORITHM = "RS256"
DEFAULT_GRACE_DAYS = 7


def _new_key() -> LtiKey:
    """Make a key pair and commit it at once, in a transaction of its own.

    A platform fetches the JWKS to check what the key signs, often while the signing
    transaction (a job's, a page's) is still open: the key must already be visible to it.
    """
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM})
    kid = key.thumbprint()
    public = {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": ALGORITHM}
    pem = key.as_pem(private=True).decode()
    with db.engine.begin() as conn:
        conn.execute(insert(LtiKey).values(
            kid=kid, public_jwk=public, created_at=utcnow(),
            private_key_encrypted=crypto.encrypt_secret(pem, purpose=PURPOSE)))
    return db.session.execute(select(LtiKey).where(LtiKey.kid == kid)).scalar_one()


def current_key() -> LtiKey:
    """The key that signs now (created on first use)."""
    row = db.session.scalar(select(LtiKey).where(LtiKey.retired_at.is_(None))
                            .order_by(LtiKey.created_at.desc(), LtiKey.id.desc()).limit(1))
    return row or _new_key()


def published() -> list[LtiKey]:
    """The keys platforms may check signatures with: the current one and those in grace."""
    now = utcnow()
    return list(db.session.scalars(
        select(LtiKey).where(or_(LtiKey.retired_at.is_(None), LtiKey.published_until > now))
        .order_by(LtiKey.created_at.desc(), LtiKey.id.desc())))


def jwks() -> dict[str, Any]:
    """The tool's public key set, as served at ``/lti/jwks``."""
    current_key()
    return {"keys": [dict(row.public_jwk) for row in published()]}


def rotate(*, grace_days: int = DEFAULT_GRACE_DAYS) -> LtiKey:
    """Make a new key the signer; earlier keys stay published for ``grace_days`` days.

    :param grace_days: how long the retired keys stay in the JWKS (0: removed at once).
    """
    new = _new_key()  # committed first (see _new_key), so nothing is written before it
    now = utcnow()
    for row in db.session.scalars(select(LtiKey).where(LtiKey.retired_at.is_(None),
                                                       LtiKey.id != new.id)):
        row.retired_at = now
        row.published_until = now + timedelta(days=max(grace_days, 0))
    db.session.flush()
    return new


def sign(claims: dict[str, Any]) -> str:
    """``claims`` as a JWT signed with the current key (its ``kid`` in the header).

    :raise crypto.SecretUnreadable: the key was encrypted under another SECRET_KEY.
    """
    row = current_key()
    pem = crypto.decrypt_secret(row.private_key_encrypted, purpose=PURPOSE)
    key = RSAKey.import_key(pem)
    return jwt.encode({"alg": ALGORITHM, "kid": row.kid, "typ": "JWT"}, claims, key)
