"""What an organization says its outcomes are worth and what its training costs: the inputs of
the return on investment. Nothing has a default amount: without values there is no ROI.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.models import Base, utcnow

# The outcomes an organization may put a value on (advocacy event metrics).
OUTCOMES = ("clicks", "signups", "leads", "hires")


class ImpactSettings(Base):
    """One organization's outcome values and training costs (all optional, in ``currency``)."""

    __tablename__ = "impact_settings"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    # Outcome (one of OUTCOMES) → value of one, as a decimal string ("12.50").
    outcome_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    trainer_day_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # Days of preparation and follow-up per cohort, on top of the days in session.
    extra_trainer_days: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    learner_hourly_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    tools_cost_per_learner: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # Recertification by behaviour: a certified learner with fewer advocacy actions than this
    # over the last ``recertify_weeks`` weeks is enrolled in the refresher (None: off).
    recertify_below_actions: Mapped[int | None] = mapped_column(Integer)
    recertify_weeks: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def value_of(self, outcome: str) -> Decimal | None:
        """The value of one ``outcome``, or None when it has none."""
        raw = (self.outcome_values or {}).get(outcome)
        return Decimal(str(raw)) if raw not in (None, "") else None
