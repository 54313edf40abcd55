"""Cohorts, their trainers and enrolments, and each learner's progress per module."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Membership, OrganizationOwned
from lms.core.models import Base, TimestampMixin, children, parent_key, utcnow
from lms.courses.programs.models import Module, Program

# Enrollment status.
INVITED, ACTIVE, WITHDRAWN, COMPLETED = "invited", "active", "withdrawn", "completed"
ENROLLMENT_STATUSES = (INVITED, ACTIVE, WITHDRAWN, COMPLETED)


# Module progress state.
NOT_STARTED, IN_PROGRESS, FAILED = "not_started", "in_progress", "failed"
PROGRESS_STATES = (NOT_STARTED, IN_PROGRESS, COMPLETED, FAILED)


def new_uuid() -> str:
    """A random UUID as a lower-case string (enrolment ids are xAPI registrations)."""
    return str(uuid.uuid4())


class Cohort(OrganizationOwned, TimestampMixin, Base):
    """Learners following one program together (the pilot group first)."""

    __tablename__ = "cohorts"

    program_id: Mapped[int] = parent_key("programs.id")
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    pilot: Mapped[bool] = mapped_column(default=False, server_default=false())

    program: Mapped[Program] = relationship()
    trainers: Mapped[list[Membership]] = relationship(secondary="cohort_trainers")
    enrollments: Mapped[list[Enrollment]] = children("cohort")


class CohortTrainer(Base):
    """A trainer of a cohort."""

    __tablename__ = "cohort_trainers"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"),
                                           primary_key=True)
    membership_id: Mapped[int] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), primary_key=True)


class Enrollment(Base):
    """A learner in a cohort. Its id, a UUID, is the xAPI ``registration`` of every statement
    about this learner's path through the program.
    """

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("cohort_id", "membership_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    organization_id: Mapped[int] = parent_key("organizations.id")
    cohort_id: Mapped[int] = parent_key("cohorts.id")
    membership_id: Mapped[int] = parent_key("memberships.id")
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()

    cohort: Mapped[Cohort] = relationship(back_populates="enrollments")
    membership: Mapped[Membership] = relationship()
    progress: Mapped[list[ModuleProgress]] = children("enrollment")


class EnrollmentRecord:
    """A learner's record in an enrolment, deleted with it (its id and the enrolment's first, as
    the tables have them).
    """

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    enrollment_id: Mapped[str] = parent_key("enrollments.id", sort_order=-1)


class ModuleProgress(EnrollmentRecord, Base):
    """Where a learner stands in one module: derived from statements, never set by hand."""

    __tablename__ = "module_progress"
    __table_args__ = (UniqueConstraint("enrollment_id", "module_id"),)

    module_id: Mapped[int] = parent_key("program_modules.id")
    state: Mapped[str] = mapped_column(String(16), default=NOT_STARTED)
    # Best score in percent (quizzes), when the rule has one.
    score: Mapped[float | None] = mapped_column(Float)
    # Share of the module's steps done (lessons viewed, quizzes passed), 0–100, for the bars.
    percent: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the projection derived the row from: a digest of the module's shape, and the
    # newest of the learner's statements it read (lms.courses.cohorts.progress); None: re-derive.
    basis: Mapped[str | None] = mapped_column(String(32))
    seen: Mapped[int | None] = mapped_column()

    enrollment: Mapped[Enrollment] = relationship(back_populates="progress")
    module: Mapped[Module] = relationship()
