"""E-learning, writes: a lesson viewed, a quiz scored and submitted (with their statements)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.core.errors import NotFound, ValidationFailed
from lms.courses import statements as xs
from lms.courses.cohorts.models import WITHDRAWN, Enrollment
from lms.courses.elearning.models import LessonView, QuizAttempt
from lms.courses.programs.models import Lesson, Module, Quiz
from lms.extensions import db
from lms.xapi.record import record

# --- e-learning -----------------------------------------------------------------------------


def _check_active(enrollment: Enrollment, module: Module) -> None:
    if enrollment.status == WITHDRAWN:
        raise ValidationFailed(_l("This enrolment was withdrawn."))
    if module.program_id != enrollment.cohort.program_id:
        raise NotFound(_l("This module is not part of your program."))


def view_lesson(*, enrollment: Enrollment, lesson: Lesson) -> LessonView:
    """Record that a learner read a lesson ("experienced", once per lesson).

    :raise NotFound: the lesson is not in the learner's program.
    :raise ValidationFailed: the enrolment was withdrawn.
    """
    _check_active(enrollment, lesson.module)
    view = db.session.scalar(select(LessonView).where(
        LessonView.enrollment_id == enrollment.id, LessonView.lesson_id == lesson.id))
    if view is not None:
        return view
    view = LessonView(enrollment_id=enrollment.id, lesson_id=lesson.id)
    db.session.add(view)
    db.session.flush()
    record([xs.lesson_event(enrollment, lesson, xs.EXPERIENCED)],
           organization_id=enrollment.organization_id)
    return view


def score_quiz(quiz: Quiz, answers: dict[str, list[str]]) -> tuple[int, dict[str, bool]]:
    """The score in percent and, per question key, whether the answer is exactly right."""
    right = {}
    for question in quiz.questions:
        expected = sorted(o["key"] for o in question.options if o.get("correct"))
        right[question.key] = sorted(answers.get(question.key, [])) == expected
    total = len(quiz.questions)
    return (round(100 * sum(right.values()) / total) if total else 0), right


def submit_quiz(*, enrollment: Enrollment, quiz: Quiz,
                answers: dict[str, list[str]]) -> QuizAttempt:
    """Grade a quiz attempt; records one "answered" per question and "passed" or "failed".

    :raise ValidationFailed: a question is unanswered or an answer is not one of its options.
    """
    _check_active(enrollment, quiz.module)
    errors = {}
    for question in quiz.questions:
        chosen = answers.get(question.key) or []
        keys = {o["key"] for o in question.options}
        if not chosen:
            errors[question.key] = _l("Answer this question.")
        elif not set(chosen) <= keys or (len(chosen) > 1 and not question.multiple):
            errors[question.key] = _l("Choose among the options.")
    if errors:
        raise ValidationFailed(_l("Some answers are missing."), fields=errors)
    clean = {q.key: sorted(answers[q.key]) for q in quiz.questions}
    score, right = score_quiz(quiz, clean)
    passed = score >= quiz.pass_mark
    attempt = QuizAttempt(enrollment_id=enrollment.id, quiz_id=quiz.id, answers=clean,
                          score=score, passed=passed)
    db.session.add(attempt)
    db.session.flush()
    sts = [xs.answered(enrollment, quiz, q, clean[q.key], right[q.key]) for q in quiz.questions]
    sts.append(xs.quiz_result(enrollment, quiz, score, passed))
    record(sts, organization_id=enrollment.organization_id)
    return attempt
