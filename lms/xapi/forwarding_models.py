"""Tables of statement forwarding: each organization's external LRS and the outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organization, OrganizationOwned
from lms.core.models import Base, TimestampMixin, utcnow, values_enum
from lms.xapi.models import STATEMENT_KEY


class OutboxStatus(enum.StrEnum):
    """Where a statement stands on its way to the external LRS."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


OUTBOX_STATUS_ENUM = values_enum(OutboxStatus, "outbox_status")


class ExternalLrs(TimestampMixin, Base):
    """An organization's external LRS: where its statements are forwarded.

    The secret is stored encrypted (see ``forwarding.encrypt_secret``) and never shown again.
    """

    __tablename__ = "xapi_external_lrs"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), unique=True
    )
    endpoint: Mapped[str] = mapped_column(String(500))
    key: Mapped[str] = mapped_column(String(255))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column()
    last_error_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(1000))
    # A delivery worker's claim on this organization's outbox, so batches leave in order and
    # no two workers send the same rows; it lapses by itself if the worker dies.
    claimed_until: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(64))

    organization: Mapped[Organization] = relationship()


class OutboxEntry(OrganizationOwned, Base):
    """One statement to forward to its organization's external LRS.

    The statement's JSON is read from the statement store when it is sent, so what leaves is
    what is stored. Delivered rows are kept: they prove delivery and stop any resend.
    """

    __tablename__ = "xapi_outbox"
    __table_args__ = (
        UniqueConstraint("statement_pk"),
        # Picking due work: an organization's pending rows in statement order.
        Index("ix_xapi_outbox_pick", "organization_id", "status", "statement_pk"),
    )
    organization_indexed = False

    statement_pk: Mapped[int] = mapped_column(
        STATEMENT_KEY, ForeignKey("xapi_statements.pk", ondelete="CASCADE"))
    status: Mapped[OutboxStatus] = mapped_column(OUTBOX_STATUS_ENUM,
                                                 default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(1000))
