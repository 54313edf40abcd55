"""Writes for coaching follow-ups. Keyword-only, flush never commit; each follow-up held and
each action item done is recorded through ``lms.xapi.record.record``, and the coaching module
is completed by a statement once its required follow-ups are held.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from lms.accounts.authz import STAFF_ROLES
from lms.accounts.models import Membership, User
from lms.coaching import statements as cs
from lms.coaching.models import (
    ACTION_STATUSES,
    CANCELLED,
    DONE,
    HELD,
    MISSED,
    OPEN,
    SCHEDULED,
    ActionItem,
    FollowUp,
)
from lms.core.errors import Conflict, NotFound, ValidationFailed, joined
from lms.core.formatting import lazy_number
from lms.core.models import utcnow
from lms.courses import statements as xs
from lms.courses.cohorts.models import COMPLETED, WITHDRAWN, Cohort, Enrollment, ModuleProgress
from lms.courses.programs import definitions as defs
from lms.courses.programs.models import Module
from lms.courses.sessions.services import local_zone
from lms.courses.statements import void_statement
from lms.extensions import db
from lms.xapi.models import Statement
from lms.xapi.record import record

# Proposed follow-ups start at this local hour, on a working day.
PROPOSED_HOUR = 10
DEFAULT_SPACING_DAYS = 14
MAX_NOTES = 20_000
MAX_ACTIONS = 20


# --- plans ------------------------------------------------------------------------------------


def plan_of(module: Module) -> dict[str, int]:
    """A coaching module's plan; a module without one gets a plan from its rule and duration.

    :return: ``{"followups", "spacing_days", "duration_minutes"}``.
    """
    if module.coaching:
        return dict(module.coaching)
    return {"followups": required_count(module), "spacing_days": DEFAULT_SPACING_DAYS,
            "duration_minutes": min(max(module.duration_minutes or 30, 5), 480)}


def required_count(module: Module) -> int:
    """How many follow-ups must be held to complete the module."""
    rule = module.completion or {}
    if rule.get("type") == "followups_held":
        return int(rule.get("count") or 1)
    return int((module.coaching or {}).get("followups") or 1)


def set_plan(*, module: Module, followups: int | None, spacing_days: int | None,
             duration_minutes: int | None) -> None:
    """Set a coaching module's plan; a ``followups_held`` rule takes the same number.

    :raise ValidationFailed: not a coaching module, or a number out of its range (by field).
    """
    plan = {"followups": followups, "spacing_days": spacing_days,
            "duration_minutes": duration_minutes}
    rule = dict(module.completion or {})
    if rule.get("type") == "followups_held" and isinstance(followups, int):
        rule["count"] = followups
    problems = defs.plan_problems(plan, module.kind, rule)
    if problems:
        raise ValidationFailed(_l("The coaching plan was not saved."), fields=problems)
    module.coaching = {k: int(v) for k, v in plan.items() if v is not None}
    module.completion = rule
    module.program.updated_at = utcnow()
    db.session.flush()


# --- scheduling -------------------------------------------------------------------------------


def _working_day(day: date) -> date:
    while day.weekday() >= 5:  # Saturday, Sunday → Monday
        day += timedelta(days=1)
    return day


def _at(day: date, hour: int = PROPOSED_HOUR) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=local_zone())


def followups_of(enrollment: Enrollment, module: Module) -> list[FollowUp]:
    """The follow-ups of a learner for one module, in date order."""
    return list(db.session.scalars(select(FollowUp).where(
        FollowUp.enrollment_id == enrollment.id, FollowUp.module_id == module.id)
        .order_by(FollowUp.scheduled_at, FollowUp.id)))


def propose_dates(*, enrollment: Enrollment, module: Module,
                  start: datetime | None = None) -> list[datetime]:
    """Dates for the follow-ups of the plan not yet held or scheduled, spaced by the plan.

    The first comes ``spacing_days`` after the learner's latest follow-up in this program
    (held or scheduled), or ``start``, or the next working day at 10:00; weekends move to the
    Monday. At least one date is proposed (for an extra follow-up once the plan is done).
    """
    plan = plan_of(module)
    spacing = timedelta(days=plan["spacing_days"])
    mine = followups_of(enrollment, module)
    taken = sum(1 for f in mine if f.status in (SCHEDULED, HELD))
    count = max(plan["followups"] - taken, 1)
    if start is None:
        latest = db.session.scalar(select(FollowUp).where(
            FollowUp.enrollment_id == enrollment.id, FollowUp.status.in_((SCHEDULED, HELD)))
            .order_by(FollowUp.scheduled_at.desc(), FollowUp.id.desc()).limit(1))
        if latest is None:
            start = _at(utcnow().astimezone(local_zone()).date() + timedelta(days=1))
        elif latest.status == HELD and latest.next_followup_on is not None:
            # The date the coach and the learner agreed at the last follow-up.
            start = datetime.combine(latest.next_followup_on,
                                     latest.scheduled_at.astimezone(local_zone()).timetz())
        else:
            start = latest.scheduled_at + spacing
    dates, when = [], start
    for _ in range(count):
        local = when.astimezone(local_zone())
        when = datetime.combine(_working_day(local.date()), local.timetz())
        dates.append(when)
        when = when + spacing
    return dates


def _check_place(place: str | None, video_link: str | None,
                 errors: dict[str, str]) -> tuple[str | None, str | None]:
    place = (place or "").strip()[:300] or None
    video_link = (video_link or "").strip() or None
    if not place and not video_link:
        errors["place"] = _l("Give a place, a video link, or both.")
    if video_link and (not video_link.startswith("https://") or len(video_link) > 500
                       or any(c.isspace() for c in video_link)):
        errors["video_link"] = _l("The video link must start with https://.")
    return place, video_link


def _check_when(scheduled_at: datetime | None, duration_minutes: int | None,
                errors: dict[str, str]) -> None:
    if scheduled_at is None or scheduled_at.tzinfo is None:
        errors["scheduled_at"] = _l("Give the day and time of the follow-up.")
    if duration_minutes is None or not 5 <= duration_minutes <= 480:
        errors["duration_minutes"] = _l("The duration is from 5 to 480 minutes.")


def _check_coach(coach: Membership | None, organization_id: int, errors: dict[str, str]) -> None:
    if coach is not None and (coach.organization_id != organization_id
                              or coach.role not in STAFF_ROLES):
        errors["coach"] = _l("The coach must be a trainer or an admin of this organization.")


def schedule(*, enrollment: Enrollment, module: Module, coach: Membership | None,
             scheduled_at: datetime | None, duration_minutes: int | None = None,
             place: str | None = None, video_link: str | None = None) -> FollowUp:
    """Schedule a follow-up of a learner with a coach for a coaching module.

    :param duration_minutes: the plan's duration when None.
    :raise ValidationFailed: withdrawn learner, a module outside their program or not coaching,
        a coach who is not staff there, no date, a duration out of 5–480, neither place nor
        link, a link that is not https.
    """
    errors: dict[str, str] = {}
    if enrollment.status == WITHDRAWN:
        errors["enrollment"] = _l("This learner was withdrawn from the cohort.")
    if module.program_id != enrollment.cohort.program_id or module.kind != "coaching":
        errors["module"] = _l("Choose a coaching module of the learner's program.")
    if duration_minutes is None:
        duration_minutes = plan_of(module)["duration_minutes"]
    _check_coach(coach, enrollment.organization_id, errors)
    _check_when(scheduled_at, duration_minutes, errors)
    place, video_link = _check_place(place, video_link, errors)
    if errors:
        raise ValidationFailed(_l("The follow-up was not scheduled."), fields=errors)
    assert scheduled_at is not None and duration_minutes is not None
    followup = FollowUp(organization_id=enrollment.organization_id, enrollment=enrollment,
                        module=module, coach=coach, scheduled_at=scheduled_at,
                        duration_minutes=duration_minutes, place=place, video_link=video_link,
                        status=SCHEDULED)
    db.session.add(followup)
    db.session.flush()
    return followup


def schedule_plan(*, enrollment: Enrollment, module: Module, coach: Membership | None,
                  start: datetime | None = None, place: str | None = None,
                  video_link: str | None = None) -> list[FollowUp]:
    """Schedule every follow-up of the plan not yet held or scheduled, spaced by the plan.

    :raise Conflict: the plan's follow-ups are all held or scheduled already.
    :raise ValidationFailed: as :func:`schedule`.
    """
    plan = plan_of(module)
    taken = sum(1 for f in followups_of(enrollment, module) if f.status in (SCHEDULED, HELD))
    if taken >= plan["followups"]:
        raise Conflict(_l("Every follow-up of the plan is already held or scheduled."))
    return [schedule(enrollment=enrollment, module=module, coach=coach, scheduled_at=when,
                     place=place, video_link=video_link)
            for when in propose_dates(enrollment=enrollment, module=module, start=start)]


# A round of follow-ups ends its day at this local hour; later slots go to the next working day.
DAY_ENDS = 18


def schedule_round(*, cohort: Cohort, module: Module, coach: Membership | None,
                   start: datetime | None, place: str | None = None,
                   video_link: str | None = None, gap_minutes: int = 0,
                   together: bool = False) -> list[FollowUp]:
    """Schedule one follow-up for each active learner of a cohort who has none scheduled for
    the module and has not held all of its plan: one after the other from ``start`` (by
    learner name), the plan's length each, ``gap_minutes`` apart; a slot that would end after
    18:00 moves to the next working day at the starting time.

    :param together: a small-group meeting instead: everyone at ``start`` (each learner keeps
        their own follow-up, notes and action items).

    :raise Conflict: every learner already has a follow-up scheduled or the plan held.
    :raise ValidationFailed: no start, a gap out of 0–240 minutes, or as :func:`schedule`.
    """
    errors = {}
    if start is None or start.tzinfo is None:
        errors["start"] = _l("Give the day and time of the first follow-up.")
    if not 0 <= gap_minutes <= 240:
        errors["gap_minutes"] = _l("The gap is from 0 to 240 minutes.")
    if errors:
        raise ValidationFailed(_l("The follow-ups were not scheduled."), fields=errors)
    assert start is not None
    plan = plan_of(module)
    taken: dict[str, list[str]] = {}
    for enrollment_id, status in db.session.execute(select(
            FollowUp.enrollment_id, FollowUp.status).where(FollowUp.module_id == module.id)):
        taken.setdefault(enrollment_id, []).append(status)
    learners = sorted((e for e in cohort.enrollments if e.status not in (WITHDRAWN, COMPLETED)
                       and SCHEDULED not in taken.get(e.id, [])
                       and taken.get(e.id, []).count(HELD) < plan["followups"]),
                      key=lambda e: e.membership.user.name_key)
    if not learners:
        raise Conflict(_l("Every active learner already has a follow-up scheduled or held."))
    zone = local_zone()
    first = start.astimezone(zone)
    length = timedelta(minutes=plan["duration_minutes"])
    when, made = first, []
    for enrollment in learners:
        end = (when + length).astimezone(zone)
        late = end.date() != when.astimezone(zone).date() or end.time() > time(DAY_ENDS)
        if late and not together:
            next_day = _working_day(when.astimezone(zone).date() + timedelta(days=1))
            when = datetime.combine(next_day, first.timetz())
        made.append(schedule(enrollment=enrollment, module=module, coach=coach,
                             scheduled_at=first if together else when, place=place,
                             video_link=video_link))
        when = when + length + timedelta(minutes=gap_minutes)
    return made


# Why a follow-up cannot change, by its status (whole sentences, so each language words them).
_STATE = {SCHEDULED: _l("This follow-up is scheduled."),
          HELD: _l("This follow-up was already held."),
          CANCELLED: _l("This follow-up was cancelled."),
          MISSED: _l("This follow-up was missed.")}


def _state(followup: FollowUp) -> Any:
    return _STATE.get(followup.status, followup.status)


def _scheduled(followup: FollowUp) -> None:
    if followup.status != SCHEDULED:
        raise Conflict(joined([_state(followup), _l("It cannot be rescheduled.")], " "))


def reschedule(*, followup: FollowUp, scheduled_at: datetime | None,
               duration_minutes: int | None = None, place: str | None = None,
               video_link: str | None = None, coach: Membership | None = None) -> None:
    """Move a scheduled follow-up (and change its length, place, link or coach).

    :param coach: the new coach; unchanged when None.
    :raise Conflict: the follow-up is no longer scheduled.
    :raise ValidationFailed: as :func:`schedule`.
    """
    _scheduled(followup)
    errors: dict[str, str] = {}
    duration = duration_minutes if duration_minutes is not None else followup.duration_minutes
    _check_when(scheduled_at, duration, errors)
    _check_coach(coach, followup.organization_id, errors)
    place, video_link = _check_place(place, video_link, errors)
    if errors:
        raise ValidationFailed(_l("The follow-up was not moved."), fields=errors)
    assert scheduled_at is not None
    followup.scheduled_at, followup.duration_minutes = scheduled_at, duration
    followup.place, followup.video_link = place, video_link
    if coach is not None:
        followup.coach = coach
    db.session.flush()


def _transition(followup: FollowUp, status: str, **values: Any) -> None:
    """Move a scheduled follow-up to ``status`` atomically: two coaches recording the same
    follow-up at once cannot both succeed (the second gets a Conflict).
    """
    done = db.session.execute(
        update(FollowUp).where(FollowUp.id == followup.id, FollowUp.status == SCHEDULED)
        .values(status=status, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        db.session.refresh(followup)
        raise Conflict(_state(followup))
    db.session.refresh(followup)


def cancel(*, followup: FollowUp) -> None:
    """Cancel a scheduled follow-up (it no longer counts, nothing is recorded).

    :raise Conflict: it is not scheduled any more.
    """
    _transition(followup, CANCELLED)


def mark_missed(*, followup: FollowUp) -> None:
    """Record that the learner did not come to a scheduled follow-up.

    :raise Conflict: it is not scheduled any more.
    """
    _transition(followup, MISSED)


def _clean_actions(actions: Iterable[tuple[str, date | None]],
                   errors: dict[str, str]) -> list[tuple[str, date | None]]:
    out = []
    for text, due in actions:
        text = " ".join((text or "").split())
        if not text:
            continue
        if len(text) > 500:
            errors["actions"] = _l("An action item is at most 500 characters.")
        out.append((text[:500], due))
    if len(out) > MAX_ACTIONS:
        errors["actions"] = _l("At most %(count)d action items per follow-up.", count=MAX_ACTIONS)
    return out


def record_held(*, followup: FollowUp, notes: str | None,
                actions: Iterable[tuple[str, date | None]] = (),
                next_followup_on: date | None = None, held_at: datetime | None = None) -> FollowUp:
    """Record a scheduled follow-up as held, with shared notes, agreed action items and the
    date of the next follow-up. Records "attended"; when the module is completed by
    ``followups_held`` and the follow-ups held reach its count, records "completed" on the
    module, which completes it.

    :param actions: (text, due date or None) pairs; blank texts are skipped.
    :param held_at: when it took place (its scheduled time when None).
    :raise Conflict: the follow-up is not scheduled (already held, cancelled or missed).
    :raise ValidationFailed: withdrawn learner, notes too long, too many or too long action
        items, a held time in the future, a next date before the follow-up.
    """
    errors: dict[str, str] = {}
    notes = (notes or "").replace("\r\n", "\n").strip() or None
    if notes and len(notes) > MAX_NOTES:
        errors["notes"] = _l("The notes are at most %(count)s characters.",
                             count=lazy_number(MAX_NOTES))
    items = _clean_actions(actions, errors)
    held_at = held_at or followup.scheduled_at
    if held_at > utcnow() + timedelta(minutes=5):
        errors["held_at"] = _l("A follow-up cannot be recorded as held before it takes place.")
    if next_followup_on is not None and next_followup_on < held_at.date():
        errors["next_followup_on"] = _l("The next follow-up comes after this one.")
    if followup.enrollment.status == WITHDRAWN:
        errors["enrollment"] = _l("This learner was withdrawn from the cohort.")
    if errors:
        raise ValidationFailed(_l("The follow-up was not recorded."), fields=errors)
    _lock_enrollment(followup.enrollment)
    _transition(followup, HELD, held_at=held_at, notes=notes,
                next_followup_on=next_followup_on)
    for text, due in items:
        followup.action_items.append(ActionItem(text=text, due_on=due, status=OPEN))
    db.session.flush()
    (followup.statement_id,) = record([cs.followup_held(followup)],
                                      organization_id=followup.organization_id)
    db.session.flush()
    _complete_module_when_due(followup.enrollment, followup.module)
    return followup


def _lock_enrollment(enrollment: Enrollment) -> None:
    """Serialize the holding of one learner's follow-ups, so the count that completes the
    module is read after any other follow-up being recorded at the same time (a no-op UPDATE
    locks the row on PostgreSQL and takes SQLite's write lock).
    """
    db.session.execute(update(Enrollment).where(Enrollment.id == enrollment.id)
                       .values(status=Enrollment.status)
                       .execution_options(synchronize_session=False))


def held_count(enrollment: Enrollment, module: Module) -> int:
    """How many follow-ups of this learner were held for this module."""
    return db.session.scalar(select(func.count()).select_from(FollowUp).where(
        FollowUp.enrollment_id == enrollment.id, FollowUp.module_id == module.id,
        FollowUp.status == HELD)) or 0


def _complete_module_when_due(enrollment: Enrollment, module: Module) -> None:
    # Only a followups_held rule is met by follow-ups (another rule says its own way).
    if (module.completion or {}).get("type") != "followups_held":
        return
    held = held_count(enrollment, module)
    if held < required_count(module):
        return
    state = db.session.scalar(select(ModuleProgress.state).where(
        ModuleProgress.enrollment_id == enrollment.id, ModuleProgress.module_id == module.id))
    if state != COMPLETED:
        record([cs.module_completed(enrollment, module, held)],
               organization_id=enrollment.organization_id)


def reopen(*, followup: FollowUp, by: User) -> None:
    """Correct a follow-up recorded as held by mistake: it is scheduled again, its "attended"
    statement is voided, and so is the module's "completed" when the follow-ups still held no
    longer reach the count (the projection then takes the module — and the program — back).
    Notes and action items stay, to be recorded again.

    :param by: who corrects it (the voiding statements' actor).
    :raise Conflict: the follow-up is not held.
    """
    _lock_enrollment(followup.enrollment)
    db.session.refresh(followup)
    statement_id = followup.statement_id
    done = db.session.execute(
        update(FollowUp).where(FollowUp.id == followup.id, FollowUp.status == HELD)
        .values(status=SCHEDULED, held_at=None, statement_id=None, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    db.session.refresh(followup)
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(joined([_state(followup), _l("Only a held follow-up can be undone.")], " "))
    org = followup.organization_id
    if statement_id:
        void_statement(organization_id=org, statement_id=statement_id, by=by)
    enrollment, module = followup.enrollment, followup.module
    if held_count(enrollment, module) < required_count(module):
        for sid in _module_completions(enrollment, module):
            void_statement(organization_id=org, statement_id=sid, by=by)
    db.session.flush()


def _module_completions(enrollment: Enrollment, module: Module) -> list[str]:
    """The "completed" statements coaching recorded on a module for an enrolment."""
    marker = cs.followups_extension()
    rows = db.session.execute(select(Statement.statement_id, Statement.data).where(
        Statement.organization_id == enrollment.organization_id,
        Statement.registration == enrollment.id,
        Statement.object_activity_id == xs.iri("module", module.id),
        Statement.verb_id == xs.COMPLETED["id"], Statement.voided.is_(False)))
    return [sid for sid, data in rows
            if marker in ((json.loads(data).get("context") or {}).get("extensions") or {})]


def update_notes(*, followup: FollowUp, notes: str | None,
                 next_followup_on: date | None) -> None:
    """Amend the notes and next date of a held follow-up (the coach's edit after the meeting).

    :raise Conflict: the follow-up was not held.
    :raise ValidationFailed: notes too long, a next date before the follow-up.
    """
    if followup.status != HELD:
        raise Conflict(_l("Only a held follow-up has notes."))
    notes = (notes or "").replace("\r\n", "\n").strip() or None
    errors = {}
    if notes and len(notes) > MAX_NOTES:
        errors["notes"] = _l("The notes are at most %(count)s characters.",
                             count=lazy_number(MAX_NOTES))
    held = followup.held_at or followup.scheduled_at
    if next_followup_on is not None and next_followup_on < held.date():
        errors["next_followup_on"] = _l("The next follow-up comes after this one.")
    if errors:
        raise ValidationFailed(_l("The notes were not saved."), fields=errors)
    followup.notes, followup.next_followup_on = notes, next_followup_on
    db.session.flush()


# --- action items -----------------------------------------------------------------------------


def add_action(*, followup: FollowUp, text: str, due_on: date | None = None) -> ActionItem:
    """Add an action item to a held follow-up.

    :raise Conflict: the follow-up was not held.
    :raise ValidationFailed: empty or too long text, too many items.
    """
    if followup.status != HELD:
        raise Conflict(_l("Action items are agreed at a held follow-up."))
    errors: dict[str, str] = {}
    items = _clean_actions([(text, due_on)], errors)
    if not items:
        errors["text"] = _l("Describe the action.")
    elif len(followup.action_items) >= MAX_ACTIONS:
        errors["actions"] = _l("At most %(count)d action items per follow-up.", count=MAX_ACTIONS)
    if errors:
        raise ValidationFailed(_l("The action item was not added."), fields=errors)
    item = ActionItem(text=items[0][0], due_on=items[0][1], status=OPEN)
    followup.action_items.append(item)
    db.session.flush()
    return item


def set_action_status(*, item: ActionItem, status: str, by: User) -> ActionItem:
    """Tick an action item done (records "completed"), drop it, or open it again (a done item
    reopened has its statement voided, so the record says the same as the list).

    :param by: who ticks it: the learner or a coach.
    :raise ValidationFailed: an unknown status.
    """
    if status not in ACTION_STATUSES:
        raise ValidationFailed(_l("Choose open, done or dropped."),
                               fields={"status": _l("open, done or dropped")})
    if item.status == status:
        return item
    followup = item.followup
    was_done = item.status == DONE
    item.status = status
    item.completed_at = utcnow() if status == DONE else None
    item.completed_by_id = by.id if status == DONE else None
    db.session.flush()
    if status == DONE and item.statement_id is None:
        (item.statement_id,) = record([cs.action_completed(item)],
                                      organization_id=followup.organization_id)
    elif was_done and item.statement_id is not None:
        void_statement(organization_id=followup.organization_id, statement_id=item.statement_id,
                       by=by)
        item.statement_id = None
    db.session.flush()
    return item


def get_action(organization_id: int, item_id: int) -> ActionItem:
    """An action item of the organization.

    :raise NotFound: no such item there.
    """
    item = db.session.get(ActionItem, item_id)
    if item is None or item.followup.organization_id != organization_id:
        raise NotFound(_l("No such action item."))
    return item
