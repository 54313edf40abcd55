"""Program builder pages for trainers: the quiz editor, and deleting modules, lessons and
quizzes after a confirmation that says what is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.accounts.authz import STAFF_ROLES, org_blueprint, role_required
from lms.core.errors import DomainError
from lms.core.web import commit_or_errors, form_int
from lms.courses.programs import editing
from lms.courses.programs.editing import OptionInput, QuestionInput
from lms.courses.programs.models import Program, Quiz, QuizQuestion
from lms.courses.web import (
    lesson_or_404,
    module_or_404,
    module_url,
    page_context,
    program_part_or_404,
)
from lms.extensions import db

bp = org_blueprint("course_editor", __name__)

LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def _quiz(program_id: int, quiz_id: int) -> Quiz:
    return program_part_or_404(Quiz, quiz_id, program_id, lambda row: row.module.program_id)


def _question(program_id: int, question_id: int) -> QuizQuestion:
    return program_part_or_404(QuizQuestion, question_id, program_id,
                               lambda row: row.quiz.module.program_id)


def _texts(prefix: str) -> dict[str, str]:
    return {lang: request.form.get(f"{prefix}-{lang}", "") for lang in LANGUAGE_NAMES}


def _posted_question() -> QuestionInput:
    """The question as posted, blank option rows included (they are dropped on save)."""
    count = min(form_int(request.form.get("option-count")) or 0, 50)
    options = [OptionInput(key=request.form.get(f"option-{n}-key") or None,
                           text=_texts(f"option-{n}-text"),
                           correct=request.form.get(f"option-{n}-correct") == "on",
                           feedback=_texts(f"option-{n}-feedback"))
               for n in range(1, count + 1)]
    return QuestionInput(text=_texts("text"), feedback=_texts("feedback"), options=options,
                         multiple=request.form.get("answers") == "multiple")


def _stored_question(question: QuizQuestion) -> QuestionInput:
    return QuestionInput(
        text=dict(question.text), feedback=dict(question.feedback or {}),
        multiple=question.multiple,
        options=[OptionInput(key=o["key"], text=dict(o["text"]), correct=bool(o.get("correct")),
                             feedback=dict(o.get("feedback") or {})) for o in question.options])


def _blank(option: OptionInput) -> bool:
    return not any(v.strip() for v in [*option.text.values(), *option.feedback.values()]) \
        and not option.correct


def _rearranged(data: QuestionInput) -> tuple[QuestionInput, bool]:
    """Apply an "add / remove / move option" button to the posted rows; True when one was
    pressed (the form is shown again, nothing is saved).
    """
    action = request.form.get("action", "save")
    options = list(data.options)
    verb, _sep, number = action.partition("-")
    n = (form_int(number) or 0) - 1
    if action == "add-option":
        options.append(OptionInput(text={}))
    elif verb == "remove" and 0 <= n < len(options):
        options.pop(n)
    elif verb in ("up", "down") and 0 <= n < len(options):
        m = n - 1 if verb == "up" else n + 1
        if 0 <= m < len(options):
            options[n], options[m] = options[m], options[n]
    else:
        # Saving: blank rows are the spare ones the form offers; drop them.
        data.options = [o for o in options if not _blank(o)]
        return data, False
    data.options = options
    return data, True


def _with_spare_row(data: QuestionInput) -> QuestionInput:
    """Offer empty rows to type new options in (two for a new question, else one)."""
    spare = max(1, 2 - len(data.options)) if data.options else 4
    data.options = [*data.options, *(OptionInput(text={}) for _ in range(spare))]
    return data


def _editor(template: str, status: int = 200, **context: Any) -> Any:
    return render_template(template, languages=LANGUAGE_NAMES, **context, **page_context()), status


# --- quizzes ---------------------------------------------------------------------------------


def _question_page(template: str, initial: QuestionInput, save: Callable[[QuestionInput], Any],
                   done: str, back: Callable[[Any], str], **context: Any) -> Any:
    """A page with a question form: the option buttons show it again, saving calls ``save``
    then goes to ``back(saved)``; refused input shows the form again with its messages.
    """
    errors: dict[str, str] = {}
    data = _with_spare_row(initial)
    if request.method == "POST":
        data, rearranged = _rearranged(_posted_question())
        if not rearranged:
            try:
                saved = save(data)
            except DomainError as exc:
                db.session.rollback()
                errors = exc.fields
                data = _with_spare_row(data)
            else:
                db.session.commit()
                flash(done, "success")
                return redirect(back(saved))
    return _editor(template, 422 if errors else 200, question=data, errors=errors, **context)


@bp.route("/programs/<int:program_id>/modules/<int:module_id>/quizzes/new",
          methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def new_quiz(program_id: int, module_id: int) -> Any:
    """Add a quiz, with its first question, to an e-learning module."""
    module = module_or_404(program_id, module_id, kind="elearning")
    posted = request.method == "POST"
    title = _texts("title") if posted else {}
    pass_mark = request.form.get("pass_mark", "").strip() if posted else "80"
    return _question_page(
        "courses/new_quiz.html", QuestionInput(text={}, options=[]),
        lambda data: editing.add_quiz(module=module, title=title, pass_mark=_mark(pass_mark),
                                      question=data),
        _("The quiz was added. Add its other questions."),
        lambda quiz: url_for(".edit_quiz", program_id=program_id, quiz_id=quiz.id),
        program=module.program, module=module, title=title, pass_mark=pass_mark)


def _mark(value: str) -> int | None:
    number = form_int(value)
    return -1 if value and number is None else number


@bp.route("/programs/<int:program_id>/quizzes/<int:quiz_id>", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def edit_quiz(program_id: int, quiz_id: int) -> Any:
    """A quiz: its title and pass mark, and its questions to edit, reorder or delete."""
    quiz = _quiz(program_id, quiz_id)
    errors: dict[str, str] = {}
    title, pass_mark = dict(quiz.title), str(quiz.pass_mark)
    if request.method == "POST":
        title, pass_mark = _texts("title"), request.form.get("pass_mark", "").strip()
        refused = commit_or_errors(
            lambda: editing.update_quiz(quiz=quiz, title=title, pass_mark=_mark(pass_mark)))
        if refused is None:
            flash(_("The quiz was saved."), "success")
            return redirect(url_for(".edit_quiz", program_id=program_id, quiz_id=quiz.id))
        errors = refused
    return _editor("courses/edit_quiz.html", 422 if errors else 200, program=quiz.module.program,
                   quiz=quiz,
                   title=title, pass_mark=pass_mark, errors=errors)


@bp.route("/programs/<int:program_id>/quizzes/<int:quiz_id>/questions/new",
          methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def new_question(program_id: int, quiz_id: int) -> Any:
    """Add a question to a quiz."""
    quiz = _quiz(program_id, quiz_id)
    return _question_page(
        "courses/edit_question.html", QuestionInput(text={}, options=[]),
        lambda data: editing.add_question(quiz=quiz, data=data), _("The question was added."),
        lambda _q: url_for(".edit_quiz", program_id=program_id, quiz_id=quiz.id),
        program=quiz.module.program, quiz=quiz, existing=None)


@bp.route("/programs/<int:program_id>/questions/<int:question_id>", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def edit_question(program_id: int, question_id: int) -> Any:
    """Edit a question: texts per language, single or multiple answers, options in order."""
    question = _question(program_id, question_id)
    return _question_page(
        "courses/edit_question.html", _stored_question(question),
        lambda data: editing.update_question(question=question, data=data),
        _("The question was saved."),
        lambda _none: url_for(".edit_quiz", program_id=program_id, quiz_id=question.quiz_id,
                              _anchor=f"question-{question.id}"),
        program=question.quiz.module.program, quiz=question.quiz, existing=question)


@bp.post("/programs/<int:program_id>/questions/<int:question_id>/move")
@role_required(*STAFF_ROLES)
def move_question(program_id: int, question_id: int) -> Any:
    """Move a question up or down in its quiz."""
    question = _question(program_id, question_id)
    editing.move_question(question=question, direction=request.form.get("direction", ""))
    db.session.commit()
    return redirect(url_for(".edit_quiz", program_id=program_id, quiz_id=question.quiz_id,
                            _anchor=f"question-{question.id}"))


def _delete_page(what: str, item: Any, program: Program, impact: editing.Impact, back: str,
                 delete: Any, done: str) -> Any:
    """The confirmation page (GET) or the deletion (POST) of a module, lesson, quiz or question
    of ``program``; either way the page goes back to ``back``.
    """
    if request.method == "POST":
        try:
            delete()
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(done, "success")
        return redirect(back)
    return _editor("courses/confirm_delete.html", program=program, what=what, item=item,
                   impact=impact, blocker=impact.blocker, back=back)


@bp.route("/programs/<int:program_id>/questions/<int:question_id>/delete",
          methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def delete_question(program_id: int, question_id: int) -> Any:
    """Confirm, then delete a question (past attempts keep their scores)."""
    question = _question(program_id, question_id)
    return _delete_page("question", question, question.quiz.module.program,
                        editing.question_impact(question),
                        url_for(".edit_quiz", program_id=program_id, quiz_id=question.quiz_id),
                        lambda: editing.delete_question(question=question),
                        _("The question was deleted."))


@bp.route("/programs/<int:program_id>/quizzes/<int:quiz_id>/delete", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def delete_quiz(program_id: int, quiz_id: int) -> Any:
    """Confirm, then delete a quiz with its questions and the learners' attempts."""
    quiz = _quiz(program_id, quiz_id)
    return _delete_page("quiz", quiz, quiz.module.program, editing.quiz_impact(quiz),
                        module_url(program_id, quiz.module_id),
                        lambda: editing.delete_quiz(quiz=quiz), _("The quiz was deleted."))


# --- modules and lessons ---------------------------------------------------------------------


@bp.route("/programs/<int:program_id>/modules/<int:module_id>/delete", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def delete_module(program_id: int, module_id: int) -> Any:
    """Confirm (saying how many learners have progress in it), then delete a module."""
    module = module_or_404(program_id, module_id)
    return _delete_page("module", module, module.program, editing.module_impact(module),
                        url_for("courses.program", program_id=program_id),
                        lambda: editing.delete_module(module=module),
                        _("The module was deleted."))


@bp.route("/programs/<int:program_id>/lessons/<int:lesson_id>/delete", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def delete_lesson(program_id: int, lesson_id: int) -> Any:
    """Confirm, then delete a lesson and the learners' reads of it."""
    lesson = lesson_or_404(program_id, lesson_id)
    return _delete_page("lesson", lesson, lesson.module.program, editing.lesson_impact(lesson),
                        module_url(program_id, lesson.module_id),
                        lambda: editing.delete_lesson(lesson=lesson),
                        _("The lesson was deleted."))
