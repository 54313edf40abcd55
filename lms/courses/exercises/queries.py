"""Exercises, reads: settings, due dates, hand-ins, the review queue and AFEST records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from lms.accounts.models import Membership, Role, User, person_matches
from lms.core.models import utcnow
from lms.courses.cohorts import models as cohort_models
from lms.courses.cohorts.models import Cohort, CohortTrainer, Enrollment, ModuleProgress
from lms.courses.exercises.models import (
    DONE_STATUSES,
    SUBMITTED,
    AfestEntry,
    AfestPlan,
    ExerciseSubmission,
)
from lms.courses.programs.models import Module, Program
from lms.extensions import db

# A module without an exercise block (added in the builder) asks for this.
DEFAULT_SETTINGS: dict[str, Any] = {"instructions": {},
                                    "evidence": {"url": "optional", "reflection": "required"},
                                    "rubric": [], "afest": False}
NOT_SUBMITTED = "not_submitted"
STAFF = (Role.TRAINER, Role.ADMIN)


def settings_of(module: Module) -> dict[str, Any]:
    """The module's exercise settings, with the defaults where it has none."""
    return {**DEFAULT_SETTINGS, **(module.exercise or {})}


def due_on(enrollment: Enrollment, module: Module) -> date | None:
    """When the exercise is due: ``due_days`` after the enrolment or the cohort's start,
    whichever is later (None without ``due_days``).
    """
    days = settings_of(module).get("due_days")
    if not days:
        return None
    start = enrollment.enrolled_at.date()
    if enrollment.cohort.starts_on and enrollment.cohort.starts_on > start:
        start = enrollment.cohort.starts_on
    return start + timedelta(days=int(days))


def latest_submission(enrollment_id: str, module_id: int) -> ExerciseSubmission | None:
    """The learner's last hand-in (or verification) for an exercise."""
    return db.session.scalar(select(ExerciseSubmission).where(
        ExerciseSubmission.enrollment_id == enrollment_id,
        ExerciseSubmission.module_id == module_id)
        .order_by(ExerciseSubmission.attempt.desc()).limit(1))


def submissions_of(enrollment_id: str, module_id: int) -> list[ExerciseSubmission]:
    """Every hand-in of a learner for an exercise, newest first, with their reviews."""
    return list(db.session.scalars(select(ExerciseSubmission).where(
        ExerciseSubmission.enrollment_id == enrollment_id,
        ExerciseSubmission.module_id == module_id)
        .options(selectinload(ExerciseSubmission.reviews))
        .order_by(ExerciseSubmission.attempt.desc())))


def screenshot_limit() -> int:
    """The largest screenshot accepted, in bytes (``EXERCISE_SCREENSHOT_MAX_BYTES``, 5 MB)."""
    return int(current_app.config["EXERCISE_SCREENSHOT_MAX_BYTES"])


def screenshot_folder() -> Path:
    """Where screenshots are kept: ``<instance>/exercises``."""
    return Path(current_app.instance_path) / "exercises"


def screenshot_file(submission: ExerciseSubmission) -> Path | None:
    """The stored screenshot of a submission, if it has one."""
    if not submission.screenshot_path:
        return None
    return screenshot_folder() / submission.screenshot_path


# --- reviews --------------------------------------------------------------------------------


def may_review(membership: Membership, submission: ExerciseSubmission) -> bool:
    """Whether a member may review this hand-in (a trainer or admin of its organization)."""
    return membership.organization_id == submission.organization_id and membership.role in STAFF


# --- AFEST ----------------------------------------------------------------------------------


def afest_plan(enrollment: Enrollment, module: Module) -> AfestPlan | None:
    """The AFEST record of a learner for an exercise, if one was opened."""
    return db.session.scalar(select(AfestPlan).where(AfestPlan.enrollment_id == enrollment.id,
                                                     AfestPlan.module_id == module.id))


def may_keep_journal(membership: Membership, plan: AfestPlan | None,
                     enrollment: Enrollment) -> bool:
    """Whether a member may write the AFEST journal: staff, the named tutor, the learner."""
    if membership.organization_id != enrollment.organization_id:
        return False
    return (membership.role in STAFF or membership.id == enrollment.membership_id
            or (plan is not None and plan.tutor_id == membership.id))


# --- reads for pages and dashboards ----------------------------------------------------------


@dataclass(frozen=True)
class DueExercise:
    """An exercise a learner still has to do (or whose hand-in awaits review)."""

    module: Module
    enrollment: Enrollment
    due_on: date | None
    status: str  # not_submitted | submitted | changes_requested
    overdue: bool
    submission: ExerciseSubmission | None = None


def due_for(membership: Membership) -> list[DueExercise]:
    """A learner's exercises not yet approved or verified, across their active enrolments,
    soonest due first (those without a due date last). Overdue: past the due date and nothing
    awaiting review.
    """
    enrollments = list(db.session.scalars(select(Enrollment).where(
        Enrollment.membership_id == membership.id, Enrollment.status != cohort_models.WITHDRAWN)))
    if not enrollments:
        return []
    ids = [e.id for e in enrollments]
    latest: dict[tuple[str, int], ExerciseSubmission] = {}
    for s in db.session.scalars(select(ExerciseSubmission).where(
            ExerciseSubmission.enrollment_id.in_(ids)).order_by(ExerciseSubmission.attempt)):
        latest[(s.enrollment_id, s.module_id)] = s
    done = {(p.enrollment_id, p.module_id) for p in db.session.scalars(
        select(ModuleProgress).where(ModuleProgress.enrollment_id.in_(ids),
                                     ModuleProgress.state == cohort_models.COMPLETED))}
    today = utcnow().date()
    items = []
    for enrollment in enrollments:
        for module in enrollment.cohort.program.modules:
            key = (enrollment.id, module.id)
            if module.kind != "exercise" or key in done:
                continue
            last = latest.get(key)
            if last is not None and last.status in DONE_STATUSES:
                continue
            status = last.status if last is not None else NOT_SUBMITTED
            due = due_on(enrollment, module)
            items.append(DueExercise(module, enrollment, due, status,
                                     due is not None and due < today and status != SUBMITTED,
                                     last))
    return sorted(items, key=lambda i: (i.due_on is None, i.due_on or today, i.module.position))


def _queue(organization_id: int, trainer: Membership | None, cohort_id: int | None) -> Any:
    stmt = (select(ExerciseSubmission)
            .join(Enrollment, ExerciseSubmission.enrollment_id == Enrollment.id)
            .where(ExerciseSubmission.organization_id == organization_id,
                   ExerciseSubmission.status == SUBMITTED,
                   # A withdrawn learner's hand-in waits for nobody.
                   Enrollment.status != cohort_models.WITHDRAWN))
    if trainer is not None:
        stmt = stmt.where(Enrollment.cohort_id.in_(select(CohortTrainer.cohort_id).where(
            CohortTrainer.membership_id == trainer.id)))
    if cohort_id is not None:
        stmt = stmt.where(Enrollment.cohort_id == cohort_id)
    return stmt


def to_review(organization_id: int, trainer: Membership | None = None, *,
              limit: int | None = None) -> list[ExerciseSubmission]:
    """Hand-ins awaiting review in an organization, oldest first (with their learner and
    module loaded); for a trainer, only those of the cohorts they train.

    :param limit: at most this many (a dashboard shows the first few: see ``count_to_review``).
    """
    stmt = queue_query(organization_id, trainer=trainer)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def count_to_review(organization_id: int, trainer: Membership | None = None) -> int:
    """How many hand-ins await review (same scope as ``to_review``)."""
    return db.session.scalar(select(func.count()).select_from(
        _queue(organization_id, trainer, None).subquery())) or 0


def queue_query(organization_id: int, *, trainer: Membership | None = None,
                cohort_id: int | None = None) -> Any:
    """The review queue as a select (oldest first), for pagination; filtered by the cohorts a
    trainer trains and by cohort.
    """
    return (_queue(organization_id, trainer, cohort_id)
            .options(selectinload(ExerciseSubmission.enrollment)
                     .selectinload(Enrollment.membership).selectinload(Membership.user),
                     selectinload(ExerciseSubmission.module))
            .order_by(ExerciseSubmission.submitted_at, ExerciseSubmission.id))


def trains(membership: Membership) -> list[Cohort]:
    """The cohorts a member trains."""
    return list(db.session.scalars(select(Cohort).join(
        CohortTrainer, CohortTrainer.cohort_id == Cohort.id).where(
        CohortTrainer.membership_id == membership.id).order_by(Cohort.id.desc())))


def is_afest() -> ColumnElement[bool]:
    """The condition on ``Module`` of an exercise run as AFEST (its ``afest`` setting true)."""
    return and_(Module.kind == "exercise", Module.exercise["afest"].as_boolean())


def afest_cohorts(organization_id: int) -> list[Cohort]:
    """An organization's cohorts whose program has an exercise run as AFEST, newest first."""
    return list(db.session.scalars(select(Cohort).where(
        Cohort.organization_id == organization_id,
        Cohort.program_id.in_(select(Module.program_id).where(is_afest())))
        .order_by(Cohort.id.desc())))


class AfestRow(NamedTuple):
    """A line of the AFEST records list: a learner's enrolment, an exercise of their program run
    as AFEST, its record if one was opened, and how many entries its journal has.
    """

    enrollment: Enrollment
    module: Module
    plan: AfestPlan | None
    entries: int


@dataclass(frozen=True)
class AfestPage:
    """One page of the AFEST records list, how many rows match on every page, and the ranks
    of the page's first and last rows (1-based; 0 when nothing matches).
    """

    rows: list[AfestRow]
    page: int
    pages: int
    total: int
    first: int = 0
    last: int = 0


def _afest_modules(organization_id: int) -> Select[Any]:
    """The ids of the organization's exercises run as AFEST (a few: read once by a query)."""
    return select(Module.id).join(Program).where(Program.organization_id == organization_id,
                                                 is_afest())


def _afest_rows(organization_id: int, tutor_id: int | None, cohort_id: int | None,
                search: str, untutored: bool, *, learners: bool) -> Select[Any]:
    """Every (enrolment, AFEST exercise of its program) pair of the organization, withdrawn
    learners left out: only the records a member tutors (``tutor_id``), of one cohort, of
    learners whose name or e-mail address contains ``search``, without a tutor yet
    (``untutored``: no record, or one without a tutor). Joins only the tables the filters
    need, and the learners (``User``) when asked, to sort by name.
    """
    stmt = (select(Enrollment).select_from(Enrollment)
            .join(Cohort, Enrollment.cohort_id == Cohort.id)
            .join(Module, and_(Module.program_id == Cohort.program_id,
                               Module.id.in_(_afest_modules(organization_id))))
            .where(Enrollment.organization_id == organization_id,
                   Enrollment.status != cohort_models.WITHDRAWN))
    if learners or search:
        stmt = (stmt.join(Membership, Enrollment.membership_id == Membership.id)
                .join(User, Membership.user_id == User.id))
    plan_on = and_(AfestPlan.enrollment_id == Enrollment.id, AfestPlan.module_id == Module.id)
    if tutor_id is not None:
        stmt = stmt.join(AfestPlan, plan_on).where(AfestPlan.tutor_id == tutor_id)
    elif untutored:
        stmt = stmt.outerjoin(AfestPlan, plan_on).where(AfestPlan.tutor_id.is_(None))
    if cohort_id is not None:
        stmt = stmt.where(Enrollment.cohort_id == cohort_id)
    if search:
        stmt = stmt.where(person_matches(search))
    return stmt


def afest_page(organization_id: int, *, tutor_id: int | None = None,
               cohort_id: int | None = None, search: str = "", untutored: bool = False,
               page: int = 1, per_page: int = 25) -> AfestPage:
    """Page ``page`` (the last one when past it) of the AFEST records list by learner name,
    then exercise (see ``_afest_rows`` for the filters), each row with its learner, cohort,
    exercise, record, tutor and number of journal entries: two queries (the count, then the
    page), whatever the size of the organization (and one on PostgreSQL for their plans).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a query after five runs; PostgreSQL's generic plan for these two
        # (the search's pattern and the page's offset unknown) read the organization's
        # enrolments 3 to 10 times slower than a plan made for the values. For this
        # transaction only, as SET LOCAL would (a SELECT: it may be prepared, SET may not).
        db.session.execute(select(func.set_config("plan_cache_mode", "force_custom_plan", True)))
    filters = (organization_id, tutor_id, cohort_id, search, untutored)
    total = db.session.scalar(
        _afest_rows(*filters, learners=False).with_only_columns(func.count())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    if not total:
        return AfestPage([], page, pages, total)
    # The page's keys first, sorted narrow; then its rows, whole, with what they show.
    keys = (_afest_rows(*filters, learners=True)
            .with_only_columns(Enrollment.id.label("enrollment_id"),
                               Module.id.label("module_id"), User.name_key, Module.position)
            .order_by(User.name_key, Enrollment.id, Module.position, Module.id)
            .offset((page - 1) * per_page).limit(per_page).subquery())
    tutor, tutor_user = aliased(Membership), aliased(User)
    entries = (select(func.count(AfestEntry.id)).where(AfestEntry.plan_id == AfestPlan.id)
               .correlate(AfestPlan).scalar_subquery())
    rows = db.session.execute(
        select(Enrollment, Module, AfestPlan, entries).select_from(keys)
        .join(Enrollment, Enrollment.id == keys.c.enrollment_id)
        .join(Module, Module.id == keys.c.module_id)
        .join(Cohort, Enrollment.cohort_id == Cohort.id)
        .join(Membership, Enrollment.membership_id == Membership.id)
        .join(User, Membership.user_id == User.id)
        .outerjoin(AfestPlan, and_(AfestPlan.enrollment_id == Enrollment.id,
                                   AfestPlan.module_id == Module.id))
        .outerjoin(tutor, AfestPlan.tutor_id == tutor.id)
        .outerjoin(tutor_user, tutor.user_id == tutor_user.id)
        .options(contains_eager(Enrollment.cohort),
                 contains_eager(Enrollment.membership).contains_eager(Membership.user),
                 contains_eager(AfestPlan.tutor.of_type(tutor))
                 .contains_eager(tutor.user.of_type(tutor_user)))
        .order_by(keys.c.name_key, keys.c.enrollment_id, keys.c.position,
                  keys.c.module_id)).all()
    first = (page - 1) * per_page + 1
    return AfestPage([AfestRow(*row) for row in rows], page, pages, total, first,
                     first + len(rows) - 1)


# How many earlier tutors the AFEST tutor field suggests, at most, besides the current one and
# the learner's manager (staff type any member's e-mail).
TUTOR_SUGGESTIONS = 8


def tutor_suggestions(enrollment: Enrollment, plan: AfestPlan | None) -> list[Membership]:
    """A few members to suggest as the learner's AFEST tutor, by name: the current tutor, the
    learner's manager and the tutors already named in the organization (the latest first),
    active and not the learner — never the whole organization. One query, which also loads
    the current tutor the page shows.
    """
    latest = (select(AfestPlan.tutor_id)
              .where(AfestPlan.organization_id == enrollment.organization_id,
                     AfestPlan.tutor_id.is_not(None))
              .group_by(AfestPlan.tutor_id).order_by(func.max(AfestPlan.id).desc())
              .limit(TUTOR_SUGGESTIONS))
    manager = select(Membership.manager_id).where(Membership.id == enrollment.membership_id)
    wanted: list[ColumnElement[bool]] = [Membership.id.in_(latest), Membership.id.in_(manager)]
    if plan is not None and plan.tutor_id is not None:
        wanted.append(Membership.id == plan.tutor_id)
    return list(db.session.scalars(
        select(Membership).join(Membership.user).options(contains_eager(Membership.user))
        .where(Membership.organization_id == enrollment.organization_id,
               Membership.active.is_(True), Membership.id != enrollment.membership_id,
               or_(*wanted))
        .order_by(User.name_key)))
