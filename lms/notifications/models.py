"""A person's digest preference: how often the e-mail digest comes, and when the last was due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.models import Base

WEEKLY, DAILY, NEVER = "weekly", "daily", "never"
FREQUENCIES = (WEEKLY, DAILY, NEVER)


class DigestPreference(Base):
    """One row per person who chose a frequency or received a digest; without a row the
    digest is weekly.
    """

    __tablename__ = "digest_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    frequency: Mapped[str] = mapped_column(String(8), default=WEEKLY, server_default=WEEKLY)
    # When the last digest was due: sent, or skipped as it had nothing to say.
    last_digest_at: Mapped[datetime | None] = mapped_column()
    unsubscribed_at: Mapped[datetime | None] = mapped_column()
