"""A learner's timeline: their progress (enrolments, skill maps, quizzes, attendance, module and
programme completions) and their advocacy activity, newest first, one page at a time.

The entries are read from the tables the xAPI projections keep (progress, quiz attempts,
attendance) and from the advocacy events, merged by one ``UNION ALL`` ordered and paged in the
database; only the page's entries are then loaded in full. Advocacy activity is shown only
while the learner's consent is active (``with_activity``): their trainers and HR never see
the activity of someone who did not opt in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, literal, select, union_all
from sqlalchemy.orm import selectinload

from lms.accounts.models import Membership
from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent
from lms.assessments.models import SUBMITTED, Attempt
from lms.courses.cohorts.models import COMPLETED, Enrollment, ModuleProgress
from lms.courses.elearning.models import QuizAttempt
from lms.courses.sessions.models import Attendance, TrainingSession
from lms.extensions import db

PER_PAGE = 25
KINDS = ("enrolled", "skill_map", "quiz", "attendance", "module_completed",
         "program_completed", "activity")


@dataclass
class Entry:
    """One entry of a learner's timeline: when, what kind (quiz, attendance, share…), details."""

    at: datetime
    kind: str
    data: dict[str, Any]


@dataclass
class TimelinePage:
    """One page of a learner's timeline, with the number of entries of each kind."""

    entries: list[Entry]
    page: int
    per_page: int
    total: int
    with_activity: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """The number of pages (at least one, even for an empty timeline)."""
        return max(1, -(-self.total // self.per_page))


def activity_visible(organization_id: int, user_id: int) -> bool:
    """Whether the learner's advocacy activity may be shown (their consent is active)."""
    return db.session.scalar(select(AdvocacyConsent.id).where(
        AdvocacyConsent.organization_id == organization_id, AdvocacyConsent.user_id == user_id,
        AdvocacyConsent.revoked_at.is_(None))) is not None


def _window(stmt: Any, column: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        stmt = stmt.where(column >= since)
    if until is not None:
        stmt = stmt.where(column < until)
    return stmt


def _sources(organization_id: int, membership: Membership, *, with_activity: bool,
             since: datetime | None, until: datetime | None) -> list[Any]:
    enrollments = select(Enrollment.id).where(Enrollment.membership_id == membership.id)

    def part(kind: str, at: Any, ref: Any, *where: Any) -> Any:
        stmt = select(literal(kind, String).label("kind"), at.label("at"),
                      cast(ref, String).label("ref")).where(*where)
        return _window(stmt, at, since, until)

    parts = [
        part("enrolled", Enrollment.enrolled_at, Enrollment.id,
             Enrollment.membership_id == membership.id),
        part("skill_map", Attempt.submitted_at, Attempt.id,
             Attempt.membership_id == membership.id, Attempt.status == SUBMITTED),
        part("quiz", QuizAttempt.submitted_at, QuizAttempt.id,
             QuizAttempt.enrollment_id.in_(enrollments)),
        part("module_completed", ModuleProgress.updated_at, ModuleProgress.id,
             ModuleProgress.enrollment_id.in_(enrollments), ModuleProgress.state == COMPLETED),
        part("program_completed", Enrollment.completed_at, Enrollment.id,
             Enrollment.membership_id == membership.id, Enrollment.completed_at.is_not(None)),
    ]
    # A half-day's attendance is dated by its signature, else by its session's start.
    attendance_at = func.coalesce(Attendance.signed_at, TrainingSession.starts_at)
    parts.append(_window(
        select(literal("attendance", String).label("kind"), attendance_at.label("at"),
               cast(Attendance.id, String).label("ref"))
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .where(Attendance.enrollment_id.in_(enrollments)), attendance_at, since, until))
    if with_activity:
        parts.append(part("activity", AdvocacyEvent.occurred_at, AdvocacyEvent.id,
                          AdvocacyEvent.organization_id == organization_id,
                          AdvocacyEvent.user_id == membership.user_id))
    return parts


def learner_timeline(organization_id: int, membership: Membership, *,
                     since: datetime | None = None, until: datetime | None = None,
                     page: int = 1, per_page: int = PER_PAGE,
                     with_activity: bool | None = None) -> TimelinePage:
    """One page of the learner's timeline, newest first, within ``[since, until)``.

    :param with_activity: show advocacy activity; by default only with active consent.
    """
    if with_activity is None:
        with_activity = activity_visible(organization_id, membership.user_id)
    merged = union_all(*_sources(organization_id, membership, with_activity=with_activity,
                                 since=since, until=until)).subquery()
    counts = {kind: n for kind, n in db.session.execute(
        select(merged.c.kind, func.count()).group_by(merged.c.kind))}
    total = sum(counts.values())
    rows = db.session.execute(select(merged.c.kind, merged.c.at, merged.c.ref).order_by(
        merged.c.at.desc(), merged.c.kind, merged.c.ref.desc())
        .offset((page - 1) * per_page).limit(per_page)).all()
    details = _details(rows)
    entries = [Entry(at=_aware(at), kind=kind, data=details.get((kind, ref), {}))
               for kind, at, ref in rows]
    return TimelinePage(entries=entries, page=page, per_page=per_page, total=total,
                        with_activity=with_activity, counts=counts)


def _aware(value: Any) -> datetime:
    from datetime import UTC

    if isinstance(value, str):  # SQLite hands back a UNION's timestamps as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _details(rows: Sequence[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """What each entry on the page says, loaded kind by kind."""
    refs: dict[str, list[str]] = {}
    for kind, _at, ref in rows:
        refs.setdefault(kind, []).append(ref)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    ints = {k: [int(r) for r in v] for k, v in refs.items() if k not in (
        "enrolled", "program_completed")}
    for kind in ("enrolled", "program_completed"):
        for e in db.session.scalars(select(Enrollment).where(Enrollment.id.in_(
                refs.get(kind, []))).options(selectinload(Enrollment.cohort))):
            out[(kind, e.id)] = {"cohort": e.cohort.name, "program": e.cohort.program.title}
    for a in db.session.scalars(select(Attempt).where(Attempt.id.in_(ints.get("skill_map", [])))
                                .options(selectinload(Attempt.questionnaire))):
        levels = a.levels or {}
        out[("skill_map", str(a.id))] = {"questionnaire": a.questionnaire.title,
                                         "levels": dict(sorted(levels.items()))}
    for q in db.session.scalars(select(QuizAttempt).where(QuizAttempt.id.in_(
            ints.get("quiz", []))).options(selectinload(QuizAttempt.quiz))):
        out[("quiz", str(q.id))] = {"quiz": q.quiz.title, "score": q.score,
                                    "passed": q.passed}
    completed = list(db.session.scalars(select(ModuleProgress).where(ModuleProgress.id.in_(
        ints.get("module_completed", []))).options(selectinload(ModuleProgress.module))))
    verified = _verified_from_activity(completed)
    for p in completed:
        out[("module_completed", str(p.id))] = {
            "module": p.module.title, "module_kind": p.module.kind, "score": p.score,
            "verified_from_activity": (p.enrollment_id, p.module_id) in verified}
    for att, session in db.session.execute(
            select(Attendance, TrainingSession)
            .join(TrainingSession, TrainingSession.id == Attendance.session_id)
            .where(Attendance.id.in_(ints.get("attendance", [])))):
        out[("attendance", str(att.id))] = {"module": session.module.title, "day": att.day,
                                            "half": att.half, "status": att.status,
                                            "place": session.place}
    for ev in db.session.scalars(select(AdvocacyEvent).where(AdvocacyEvent.id.in_(
            ints.get("activity", [])))):
        out[("activity", str(ev.id))] = {"network": ev.network, "kind": ev.kind, "url": ev.url,
                                         "with_own_comment": ev.with_own_comment,
                                         "clicks": ev.clicks, "impressions": ev.impressions,
                                         "reactions": ev.reactions, "signups": ev.signups}
    return out


def _verified_from_activity(progress: list[ModuleProgress]) -> set[tuple[str, int]]:
    """(enrolment, module) of the completed exercises that were verified from activity."""
    exercises = [p for p in progress if p.module.kind == "exercise"]
    if not exercises:
        return set()
    try:
        from lms.courses.exercises.models import VERIFIED, ExerciseSubmission
    except ImportError:  # no exercise hand-ins in this installation
        return set()
    return {(s.enrollment_id, s.module_id) for s in db.session.execute(
        select(ExerciseSubmission.enrollment_id, ExerciseSubmission.module_id).where(
            ExerciseSubmission.enrollment_id.in_({p.enrollment_id for p in exercises}),
            ExerciseSubmission.module_id.in_({p.module_id for p in exercises}),
            ExerciseSubmission.status == VERIFIED))}
