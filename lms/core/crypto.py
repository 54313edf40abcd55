"""Secrets kept encrypted at rest (an external LRS's secret, an identity provider's client secret).

The key is derived from the instance's ``SECRET_KEY`` and a purpose, so a copy of the database
alone reveals nothing, and a value encrypted for one purpose cannot be decrypted for another.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


class SecretUnreadable(ValueError):
    """A stored secret cannot be decrypted (it was encrypted under another ``SECRET_KEY``)."""


def _fernet(purpose: str) -> Fernet:
    digest = hashlib.sha256(f"relais:{purpose}:".encode()
                            + str(current_app.config["SECRET_KEY"]).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(secret: str, *, purpose: str) -> str:
    """Encrypt ``secret`` for storage under the key of ``purpose``."""
    return _fernet(purpose).encrypt(secret.encode()).decode()


def decrypt_secret(token: str, *, purpose: str) -> str:
    """Decrypt a secret stored by :func:`encrypt_secret` with the same ``purpose``.

    :raise SecretUnreadable: it was encrypted under another SECRET_KEY or purpose.
    """
    try:
        return _fernet(purpose).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("the stored secret cannot be decrypted (was SECRET_KEY "
                               "changed?); enter the secret again") from None
