"""xAPI statements of blended programs: activity IRIs, verbs, builders, and voiding.

Every statement about a learner's path carries the enrolment id as ``context.registration``, the
module as ``contextActivities.parent`` (for lessons, quizzes and sessions) and the program as
``contextActivities.grouping``. An external xAPI package completes a module the same way by
sending ``completed`` (or ``passed``) with the module's IRI as object or parent.
"""

from __future__ import annotations

from typing import Any

from lms.accounts.models import User
from lms.core.models import utcnow
from lms.core.web import absolute_url
from lms.courses.cohorts.models import Enrollment
from lms.courses.programs.models import Lesson, Module, Program, Quiz, QuizQuestion
from lms.courses.sessions.models import TrainingSession
from lms.xapi.builders import agent_for_user
from lms.xapi.record import record

ADL = "http://adlnet.gov/expapi/verbs/"


def _verb(name: str, fr: str) -> dict[str, Any]:
    return {"id": ADL + name, "display": {"en-US": name, "fr-FR": fr}}


REGISTERED = _verb("registered", "s'est inscrit")
ATTENDED = _verb("attended", "a assisté à")
LAUNCHED = _verb("launched", "a lancé")
EXPERIENCED = _verb("experienced", "a consulté")
ANSWERED = _verb("answered", "a répondu")
PASSED = _verb("passed", "a réussi")
FAILED = _verb("failed", "a échoué à")
COMPLETED = _verb("completed", "a terminé")

ACTIVITY_TYPES = {
    "program": "http://adlnet.gov/expapi/activities/course",
    "module": "http://adlnet.gov/expapi/activities/module",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "quiz": "http://adlnet.gov/expapi/activities/assessment",
    "question": "http://adlnet.gov/expapi/activities/cmi.interaction",
    "session": "http://adlnet.gov/expapi/activities/meeting",
}


# On-the-job exercises (lms.courses.exercises.statements): a hand-in starts the module.
SUBMITTED: dict[str, Any] = {"id": "http://activitystrea.ms/schema/1.0/submit",
                             "display": {"en-US": "submitted", "fr-FR": "a remis"}}


# Verbs the progress projection listens to.
PROGRESS_VERBS = frozenset(ADL + v for v in ("attended", "launched", "experienced", "passed",
                                             "failed", "completed")) | {SUBMITTED["id"]}


def _base() -> str:
    return absolute_url()


def iri(kind: str, ident: int | str) -> str:
    """The activity id of a program, module, lesson, quiz or session."""
    return f"{_base()}/xapi/activities/{kind}/{ident}"


def activity_prefix() -> str:
    """What every activity IRI of this instance starts with."""
    return f"{_base()}/xapi/activities/"


def derived_extension() -> str:
    """Marks statements Relais derives from others (module and program completion), which the
    projection must not count again.
    """
    return f"{_base()}/xapi/extensions/derived"


def _lang(text: dict[str, str] | None) -> dict[str, str]:
    tags = {"en": "en-US", "fr": "fr-FR"}
    return {tags.get(k, k): v for k, v in (text or {}).items()}


def activity(kind: str, ident: int, title: dict[str, str] | None) -> dict[str, Any]:
    """An activity object with its type and name."""
    definition: dict[str, Any] = {"type": ACTIVITY_TYPES[kind]}
    if title:
        definition["name"] = _lang(title)
    return {"objectType": "Activity", "id": iri(kind, ident), "definition": definition}


def _context(enrollment: Enrollment, program: Program,
             module: Module | None = None) -> dict[str, Any]:
    activities: dict[str, Any] = {"grouping": [{"objectType": "Activity",
                                                "id": iri("program", program.id)}]}
    if module is not None:
        activities["parent"] = [{"objectType": "Activity", "id": iri("module", module.id)}]
    return {"registration": enrollment.id, "contextActivities": activities}


def _statement(enrollment: Enrollment, verb: dict[str, Any], obj: dict[str, Any],
               context: dict[str, Any], result: dict[str, Any] | None = None,
               **extra: Any) -> dict[str, Any]:
    st: dict[str, Any] = {"actor": agent_for_user(enrollment.membership.user), "verb": verb,
                          "object": obj, "context": context,
                          "timestamp": utcnow().isoformat()}
    if result is not None:
        st["result"] = result
    st.update(extra)
    return st


def registered(enrollment: Enrollment) -> dict[str, Any]:
    """The learner was enrolled in the program (for this cohort)."""
    program = enrollment.cohort.program
    return _statement(enrollment, REGISTERED, activity("program", program.id, program.title),
                      _context(enrollment, program))


def attended(enrollment: Enrollment, session: TrainingSession, when: str) -> dict[str, Any]:
    """The learner was present at a session (``when`` names the half-day)."""
    module = session.module
    context = _context(enrollment, module.program, module)
    context["extensions"] = {f"{_base()}/xapi/extensions/half-day": when}
    return _statement(enrollment, ATTENDED, activity("session", session.id, module.title),
                      context)


def lesson_event(enrollment: Enrollment, lesson: Lesson, verb: dict[str, Any]) -> dict[str, Any]:
    """``launched`` or ``experienced`` a lesson."""
    module = lesson.module
    return _statement(enrollment, verb, activity("lesson", lesson.id, lesson.title),
                      _context(enrollment, module.program, module))


def answered(enrollment: Enrollment, quiz: Quiz, question: QuizQuestion, chosen: list[str],
             right: bool) -> dict[str, Any]:
    """One answer to a quiz question."""
    module = quiz.module
    obj = activity("question", question.id, question.text)
    obj["definition"].update({
        "interactionType": "choice",
        "choices": [{"id": o["key"], "description": _lang(o["text"])} for o in question.options],
        "correctResponsesPattern": ["[,]".join(o["key"] for o in question.options
                                               if o.get("correct"))]})
    context = _context(enrollment, module.program, module)
    context["contextActivities"]["parent"].insert(
        0, {"objectType": "Activity", "id": iri("quiz", quiz.id)})
    return _statement(enrollment, ANSWERED, obj, context,
                      {"response": "[,]".join(chosen), "success": right})


def quiz_result(enrollment: Enrollment, quiz: Quiz, score: int, passed: bool) -> dict[str, Any]:
    """``passed`` or ``failed`` a quiz, with its score in percent."""
    module = quiz.module
    return _statement(enrollment, PASSED if passed else FAILED,
                      activity("quiz", quiz.id, quiz.title),
                      _context(enrollment, module.program, module),
                      {"score": {"scaled": round(score / 100, 4), "raw": score, "min": 0,
                                 "max": 100}, "success": passed, "completion": True})


def module_completed(enrollment: Enrollment, module: Module) -> dict[str, Any]:
    """Derived: the module's completion rule is met."""
    context = _context(enrollment, module.program)
    context["extensions"] = {derived_extension(): True}
    return _statement(enrollment, COMPLETED, activity("module", module.id, module.title),
                      context, {"completion": True})


def program_completed(enrollment: Enrollment) -> dict[str, Any]:
    """Derived: every required module is completed."""
    program = enrollment.cohort.program
    context = _context(enrollment, program)
    context["extensions"] = {derived_extension(): True}
    return _statement(enrollment, COMPLETED, activity("program", program.id, program.title),
                      context, {"completion": True})


def is_derived(statement: dict[str, Any]) -> bool:
    """Whether Relais derived this statement from others."""
    return bool(((statement.get("context") or {}).get("extensions") or {})
                .get(derived_extension()))


def void_statement(*, organization_id: int, statement_id: str, by: User) -> None:
    """Void one statement (a correction); the projections re-derive what it fed."""
    record([{"actor": {"objectType": "Agent", "name": by.display_name,
                       "account": {"homePage": _base(), "name": str(by.id)}},
             "verb": {"id": "http://adlnet.gov/expapi/verbs/voided",
                      "display": {"en-US": "voided"}},
             "object": {"objectType": "StatementRef", "id": statement_id}}],
           organization_id=organization_id)
