"""E-learning, reads: the lessons a learner viewed and their quiz attempts."""

from __future__ import annotations

from sqlalchemy import select

from lms.courses.elearning.models import LessonView, QuizAttempt
from lms.extensions import db


def viewed_lessons(enrollment_id: str) -> set[int]:
    """Ids of the lessons a learner has read."""
    return set(db.session.scalars(select(LessonView.lesson_id).where(
        LessonView.enrollment_id == enrollment_id)))


def attempts(enrollment_id: str, quiz_id: int) -> list[QuizAttempt]:
    """A learner's attempts at a quiz, newest first."""
    return list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.enrollment_id == enrollment_id, QuizAttempt.quiz_id == quiz_id)
        .order_by(QuizAttempt.id.desc())))
