"""Reads behind "My team": a manager's direct reports and a champion's group, each person with
their progress per enrolment, their skills against their target profile, their advocacy
activity (only with their consent) and, for a manager, the registrations waiting for approval.
Who follows whom is ``lms.accounts.groups``' rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from lms.accounts import groups
from lms.accounts.models import Membership, Nudge
from lms.advocacy.queries import activity_with_consent
from lms.assessments import queries as skills
from lms.core.models import utcnow
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.sessions import approvals
from lms.courses.sessions.models import SessionRegistration
from lms.extensions import db
from lms.reports.queries import Standing, standings
from lms.xapi import builders
from lms.xapi.record import record

# The advocacy activity shown covers this many days.
ACTIVITY_DAYS = 30


@dataclass
class Person:
    """One person someone follows, with what the follower may see of their training."""

    membership: Membership
    why: str  # groups.MANAGER or groups.CHAMPION
    enrollments: list[tuple[Enrollment, Standing]]
    profile: skills.SkillProfile
    activity: dict[str, Any] | None  # None: no consent, nothing shown
    last_nudge: datetime | None
    waiting: list[SessionRegistration] = field(default_factory=list)

    @property
    def gaps(self) -> list[tuple[str, int]]:
        """(competency code, levels missing) below the target profile, the widest first."""
        return [(line.code, size) for line, size in self.profile.gaps]

    @property
    def assessed(self) -> bool:
        """Whether the person has a skill map yet."""
        return self.profile.attempt is not None


@dataclass
class Team:
    """What a member follows: their direct reports and their champion's group."""

    reports: list[Person]
    group: list[Person]

    @property
    def empty(self) -> bool:
        """Whether the member follows nobody."""
        return not self.reports and not self.group


def _people(viewer: Membership, members: list[Membership], why: str, *,
            waiting: list[SessionRegistration] | None = None) -> list[Person]:
    if not members:
        return []
    ids = [m.id for m in members]
    enrollments = list(db.session.scalars(
        select(Enrollment).where(Enrollment.membership_id.in_(ids),
                                 Enrollment.status != WITHDRAWN)
        .options(selectinload(Enrollment.cohort).selectinload(Cohort.program))
        .order_by(Enrollment.enrolled_at)))
    standing = standings(enrollments)
    fw = skills.default_framework(viewer.organization_id)
    validated = skills.validated_levels(ids)
    activity = activity_with_consent(viewer.organization_id, [m.user_id for m in members],
                                     since=utcnow() - timedelta(days=ACTIVITY_DAYS))
    nudged = dict(db.session.execute(  # type: ignore[arg-type]
        select(Nudge.recipient_id, func.max(Nudge.sent_at))
        .where(Nudge.recipient_id.in_(ids)).group_by(Nudge.recipient_id)).all())
    return [Person(
        membership=m, why=why,
        enrollments=[(e, standing[e.id]) for e in enrollments if e.membership_id == m.id],
        profile=skills.profile_for(m, framework=fw, validated=validated.get(m.id, {})),
        activity=activity.get(m.user_id), last_nudge=nudged.get(m.id),
        waiting=[r for r in waiting or () if r.enrollment.membership_id == m.id])
        for m in members]


def waiting_for(manager: Membership) -> list[SessionRegistration]:
    """The registrations of ``manager``'s direct reports waiting for a decision."""
    return [r for r in db.session.scalars(approvals.requests_for(manager))
            if r.enrollment.membership.manager_id == manager.id]


def record_seen(viewer: Membership) -> None:
    """Record that ``viewer`` consulted *My team* (``experienced`` on their team; who is in it
    stays out of the statement).
    """
    team = builders.activity("team", viewer.id, {"fr-FR": "Mon équipe", "en-US": "My team"})
    record([builders.statement(builders.agent_for_user(viewer.user), "experienced", team,
                               context=builders.context(organization=viewer.organization.slug))],
           organization_id=viewer.organization_id)


def team_of(viewer: Membership) -> Team:
    """The people ``viewer`` follows, as a manager and as a champion (someone both a direct
    report and in the group is listed once, as a report).
    """
    reports = groups.direct_reports(viewer)
    report_ids = {m.id for m in reports}
    group = [m for m in groups.champion_group(viewer) if m.id not in report_ids]
    return Team(reports=_people(viewer, reports, groups.MANAGER, waiting=waiting_for(viewer)
                                if reports else []),
                group=_people(viewer, group, groups.CHAMPION))
