"""Reads behind the dashboards: plain select() functions over the domain packages' tables.

Each dashboard list costs a fixed number of grouped queries, whatever the number of learners
(progress is summed per enrolment in SQL, never read row by row).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import Membership, Role
from lms.core.models import utcnow
from lms.courses.cohorts.models import (
    COMPLETED,
    WITHDRAWN,
    Cohort,
    CohortTrainer,
    Enrollment,
    ModuleProgress,
)
from lms.courses.elearning.models import LessonView
from lms.courses.programs.models import Module, Program
from lms.courses.sessions.models import REGISTERED, Attendance, SessionRegistration, TrainingSession
from lms.courses.sessions.services import half_days, local_zone
from lms.extensions import db
from lms.reports import pace as pace_rule
from lms.reports.pace import Pace, expected_percent, pace

# A cohort that ended more than this long ago leaves the dashboards (its pages stay).
RECENT = timedelta(days=30)
# Sessions started longer ago than this no longer ask for their attendance on the dashboard.
ATTENDANCE_WINDOW = timedelta(days=60)


def member_counts(organization_id: int) -> dict[Role, int]:
    """Number of members per role in an organization (every role present, zero if none)."""
    rows = db.session.execute(
        select(Membership.role, func.count())
        .where(Membership.organization_id == organization_id)
        .group_by(Membership.role)
    ).all()
    counts = {role: 0 for role in Role}
    counts.update({role: n for role, n in rows})
    return counts


# --- progress per enrolment ------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """An enrolment's progress in its program: the mean of its required modules' progress
    (a completed module counts 100), how many of them are completed, and its latest learning
    activity (the latest change of its progress, else its enrolment).
    """

    percent: int
    done: int
    required: int
    last_activity: datetime


def _required_counts(program_ids: Iterable[int]) -> dict[int, int]:
    ids = set(program_ids)
    if not ids:
        return {}
    return dict(db.session.execute(  # type: ignore[arg-type]
        select(Module.program_id, func.count()).where(Module.program_id.in_(ids),
                                                      Module.required.is_(True))
        .group_by(Module.program_id)).all())


def standings(enrollments: list[Enrollment]) -> dict[str, Standing]:
    """Standing of each enrolment, keyed by id (one grouped query)."""
    rows = [(e.id, e.cohort.program_id, e.enrolled_at) for e in enrollments]
    wanted = [e.id for e in enrollments]
    if not rows:
        return {}
    required = _required_counts(program for _i, program, _d in rows)
    sums = {enrollment_id: (total or 0, done or 0, last) for enrollment_id, total, done, last in
            db.session.execute(
                select(ModuleProgress.enrollment_id,
                       func.sum(case((Module.required.is_(True), ModuleProgress.percent),
                                     else_=0)),
                       func.sum(case(((Module.required.is_(True))
                                      & (ModuleProgress.state == COMPLETED), 1), else_=0)),
                       func.max(ModuleProgress.updated_at))
                .join(Module, Module.id == ModuleProgress.module_id)
                .where(ModuleProgress.enrollment_id.in_(wanted))
                .group_by(ModuleProgress.enrollment_id))}
    out = {}
    for enrollment_id, program_id, enrolled_at in rows:
        total, done, last = sums.get(enrollment_id, (0, 0, None))
        count = required.get(program_id, 0)
        out[enrollment_id] = Standing(
            percent=min(100, round(total / count)) if count else 0, done=int(done),
            required=count, last_activity=max(d for d in (last, enrolled_at) if d is not None))
    return out


# --- learner ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """A module to do next, and where to start it (its first unread lesson or its quiz)."""

    module: Module
    lesson_id: int | None = None
    quiz_id: int | None = None


@dataclass(frozen=True)
class MyProgram:
    """A learner's enrolment on their home page: their standing and next modules."""

    enrollment: Enrollment
    standing: Standing
    next_steps: list[NextStep]


def _next_steps(enrollment: Enrollment, completed: set[int], viewed: set[int],
                limit: int) -> list[NextStep]:
    """Modules not completed whose prerequisites are, in program order."""
    program = enrollment.cohort.program
    done = {m.key for m in program.modules if m.id in completed}
    steps = []
    for module in program.modules:
        if module.id in completed or not set(module.prerequisites) <= done:
            continue
        unread = next((lesson.id for lesson in module.lessons if lesson.id not in viewed), None)
        quiz = module.quizzes[0].id if module.quizzes and unread is None else None
        steps.append(NextStep(module, unread, quiz))
        if len(steps) == limit:
            break
    return steps


def my_programs(membership: Membership, *, steps: int = 3) -> list[MyProgram]:
    """A learner's programs (withdrawn ones left out), newest first, with their standing and
    up to ``steps`` next modules each.
    """
    enrollments = list(db.session.scalars(
        select(Enrollment).where(Enrollment.membership_id == membership.id,
                                 Enrollment.status != WITHDRAWN)
        .options(selectinload(Enrollment.cohort).selectinload(Cohort.program)
                 .selectinload(Program.modules))
        .order_by(Enrollment.enrolled_at.desc())))
    if not enrollments:
        return []
    ids = [e.id for e in enrollments]
    completed = {(p.enrollment_id, p.module_id) for p in db.session.scalars(
        select(ModuleProgress).where(ModuleProgress.enrollment_id.in_(ids),
                                     ModuleProgress.state == COMPLETED))}
    viewed = {(v.enrollment_id, v.lesson_id) for v in db.session.scalars(
        select(LessonView).where(LessonView.enrollment_id.in_(ids)))}
    by_id = standings(enrollments)
    out = []
    for e in enrollments:
        mine_done = {m for (eid, m) in completed if eid == e.id}
        mine_read = {lesson for (eid, lesson) in viewed if eid == e.id}
        out.append(MyProgram(e, by_id[e.id], [] if e.status == COMPLETED else
                             _next_steps(e, mine_done, mine_read, steps)))
    return out


@dataclass(frozen=True)
class UpcomingSession:
    """A session coming up for a learner: their seat (or waiting-list place), or None when
    they may still register.
    """

    session: TrainingSession
    registration: SessionRegistration | None
    enrollment: Enrollment


def next_session(membership: Membership, *, now: datetime | None = None
                 ) -> UpcomingSession | None:
    """The learner's next session not over yet where they hold a seat or a waiting-list
    place; failing that, the next session of their cohorts they may register for.
    """
    now = now or utcnow()
    held = db.session.execute(
        select(TrainingSession, SessionRegistration, Enrollment)
        .join(SessionRegistration, SessionRegistration.session_id == TrainingSession.id)
        .join(Enrollment, Enrollment.id == SessionRegistration.enrollment_id)
        .where(Enrollment.membership_id == membership.id, Enrollment.status != WITHDRAWN,
               SessionRegistration.status.in_((REGISTERED, "waitlisted")),
               TrainingSession.ends_at > now)
        .order_by(TrainingSession.starts_at, TrainingSession.id).limit(1)).first()
    if held is not None:
        return UpcomingSession(*held)
    mine = select(SessionRegistration.session_id).join(
        Enrollment, Enrollment.id == SessionRegistration.enrollment_id).where(
        Enrollment.membership_id == membership.id)
    done = select(ModuleProgress.module_id).join(
        Enrollment, Enrollment.id == ModuleProgress.enrollment_id).where(
        Enrollment.membership_id == membership.id, ModuleProgress.state == COMPLETED)
    open_ = db.session.execute(
        select(TrainingSession, Enrollment)
        .join(Enrollment, Enrollment.cohort_id == TrainingSession.cohort_id)
        .where(Enrollment.membership_id == membership.id,
               Enrollment.status.in_(("active", COMPLETED)),
               TrainingSession.starts_at > now, TrainingSession.id.not_in(mine),
               TrainingSession.module_id.not_in(done))
        .order_by(TrainingSession.starts_at, TrainingSession.id).limit(1)).first()
    return UpcomingSession(open_[0], None, open_[1]) if open_ is not None else None


# --- trainers, HR and admins -----------------------------------------------------------------


def _cohorts(organization_id: int, trainer: Membership | None, today: date) -> Select[Any]:
    stmt = select(Cohort).where(Cohort.organization_id == organization_id,
                                or_(Cohort.ends_on.is_(None), Cohort.ends_on >= today - RECENT))
    if trainer is not None:
        stmt = stmt.where(Cohort.id.in_(select(CohortTrainer.cohort_id).where(
            CohortTrainer.membership_id == trainer.id)))
    return stmt


@dataclass(frozen=True)
class CohortSummary:
    """One cohort on the trainer's dashboard: its learners, completions and progress."""

    cohort: Cohort
    learners: int  # not withdrawn
    completed: int
    percent: int  # mean progress of its learners
    behind: int
    expected: int | None  # share of its dates elapsed


@dataclass(frozen=True)
class Behind:
    """A learner falling behind (see :mod:`lms.reports.pace` for the rule)."""

    enrollment: Enrollment
    percent: int
    pace: Pace


@dataclass(frozen=True)
class CohortsOverview:
    """The cohorts dashboard: a summary per cohort and the learners falling behind."""

    cohorts: list[CohortSummary]
    behind: list[Behind]  # the first ``limit``, most behind first
    behind_total: int


def cohorts_overview(organization_id: int, *, trainer: Membership | None = None,
                     today: date | None = None, limit: int = 20) -> CohortsOverview:
    """Current cohorts (those of ``trainer`` when given) with their learners' progress, and the
    learners falling behind (the rule of :mod:`lms.reports.pace`).

    One grouped query, whatever the number of learners, reads each enrolment's progress (the
    sum over its required modules) and latest activity; the rest is arithmetic.
    """
    today = today or utcnow().date()
    cohorts = list(db.session.scalars(_cohorts(organization_id, trainer, today).options(
        selectinload(Cohort.program)).order_by(Cohort.starts_on.desc(), Cohort.id.desc())))
    if not cohorts:
        return CohortsOverview([], [], 0)
    required_ids = list(db.session.scalars(select(Module.id).where(
        Module.program_id.in_({c.program_id for c in cohorts}), Module.required.is_(True))))
    required = _required_counts(c.program_id for c in cohorts)
    count = {c.id: required.get(c.program_id, 0) for c in cohorts}
    expected = {c.id: expected_percent(c.starts_on, c.ends_on, today) for c in cohorts}
    # Thresholds per cohort: below ``late`` percent is behind schedule (None: no dates, or
    # not started); a latest activity before ``idle_since`` is inactive.
    started = {c.id: c.starts_on is None or c.starts_on <= today for c in cohorts}
    late = {c: (e - pace_rule.PACE_MARGIN if e is not None and started[c] else None)
            for c, e in expected.items()}
    idle_since = datetime.combine(today - timedelta(days=pace_rule.IDLE_DAYS - 1),
                                  datetime.min.time(), tzinfo=UTC)
    rows = db.session.execute(
        select(Enrollment.id, Enrollment.cohort_id, Enrollment.status,
               func.coalesce(func.sum(case((ModuleProgress.module_id.in_(required_ids),
                                            ModuleProgress.percent), else_=0)), 0),
               # Inactive, said by the database: no datetime crosses into Python per row.
               case((func.coalesce(func.max(ModuleProgress.updated_at), Enrollment.enrolled_at)
                     < idle_since, 1), else_=0))
        .select_from(Enrollment)
        .outerjoin(ModuleProgress, ModuleProgress.enrollment_id == Enrollment.id)
        .where(Enrollment.cohort_id.in_(list(count)), Enrollment.status != WITHDRAWN)
        .group_by(Enrollment.id))  # its other columns follow from the primary key
    totals: dict[int, list[float]] = {c: [0, 0, 0.0, 0] for c in count}  # n, done, %, behind
    flagged: list[tuple[float, str, int, float]] = []
    for enrollment_id, cohort_id, status, total, idle in rows:
        t = totals[cohort_id]
        t[0] += 1
        if status == COMPLETED:
            t[1] += 1
            t[2] += 100
            continue
        percent = total / count[cohort_id] if count[cohort_id] else 0.0
        t[2] += percent
        threshold = late[cohort_id]
        if started[cohort_id] and ((threshold is not None and percent < threshold)
                                   or idle):
            t[3] += 1
            flagged.append(((expected[cohort_id] or 0) - percent, enrollment_id, cohort_id,
                            percent))
    worst = heapq.nsmallest(limit, flagged, key=lambda f: (-f[0], f[1]))
    ids = [w[1] for w in worst]
    loaded = {e.id: e for e in db.session.scalars(
        select(Enrollment).where(Enrollment.id.in_(ids)).options(
            selectinload(Enrollment.membership).selectinload(Membership.user),
            selectinload(Enrollment.cohort)))} if worst else {}
    latest = dict(db.session.execute(
        select(ModuleProgress.enrollment_id, func.max(ModuleProgress.updated_at))
        .where(ModuleProgress.enrollment_id.in_(ids))
        .group_by(ModuleProgress.enrollment_id)).all()) if worst else {}
    summaries = [CohortSummary(c, int(totals[c.id][0]), int(totals[c.id][1]),
                               round(totals[c.id][2] / totals[c.id][0]) if totals[c.id][0]
                               else 0, int(totals[c.id][3]), expected[c.id]) for c in cohorts]
    behind = [Behind(loaded[eid], round(percent),
                     pace(percent=percent, expected=expected[cid], started=True,
                          last_activity=latest.get(eid) or loaded[eid].enrolled_at,
                          today=today))
              for _gap, eid, cid, percent in worst]
    return CohortsOverview(summaries, behind, len(flagged))


@dataclass(frozen=True)
class AttendanceToTake:
    """A session that has started with attendance marks missing for some half-days."""

    session: TrainingSession
    seats: int
    missing: int  # marks still to record (learners × half-days begun)


def _halves_begun(session: TrainingSession, now: datetime) -> int:
    zone = local_zone()
    begun = 0
    for day, half in half_days(session):
        begins = datetime.combine(day, datetime.min.time(), tzinfo=zone) + \
            timedelta(hours=0 if half == "am" else 13)
        if max(begins, session.starts_at.astimezone(zone)) <= now:
            begun += 1
    return begun


def attendance_to_take(organization_id: int, *, trainer: Membership | None = None,
                       now: datetime | None = None) -> list[AttendanceToTake]:
    """Sessions that have started (in the last 60 days) without every seated learner marked
    for every half-day begun; a trainer's own (their cohorts' or those they lead).
    """
    now = now or utcnow()
    stmt = select(TrainingSession).where(
        TrainingSession.organization_id == organization_id, TrainingSession.starts_at <= now,
        TrainingSession.starts_at >= now - ATTENDANCE_WINDOW)
    if trainer is not None:
        stmt = stmt.where(or_(TrainingSession.trainer_id == trainer.id,
                              TrainingSession.cohort_id.in_(select(CohortTrainer.cohort_id)
                                                            .where(CohortTrainer.membership_id
                                                                   == trainer.id))))
    sessions = list(db.session.scalars(stmt.options(selectinload(TrainingSession.module),
                                                    selectinload(TrainingSession.cohort))
                                       .order_by(TrainingSession.starts_at)))
    if not sessions:
        return []
    ids = [s.id for s in sessions]
    seats = dict(db.session.execute(
        select(SessionRegistration.session_id, func.count())
        .where(SessionRegistration.session_id.in_(ids),
               SessionRegistration.status == REGISTERED)
        .group_by(SessionRegistration.session_id)).all())
    # Only marks of learners who hold a seat count (a mark stays if a seat was given up).
    marks = dict(db.session.execute(
        select(Attendance.session_id, func.count())
        .join(SessionRegistration, (SessionRegistration.session_id == Attendance.session_id)
              & (SessionRegistration.enrollment_id == Attendance.enrollment_id))
        .where(Attendance.session_id.in_(ids), SessionRegistration.status == REGISTERED)
        .group_by(Attendance.session_id)).all())
    out = []
    for s in sessions:
        expected = seats.get(s.id, 0) * _halves_begun(s, now)
        if expected > marks.get(s.id, 0):
            out.append(AttendanceToTake(s, seats.get(s.id, 0), expected - marks.get(s.id, 0)))
    return out
