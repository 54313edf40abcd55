"""Writes of the program builder beyond modules and lessons: quizzes (questions, options,
pass mark) and deletions of modules, lessons and quizzes.

Every change keeps the program exportable as it stands: the rules here are the ones
:mod:`lms.courses.programs.definitions` applies when a program file is read (a text in the program's
language, two options or more, at least one right answer, at least one question per quiz, a
``quiz_passed`` module keeps a quiz, a ``lessons_viewed`` module a lesson, a program a module),
so export → import → export still gives the same bytes. Keyword-only, flush never commit.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import distinct, func, select

from lms.core.errors import ValidationFailed
from lms.core.models import utcnow
from lms.courses.cohorts import progress
from lms.courses.cohorts.models import (
    COMPLETED,
    NOT_STARTED,
    WITHDRAWN,
    Cohort,
    Enrollment,
    ModuleProgress,
)
from lms.courses.elearning.models import LessonView, QuizAttempt
from lms.courses.exercises.models import ExerciseSubmission
from lms.courses.programs import definitions as defs
from lms.courses.programs.models import Lesson, Module, Quiz, QuizQuestion
from lms.courses.programs.services import free_key, reorder
from lms.courses.sessions.models import Attendance, TrainingSession
from lms.courses.signals import module_deletion
from lms.extensions import db

Texts = Mapping[str, str]


@dataclass
class OptionInput:
    """One answer option as typed in the editor (``key`` None for a new option)."""

    text: dict[str, str]
    correct: bool = False
    feedback: dict[str, str] = field(default_factory=dict)
    key: str | None = None


@dataclass
class QuestionInput:
    """A question as typed in the editor: ``multiple`` says learners tick several answers."""

    text: dict[str, str]
    options: list[OptionInput]
    multiple: bool = False
    feedback: dict[str, str] = field(default_factory=dict)


def _clean(texts: Texts | None) -> dict[str, str]:
    """Texts per language with blanks dropped (the file format has no empty texts)."""
    return {lang: texts[lang].strip().replace("\r\n", "\n") for lang in defs.LANGUAGES
            if texts and (texts.get(lang) or "").strip()}


def _touch(module: Module) -> None:
    module.program.updated_at = utcnow()


# --- quizzes ---------------------------------------------------------------------------------


def check_question(data: QuestionInput, language: str) -> dict[str, str]:
    """Why a question cannot be saved, per field ("text", "options", "option-<n>"); empty if
    it can. ``language`` is the program's, in which every text is required.
    """
    errors: dict[str, str] = {}
    if not _clean(data.text).get(language):
        errors["text"] = _("Write the question in the program's language (%(lang)s).",
                           lang=language)
    options = [o for o in data.options if _clean(o.text) or o.correct or _clean(o.feedback)]
    for n, option in enumerate(options, 1):
        if not _clean(option.text).get(language):
            errors[f"option-{n}"] = _("Option %(n)d needs a text in the program's language "
                                       "(%(lang)s), or remove it.", n=n, lang=language)
    right = sum(1 for o in options if o.correct)
    if len(options) < 2:
        errors["options"] = _("A question needs at least two options.")
    elif right == 0:
        errors["options"] = _("Mark at least one option as correct.")
    elif not data.multiple and right > 1:
        errors["options"] = _("A single-answer question has exactly one correct option: mark "
                               "only one, or let learners choose several answers.")
    elif data.multiple and right < 2:
        errors["options"] = _("A multiple-answer question has at least two correct options: "
                               "mark another, or make it a single-answer question.")
    texts = [_clean(o.text).get(language, "").casefold() for o in options]
    if not errors and len(set(texts)) < len(texts):
        errors["options"] = _("Two options have the same text.")
    return errors


def _option_keys(options: list[OptionInput]) -> list[str]:
    """Keep existing option keys (past attempts name them); give new options free letters."""
    taken = {o.key for o in options if o.key and defs.KEY_RE.match(o.key)}
    free = (k for k in [*string.ascii_lowercase, *(f"o{n}" for n in range(27, 1000))]
            if k not in taken)
    keys, seen = [], set()
    for option in options:
        key = option.key if option.key and defs.KEY_RE.match(option.key) and \
            option.key not in seen else next(free)
        seen.add(key)
        keys.append(key)
    return keys


def _options(data: QuestionInput) -> list[dict[str, Any]]:
    options = [o for o in data.options if _clean(o.text) or o.correct or _clean(o.feedback)]
    return [{"key": key, "text": _clean(o.text), "correct": bool(o.correct),
             **({"feedback": _clean(o.feedback)} if _clean(o.feedback) else {})}
            for key, o in zip(_option_keys(options), options, strict=True)]


def _check_title(title: Texts, language: str, errors: dict[str, str]) -> None:
    if not _clean(title).get(language):
        errors["title"] = _("Give the quiz a title in the program's language (%(lang)s).",
                            lang=language)


def _check_pass_mark(pass_mark: int | None, errors: dict[str, str]) -> None:
    if pass_mark is None or not 0 <= pass_mark <= 100:
        errors["pass_mark"] = _("The pass mark is a percentage from 0 to 100.")


def add_quiz(*, module: Module, title: Texts, pass_mark: int | None,
             question: QuestionInput) -> Quiz:
    """Add a quiz with its first question to an e-learning module (a quiz is never empty).

    :raise ValidationFailed: not an e-learning module, no title in the program's language,
        a pass mark outside 0–100, or a question :func:`check_question` refuses.
    """
    language = module.program.language
    errors: dict[str, str] = {}
    if module.kind != "elearning":
        errors["module"] = _("Only e-learning modules hold quizzes.")
    _check_title(title, language, errors)
    _check_pass_mark(pass_mark, errors)
    errors.update(check_question(question, language))
    if errors:
        raise ValidationFailed(_("The quiz was not added."), fields=errors)
    key = free_key("quiz-", (q.key for q in module.quizzes), len(module.quizzes))
    quiz = Quiz(key=key, position=len(module.quizzes) + 1, title=_clean(title),
                pass_mark=pass_mark)
    quiz.questions.append(QuizQuestion(key="q1", position=1, text=_clean(question.text),
                                       feedback=_clean(question.feedback) or None,
                                       options=_options(question)))
    module.quizzes.append(quiz)
    _touch(module)
    db.session.flush()
    return quiz


def update_quiz(*, quiz: Quiz, title: Texts, pass_mark: int | None) -> None:
    """Rename a quiz (per language) and change its pass mark (for the attempts to come: past
    attempts keep the outcome they were given).

    :raise ValidationFailed: no title in the program's language, a pass mark outside 0–100.
    """
    errors: dict[str, str] = {}
    _check_title(title, quiz.module.program.language, errors)
    _check_pass_mark(pass_mark, errors)
    if errors:
        raise ValidationFailed(_("The quiz was not saved."), fields=errors)
    quiz.title = _clean(title)
    quiz.pass_mark = pass_mark  # type: ignore[assignment]
    _touch(quiz.module)
    db.session.flush()


def add_question(*, quiz: Quiz, data: QuestionInput) -> QuizQuestion:
    """Append a question to a quiz.

    :raise ValidationFailed: what :func:`check_question` finds.
    """
    errors = check_question(data, quiz.module.program.language)
    if errors:
        raise ValidationFailed(_("The question was not added."), fields=errors)
    key = free_key("q", (q.key for q in quiz.questions), len(quiz.questions))
    question = QuizQuestion(key=key, position=len(quiz.questions) + 1,
                            text=_clean(data.text), feedback=_clean(data.feedback) or None,
                            options=_options(data))
    quiz.questions.append(question)
    _touch(quiz.module)
    db.session.flush()
    return question


def update_question(*, question: QuizQuestion, data: QuestionInput) -> None:
    """Replace a question's texts, feedback and options (in the order given).

    :raise ValidationFailed: what :func:`check_question` finds.
    """
    errors = check_question(data, question.quiz.module.program.language)
    if errors:
        raise ValidationFailed(_("The question was not saved."), fields=errors)
    question.text = _clean(data.text)
    question.feedback = _clean(data.feedback) or None
    question.options = _options(data)
    _touch(question.quiz.module)
    db.session.flush()


def move_question(*, question: QuizQuestion, direction: str) -> None:
    """Swap a question with its neighbour (``direction`` "up" or "down"); a no-op at the ends."""
    if not reorder(list(question.quiz.questions), question, direction):
        return
    _touch(question.quiz.module)
    db.session.flush()
    db.session.expire(question.quiz, ["questions"])


def delete_question(*, question: QuizQuestion) -> None:
    """Remove a question; past attempts keep their answers and scores.

    :raise ValidationFailed: it is the quiz's only question (delete the quiz instead).
    """
    impact = question_impact(question)
    if impact.blocker:
        raise ValidationFailed(impact.blocker, fields={"question": impact.blocker})
    quiz = question.quiz
    quiz.questions.remove(question)
    db.session.flush()
    for position, q in enumerate(quiz.questions, 1):
        q.position = position
    _touch(quiz.module)
    db.session.flush()


# --- what a deletion loses -------------------------------------------------------------------


@dataclass(frozen=True)
class Impact:
    """What deleting a module, lesson or quiz takes with it, for the confirmation page."""

    learners: int = 0  # learners (not withdrawn) with progress in the module
    completed: int = 0  # of whom completed it
    lesson_views: int = 0
    quiz_attempts: int = 0
    sessions: int = 0
    attendance_marks: int = 0
    submissions: int = 0  # exercise hand-ins (with their reviews)
    dependents: tuple[Module, ...] = ()  # modules listing it as a prerequisite
    elsewhere: tuple[str, ...] = ()  # what other packages lose (coaching follow-ups…)
    blocker: str | None = None  # why it cannot be deleted at all


def _learners(module: Module) -> tuple[int, int]:
    base = (select(func.count(distinct(ModuleProgress.enrollment_id)))
            .join(Enrollment, Enrollment.id == ModuleProgress.enrollment_id)
            .where(ModuleProgress.module_id == module.id, Enrollment.status != WITHDRAWN))
    started = db.session.scalar(base.where(ModuleProgress.state != NOT_STARTED)) or 0
    done = db.session.scalar(base.where(ModuleProgress.state == COMPLETED)) or 0
    return started, done


def _count(stmt: Any) -> int:
    return int(db.session.scalar(stmt) or 0)


def module_impact(module: Module) -> Impact:
    """What deleting ``module`` loses: learners' progress, reads, attempts, sessions."""
    learners, done = _learners(module)
    lessons = select(Lesson.id).where(Lesson.module_id == module.id)
    quizzes = select(Quiz.id).where(Quiz.module_id == module.id)
    sessions = select(TrainingSession.id).where(TrainingSession.module_id == module.id)
    blocker = None
    if len(module.program.modules) <= 1:
        blocker = _("A program keeps at least one module.")
    return Impact(
        learners=learners, completed=done,
        lesson_views=_count(select(func.count()).select_from(LessonView)
                            .where(LessonView.lesson_id.in_(lessons))),
        quiz_attempts=_count(select(func.count()).select_from(QuizAttempt)
                             .where(QuizAttempt.quiz_id.in_(quizzes))),
        sessions=_count(select(func.count()).select_from(TrainingSession)
                        .where(TrainingSession.module_id == module.id)),
        attendance_marks=_count(select(func.count()).select_from(Attendance)
                                .where(Attendance.session_id.in_(sessions))),
        submissions=_count(select(func.count()).select_from(ExerciseSubmission)
                           .where(ExerciseSubmission.module_id == module.id)),
        dependents=tuple(m for m in module.program.modules
                         if module.key in m.prerequisites and m.id != module.id),
        elsewhere=tuple(line for _receiver, line in module_deletion.send(module) if line),
        blocker=blocker)


def _content_impact(item: Lesson | Quiz, rule: str, siblings: Sequence[object],
                    column: Any, traced: str, blocker: str) -> Impact:
    """What deleting a lesson or a quiz loses: the learners (not withdrawn) with rows about it
    in ``column``'s table and those rows (the Impact field ``traced``). ``blocker`` holds when
    the module is completed by ``rule`` and ``item`` is the last of ``siblings`` it reads.
    """
    model = column.class_
    learners = _count(select(func.count(distinct(model.enrollment_id)))
                      .join(Enrollment, Enrollment.id == model.enrollment_id)
                      .where(column == item.id, Enrollment.status != WITHDRAWN))
    rows: dict[str, Any] = {
        traced: _count(select(func.count()).select_from(model).where(column == item.id))}
    last = item.module.completion.get("type") == rule and len(siblings) <= 1
    return Impact(learners=learners, blocker=blocker if last else None, **rows)


def lesson_impact(lesson: Lesson) -> Impact:
    """What deleting ``lesson`` loses: the learners' reads of it."""
    return _content_impact(
        lesson, "lessons_viewed", lesson.module.lessons, LessonView.lesson_id, "lesson_views",
        _("This module is completed by reading its lessons and this is its only lesson: add "
          "another lesson or change the module's completion rule first."))


def quiz_impact(quiz: Quiz) -> Impact:
    """What deleting ``quiz`` loses: the learners' attempts at it."""
    return _content_impact(
        quiz, "quiz_passed", quiz.module.quizzes, QuizAttempt.quiz_id, "quiz_attempts",
        _("This module is completed by passing its quiz and this is its only quiz: "
          "change the module's completion rule first."))


def question_impact(question: QuizQuestion) -> Impact:
    """What deleting a question changes: nothing is lost (past attempts keep their answers and
    scores), but the quiz must keep a question.
    """
    quiz = question.quiz
    attempts = _count(select(func.count()).select_from(QuizAttempt)
                      .where(QuizAttempt.quiz_id == quiz.id))
    blocker = None
    if len(quiz.questions) <= 1:
        blocker = _("A quiz keeps at least one question: delete the quiz instead.")
    return Impact(quiz_attempts=attempts, blocker=blocker)


# --- deletions -------------------------------------------------------------------------------


def _enrollments_of(program_id: int) -> list[Enrollment]:
    return list(db.session.scalars(select(Enrollment).join(Cohort).where(
        Cohort.program_id == program_id, Enrollment.status != WITHDRAWN)))


def _refresh_module(module: Module) -> None:
    """Re-derive the progress of every learner who has some in ``module`` (its shape changed:
    a learner who read every remaining lesson has now completed it).
    """
    db.session.expire(module, ["lessons", "quizzes"])
    touched = set(db.session.scalars(select(ModuleProgress.enrollment_id).where(
        ModuleProgress.module_id == module.id)))
    for enrollment in _enrollments_of(module.program_id):
        if enrollment.id in touched:
            progress.refresh(enrollment, module)


def delete_module(*, module: Module) -> None:
    """Delete a module with its lessons, quizzes, sessions and the learners' progress in it;
    other modules forget it as a prerequisite, and enrolments whose other required modules
    are all done become completed. Statements already recorded stay in the LRS.

    :raise ValidationFailed: it is the program's only module.
    """
    impact = module_impact(module)
    if impact.blocker:
        raise ValidationFailed(impact.blocker, fields={"module": impact.blocker})
    program = module.program
    for other in impact.dependents:
        other.prerequisites = [k for k in other.prerequisites if k != module.key]
    program.modules.remove(module)
    db.session.delete(module)
    db.session.flush()
    for position, m in enumerate(program.modules, 1):
        m.position = position
    program.updated_at = utcnow()
    db.session.flush()
    for enrollment in _enrollments_of(program.id):
        progress.refresh_completion(enrollment)


def _delete_from_module(item: Lesson | Quiz, items: list[Any], impact: Impact,
                        field: str) -> None:
    """Remove a lesson or quiz from its module, renumber the others, re-derive progress."""
    if impact.blocker:
        raise ValidationFailed(impact.blocker, fields={field: impact.blocker})
    module = item.module
    items.remove(item)
    db.session.delete(item)
    db.session.flush()
    for position, other in enumerate(items, 1):
        other.position = position
    _touch(module)
    db.session.flush()
    _refresh_module(module)


def delete_lesson(*, lesson: Lesson) -> None:
    """Delete a lesson and the learners' reads of it; the module's progress is re-derived.

    :raise ValidationFailed: it is the only lesson of a module completed by reading lessons.
    """
    _delete_from_module(lesson, lesson.module.lessons, lesson_impact(lesson), "lesson")


def delete_quiz(*, quiz: Quiz) -> None:
    """Delete a quiz with its questions and attempts; the module's progress is re-derived.

    :raise ValidationFailed: it is the only quiz of a module completed by passing quizzes.
    """
    _delete_from_module(quiz, quiz.module.quizzes, quiz_impact(quiz), "quiz")
