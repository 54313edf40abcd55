"""A call for volunteers for a cohort, and each person who answered it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Membership
from lms.core.models import Base, TimestampMixin, children, parent_key, utcnow
from lms.courses.cohorts.models import Cohort

# A volunteer's state.
WAITING, ACCEPTED, DECLINED = "waiting", "accepted", "declined"
VOLUNTEER_STATES = (WAITING, ACCEPTED, DECLINED)


class VolunteerCall(TimestampMixin, Base):
    """A trainer's call for volunteers to join a (pilot) cohort, open until its deadline."""

    __tablename__ = "volunteer_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = parent_key("organizations.id")
    # One call per cohort: the cohort's pilot group is gathered once, then the trainer may
    # edit the call (more seats, a later deadline).
    cohort_id: Mapped[int] = parent_key("cohorts.id", unique=True)
    text: Mapped[str] = mapped_column(Text)
    criteria: Mapped[str] = mapped_column(Text, default="")
    # People may volunteer up to and including this day (the organization's local date).
    deadline: Mapped[date] = mapped_column(Date)
    seats: Mapped[int] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"))

    cohort: Mapped[Cohort] = relationship()
    volunteers: Mapped[list[Volunteer]] = children("call", order_by="Volunteer.created_at")


class Volunteer(Base):
    """A person who volunteered for a call, with their note and the trainer's decision."""

    __tablename__ = "volunteers"
    __table_args__ = (UniqueConstraint("call_id", "membership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = parent_key("organizations.id")
    call_id: Mapped[int] = parent_key("volunteer_calls.id")
    membership_id: Mapped[int] = parent_key("memberships.id")
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=WAITING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"))

    call: Mapped[VolunteerCall] = relationship(back_populates="volunteers")
    membership: Mapped[Membership] = relationship(foreign_keys=[membership_id])
