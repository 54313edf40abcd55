"""An organization's retention periods (GDPR art. 5(1)(e)), one row per organization."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, text
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.models import Base, utcnow
from lms.xapi.models import STATEMENT_KEY


class RetentionSettings(Base):
    """How long each kind of data is kept; None means the instance's default (config).

    ``statements_done_pk``: every statement up to this primary key has already been
    pseudonymised, so each run only reads the statements that aged since the last one.
    """

    __tablename__ = "privacy_retention"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    advocacy_events_months: Mapped[int | None] = mapped_column(Integer)
    statements_months: Mapped[int | None] = mapped_column(Integer)
    hand_ins_months: Mapped[int | None] = mapped_column(Integer)
    coaching_notes_months: Mapped[int | None] = mapped_column(Integer)
    certificates_months: Mapped[int | None] = mapped_column(Integer)
    audit_months: Mapped[int | None] = mapped_column(Integer)
    jobs_days: Mapped[int | None] = mapped_column(Integer)
    statements_done_pk: Mapped[int] = mapped_column(STATEMENT_KEY, default=0,
                                                    server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_run_at: Mapped[datetime | None] = mapped_column()
