"""Sessions of a cohort, their registrations (seat, waiting list, approval) and attendance."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Membership, OrganizationOwned, User
from lms.core.models import Base, TimestampMixin, children, parent_key, utcnow
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.programs.models import Module

# Session registration status. A registration to a session of a program that needs approval
# starts as "pending_approval" (no seat held) until the learner's manager, HR or an admin
# approves it (then a seat or the waiting list, as usual) or declines it (kept, with a reason).
REGISTERED, WAITLISTED = "registered", "waitlisted"
PENDING_APPROVAL, DECLINED = "pending_approval", "declined"


# How a presence was recorded: on the trainer's sheet, or by the learner scanning the QR code.
SHEET, QR = "sheet", "qr"


# Attendance.
PRESENT, ABSENT, EXCUSED = "present", "absent", "excused"
ATTENDANCE_STATUSES = (PRESENT, ABSENT, EXCUSED)
HALVES = ("am", "pm")


class TrainingSession(OrganizationOwned, TimestampMixin, Base):
    """A dated occurrence of a workshop, conference or group training for a cohort."""

    __tablename__ = "training_sessions"

    module_id: Mapped[int] = parent_key("program_modules.id")
    cohort_id: Mapped[int] = parent_key("cohorts.id")
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    place: Mapped[str | None] = mapped_column(String(300))
    virtual_link: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None] = mapped_column()
    trainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"))

    module: Mapped[Module] = relationship()
    cohort: Mapped[Cohort] = relationship()
    trainer: Mapped[Membership | None] = relationship()
    registrations: Mapped[list[SessionRegistration]] = children(
        "session", order_by="SessionRegistration.id")


class SessionRegistration(Base):
    """A learner's seat in a session, or their place on its waiting list (first come first
    served: the lowest id is promoted first).
    """

    __tablename__ = "session_registrations"
    __table_args__ = (UniqueConstraint("session_id", "enrollment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = parent_key("training_sessions.id")
    enrollment_id: Mapped[str] = parent_key("enrollments.id")
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Approval (programs with approval_required): who asked, who decided, when, and why not.
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decline_reason: Mapped[str | None] = mapped_column(String(500))

    session: Mapped[TrainingSession] = relationship(back_populates="registrations")
    enrollment: Mapped[Enrollment] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class Attendance(Base):
    """Presence of a learner at a session for one half-day, as on a sign-in sheet."""

    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("session_id", "enrollment_id", "day", "half"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = parent_key("training_sessions.id")
    enrollment_id: Mapped[str] = parent_key("enrollments.id")
    day: Mapped[date] = mapped_column(Date)
    half: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(10))
    signed_at: Mapped[datetime | None] = mapped_column()
    # "sheet" (marked by the trainer) or "qr" (the learner scanned the session's code).
    source: Mapped[str] = mapped_column(String(8), default=SHEET, server_default=SHEET)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # The xAPI statement recorded for this presence (voided if the mark is corrected).
    statement_id: Mapped[str | None] = mapped_column(String(36))

    recorded_by: Mapped[User | None] = relationship()
    enrollment: Mapped[Enrollment] = relationship()
