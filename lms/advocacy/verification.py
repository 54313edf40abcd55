"""Automatic verification of on-the-job exercises from advocacy activity.

An exercise module may carry a rule, ``module.exercise["verification"]``:
``{network, kinds: [post|share|comment|reaction], count, own_comment, within_days?}`` — for
example "two posts on LinkedIn with a comment of your own within 14 days". The exercise opens
when the learner is enrolled or when the cohort starts, whichever is later; the learner's
events on that network, of those kinds (with ``with_own_comment`` set when the rule asks for a
comment of their own) from then and, with ``within_days``, before the period ends, are
counted; when there are ``count`` of them the exercise is verified through
:func:`lms.courses.exercises.services.verify_exercise` (idempotent) with those events as evidence.

Only learners whose consent is active are looked at. :func:`verify_for_users` runs after
every ingestion (manual entry, CSV import, webhook, API) for the learners it touched;
:func:`verify_all` runs periodically as a safety net (a rule added after the activity, an
enrolment made later).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from lms.accounts.models import Membership
from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.courses.cohorts.models import COMPLETED, WITHDRAWN, Cohort, Enrollment, ModuleProgress
from lms.courses.programs.models import Module
from lms.extensions import db

log = logging.getLogger("relais.advocacy")

PERIODIC_NAME = "advocacy.verify_exercises"
PERIODIC_SECONDS = 3600


def rule_of(module: Module) -> dict[str, Any] | None:
    """The module's verification rule, if it is an exercise that has one."""
    if module.kind != "exercise":
        return None
    rule = (getattr(module, "exercise", None) or {}).get("verification")
    if not isinstance(rule, dict) or not rule.get("network") or not rule.get("kinds"):
        return None
    return rule


def opened_at(enrollment: Enrollment) -> datetime:
    """When the learner's exercises open: enrolment or cohort start, whichever is later."""
    start = enrollment.enrolled_at
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    starts_on = enrollment.cohort.starts_on
    if starts_on is not None:
        cohort_start = datetime.combine(starts_on, time(), tzinfo=UTC)
        start = max(start, cohort_start)
    return start


@dataclass(frozen=True)
class Window:
    """When an exercise's activity counts: from ``start``, until ``end`` (None: no end);
    ``closed`` once ``end`` has passed.
    """

    start: datetime
    end: datetime | None
    closed: bool


def window_of(enrollment: Enrollment, module: Module, now: datetime | None = None
              ) -> Window | None:
    """The verification window of ``module`` for ``enrollment`` (None without a rule): a
    learner whose window has closed is told so, and hands in evidence for a trainer instead.
    """
    rule = rule_of(module)
    if rule is None:
        return None
    start = opened_at(enrollment)
    end = start + timedelta(days=int(rule["within_days"])) if rule.get("within_days") else None
    now = now or utcnow()
    return Window(start, end, end is not None and now >= end)


def evidence_of(events: list[AdvocacyEvent], rule: dict[str, Any]) -> dict[str, Any]:
    """What is kept with the verification: the rule and the events that met it."""
    urls = [ev.url for ev in events if ev.url]
    return {"source": "advocacy", "rule": dict(rule),
            "events": [{"id": ev.id, "network": ev.network, "kind": ev.kind, "url": ev.url,
                        "occurred_at": ev.occurred_at.isoformat(),
                        "with_own_comment": ev.with_own_comment} for ev in events],
            **({"url": urls[0]} if urls else {})}


def _candidates(organization_id: int, user_ids: Iterable[int] | None
                ) -> list[tuple[Enrollment, Module, int]]:
    """(enrolment with its cohort, exercise module, user id) of consenting learners whose
    exercise module is not completed yet, in one query; rules are checked by the caller.
    """
    done = select(ModuleProgress.id).where(
        ModuleProgress.enrollment_id == Enrollment.id, ModuleProgress.module_id == Module.id,
        ModuleProgress.state == COMPLETED).exists()
    consenting = select(AdvocacyConsent.user_id).where(
        AdvocacyConsent.organization_id == organization_id,
        AdvocacyConsent.revoked_at.is_(None))
    stmt = (select(Enrollment, Module, Membership.user_id)
            .join(Cohort, Cohort.id == Enrollment.cohort_id)
            .join(Module, Module.program_id == Cohort.program_id)
            .join(Membership, Membership.id == Enrollment.membership_id)
            .options(contains_eager(Enrollment.cohort))
            .where(Enrollment.organization_id == organization_id,
                   Enrollment.status.not_in((WITHDRAWN, COMPLETED)),
                   Module.kind == "exercise", Module.exercise.is_not(None), ~done,
                   Membership.user_id.in_(consenting)))
    if user_ids is not None:
        ids = list(set(user_ids))
        if not ids:
            return []
        stmt = stmt.where(Membership.user_id.in_(ids))
    return [(en, mod, uid) for en, mod, uid in db.session.execute(stmt)]


def _met(organization_id: int, rule: dict[str, Any],
         group: list[tuple[Enrollment, int]]) -> list[tuple[Enrollment, list[int]]]:
    """The enrolments of ``group`` whose learner's events meet ``rule``, with the ids of the
    first ``count`` matching events — one query for the whole group.
    """
    count = max(1, int(rule.get("count") or 1))
    within = timedelta(days=int(rule["within_days"])) if rule.get("within_days") else None
    windows = {en.id: (opened_at(en), opened_at(en) + within if within else None)
               for en, _uid in group}
    e = AdvocacyEvent
    stmt = select(e.id, e.user_id, e.occurred_at).where(
        e.organization_id == organization_id, e.user_id.in_({uid for _en, uid in group}),
        e.network == rule["network"], e.kind.in_(list(rule["kinds"])),
        e.occurred_at >= min(start for start, _end in windows.values()))
    ends = [end for _start, end in windows.values()]
    if within and all(ends):
        stmt = stmt.where(e.occurred_at < max(end for end in ends if end))
    if rule.get("own_comment"):
        stmt = stmt.where(e.with_own_comment.is_(True))
    per_user: dict[int, list[tuple[datetime, int]]] = {}
    for event_id, uid, at in db.session.execute(stmt):
        per_user.setdefault(uid, []).append((at, event_id))
    met = []
    for enrollment, uid in group:
        start, end = windows[enrollment.id]
        ids = [i for at, i in sorted(per_user.get(uid, []))
               if at >= start and (end is None or at < end)][:count]
        if len(ids) >= count:
            met.append((enrollment, ids))
    return met


def verify_for_users(organization_id: int, user_ids: Iterable[int] | None) -> int:
    """Verify the exercises these learners' activity now meets (all learners with None);
    returns how many were verified. Flushes; the caller commits.

    One query finds the open exercises, one per exercise module counts the matching events
    of all its candidates; only the exercises met are then loaded and verified.
    """
    try:
        from lms.courses.exercises.services import verify_exercise
    except ImportError:  # the exercises service is not installed: nothing to verify
        return 0
    groups: dict[int, tuple[Module, list[tuple[Enrollment, int]]]] = {}
    for enrollment, module, user_id in _candidates(organization_id, user_ids):
        groups.setdefault(module.id, (module, []))[1].append((enrollment, user_id))
    verified = 0
    for module, group in groups.values():
        rule = rule_of(module)
        if rule is None:
            continue
        for enrollment, ids in _met(organization_id, rule, group):
            events = list(db.session.scalars(select(AdvocacyEvent).where(
                AdvocacyEvent.id.in_(ids)).order_by(AdvocacyEvent.occurred_at,
                                                    AdvocacyEvent.id)))
            before = _done(enrollment, module)
            try:
                # A verification that fails must not undo the ingestion that triggered it.
                with db.session.begin_nested():
                    verify_exercise(enrollment, module, evidence=evidence_of(events, rule))
            except DomainError as exc:
                log.warning("verification enrollment=%s module=%s failed: %s", enrollment.id,
                            module.id, exc.message)
                continue
            verified += not before
    return verified


def _done(enrollment: Enrollment, module: Module) -> bool:
    from lms.courses.exercises.queries import latest_submission

    latest = latest_submission(enrollment.id, module.id)
    return latest is not None and latest.status in ("approved", "verified")


def after_ingest(organization_id: int, user_ids: set[int]) -> None:
    """Receiver of :data:`lms.advocacy.signals.events_ingested`: verify the exercises of the
    learners an ingestion touched.
    """
    if user_ids:
        verify_for_users(organization_id, user_ids)


def verify_all() -> int:
    """Periodic safety net: every organization with exercise rules, every consenting
    learner.
    """
    org_ids = db.session.scalars(select(Cohort.organization_id).distinct()
                                 .join(Module, Module.program_id == Cohort.program_id)
                                 .where(Module.kind == "exercise",
                                        Module.exercise.is_not(None)))
    return sum(verify_for_users(org_id, None) for org_id in list(org_ids))
