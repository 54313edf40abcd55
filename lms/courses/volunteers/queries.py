"""Calls for volunteers, reads: the calls a learner may answer, a cohort's call, and the
diversity of its volunteers (teams, job families, starting skill levels) for the trainer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import Membership, Role
from lms.assessments import queries as skills
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.volunteers.models import ACCEPTED, DECLINED, Volunteer, VolunteerCall
from lms.courses.volunteers.services import today
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
    not in the cohort of, and the calls they answered that are still before their deadline —
    soonest deadline first. Empty for anyone but a learner. A fixed number of queries, however
    many calls are open.
    """
    if membership.role != Role.LEARNER:
        return []
    in_cohorts = select(Enrollment.cohort_id).where(Enrollment.membership_id == membership.id,
                                                   Enrollment.status != WITHDRAWN)
    answered = select(Volunteer.call_id).where(Volunteer.membership_id == membership.id)
    calls = db.session.scalars(
        select(VolunteerCall).where(VolunteerCall.organization_id == membership.organization_id,
                                    VolunteerCall.deadline >= today(),
                                    VolunteerCall.cohort_id.not_in(in_cohorts)
                                    | VolunteerCall.id.in_(answered))
        .options(joinedload(VolunteerCall.cohort).joinedload(Cohort.program))
        .order_by(VolunteerCall.deadline, VolunteerCall.id)).unique().all()
    if not calls:
        return []
    ids = [c.id for c in calls]
    mine = {v.call_id: v for v in db.session.scalars(select(Volunteer).where(
        Volunteer.membership_id == membership.id, Volunteer.call_id.in_(ids)))}
    accepted = dict(db.session.execute(  # type: ignore[arg-type]
        select(Volunteer.call_id, func.count()).where(Volunteer.call_id.in_(ids),
                                                      Volunteer.status == ACCEPTED)
        .group_by(Volunteer.call_id)).all())
    out = []
    for call in calls:
        left = max(call.seats - accepted.get(call.id, 0), 0)
        own = mine.get(call.id)
        if own is not None or left > 0:
            out.append(OpenCall(call=call, mine=own, seats_left=left))
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
