"""Tables of the LRS: credentials (statements and documents are added by their own modules)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organization
from lms.core.models import TimestampMixin
from lms.extensions import db


class LrsCredential(TimestampMixin, db.Model):
    """An HTTP Basic key/secret pair for the LRS; statements land in its organization.

    Only the SHA-256 of the secret is stored. ``expires_at`` and ``scope_*`` serve short-lived
    launch credentials for one learner (xAPI content launched from a module).
    """

    __tablename__ = "xapi_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    # For launch credentials: the learner (agent JSON) and registration they are limited to.
    scope_agent: Mapped[str | None] = mapped_column(String(1000))
    scope_registration: Mapped[str | None] = mapped_column(String(36))

    organization: Mapped[Organization] = relationship()
