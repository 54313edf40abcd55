"""Coaching follow-ups: dated 1:1 meetings of a learner (an enrolment) with a coach about a
coaching module, their shared notes, and the action items agreed there.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Membership, OrganizationOwned, User
from lms.core.models import Base, TimestampMixin, utcnow
from lms.courses.cohorts.models import Enrollment
from lms.courses.programs.models import Module

# Follow-up status.
SCHEDULED, HELD, CANCELLED, MISSED = "scheduled", "held", "cancelled", "missed"
FOLLOWUP_STATUSES = (SCHEDULED, HELD, CANCELLED, MISSED)
# Action item status.
OPEN, DONE, DROPPED = "open", "done", "dropped"
ACTION_STATUSES = (OPEN, DONE, DROPPED)


class FollowUp(OrganizationOwned, TimestampMixin, Base):
    """A meeting of a learner with their coach for a coaching module. ``notes`` are shared:
    the coach writes them, the learner reads them.
    """

    __tablename__ = "coaching_followups"
    __table_args__ = (
        # The due list of an organization: scheduled follow-ups by date.
        Index("ix_coaching_followups_organization_id_status_scheduled_at", "organization_id",
              "status", "scheduled_at"),
    )

    enrollment_id: Mapped[str] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("program_modules.id", ondelete="CASCADE"),
                                           index=True)
    coach_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), index=True)
    scheduled_at: Mapped[datetime] = mapped_column()
    duration_minutes: Mapped[int] = mapped_column()
    place: Mapped[str | None] = mapped_column(String(300))
    video_link: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    held_at: Mapped[datetime | None] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    next_followup_on: Mapped[date | None] = mapped_column(Date)
    # The "attended" statement recorded when the follow-up was held.
    statement_id: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    enrollment: Mapped[Enrollment] = relationship()
    module: Mapped[Module] = relationship()
    coach: Mapped[Membership | None] = relationship()
    action_items: Mapped[list[ActionItem]] = relationship(
        back_populates="followup", order_by="ActionItem.id", cascade="all, delete-orphan",
        passive_deletes=True)

    @property
    def ends_at(self) -> datetime:
        """When the meeting is planned to end."""
        return self.scheduled_at + timedelta(minutes=self.duration_minutes)

    @property
    def learner(self) -> Membership:
        """The learner met."""
        return self.enrollment.membership


class ActionItem(TimestampMixin, Base):
    """Something the learner agreed to do by a date; ticked by the learner or the coach."""

    __tablename__ = "coaching_action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    followup_id: Mapped[int] = mapped_column(
        ForeignKey("coaching_followups.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=OPEN)
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # The "completed" statement recorded when it was ticked done.
    statement_id: Mapped[str | None] = mapped_column(String(36))

    followup: Mapped[FollowUp] = relationship(back_populates="action_items")
    completed_by: Mapped[User | None] = relationship()
