"""Calls for volunteers, reads: the calls a learner may answer, a cohort's call, and the
diversity of its volunteers (teams, job families, starting skill levels) for the trainer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import Membership, Role
from lms.assessments import queries as skills
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.volunteers.models import ACCEPTED, DECLINED, Volunteer, VolunteerCall
from lms.courses.volunteers.services import accepted_count, today
from lms.extensions import db

# The starting level of someone without a skill map.
NOT_ASSESSED = 0


def call_of(cohort: Cohort) -> VolunteerCall | None:
    """The cohort's call for volunteers, if any."""
    return db.session.scalar(select(VolunteerCall).where(VolunteerCall.cohort_id == cohort.id))


@dataclass(frozen=True)
class OpenCall:
    """A call a learner sees on their dashboard, with their own answer if they gave one."""

    call: VolunteerCall
    mine: Volunteer | None
    seats_left: int


def calls_for(membership: Membership) -> list[OpenCall]:
    """The open calls of the member's organization (deadline not passed, seats left) they are
    not in the cohort of, and the calls they answered that are still open or accepted them —
    soonest deadline first. Empty for anyone but a learner.
    """
    if membership.role != Role.LEARNER:
        return []
    in_cohorts = select(Enrollment.cohort_id).where(Enrollment.membership_id == membership.id,
                                                   Enrollment.status != WITHDRAWN)
    calls = db.session.scalars(
        select(VolunteerCall).where(VolunteerCall.organization_id == membership.organization_id,
                                    VolunteerCall.deadline >= today())
        .options(selectinload(VolunteerCall.cohort).selectinload(Cohort.program))
        .order_by(VolunteerCall.deadline, VolunteerCall.id)).all()
    mine = {v.call_id: v for v in db.session.scalars(select(Volunteer).where(
        Volunteer.membership_id == membership.id,
        Volunteer.call_id.in_([c.id for c in calls])))} if calls else {}
    enrolled = set(db.session.scalars(in_cohorts))
    out = []
    for call in calls:
        left = call.seats - accepted_count(call)
        own = mine.get(call.id)
        if own is not None or (left > 0 and call.cohort_id not in enrolled):
            out.append(OpenCall(call=call, mine=own, seats_left=max(left, 0)))
    return out


def starting_level(profile: skills.SkillProfile) -> int:
    """A person's starting level: the rounded mean of the levels their skill map measured
    (NOT_ASSESSED without one).
    """
    measured = [line.level for line in profile.lines if line.assessed]
    if profile.attempt is None or not measured:
        return NOT_ASSESSED
    return max(1, round(sum(measured) / len(measured)))


@dataclass
class Diversity:
    """Counts per team, job family and starting level, of all volunteers and of those
    accepted, so the trainer can balance the group.
    """

    teams: dict[str, tuple[int, int]] = field(default_factory=dict)  # value: (all, accepted)
    job_families: dict[str, tuple[int, int]] = field(default_factory=dict)
    levels: dict[int, tuple[int, int]] = field(default_factory=dict)
    level_of: dict[int, int] = field(default_factory=dict)  # volunteer id → starting level


K = TypeVar("K", str, int)


def _counts(values: list[tuple[K, bool]]) -> dict[K, tuple[int, int]]:
    everyone = Counter(v for v, _a in values)
    accepted = Counter(v for v, a in values if a)
    return {k: (everyone[k], accepted[k]) for k in sorted(everyone, key=str)}


def diversity(call: VolunteerCall) -> Diversity:
    """The diversity of the call's volunteers (declined ones left out)."""
    fw = skills.default_framework(call.organization_id)
    validated = skills.validated_levels([v.membership_id for v in call.volunteers])
    out = Diversity()
    for v in call.volunteers:
        out.level_of[v.id] = starting_level(skills.profile_for(
            v.membership, framework=fw, validated=validated.get(v.membership_id, {})))
    rows = [v for v in call.volunteers if v.status != DECLINED]
    out.teams = _counts([(v.membership.team or "", v.status == ACCEPTED) for v in rows])
    out.job_families = _counts([(v.membership.job_family or "", v.status == ACCEPTED)
                                for v in rows])
    out.levels = _counts([(out.level_of[v.id], v.status == ACCEPTED) for v in rows])
    return out
