"""Where a launch lands: the pages of courses a learner or a trainer opens.

The endpoints of the courses pages are named here once, so a move of those pages changes
this file only.
"""

from __future__ import annotations

from flask import url_for

from lms.courses.cohorts.models import Enrollment
from lms.courses.programs.models import Module, Program


def learner_url(enrollment: Enrollment, module: Module | None) -> str:
    """The learner's next step: the module's first lesson (or quiz), else their program."""
    slug = enrollment.membership.organization.slug
    if module is not None and module.lessons:
        return url_for("courses.lesson", org_slug=slug, enrollment_id=enrollment.id,
                       lesson_id=module.lessons[0].id)
    if module is not None and module.quizzes:
        return url_for("courses.quiz", org_slug=slug, enrollment_id=enrollment.id,
                       quiz_id=module.quizzes[0].id)
    anchor = f"module-{module.id}" if module is not None else None
    return url_for("courses.my_program", org_slug=slug, enrollment_id=enrollment.id,
                   _anchor=anchor)


def staff_url(org_slug: str, program: Program, module: Module | None) -> str:
    """A trainer's view: the module's page in the program editor, else the program."""
    if module is not None:
        return url_for("courses.edit_module", org_slug=org_slug, program_id=program.id,
                       module_id=module.id)
    return url_for("courses.program", org_slug=org_slug, program_id=program.id)
