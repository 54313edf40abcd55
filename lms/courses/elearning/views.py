"""E-learning pages on the courses blueprint: a learner reads a lesson and takes a quiz."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from lms.accounts.authz import role_required
from lms.accounts.models import Role
from lms.core.errors import DomainError
from lms.core.markdown import render_markdown
from lms.core.web import current_language, flash_error, get_or_404
from lms.courses.cohorts.models import Enrollment
from lms.courses.elearning.queries import attempts, viewed_lessons
from lms.courses.elearning.services import score_quiz, submit_quiz, view_lesson
from lms.courses.programs.models import Lesson, Quiz
from lms.courses.web import bp, my_enrollment_or_404, page_context
from lms.extensions import db


def _lesson_of(enrollment: Enrollment, lesson_id: int) -> Lesson:
    return get_or_404(Lesson, lesson_id,
                      outside=lambda row: row.module.program_id != enrollment.cohort.program_id)


@bp.route("/training/<enrollment_id>/lessons/<int:lesson_id>", methods=["GET", "POST"])
@role_required(Role.LEARNER)
def lesson(enrollment_id: str, lesson_id: int) -> Any:
    """Read a lesson; "mark as read" records it and goes to the next step."""
    enrollment = my_enrollment_or_404(enrollment_id)
    item = _lesson_of(enrollment, lesson_id)
    module = item.module
    lessons = list(module.lessons)
    following = lessons[lessons.index(item) + 1] if item is not lessons[-1] else None
    if request.method == "POST":
        try:
            view_lesson(enrollment=enrollment, lesson=item)
        except DomainError as exc:
            flash_error(exc)
            return redirect(url_for(".my_program", enrollment_id=enrollment.id))
        db.session.commit()
        if following is not None:
            return redirect(url_for(".lesson", enrollment_id=enrollment.id,
                                    lesson_id=following.id))
        if module.quizzes:
            return redirect(url_for(".quiz", enrollment_id=enrollment.id,
                                    quiz_id=module.quizzes[0].id))
        return redirect(url_for(".my_program", enrollment_id=enrollment.id,
                                _anchor=f"module-{module.id}"))
    body = item.body.get(current_language()) or item.body.get(module.program.language) or ""
    return render_template("courses/lesson.html", enrollment=enrollment, lesson=item,
                           module=module, html=render_markdown(body), following=following,
                           viewed=item.id in viewed_lessons(enrollment.id),
                           **page_context())


@bp.route("/training/<enrollment_id>/quizzes/<int:quiz_id>", methods=["GET", "POST"])
@role_required(Role.LEARNER)
def quiz(enrollment_id: str, quiz_id: int) -> Any:
    """Take a quiz; the result shows the score and each question's feedback."""
    enrollment = my_enrollment_or_404(enrollment_id)
    item = get_or_404(Quiz, quiz_id,
                      outside=lambda row: row.module.program_id != enrollment.cohort.program_id)
    errors: dict[str, str] = {}
    result = None
    answers: dict[str, list[str]] = {}
    if request.method == "POST":
        answers = {q.key: request.form.getlist(f"q-{q.key}") for q in item.questions}
        try:
            result = submit_quiz(enrollment=enrollment, quiz=item, answers=answers)
        except DomainError as exc:
            db.session.rollback()
            errors = exc.fields
        else:
            db.session.commit()
    history = attempts(enrollment.id, item.id)
    right = score_quiz(item, result.answers)[1] if result else {}
    return render_template("courses/quiz.html", enrollment=enrollment, quiz=item,
                           errors=errors, result=result, right=right, answers=answers,
                           history=history, **page_context()), 422 if errors else 200
