"""Cohorts, reads: cohorts, enrolments, candidates and trainers, a learner's progress."""

from __future__ import annotations

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager, selectinload

from lms.accounts.models import Membership, Role, User, person_matches
from lms.courses.cohorts.models import (
    COMPLETED,
    WITHDRAWN,
    Cohort,
    Enrollment,
    ModuleProgress,
)
from lms.courses.programs.models import Module, Program
from lms.extensions import db


def cohorts(organization_id: int, program_id: int | None = None) -> list[Cohort]:
    """An organization's cohorts (of one program if given), newest first."""
    stmt = select(Cohort).where(Cohort.organization_id == organization_id)
    if program_id is not None:
        stmt = stmt.where(Cohort.program_id == program_id)
    return list(db.session.scalars(stmt.order_by(Cohort.id.desc())))


def pilot_cohort(organization_id: int) -> Cohort | None:
    """The organization's pilot cohort (the first one, if several), or None."""
    return db.session.scalar(select(Cohort).where(
        Cohort.organization_id == organization_id, Cohort.pilot.is_(True)).order_by(Cohort.id))


def enrollments(cohort_id: int) -> list[Enrollment]:
    """A cohort's enrolments with their learners, by learner name."""
    return list(db.session.scalars(enrollments_by_name(cohort_id).options(
        selectinload(Enrollment.membership).selectinload(Membership.user))))


def enrollments_by_name(cohort_id: int, *, search: str = "") -> Select[Enrollment]:
    """A cohort's enrolments by learner name (then id, so pages never overlap); ``search``
    keeps the learners whose name or e-mail address contains it.
    """
    stmt = (select(Enrollment).join(Membership, Enrollment.membership_id == Membership.id)
            .join(User).where(Enrollment.cohort_id == cohort_id))
    if search:
        stmt = stmt.where(person_matches(search))
    return stmt.order_by(User.name_key, Enrollment.id)


def enrollments_page(cohort_id: int, *, search: str = "", page: int = 1,
                     per_page: int = 50) -> Pagination:
    """One page of :func:`enrollments_by_name`, with each learner and their progress loaded."""
    stmt = enrollments_by_name(cohort_id, search=search).options(
        selectinload(Enrollment.progress),
        selectinload(Enrollment.membership).selectinload(Membership.user))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


@dataclass(frozen=True)
class CohortCompletion:
    """Where a whole cohort stands, withdrawn learners left out: how many are enrolled, how
    many completed the program, and how many completed each module (by module id).
    """

    enrolled: int
    completed: int
    by_module: dict[int, int]


def completion(cohort_id: int) -> CohortCompletion:
    """The cohort's completion counts, read by the database (not from the page's rows)."""
    present = (Enrollment.cohort_id == cohort_id, Enrollment.status != WITHDRAWN)
    enrolled, completed = db.session.execute(
        select(func.count(), func.count().filter(Enrollment.status == COMPLETED))
        .where(*present)).one()
    by_module = dict(db.session.execute(  # type: ignore[arg-type]
        select(ModuleProgress.module_id, func.count()).join(Enrollment)
        .where(*present, ModuleProgress.state == COMPLETED)
        .group_by(ModuleProgress.module_id)).all())
    return CohortCompletion(enrolled=enrolled, completed=completed, by_module=by_module)


def _not_enrolled(cohort: Cohort, search: str) -> Select[Membership]:
    taken = select(Enrollment.membership_id).where(Enrollment.cohort_id == cohort.id,
                                                   Enrollment.status != WITHDRAWN)
    stmt = select(Membership).join(User).where(
        Membership.organization_id == cohort.organization_id, Membership.role == Role.LEARNER,
        Membership.id.not_in(taken))
    if search:
        stmt = stmt.where(person_matches(search))
    return stmt


def learners_not_enrolled(cohort: Cohort, *, search: str = "",
                          limit: int | None = None) -> list[Membership]:
    """Learners of the organization not (or no longer) enrolled in the cohort, by name;
    ``search`` keeps those whose name or e-mail address contains it; at most ``limit``.
    """
    stmt = _not_enrolled(cohort, search).order_by(User.name_key, Membership.id)
    return list(db.session.scalars(stmt.options(contains_eager(Membership.user)).limit(limit)))


def count_not_enrolled(cohort: Cohort, *, search: str = "") -> int:
    """How many learners :func:`learners_not_enrolled` would list without a limit."""
    return db.session.scalar(
        _not_enrolled(cohort, search).with_only_columns(func.count())) or 0


def teams(organization_id: int) -> list[str]:
    """Teams that have learners."""
    return sorted(t for t in db.session.scalars(
        select(Membership.team).where(Membership.organization_id == organization_id,
                                      Membership.role == Role.LEARNER,
                                      Membership.team.is_not(None)).distinct()) if t)


def trainers(organization_id: int) -> list[Membership]:
    """Members who may train (trainers and admins)."""
    return list(db.session.scalars(
        select(Membership).join(User).where(Membership.organization_id == organization_id,
                                            Membership.role.in_([Role.TRAINER, Role.ADMIN]))
        .order_by(User.name_key)))


def my_enrollments(membership_id: int) -> list[Enrollment]:
    """A learner's enrolments, newest first."""
    return list(db.session.scalars(select(Enrollment).where(
        Enrollment.membership_id == membership_id).order_by(Enrollment.enrolled_at.desc())))


def progress_by_module(enrollment_id: str) -> dict[int, ModuleProgress]:
    """A learner's progress rows keyed by module id."""
    return {p.module_id: p for p in db.session.scalars(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == enrollment_id))}


@dataclass(frozen=True)
class NextStep:
    """Where a learner resumes: the first module not completed whose prerequisites are."""

    module: Module | None


def resume_point(program: Program, progress: dict[int, ModuleProgress]) -> NextStep:
    """The module a learner should continue with."""
    done = {m.key for m in program.modules if progress.get(m.id) is not None
            and progress[m.id].state == "completed"}
    for module in program.modules:
        if module.key not in done and set(module.prerequisites) <= done:
            return NextStep(module)
    return NextStep(None)
