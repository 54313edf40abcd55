"""Writes of the xAPI package: LRS credentials (statements are recorded in ``record.py``)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete

from lms.accounts import audit
from lms.accounts.models import Organization, User
from lms.accounts.services import hash_token
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi.models import LrsCredential


def create_lrs_credentials(*, organization: Organization, label: str = "LRS client",
                           expires_at: datetime | None = None, scope_agent: str | None = None,
                           scope_registration: str | None = None, by: User | None = None
                           ) -> tuple[LrsCredential, str]:
    """Create a key/secret pair for the organization's LRS; the secret is returned once.

    :param by: who creates them (the audit log's actor), None from the command line.
    """
    secret = secrets.token_urlsafe(24)
    credential = LrsCredential(organization=organization, key=secrets.token_hex(10),
                               secret_hash=hash_token(secret), label=label,
                               expires_at=expires_at, scope_agent=scope_agent,
                               scope_registration=scope_registration)
    db.session.add(credential)
    db.session.flush()
    if scope_agent is None:
        # Client credentials are audited; the short-lived ones a package launch gets for one
        # learner are not (one per launch, they would drown the log).
        audit.record(action="lrs_credentials.create", actor=by, organization=organization,
                     target=f"lrs_credential:{credential.id}")
    return credential, secret


def purge_expired_credentials(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete launch credentials that expired more than ``older_than`` ago; returns how many.

    Statements keep their authority as JSON, so nothing refers to the deleted rows.
    """
    cutoff = utcnow() - older_than
    result = db.session.execute(
        delete(LrsCredential).where(LrsCredential.expires_at.is_not(None),
                                    LrsCredential.expires_at < cutoff))
    return result.rowcount or 0  # type: ignore[attr-defined]
