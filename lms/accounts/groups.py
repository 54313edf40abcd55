"""Who follows whom: a manager's direct reports and a champion's group.

The rules, kept simple so everyone can predict them:

- a **manager** follows their direct reports: the active members whose ``manager`` they are;
- a **champion** follows their group: the other active members of the organization who share
  the champion's team (a champion without a team has no group).

Nobody follows anyone in another organization, and nobody follows themselves.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from lms.accounts.models import Membership, User
from lms.core.web import request_memo
from lms.extensions import db

MANAGER, CHAMPION = "manager", "champion"


def direct_reports(manager: Membership) -> list[Membership]:
    """The active members whose manager is ``manager``, by name."""
    return list(db.session.scalars(
        select(Membership).join(User, Membership.user_id == User.id)
        .where(Membership.manager_id == manager.id, Membership.active.is_(True),
               Membership.organization_id == manager.organization_id)
        .order_by(User.name_key, Membership.id)))


def champion_group(champion: Membership) -> list[Membership]:
    """The champion's group: the other active members of their team, by name (none when the
    member is not a champion or has no team).
    """
    if not champion.champion or not champion.team:
        return []
    return list(db.session.scalars(
        select(Membership).join(User, Membership.user_id == User.id)
        .where(Membership.organization_id == champion.organization_id,
               Membership.team == champion.team, Membership.active.is_(True),
               Membership.id != champion.id)
        .order_by(User.name_key, Membership.id)))


def follows(viewer: Membership, member: Membership) -> str | None:
    """Why ``viewer`` may follow ``member``: MANAGER, CHAMPION, or None when they may not."""
    if (member.organization_id != viewer.organization_id or member.id == viewer.id
            or not member.active):
        return None
    if member.manager_id == viewer.id:
        return MANAGER
    if viewer.champion and viewer.team and member.team == viewer.team:
        return CHAMPION
    return None


def manages_someone(member: Membership) -> bool:
    """Whether anyone in the organization has ``member`` as their manager (asked once per
    request: the menu's entries and the pages ask it again).
    """
    cache = request_memo("_manages_someone")
    if member.id not in cache:
        cache[member.id] = db.session.scalar(select(exists().where(
            Membership.manager_id == member.id)))
    return bool(cache[member.id])


def follows_anyone(viewer: Membership) -> bool:
    """Whether ``viewer`` has direct reports or is a champion with a team."""
    return bool(viewer.champion and viewer.team) or manages_someone(viewer)
