"""E-learning records: lessons viewed and quiz attempts (the detail behind their statements)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.models import Base, utcnow
from lms.courses.programs.models import Quiz


class LessonView(Base):
    """A learner opened a lesson (the detail behind the "experienced" statement)."""

    __tablename__ = "lesson_views"
    __table_args__ = (UniqueConstraint("enrollment_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"),
                                           index=True)
    viewed_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuizAttempt(Base):
    """One submitted quiz: the answers ({question key: [option keys]}), score and outcome."""

    __tablename__ = "quiz_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"),
                                         index=True)
    answers: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    score: Mapped[int] = mapped_column()
    passed: Mapped[bool] = mapped_column()
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    quiz: Mapped[Quiz] = relationship()
