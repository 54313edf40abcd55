"""Writes of the xAPI package: LRS credentials (statements are recorded in ``record.py``)."""

from __future__ import annotations

import secrets
from datetime import datetime

from lms.accounts.models import Organization
from lms.accounts.services import hash_token
from lms.extensions import db
from lms.xapi.models import LrsCredential


def create_lrs_credentials(*, organization: Organization, label: str = "LRS client",
                           expires_at: datetime | None = None, scope_agent: str | None = None,
                           scope_registration: str | None = None) -> tuple[LrsCredential, str]:
    """Create a key/secret pair for the organization's LRS; the secret is returned once."""
    secret = secrets.token_urlsafe(24)
    credential = LrsCredential(organization=organization, key=secrets.token_hex(10),
                               secret_hash=hash_token(secret), label=label,
                               expires_at=expires_at, scope_agent=scope_agent,
                               scope_registration=scope_registration)
    db.session.add(credential)
    db.session.flush()
    return credential, secret
