"""Skill mapping: the competency framework, questionnaires, attempts and trainer validations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Membership, Organization, OrganizationOwned, User
from lms.core.models import Base, TimestampMixin, utcnow

DRAFT = "draft"
SUBMITTED = "submitted"


class SkillFramework(Base):
    """A competency framework: the built-in ``relais-default`` (no organization) or an
    organization's own copy of it, which the organization then uses (one copy at most).
    """

    __tablename__ = "skill_frameworks"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    format_version: Mapped[int] = mapped_column()
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    # [{"level": 1, "name": {...}, "summary": {...}}, ...]
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    competencies: Mapped[list[Competency]] = relationship(
        back_populates="framework", order_by="Competency.position",
        cascade="all, delete-orphan", passive_deletes=True)
    targets: Mapped[list[TargetProfile]] = relationship(
        back_populates="framework", cascade="all, delete-orphan", passive_deletes=True)


class Competency(Base):
    """One competency (C1…C8) with its five level descriptors."""

    __tablename__ = "competencies"
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("skill_frameworks.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column()
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(8))  # hard | soft
    digcomp: Mapped[list[str]] = mapped_column(JSON)
    ssi: Mapped[str] = mapped_column(String(16))
    # {"1": {"en": ..., "fr": ...}, ...}: JSON keys are strings
    levels: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON)
    advice: Mapped[dict[str, str]] = mapped_column(JSON)

    framework: Mapped[SkillFramework] = relationship(back_populates="competencies")


class TargetProfile(Base):
    """The expected level of each competency for one job family."""

    __tablename__ = "target_profiles"
    __table_args__ = (UniqueConstraint("framework_id", "job_family"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(
        ForeignKey("skill_frameworks.id", ondelete="CASCADE"), index=True)
    job_family: Mapped[str] = mapped_column(String(64))
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    levels: Mapped[dict[str, int]] = mapped_column(JSON)

    framework: Mapped[SkillFramework] = relationship(back_populates="targets")


class Questionnaire(TimestampMixin, Base):
    """A skill-mapping questionnaire: built in (no organization) or an organization's own."""

    __tablename__ = "questionnaires"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("skill_frameworks.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    format_version: Mapped[int] = mapped_column()
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # An organization's published questionnaires replace the built-in ones for its learners.
    published: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization | None] = relationship()
    framework: Mapped[SkillFramework] = relationship()
    questions: Mapped[list[Question]] = relationship(
        back_populates="questionnaire", order_by="Question.position",
        cascade="all, delete-orphan", passive_deletes=True)


class Question(Base):
    """One item, tagged with a competency and a level; ``options`` hold choice answers."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("questionnaire_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaires.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    key: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    competency: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column()
    text: Mapped[dict[str, str]] = mapped_column(JSON)
    # [{"key": "a", "text": {...}, "correct": bool, "feedback": {...} | None}, ...]
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    feedback: Mapped[dict[str, str] | None] = mapped_column(JSON)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="questions")


class Attempt(Base):
    """One learner's pass through a questionnaire: a draft until submitted, then frozen."""

    __tablename__ = "skill_attempts"
    __table_args__ = (Index("ix_skill_attempts_membership_id_status", "membership_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    # {question key: answer}; reassigned (never mutated in place) so changes are saved.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    levels: Mapped[dict[str, int] | None] = mapped_column(JSON)  # measured (ladder floors)
    declared: Mapped[dict[str, int] | None] = mapped_column(JSON)
    job_family: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column()
    # "<membership id>:<questionnaire id>" while a draft, NULL once submitted: the unique
    # constraint allows one open draft per learner and questionnaire, even under races
    # (NULLs never collide, on SQLite as on PostgreSQL).
    draft_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Optimistic locking: two requests saving the same draft at once cannot both win.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    membership: Mapped[Membership] = relationship()
    user: Mapped[User] = relationship()
    questionnaire: Mapped[Questionnaire] = relationship()

    @property
    def submitted(self) -> bool:
        """Whether the learner has submitted the questionnaire (the attempt is frozen)."""
        return self.status == SUBMITTED


class LevelValidation(OrganizationOwned, Base):
    """A trainer's or coach's confirmation that a learner holds level 4 or 5 of a competency."""

    __tablename__ = "skill_validations"

    membership_id: Mapped[int] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    competency: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column()
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("skill_attempts.id", ondelete="SET NULL"))
    validated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    validated_by: Mapped[User | None] = relationship()


class SkillLevel(OrganizationOwned, Base):
    """A learner's current level of one competency, from their latest submitted attempt.

    Kept up to date on submit and on validation, so the team map and its averages are plain
    SQL over small rows instead of decoding every learner's attempt.
    """

    __tablename__ = "skill_levels"
    __table_args__ = (UniqueConstraint("membership_id", "competency"),
                      Index("ix_skill_levels_organization_id_competency",
                            "organization_id", "competency"))
    organization_indexed = False

    membership_id: Mapped[int] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"))
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("skill_attempts.id", ondelete="CASCADE"), index=True)
    competency: Mapped[str] = mapped_column(String(16))
    measured: Mapped[int] = mapped_column()  # the ladder's floor
    shown: Mapped[int] = mapped_column()  # levels 4-5 only once validated
    pending: Mapped[int | None] = mapped_column()  # 4 or 5 waiting for a trainer


# Survey kinds: Kirkpatrick level 1 right after a session or module, level 3 some weeks later,
# and the readiness (or resistance) survey before a programme starts.
SATISFACTION, FOLLOWUP, READINESS = "satisfaction", "followup", "readiness"
SURVEY_KINDS = (SATISFACTION, FOLLOWUP, READINESS)
# Item types: a 1-5 agreement scale, one choice, several choices, free text.
LIKERT, SINGLE, MULTIPLE, TEXT = "likert", "single", "multiple", "text"
ITEM_TYPES = (LIKERT, SINGLE, MULTIPLE, TEXT)


class Survey(TimestampMixin, Base):
    """An unscored questionnaire: a built-in template (no organization) or an organization's.

    Items are kept as JSON (``[{"key", "type", "text", "options", "required"}]``): a survey is
    answered whole and its answers are aggregated, never scored item by item.
    """

    __tablename__ = "surveys"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    # Anonymous: answers are kept without the person, and their statements carry no answer.
    anonymous: Mapped[bool] = mapped_column(default=True, server_default=true())
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str] | None] = mapped_column(JSON)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
