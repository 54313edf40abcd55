"""Charter reads: the version in force, who accepted it, and acceptance figures per team and
per cohort for HR.

Cohorts live in ``courses``, above this package: courses adds a function to :data:`GROUPINGS`
that lists them (with their members), so this package never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from lms.accounts.models import Membership, User
from lms.charter.models import CharterAcceptance, CharterSettings, CharterVersion
from lms.core.registry import Registry
from lms.core.web import request_memo
from lms.extensions import db


@dataclass(frozen=True)
class Group:
    """A named set of members HR reads acceptance by (a cohort…)."""

    key: str
    name: str
    member_ids: frozenset[int]


#: Functions giving an organization's groups of one kind: ``(organization_id) -> [Group]``,
#: each under a key (``"cohort"``). Filled by higher packages' ``init_app``.
GROUPINGS: Registry[tuple[str, Callable[[int], list[Group]]]] = Registry("charter groupings")


def groups(kind: str, organization_id: int) -> list[Group]:
    """The organization's groups of ``kind`` (``"cohort"``), empty when nothing provides them."""
    for name, provider in GROUPINGS:
        if name == kind:
            return provider(organization_id)
    return []


def settings_for(organization_id: int) -> CharterSettings:
    """The organization's gates (all off, unsaved, when never set).

    Read once per request: every advocacy figure of a page asks (the identity map keeps a row
    that exists, not one that does not).
    """
    cache: dict[int, CharterSettings] = request_memo("charter_settings")
    if organization_id not in cache:
        cache[organization_id] = db.session.get(CharterSettings, organization_id) or \
            CharterSettings(organization_id=organization_id, gate_advocacy=False,
                            gate_exercises=False, gate_certificates=False)
    return cache[organization_id]


def forget_settings(organization_id: int) -> None:
    """Drop the request's copy of the gates (after they change)."""
    request_memo("charter_settings").pop(organization_id, None)


def current_version(organization_id: int) -> CharterVersion | None:
    """The version in force (the highest number), or None before the first is published."""
    return db.session.scalar(select(CharterVersion).where(
        CharterVersion.organization_id == organization_id)
        .order_by(CharterVersion.number.desc()).limit(1))


def versions(organization_id: int) -> list[CharterVersion]:
    """Every published version, newest first."""
    return list(db.session.scalars(select(CharterVersion).where(
        CharterVersion.organization_id == organization_id)
        .order_by(CharterVersion.number.desc())))


def version_by_number(organization_id: int, number: int) -> CharterVersion | None:
    """One version of the organization by its number."""
    return db.session.scalar(select(CharterVersion).where(
        CharterVersion.organization_id == organization_id, CharterVersion.number == number))


def acceptance(membership_id: int, version_id: int) -> CharterAcceptance | None:
    """A member's acceptance of a version, if given."""
    return db.session.scalar(select(CharterAcceptance).where(
        CharterAcceptance.membership_id == membership_id,
        CharterAcceptance.version_id == version_id))


def latest_acceptance(membership: Membership) -> CharterAcceptance | None:
    """The member's acceptance of the highest version they accepted."""
    return db.session.scalar(select(CharterAcceptance).join(CharterVersion).where(
        CharterAcceptance.membership_id == membership.id)
        .order_by(CharterVersion.number.desc()).limit(1))


def to_accept(membership: Membership) -> CharterVersion | None:
    """The version in force when the member has not accepted it yet, else None."""
    version = current_version(membership.organization_id)
    if version is None or acceptance(membership.id, version.id) is not None:
        return None
    return version


def accepted_current(membership: Membership) -> bool:
    """Whether the member accepted the version in force (true when there is none)."""
    return to_accept(membership) is None


def accepted_users(organization_id: int) -> Select[Any]:
    """The users of the organization who accepted some version of its charter (a subquery
    for ``user_id.in_(…)``): the people whose advocacy activity counts under the gate.
    """
    return (select(Membership.user_id)
            .join(CharterAcceptance, CharterAcceptance.membership_id == Membership.id)
            .where(CharterAcceptance.organization_id == organization_id))


def has_charter(organization_id: int) -> bool:
    """Whether the organization ever published a version of its charter.

    A yes is kept for the request (a gated dashboard asks once per figure, and versions are
    never withdrawn); a no is asked again, so a version published in the request counts.
    """
    published: dict[int, bool] = request_memo("charter_published")
    if organization_id not in published and db.session.scalar(select(CharterVersion.id).where(
            CharterVersion.organization_id == organization_id).limit(1)) is not None:
        published[organization_id] = True
    return organization_id in published


def gated_advocacy_users(organization_id: int) -> Select[Any] | None:
    """:func:`accepted_users` when the organization counts only their activity, else None."""
    settings = settings_for(organization_id)
    if not settings.gate_advocacy or not has_charter(organization_id):
        return None
    return accepted_users(organization_id)


def activity_not_counted(membership: Membership) -> bool:
    """Whether the member's advocacy activity is left out of the figures for now: the gate is
    on and they never accepted any version.
    """
    if gated_advocacy_users(membership.organization_id) is None:
        return False
    return latest_acceptance(membership) is None


@dataclass
class Row:
    """A member and their acceptance of one version (None: not accepted)."""

    membership: Membership
    accepted_at: datetime | None
    cohorts: list[str] = field(default_factory=list)


def people(organization_id: int, version: CharterVersion, *, team: str | None = None,
           cohort: str | None = None) -> list[Row]:
    """The organization's active members, by name, with their acceptance of ``version``;
    of one team or one cohort (a :class:`Group` key) when given.
    """
    accepted = dict(db.session.execute(select(
        CharterAcceptance.membership_id, CharterAcceptance.accepted_at).where(
        CharterAcceptance.version_id == version.id)).all())
    stmt = (select(Membership).join(User).where(
        Membership.organization_id == organization_id, Membership.active.is_(True))
        .order_by(User.name_key, Membership.id))
    if team:
        stmt = stmt.where(Membership.team == team)
    cohort_groups = groups("cohort", organization_id)
    names: dict[int, list[str]] = {}
    for group in cohort_groups:
        for member_id in group.member_ids:
            names.setdefault(member_id, []).append(group.name)
    if cohort:
        chosen = next((g for g in cohort_groups if g.key == cohort), None)
        stmt = stmt.where(Membership.id.in_(sorted(chosen.member_ids) if chosen else []))
    return [Row(m, accepted.get(m.id), sorted(names.get(m.id, [])))
            for m in db.session.scalars(stmt)]


@dataclass(frozen=True)
class Tally:
    """How many of a group accepted a version."""

    name: str
    total: int
    accepted: int

    @property
    def share(self) -> float:
        """The accepted share, 0 to 1 (0 for an empty group)."""
        return self.accepted / self.total if self.total else 0.0


def tallies(rows: Sequence[Row], organization_id: int) -> dict[str, list[Tally]]:
    """Acceptance of the rows' version in all, per team and per cohort."""
    def tally(name: str, chosen: list[Row]) -> Tally:
        return Tally(name, len(chosen), sum(1 for r in chosen if r.accepted_at is not None))

    teams = sorted({r.membership.team for r in rows if r.membership.team})
    by_id = {r.membership.id: r for r in rows}
    return {
        "all": [tally("", list(rows))],
        "teams": [tally(t, [r for r in rows if r.membership.team == t]) for t in teams],
        "cohorts": [tally(g.name, [by_id[i] for i in g.member_ids if i in by_id])
                    for g in groups("cohort", organization_id)],
    }


def teams(organization_id: int) -> list[str]:
    """The organization's team names, for the filter."""
    return sorted(t for t in db.session.scalars(select(Membership.team).distinct().where(
        Membership.organization_id == organization_id, Membership.team.is_not(None))) if t)


def acceptances_of(membership_ids: Sequence[int]) -> list[CharterAcceptance]:
    """The acceptances of these memberships, oldest first (the personal-data export)."""
    return list(db.session.scalars(select(CharterAcceptance).where(
        CharterAcceptance.membership_id.in_(list(membership_ids)))
        .order_by(CharterAcceptance.accepted_at)))
