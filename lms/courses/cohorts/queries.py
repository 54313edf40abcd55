"""Cohorts, reads: cohorts, enrolments, candidates and trainers, a learner's progress."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import Membership, Role, User
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment, ModuleProgress
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
    """A cohort's enrolments with their learners and progress, by learner name."""
    return list(db.session.scalars(
        select(Enrollment).join(Membership, Enrollment.membership_id == Membership.id)
        .join(User).where(Enrollment.cohort_id == cohort_id)
        .options(selectinload(Enrollment.progress),
                 selectinload(Enrollment.membership).selectinload(Membership.user))
        .order_by(User.display_name)))


def learners_not_enrolled(cohort: Cohort) -> list[Membership]:
    """Learners of the organization not (or no longer) enrolled in the cohort."""
    taken = select(Enrollment.membership_id).where(Enrollment.cohort_id == cohort.id,
                                                   Enrollment.status != WITHDRAWN)
    return list(db.session.scalars(
        select(Membership).join(User).where(Membership.organization_id == cohort.organization_id,
                                            Membership.role == Role.LEARNER,
                                            Membership.id.not_in(taken))
        .order_by(User.display_name)))


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
        .order_by(User.display_name)))


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
