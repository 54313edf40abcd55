"""Blended programs and their modules, lessons and quizzes (cohorts, sessions, e-learning
records and exercises have their own sub-packages' models).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organization
from lms.core.models import Base, TimestampMixin, children, parent_key, utcnow

# Module kinds, in the words of DESIGN.md §2.
KINDS = ("workshop", "conference", "group_training", "elearning", "exercise", "coaching")


# Kinds delivered as dated sessions with attendance.
SESSION_KINDS = ("workshop", "conference", "group_training")


class Program(TimestampMixin, Base):
    """A blended curriculum. ``organization_id`` is None for the built-in catalogue entries,
    which organizations copy; ``source_slug`` names the catalogue entry a copy came from.
    """

    __tablename__ = "programs"
    __table_args__ = (Index("ix_programs_organization_slug", "organization_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    source_slug: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str]] = mapped_column(JSON)
    # Registrations to its sessions wait for the learner's manager (or HR, an admin).
    approval_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization | None] = relationship()
    modules: Mapped[list[Module]] = children("program", order_by="Module.position")


class Module(Base):
    """One step of a program. ``prerequisites`` holds the keys of modules of the same program
    (keys, not ids, so a copied program keeps them); ``completion`` is the rule
    :mod:`lms.courses.cohorts.completion` applies to the module's statements.
    """

    __tablename__ = "program_modules"
    __table_args__ = (UniqueConstraint("program_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = parent_key("programs.id")
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str]] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(default=True, server_default=true())
    prerequisites: Mapped[list[str]] = mapped_column(JSON)
    duration_minutes: Mapped[int | None] = mapped_column()
    # Competency codes (C1…C8), by code so this package works without the framework loaded.
    competencies: Mapped[list[str]] = mapped_column(JSON)
    completion: Mapped[dict[str, Any]] = mapped_column(JSON)
    # On-the-job exercise settings (instructions, evidence, due_days, rubric, afest,
    # verification: see definitions._exercise); None for other kinds.
    exercise: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Coaching modules' plan: {"followups", "spacing_days", "duration_minutes"} (lms.coaching).
    coaching: Mapped[dict[str, int] | None] = mapped_column(JSON)

    program: Mapped[Program] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = children("module", order_by="Lesson.position")
    quizzes: Mapped[list[Quiz]] = children("module", order_by="Quiz.position")


class ModuleItem:
    """A lesson or a quiz of a module: its key there, its place and its title (these columns
    first, in this order, as the tables have them).
    """

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    module_id: Mapped[int] = parent_key("program_modules.id", sort_order=-1)
    key: Mapped[str] = mapped_column(String(64), sort_order=-1)
    position: Mapped[int] = mapped_column(sort_order=-1)
    title: Mapped[dict[str, str]] = mapped_column(JSON, sort_order=-1)


class Lesson(ModuleItem, Base):
    """A page of an e-learning module: Markdown per language and an optional video link."""

    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("module_id", "key"),)

    body: Mapped[dict[str, str]] = mapped_column(JSON)
    video_url: Mapped[str | None] = mapped_column(String(500))

    module: Mapped[Module] = relationship(back_populates="lessons")


class Quiz(ModuleItem, Base):
    """A graded quiz of an e-learning module; passed at ``pass_mark`` percent."""

    __tablename__ = "quizzes"
    __table_args__ = (UniqueConstraint("module_id", "key"),)

    pass_mark: Mapped[int] = mapped_column(default=80)

    module: Mapped[Module] = relationship(back_populates="quizzes")
    questions: Mapped[list[QuizQuestion]] = children("quiz", order_by="QuizQuestion.position")


class QuizQuestion(Base):
    """A question; ``options`` is a list of ``{"key", "text", "correct", "feedback"?}``."""

    __tablename__ = "quiz_questions"
    __table_args__ = (UniqueConstraint("quiz_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = parent_key("quizzes.id")
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column()
    text: Mapped[dict[str, str]] = mapped_column(JSON)
    feedback: Mapped[dict[str, str] | None] = mapped_column(JSON)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    quiz: Mapped[Quiz] = relationship(back_populates="questions")

    @property
    def multiple(self) -> bool:
        """Whether more than one option is right (check boxes rather than radio buttons)."""
        return sum(1 for o in self.options if o.get("correct")) > 1
