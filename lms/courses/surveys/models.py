"""Survey rules on programs, the invitations they create and the answers given."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Membership
from lms.assessments.models import Survey
from lms.core.models import Base, TimestampMixin, parent_key, utcnow
from lms.courses.cohorts.models import Cohort
from lms.courses.programs.models import Module, Program

# When a rule sends its survey.
AFTER_SESSION = "after_session"  # to each person marked present, once the session has ended
AFTER_MODULE = "after_module"  # ``days`` after the person completed the rule's module
BEFORE_START = "before_start"  # to each person enrolled in a cohort that has not started yet
TRIGGERS = (AFTER_SESSION, AFTER_MODULE, BEFORE_START)


class SurveyRule(TimestampMixin, Base):
    """Send ``survey`` to the learners of ``program`` on an occasion (``trigger``)."""

    __tablename__ = "survey_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = parent_key("organizations.id")
    program_id: Mapped[int] = parent_key("programs.id")
    survey_id: Mapped[int] = parent_key("surveys.id")
    trigger: Mapped[str] = mapped_column(String(20))
    # The module whose sessions or completion count; None: every session of the program.
    module_id: Mapped[int | None] = parent_key("program_modules.id", nullable=True)
    days: Mapped[int] = mapped_column(default=0, server_default="0")

    program: Mapped[Program] = relationship()
    survey: Mapped[Survey] = relationship()
    module: Mapped[Module | None] = relationship()


class SurveyInvitation(Base):
    """A person asked to answer a survey, once per rule and occasion."""

    __tablename__ = "survey_invitations"
    __table_args__ = (UniqueConstraint("rule_id", "membership_id", "occasion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = parent_key("organizations.id")
    rule_id: Mapped[int] = parent_key("survey_rules.id")
    survey_id: Mapped[int] = parent_key("surveys.id")
    membership_id: Mapped[int] = parent_key("memberships.id")
    cohort_id: Mapped[int] = parent_key("cohorts.id")
    # "session:<id>", "enrollment:<id>" or "cohort:<id>": what the survey is about.
    occasion: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="SET NULL"))
    module_id: Mapped[int | None] = mapped_column(
        ForeignKey("program_modules.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    mailed_at: Mapped[datetime | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()

    survey: Mapped[Survey] = relationship()
    membership: Mapped[Membership] = relationship()
    cohort: Mapped[Cohort] = relationship()
    module: Mapped[Module | None] = relationship()


class SurveyResponse(Base):
    """One person's answers. For an anonymous survey neither the person nor the time of day
    is kept (only the day), so the answers cannot be traced back to the invitation.
    """

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = parent_key("organizations.id")
    survey_id: Mapped[int] = parent_key("surveys.id")
    program_id: Mapped[int] = parent_key("programs.id")
    cohort_id: Mapped[int] = parent_key("cohorts.id")
    module_id: Mapped[int | None] = mapped_column(
        ForeignKey("program_modules.id", ondelete="SET NULL"))
    membership_id: Mapped[int | None] = parent_key("memberships.id", nullable=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    answered_on: Mapped[date] = mapped_column(Date)
