"""Advocacy reads: the event records the KPIs are computed from, campaigns, a learner's
events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from lms.accounts.models import Membership, Role, User
from lms.advocacy.kpis import EventRecord
from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent, Campaign, ContentItem
from lms.charter.queries import gated_advocacy_users
from lms.extensions import db

_FIELDS = [c for c in EventRecord.__dataclass_fields__]


def event_records(organization_id: int, *, since: datetime | None = None,
                  until: datetime | None = None, team: str | None = None,
                  campaign_id: int | None = None, user_id: int | None = None
                  ) -> list[EventRecord]:
    """The organization's events as KPI records, filtered by period, team, campaign, person."""
    stmt: Select[Any] = select(*[getattr(AdvocacyEvent, f) for f in _FIELDS]).where(
        AdvocacyEvent.organization_id == organization_id)
    if since is not None:
        stmt = stmt.where(AdvocacyEvent.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AdvocacyEvent.occurred_at < until)
    if campaign_id is not None:
        stmt = stmt.where(AdvocacyEvent.campaign_id == campaign_id)
    if user_id is not None:
        stmt = stmt.where(AdvocacyEvent.user_id == user_id)
    if (accepted := gated_advocacy_users(organization_id)) is not None:
        stmt = stmt.where(AdvocacyEvent.user_id.in_(accepted))
    if team:
        stmt = stmt.join(Membership, (Membership.user_id == AdvocacyEvent.user_id) & (
            Membership.organization_id == organization_id)).where(Membership.team == team)
    return [EventRecord(**row._mapping) for row in db.session.execute(stmt)]


def learner_ids(organization_id: int, team: str | None = None) -> set[int]:
    """Ids of the organization's learners (of one team if given)."""
    stmt = select(Membership.user_id).where(Membership.organization_id == organization_id,
                                            Membership.role == Role.LEARNER)
    if team:
        stmt = stmt.where(Membership.team == team)
    return set(db.session.scalars(stmt))


def teams(organization_id: int) -> list[str]:
    """The organization's team names."""
    return sorted(t for t in db.session.scalars(select(Membership.team).distinct().where(
        Membership.organization_id == organization_id, Membership.team.is_not(None))) if t)


def cohorts(organization_id: int) -> list[tuple[int, str]]:
    """The organization's cohorts as (id, name), newest first, for the KPI filter."""
    from lms.courses.cohorts.models import Cohort

    return [(i, n) for i, n in db.session.execute(
        select(Cohort.id, Cohort.name).where(Cohort.organization_id == organization_id)
        .order_by(Cohort.id.desc()))]


def leaderboard_hidden(organization_id: int) -> set[int]:
    """People who opted out of the leaderboard or revoked their consent."""
    return set(db.session.scalars(select(AdvocacyConsent.user_id).where(
        AdvocacyConsent.organization_id == organization_id,
        AdvocacyConsent.leaderboard_opt_out | AdvocacyConsent.revoked_at.is_not(None))))


def names(user_ids: set[int] | list[int]) -> dict[int, str]:
    """Display names by user id."""
    if not user_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_(list(user_ids)))).all())  # type: ignore[arg-type]


def campaigns(organization_id: int) -> list[Campaign]:
    """The organization's current (not archived) campaigns, the nearest deadline first."""
    return list(db.session.scalars(select(Campaign).where(
        Campaign.organization_id == organization_id, Campaign.archived_at.is_(None)).order_by(
        Campaign.deadline.is_(None), Campaign.deadline, Campaign.id)))


def content_items(organization_id: int) -> dict[int, ContentItem]:
    """The organization's content items by id."""
    return {i.id: i for i in db.session.scalars(select(ContentItem).where(
        ContentItem.organization_id == organization_id))}


def my_events(organization_id: int, user_id: int, limit: int = 100,
              offset: int = 0) -> list[AdvocacyEvent]:
    """A person's latest events (``limit`` of them from the ``offset``-th, newest first)."""
    return list(db.session.scalars(select(AdvocacyEvent).where(
        AdvocacyEvent.organization_id == organization_id,
        AdvocacyEvent.user_id == user_id).order_by(
        AdvocacyEvent.occurred_at.desc(), AdvocacyEvent.id.desc()).offset(offset).limit(limit)))


def activity_with_consent(organization_id: int, user_ids: list[int], *, since: datetime
                          ) -> dict[int, dict[str, Any]]:
    """Per person who consents to their activity being collected (and only them), their
    events since ``since``: ``events``, ``clicks`` and the time of the ``last`` one (None).
    The people left out are those without consent in force: nothing of theirs is shown.
    """
    if not user_ids:
        return {}
    consenting = set(db.session.scalars(select(AdvocacyConsent.user_id).where(
        AdvocacyConsent.organization_id == organization_id,
        AdvocacyConsent.user_id.in_(user_ids), AdvocacyConsent.revoked_at.is_(None))))
    out: dict[int, dict[str, Any]] = {
        uid: {"events": 0, "clicks": 0, "last": None} for uid in consenting}
    if not consenting:
        return out
    e = AdvocacyEvent
    for uid, events, clicks, last in db.session.execute(
            select(e.user_id, func.count(), func.coalesce(func.sum(e.clicks), 0),
                   func.max(e.occurred_at))
            .where(e.organization_id == organization_id, e.user_id.in_(consenting),
                   e.occurred_at >= since).group_by(e.user_id)):
        out[uid] = {"events": int(events), "clicks": int(clicks), "last": last}
    return out
