"""What courses offers the skill pages: modules that work on a competency, and cohorts to
filter the team map by. Registered from ``init_app`` (assessments cannot import courses).
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import select

from lms.accounts.models import Membership
from lms.assessments.recommendations import CohortFilter, ModuleSuggestion
from lms.core.web import localized
from lms.courses.cohorts.models import COMPLETED, WITHDRAWN, Cohort, Enrollment, ModuleProgress
from lms.courses.programs.models import Program
from lms.extensions import db


def find_modules(organization_id: int, codes: list[str],
                 learner_user_id: int) -> list[ModuleSuggestion]:
    """The organization's modules targeting ``codes``: first those of the learner's programs
    not completed yet (with a link to the program), then the others (no link).
    """
    wanted = set(codes)
    enrollments = list(db.session.scalars(
        select(Enrollment).join(Membership, Enrollment.membership_id == Membership.id)
        .where(Membership.user_id == learner_user_id,
               Enrollment.organization_id == organization_id, Enrollment.status != WITHDRAWN)
        .order_by(Enrollment.enrolled_at)))
    enrollment_of: dict[int, Enrollment] = {}
    for e in enrollments:
        enrollment_of.setdefault(e.cohort.program_id, e)
    done = set(db.session.scalars(select(ModuleProgress.module_id).where(
        ModuleProgress.enrollment_id.in_([e.id for e in enrollments]),
        ModuleProgress.state == COMPLETED))) if enrollments else set()
    mine: list[ModuleSuggestion] = []
    others: list[ModuleSuggestion] = []
    programs = db.session.scalars(select(Program).where(
        Program.organization_id == organization_id).order_by(Program.id))
    for program in programs:
        enrollment = enrollment_of.get(program.id)
        for module in program.modules:
            targets = tuple(c for c in module.competencies or () if c in wanted)
            if not targets or module.id in done:
                continue
            url = (url_for("courses.my_program", enrollment_id=enrollment.id)
                   if enrollment else None)
            (mine if enrollment else others).append(ModuleSuggestion(
                title=localized(module.title), kind=module.kind,
                program_title=localized(program.title),
                url=url, competencies=targets, enrolled=enrollment is not None))
    return mine + others


def cohort_options(organization_id: int) -> list[tuple[int, str]]:
    """The organization's cohorts for the map's select, as "cohort — program"."""
    cohorts = db.session.scalars(select(Cohort).where(
        Cohort.organization_id == organization_id).order_by(Cohort.name, Cohort.id))
    return [(c.id, f"{c.name} — {localized(c.program.title)}") for c in cohorts]


def cohort_members(organization_id: int, cohort_id: int) -> Any:
    """A select() of the membership ids enrolled (not withdrawn) in the cohort."""
    return select(Enrollment.membership_id).where(
        Enrollment.organization_id == organization_id, Enrollment.cohort_id == cohort_id,
        Enrollment.status != WITHDRAWN)


COHORT_FILTER = CohortFilter(options=cohort_options, members=cohort_members)
