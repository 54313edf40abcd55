"""On-the-job exercises: evidence submissions and their reviews, and AFEST records (the tutor,
the analysis of the work situation, and a journal of work situations and reflective phases).

The module's settings are ``Module.exercise``; whether the module is completed stays a
projection of xAPI statements (an approval or a verification records ``completed``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Membership, OrganizationOwned, User
from lms.core.models import Base, children, parent_key, utcnow

if TYPE_CHECKING:
    from lms.courses.cohorts.models import Enrollment
    from lms.courses.programs.models import Module

# Submission status.
SUBMITTED, CHANGES_REQUESTED = "submitted", "changes_requested"
APPROVED, VERIFIED = "approved", "verified"
SUBMISSION_STATUSES = (SUBMITTED, CHANGES_REQUESTED, APPROVED, VERIFIED)
# Done: the exercise needs nothing more from the learner.
DONE_STATUSES = (APPROVED, VERIFIED)
# Review decisions and rubric levels per criterion.
DECISIONS = (APPROVED, CHANGES_REQUESTED)
MET, PARTLY, NOT_MET = "met", "partly", "not_met"
RUBRIC_LEVELS = (MET, PARTLY, NOT_MET)
# AFEST journal entry kinds: reflective phases are recorded apart from the work situations.
WORK_SITUATION, REFLECTIVE_PHASE = "work_situation", "reflective_phase"
JOURNAL_KINDS = (WORK_SITUATION, REFLECTIVE_PHASE)


class ExerciseSubmission(OrganizationOwned, Base):
    """One hand-in of evidence for an exercise (attempts count from 1), or the record of an
    automatic verification from advocacy activity (``verification`` holds what matched).
    """

    __tablename__ = "exercise_submissions"
    __table_args__ = (UniqueConstraint("enrollment_id", "module_id", "attempt"),
                      Index("ix_exercise_submissions_organization_status", "organization_id",
                            "status", "submitted_at"))
    organization_indexed = False

    enrollment_id: Mapped[str] = parent_key("enrollments.id")
    module_id: Mapped[int] = parent_key("program_modules.id")
    attempt: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default=SUBMITTED)
    post_url: Mapped[str | None] = mapped_column(String(500))
    # Stored under the instance folder (``exercises/<organization id>/<file>``).
    screenshot_path: Mapped[str | None] = mapped_column(String(200))
    screenshot_type: Mapped[str | None] = mapped_column(String(40))
    reflection: Mapped[str | None] = mapped_column(Text)
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()
    # The xAPI statement that recorded the hand-in.
    statement_id: Mapped[str | None] = mapped_column(String(36))

    enrollment: Mapped[Enrollment] = relationship()
    module: Mapped[Module] = relationship()
    reviews: Mapped[list[ExerciseReview]] = children("submission", order_by="ExerciseReview.id")


class ExerciseReview(Base):
    """A reviewer's decision on a submission, with a comment and a level per rubric criterion
    (``rubric`` maps criterion keys to met / partly / not_met).
    """

    __tablename__ = "exercise_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = parent_key("exercise_submissions.id")
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    rubric: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[ExerciseSubmission] = relationship(back_populates="reviews")
    reviewer: Mapped[Membership | None] = relationship()


class AfestPlan(OrganizationOwned, Base):
    """An exercise run as AFEST (action de formation en situation de travail) for one learner:
    the named tutor and the analysis of the work situation used for training.
    """

    __tablename__ = "afest_plans"
    __table_args__ = (UniqueConstraint("enrollment_id", "module_id"),)

    enrollment_id: Mapped[str] = parent_key("enrollments.id")
    module_id: Mapped[int] = parent_key("program_modules.id")
    tutor_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), index=True)
    analysis: Mapped[str] = mapped_column(Text, default="")
    analysis_updated_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    enrollment: Mapped[Enrollment] = relationship()
    module: Mapped[Module] = relationship()
    tutor: Mapped[Membership | None] = relationship()
    entries: Mapped[list[AfestEntry]] = children("plan", order_by="(AfestEntry.day, AfestEntry.id)")


class AfestEntry(Base):
    """A dated line of the AFEST journal: a work situation or a reflective phase."""

    __tablename__ = "afest_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = parent_key("afest_plans.id")
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    duration_minutes: Mapped[int] = mapped_column()
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    statement_id: Mapped[str | None] = mapped_column(String(36))

    plan: Mapped[AfestPlan] = relationship(back_populates="entries")
    recorded_by: Mapped[User | None] = relationship()
