"""The course pages' shared web layer: the ``courses`` blueprint to which every sub-package's
views add their routes, and the labels, context and lookups those pages share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, url_for
from flask_babel import lazy_gettext as _l

from lms.accounts.authz import current_membership, get_in_org_or_404, org_blueprint
from lms.core.web import PostForm, current_language, get_or_404, localized
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.programs import definitions as defs
from lms.courses.programs.models import Lesson, Module, Program
from lms.courses.sessions.calendar import local
from lms.courses.sessions.models import TrainingSession

bp = org_blueprint("courses", __name__)

T = TypeVar("T")

STATE_LABELS = {"not_started": _l("Not started"), "in_progress": _l("In progress"),
                "completed": _l("Completed"), "failed": _l("Not passed yet")}
STATUS_LABELS = {"invited": _l("Invited"), "active": _l("Active"), "withdrawn": _l("Withdrawn"),
                 "completed": _l("Completed"), "registered": _l("Registered"),
                 "waitlisted": _l("Waiting list"),
                 "pending_approval": _l("Waiting for approval"), "declined": _l("Declined"),
                 "present": _l("Present"),
                 "absent": _l("Absent"), "excused": _l("Excused")}
RULE_LABELS = {"attended": _l("Attend a session"), "quiz_passed": _l("Pass the quiz"),
               "lessons_viewed": _l("Read every lesson"),
               "exercise_approved": _l("Exercise approved by the trainer"),
               "followups_held": _l("Follow-up held with the coach"),
               "xapi_completed": _l("Completed in the e-learning package")}


def page_language() -> str:
    """The language being edited: the page's, when the catalogue supports it."""
    lang = current_language()
    return lang if lang in defs.LANGUAGES else "en"


def page_context() -> dict[str, Any]:
    """What every course page's template uses: labels, local times, texts, the POST form."""
    return {"local": local, "kind_labels": KIND_LABELS, "state_labels": STATE_LABELS,
            "status_labels": STATUS_LABELS, "rule_labels": RULE_LABELS, "t": localized,
            "post_form": PostForm()}


def program_or_404(program_id: int) -> Program:
    """The organization's program ``program_id``, else 404."""
    return get_in_org_or_404(Program, program_id)


def program_part_or_404(model: type[T], ident: Any, program_id: int,
                        program_of: Callable[[T], int]) -> T:
    """The row ``ident`` of ``model`` (a module, lesson, quiz, question…) in the organization's
    program ``program_id``, else 404; ``program_of(row)`` is the id of the row's program.
    """
    program_or_404(program_id)
    return get_or_404(model, ident, outside=lambda row: program_of(row) != program_id)


def module_or_404(program_id: int, module_id: int, kind: str | None = None) -> Module:
    """The module ``module_id`` of the organization's program ``program_id``, else 404; 404 too
    when it is not of ``kind`` (when given).
    """
    module = program_part_or_404(Module, module_id, program_id, lambda row: row.program_id)
    if kind is not None and module.kind != kind:
        abort(404)
    return module


def lesson_or_404(program_id: int, lesson_id: int) -> Lesson:
    """The lesson ``lesson_id`` of the organization's program ``program_id``, else 404."""
    return program_part_or_404(Lesson, lesson_id, program_id, lambda row: row.module.program_id)


def module_url(program_id: int, module_id: int) -> str:
    """The program page, scrolled to one of its modules."""
    return url_for("courses.program", program_id=program_id, _anchor=f"module-{module_id}")


def cohort_or_404(cohort_id: int) -> Cohort:
    """The organization's cohort ``cohort_id``, else 404."""
    return get_in_org_or_404(Cohort, cohort_id)


def session_or_404(session_id: int) -> TrainingSession:
    """The organization's session ``session_id``, else 404."""
    return get_in_org_or_404(TrainingSession, session_id)


def my_enrollment_or_404(enrollment_id: str) -> Enrollment:
    """The current learner's own enrolment ``enrollment_id``, else 404."""
    return get_or_404(Enrollment, enrollment_id,
                      outside=lambda row: row.membership_id != current_membership().id)


KIND_LABELS = {"workshop": _l("Workshop"), "conference": _l("Conference"),
               "group_training": _l("Group training"), "elearning": _l("E-learning"),
               "exercise": _l("On-the-job exercise"), "coaching": _l("Coaching follow-up")}
