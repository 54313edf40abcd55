"""Reads for coaching: plain select() functions.

``next_followup`` and ``due_followups`` are read by the dashboards; keep their names and shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import ngettext
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import Membership
from lms.coaching.models import OPEN, SCHEDULED, ActionItem, FollowUp
from lms.core.models import utcnow
from lms.courses.cohorts.models import WITHDRAWN, Enrollment
from lms.courses.programs.models import Module
from lms.extensions import db

# Follow-ups last at most this long (the service refuses longer ones).
LONGEST = timedelta(minutes=480)


@dataclass(frozen=True)
class DueFollowUp:
    """A follow-up to hold: overdue (its time is past and nothing was recorded) or coming."""

    followup: FollowUp
    overdue: bool

    @property
    def scheduled_at(self) -> datetime:
        """When the follow-up is planned."""
        return self.followup.scheduled_at

    @property
    def learner(self) -> Membership:
        """The learner the follow-up is with."""
        return self.followup.enrollment.membership

    @property
    def module(self) -> Module:
        """The coaching module the follow-up belongs to."""
        return self.followup.module

    @property
    def coach(self) -> Membership | None:
        """The coach holding the follow-up, if one is assigned."""
        return self.followup.coach


def _loaded(stmt: Select[Any]) -> Select[Any]:
    return stmt.options(
        selectinload(FollowUp.enrollment).selectinload(Enrollment.membership)
        .selectinload(Membership.user),
        selectinload(FollowUp.enrollment).selectinload(Enrollment.cohort),
        selectinload(FollowUp.module),
        selectinload(FollowUp.coach).selectinload(Membership.user))


def _coach_id(coach: Membership | int | None) -> int | None:
    return coach.id if isinstance(coach, Membership) else coach


def next_followup(membership: Membership, *, now: datetime | None = None) -> FollowUp | None:
    """The learner's next scheduled follow-up that has not ended yet, or None."""
    now = now or utcnow()
    stmt = _loaded(select(FollowUp).join(Enrollment, FollowUp.enrollment_id == Enrollment.id)
                   .where(Enrollment.membership_id == membership.id,
                          Enrollment.status != WITHDRAWN, FollowUp.status == SCHEDULED,
                          FollowUp.scheduled_at > now - LONGEST)
                   .order_by(FollowUp.scheduled_at, FollowUp.id).limit(20))
    return next((f for f in db.session.scalars(stmt) if f.ends_at > now), None)


def due_followups(organization_id: int, coach: Membership | int | None = None, *,
                  days: int = 7, now: datetime | None = None,
                  limit: int | None = None) -> list[DueFollowUp]:
    """Follow-ups to hold: overdue ones (scheduled in the past, not recorded as held, missed
    or cancelled), then those due in the next ``days`` days, in date order.

    :param coach: only this coach's follow-ups (a membership or its id); everyone's when None.
    :param limit: at most this many (the oldest first); all when None.
    """
    now = now or utcnow()
    stmt = (select(FollowUp).join(Enrollment, FollowUp.enrollment_id == Enrollment.id)
            .where(FollowUp.organization_id == organization_id, FollowUp.status == SCHEDULED,
                   FollowUp.scheduled_at < now + timedelta(days=days),
                   Enrollment.status != WITHDRAWN)
            .order_by(FollowUp.scheduled_at, FollowUp.id))
    coach_id = _coach_id(coach)
    if coach_id is not None:
        stmt = stmt.where(FollowUp.coach_id == coach_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [DueFollowUp(f, f.scheduled_at < now) for f in db.session.scalars(_loaded(stmt))]


def due_counts(organization_id: int, coach: Membership | int | None = None, *, days: int = 7,
               now: datetime | None = None) -> tuple[int, int]:
    """(overdue, due in the next ``days`` days): the numbers of :func:`due_followups`,
    counted by the database.
    """
    now = now or utcnow()
    stmt = (select(func.count(case((FollowUp.scheduled_at < now, 1))), func.count())
            .select_from(FollowUp).join(Enrollment, FollowUp.enrollment_id == Enrollment.id)
            .where(FollowUp.organization_id == organization_id, FollowUp.status == SCHEDULED,
                   FollowUp.scheduled_at < now + timedelta(days=days),
                   Enrollment.status != WITHDRAWN))
    coach_id = _coach_id(coach)
    if coach_id is not None:
        stmt = stmt.where(FollowUp.coach_id == coach_id)
    overdue, total = db.session.execute(stmt).one()
    return int(overdue), int(total) - int(overdue)


def is_overdue(followup: FollowUp, now: datetime | None = None) -> bool:
    """Whether a follow-up's time is past and it was not recorded."""
    return followup.status == SCHEDULED and followup.scheduled_at < (now or utcnow())


def listing(organization_id: int, *, now: datetime | None = None, coach_id: int | None = None,
            cohort_id: int | None = None, show: str = "open") -> Select[Any]:
    """The coach's list: overdue first (oldest first), then coming ones by date, then the
    recorded ones (newest first). ``show``: "open" (scheduled only), "recorded" or "all".
    """
    now = now or utcnow()
    bucket = case((FollowUp.status != SCHEDULED, 2), (FollowUp.scheduled_at < now, 0), else_=1)
    stmt = (select(FollowUp).join(Enrollment, FollowUp.enrollment_id == Enrollment.id)
            .where(FollowUp.organization_id == organization_id))
    if show == "open":
        stmt = stmt.where(FollowUp.status == SCHEDULED, Enrollment.status != WITHDRAWN)
    elif show == "recorded":
        stmt = stmt.where(FollowUp.status != SCHEDULED)
    if coach_id is not None:
        stmt = stmt.where(FollowUp.coach_id == coach_id)
    if cohort_id is not None:
        stmt = stmt.where(Enrollment.cohort_id == cohort_id)
    if show == "open":
        # Only scheduled ones: by date is overdue first, and the index serves it.
        return _loaded(stmt.order_by(FollowUp.scheduled_at, FollowUp.id))
    return _loaded(stmt.order_by(
        bucket, case((FollowUp.status == SCHEDULED, FollowUp.scheduled_at)),
        case((FollowUp.status != SCHEDULED, FollowUp.scheduled_at)).desc(), FollowUp.id))


def of_enrollment(enrollment_id: str) -> list[FollowUp]:
    """A learner's follow-ups in one cohort, in date order, with their action items."""
    return list(db.session.scalars(_loaded(select(FollowUp).where(
        FollowUp.enrollment_id == enrollment_id)).options(selectinload(FollowUp.action_items))
        .order_by(FollowUp.scheduled_at, FollowUp.id)))


def of_membership(membership_id: int) -> list[FollowUp]:
    """A learner's follow-ups in every cohort: scheduled ones by date, then the others newest
    first, with their action items.
    """
    stmt = (select(FollowUp).join(Enrollment, FollowUp.enrollment_id == Enrollment.id)
            .where(Enrollment.membership_id == membership_id)
            .options(selectinload(FollowUp.action_items))
            .order_by(case((FollowUp.status == SCHEDULED, 0), else_=1),
                      case((FollowUp.status == SCHEDULED, FollowUp.scheduled_at)),
                      case((FollowUp.status != SCHEDULED, FollowUp.scheduled_at)).desc(),
                      FollowUp.id))
    return list(db.session.scalars(_loaded(stmt)))


def open_actions(membership_id: int) -> list[ActionItem]:
    """A learner's open action items, soonest due first (no due date last)."""
    return list(db.session.scalars(
        select(ActionItem).join(FollowUp).join(Enrollment, FollowUp.enrollment_id == Enrollment.id)
        .where(Enrollment.membership_id == membership_id, ActionItem.status == OPEN)
        .order_by(case((ActionItem.due_on.is_(None), 1), else_=0), ActionItem.due_on,
                  ActionItem.id)))


def action_overdue(item: ActionItem, today: date | None = None) -> bool:
    """Whether an open action item is past its due date."""
    return item.status == OPEN and item.due_on is not None and \
        item.due_on < (today or utcnow().date())


def coaching_modules(program_id: int) -> list[Module]:
    """A program's coaching modules in order."""
    return list(db.session.scalars(select(Module).where(
        Module.program_id == program_id, Module.kind == "coaching").order_by(Module.position)))


def module_deletion_loss(module: Module) -> str | None:
    """Receiver of :data:`lms.courses.signals.module_deletion`, for the module deletion page:
    the follow-ups (with notes and action items) it erases.
    """
    count = int(db.session.scalar(
        select(func.count()).select_from(FollowUp).where(FollowUp.module_id == module.id)) or 0)
    if not count:
        return None
    return ngettext("%(num)d coaching follow-up, with its notes and action items",
                    "%(num)d coaching follow-ups, with their notes and action items", count)
