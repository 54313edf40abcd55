"""E-learning records: lessons viewed and quiz attempts (the detail behind their statements)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.models import Base, parent_key, utcnow
from lms.courses.cohorts.models import EnrollmentRecord
from lms.courses.programs.models import Quiz


class LessonView(EnrollmentRecord, Base):
    """A learner opened a lesson (the detail behind the "experienced" statement)."""

    __tablename__ = "lesson_views"
    __table_args__ = (UniqueConstraint("enrollment_id", "lesson_id"),)

    lesson_id: Mapped[int] = parent_key("lessons.id")
    viewed_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizAttempt(EnrollmentRecord, Base):
    """One submitted quiz: the answers ({question key: [option keys]}), score and outcome."""

    __tablename__ = "quiz_attempts"

    quiz_id: Mapped[int] = parent_key("quizzes.id")
    answers: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    score: Mapped[int] = mapped_column()
    passed: Mapped[bool] = mapped_column()
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    quiz: Mapped[Quiz] = relationship()
