"""Advocacy KPIs, computed two ways with the same rules.

- pure functions over event records (any object with the attributes of :class:`EventRecord`),
  easy to check by hand;
- the same figures aggregated by the database (``GROUP BY``) for a :class:`Scope`
  (organization, period, team, cohort, campaign, person): what the pages use, so that they
  stay fast with a million events (no event is loaded into Python).

Both feed the same small functions (``_network_rows``, ``_kind_rows``, ``_ranked``…) with
per-group sums, so a rule (points, engagement, order) is written once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, case, func, literal, literal_column, select

from lms.accounts.models import Membership, Role
from lms.advocacy import figures
from lms.advocacy.figures import DISTRIBUTING_KINDS, Who
from lms.advocacy.models import (
    METRICS,
    AdvocacyCampaignTotal,
    AdvocacyConsent,
    AdvocacyDailyFigure,
    AdvocacyEvent,
)
from lms.charter.queries import gated_advocacy_users
from lms.extensions import db

# Points of the leaderboard: added value counts more than volume. Sharing with one's own
# comment is worth five plain shares; each click earned is worth one share.
POINTS_PER_EVENT = 1
POINTS_PER_OWN_COMMENT = 5
POINTS_PER_CLICK = 1


@dataclass(frozen=True)
class EventRecord:
    """One advocacy event (a post, share, comment… on a network) as the KPI functions read it."""

    user_id: int
    network: str
    kind: str
    occurred_at: datetime
    with_own_comment: bool = False
    content_item_id: int | None = None
    campaign_id: int | None = None
    impressions: int = 0
    clicks: int = 0
    reactions: int = 0
    comments: int = 0
    reshares: int = 0
    signups: int = 0
    leads: int = 0
    hires: int = 0


def totals(events: Iterable[EventRecord]) -> dict[str, int]:
    """Sums of every metric, the number of events, of shares/posts, and of active people."""
    out = dict.fromkeys(METRICS, 0)
    out.update(events=0, shares=0, with_own_comment=0, people=0)
    people = set()
    for e in events:
        out["events"] += 1
        out["shares"] += e.kind in DISTRIBUTING_KINDS
        out["with_own_comment"] += bool(e.with_own_comment)
        people.add(e.user_id)
        for name in METRICS:
            out[name] += getattr(e, name)
    out["people"] = len(people)
    return out


def engagement(e_reactions: int, e_comments: int, e_reshares: int, e_impressions: int) -> float:
    """Engagement rate: reactions, comments and reshares per impression (0 without any)."""
    return (e_reactions + e_comments + e_reshares) / e_impressions if e_impressions else 0.0


def _totals_by(events: Iterable[EventRecord],
               group: Callable[[EventRecord], str]) -> dict[str, dict[str, int]]:
    groups: dict[str, list[EventRecord]] = defaultdict(list)
    for e in events:
        groups[group(e)].append(e)
    return {name: totals(items) for name, items in groups.items()}


def by_network(events: Iterable[EventRecord]) -> list[dict[str, object]]:
    """Per network: events, impressions, clicks, engagement rate; the most amplifying first
    (by impressions, then clicks).
    """
    return _network_rows(_totals_by(events, attrgetter("network")))


def _network_rows(sums: dict[str, dict[str, int]]) -> list[dict[str, object]]:
    rows = [{"network": network, "events": t["events"], "impressions": t["impressions"],
             "clicks": t["clicks"], "reshares": t["reshares"],
             "engagement": engagement(t["reactions"], t["comments"], t["reshares"],
                                      t["impressions"])}
            for network, t in sums.items()]
    return sorted(rows, key=lambda r: (-int(r["impressions"]), -int(r["clicks"]),  # type: ignore[call-overload]
                                       str(r["network"])))


def by_kind(events: Iterable[EventRecord]) -> list[dict[str, object]]:
    """Per kind of action (post, share, comment…): events, clicks per event, engagement;
    the best (most clicks per event) first.
    """
    return _kind_rows(_totals_by(events, attrgetter("kind")))


def _kind_rows(sums: dict[str, dict[str, int]]) -> list[dict[str, object]]:
    rows = [{"kind": kind, "events": t["events"], "clicks": t["clicks"],
             "clicks_per_event": t["clicks"] / t["events"],
             "engagement": engagement(t["reactions"], t["comments"], t["reshares"],
                                      t["impressions"])}
            for kind, t in sums.items()]
    return sorted(rows, key=lambda r: (-float(r["clicks_per_event"]), str(r["kind"])))  # type: ignore[arg-type]


def shares_per_content_item(events: Iterable[EventRecord]) -> dict[int, dict[str, int]]:
    """Per content item: how many times it was shared or posted, and the clicks it earned."""
    out: dict[int, dict[str, int]] = {}
    for e in events:
        if e.content_item_id is None:
            continue
        row = out.setdefault(e.content_item_id, {"shares": 0, "clicks": 0})
        row["shares"] += e.kind in DISTRIBUTING_KINDS
        row["clicks"] += e.clicks
    return out


def leaderboard(events: Iterable[EventRecord], *, hidden: Iterable[int] = (),
                limit: int = 10) -> list[dict[str, int]]:
    """The people with the most points (see POINTS_*), without those who opted out.

    Ties go to the one with more clicks, then to the lower user id (stable order).
    """
    hidden_ids = set(hidden)
    clicks: Counter[int] = Counter()
    comments: Counter[int] = Counter()
    counts: Counter[int] = Counter()
    for e in events:
        if e.user_id in hidden_ids:
            continue
        counts[e.user_id] += 1
        comments[e.user_id] += bool(e.with_own_comment)
        clicks[e.user_id] += e.clicks
    return _ranked([{"user_id": u, "points": points(counts[u], comments[u], clicks[u]),
                     "events": counts[u], "with_own_comment": comments[u],
                     "clicks": clicks[u]} for u in counts])[:limit]


def points(events: int, with_own_comment: int, clicks: int) -> int:
    """Leaderboard points of someone's events (see POINTS_*)."""
    return (POINTS_PER_EVENT * events + POINTS_PER_OWN_COMMENT * with_own_comment
            + POINTS_PER_CLICK * clicks)


def _ranked(rows: list[dict[str, int]]) -> list[dict[str, int]]:
    return sorted(rows, key=lambda r: (-r["points"], -r["clicks"], r["user_id"]))


def activation_rate(events: Iterable[EventRecord], learner_ids: Sequence[int] | set[int],
                    *, since: datetime) -> float:
    """Share of ``learner_ids`` with at least one event at or after ``since`` (0 to 1)."""
    learners = set(learner_ids)
    if not learners:
        return 0.0
    active = {e.user_id for e in events if e.occurred_at >= since and e.user_id in learners}
    return len(active) / len(learners)


def campaign_progress(events: Iterable[EventRecord], *, campaign_id: int,
                      target_metric: str | None, target_value: int | None
                      ) -> dict[str, float | int | None]:
    """How far a campaign is toward its target: ``value`` (the metric summed over the
    campaign's events, or the number of shares for ``shares``) and ``percent`` (capped at 100,
    None without a target).
    """
    return _progress(totals([e for e in events if e.campaign_id == campaign_id]),
                     target_metric=target_metric, target_value=target_value)


def _progress(t: dict[str, int], *, target_metric: str | None, target_value: int | None
              ) -> dict[str, float | int | None]:
    value = t[target_metric or "shares"]
    percent = (min(100.0, 100.0 * value / target_value) if target_value else None)
    return {"value": value, "percent": percent, "events": t["events"]}


# -- the same KPIs aggregated by the database ---------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """Which events a KPI counts: an organization's, optionally in ``[since, until)``, of one
    team, of one cohort's learners, of one campaign, or of one person.
    """

    organization_id: int
    since: datetime | None = None
    until: datetime | None = None
    team: str | None = None
    cohort_id: int | None = None
    campaign_id: int | None = None
    user_id: int | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """The conditions on AdvocacyEvent."""
        e = AdvocacyEvent
        found: list[ColumnElement[bool]] = [e.organization_id == self.organization_id]
        if self.since is not None:
            found.append(e.occurred_at >= self.since)
        if self.until is not None:
            found.append(e.occurred_at < self.until)
        return found + self.who(figures.Part(False))

    def who(self, part: figures.Part) -> list[ColumnElement[bool]]:
        """The conditions on the campaign and the people, on either part of the figures (the
        daily figures or the events).
        """
        found: list[ColumnElement[bool]] = []
        if self.campaign_id is not None:
            found.append(part.campaign_id == self.campaign_id)
            if part.table is AdvocacyDailyFigure:
                # What lets the planners use the index on the campaigns' rows (partial: SQLite
                # uses it only when the query says so, in the very words of its WHERE).
                found.append(part.campaign_id != literal_column("0"))
        if self.user_id is not None:
            found.append(part.user_id == self.user_id)
        if (accepted := self.counted()) is not None:
            # The charter gate: events of people who never accepted it are kept, not counted.
            found.append(part.user_id.in_(accepted))
        if self.team:
            found.append(part.user_id.in_(select(Membership.user_id).where(
                Membership.organization_id == self.organization_id,
                Membership.team == self.team)))
        if self.cohort_id is not None:
            # Imported here: courses sit below advocacy, but only this filter needs them.
            from lms.courses.cohorts.models import Enrollment

            found.append(part.user_id.in_(select(Membership.user_id).join(
                Enrollment, Enrollment.membership_id == Membership.id).where(
                Enrollment.cohort_id == self.cohort_id)))
        return found

    def counted(self) -> Select[Any] | None:
        """The people the charter gate counts (a subquery of user ids), or None when the scope
        counts everyone in it: no gate, or a team whose members with figures all accepted the
        charter (its weeks then hold what counts, and the condition would only slow its
        pages down).
        """
        accepted = gated_advocacy_users(self.organization_id)
        if accepted is None or (self.team and figures.team_in_step(self.organization_id,
                                                                   self.team)
                                and figures.team_counts_only(self.organization_id, self.team,
                                                             accepted)):
            return None
        return accepted

    def figures(self, *, people: bool = False, by_week: bool = False,
                **options: Any) -> Subquery:
        """The scope's figures (:func:`figures.rows`, with ``options``): everyone's rows when
        nothing depends on the person and ``people`` is not asked for, else the person's.

        :param by_week: the caller reads no person and no day but by week (a row's ``day``
            may be its week's Monday): a team's whole weeks are then read from its weeks
            (:meth:`team_weeks`).
        """
        by_person = people or self.user_id is not None or bool(self.team) or (
            self.cohort_id is not None) or gated_advocacy_users(self.organization_id) is not None
        weeks = self.team_weeks() if by_week and not people and not options.get(
            "narrow") else None
        return figures.rows(self.organization_id, since=self.since, until=self.until,
                            who=self.who if by_person else _campaign_only(self),
                            everyone=not by_person, weeks=weeks, **options)

    def team_weeks(self) -> Who | None:
        """The conditions on the teams' weeks that give this scope's figures, or None when
        they cannot: a scope of one team and no person or cohort, whose weeks sum its current
        members' figures (:func:`figures.team_in_step`) and, in an organization that counts
        only the people who accepted its charter, only theirs (the gate counts people, not
        teams: a team with one person left out reads its members' daily figures).
        """
        team = self.team
        if not team or self.user_id is not None or self.cohort_id is not None:
            return None
        if not figures.team_in_step(self.organization_id, team) or self.counted() is not None:
            return None
        campaign_id = self.campaign_id

        def who(part: figures.Part) -> list[ColumnElement[bool]]:
            found = [part.team == team]
            if campaign_id is not None:
                found.append(part.campaign_id == campaign_id)
            return found
        return who


    def people(self) -> Subquery:
        """Each person's events, own comments and clicks in the scope, as rows to sum by
        ``user_id``: :func:`figures.people` (whole months read once per person) unless a
        campaign is asked for (the months have none).
        """
        if self.campaign_id is not None:
            return self.figures(people=True, narrow=True)
        return figures.people(self.organization_id, since=self.since, until=self.until,
                              who=self.who)


def _campaign_only(scope: Scope) -> figures.Who:
    def who(part: figures.Part) -> list[ColumnElement[bool]]:
        return [part.campaign_id == scope.campaign_id] if scope.campaign_id is not None else []
    return who


def _sum(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def _sums(rows: Any) -> list[Any]:
    """Aggregates of figure rows (:func:`figures.rows`) named as in :func:`totals` (without
    ``people``).
    """
    return [_sum(getattr(rows.c, name)).label(name) for name in _SUM_NAMES]


_SUM_NAMES = ("events", "shares", "with_own_comment", *METRICS)


def _as_sums(row: Any) -> dict[str, int]:
    return {name: int(getattr(row, name)) for name in _SUM_NAMES}


@dataclass
class Overview:
    """The dashboard's figures for one scope (see :func:`overview`)."""

    totals: dict[str, int]
    networks: list[dict[str, object]]
    kinds: list[dict[str, object]]
    per_item: dict[int, dict[str, int]]
    leaderboard: list[dict[str, int]]


def _add(into: dict[str, int], sums: dict[str, int]) -> dict[str, int]:
    for name, value in sums.items():
        into[name] = into.get(name, 0) + value
    return into


def overview(scope: Scope, *, limit: int = 10) -> Overview:
    """:func:`totals`, :func:`by_network`, :func:`by_kind`, :func:`shares_per_content_item`
    and :func:`leaderboard` (without the people who opted out of it or revoked their consent)
    of the scope's events, in two passes over them: one grouped by network, kind and content
    item (a few hundred groups at most), one grouped by person.
    """
    f = scope.figures(by_week=True)
    found = _Found()
    for row in db.session.execute(select(f.c.network, f.c.kind, f.c.content_item_id,
                                         *_sums(f))
                                  .group_by(f.c.network, f.c.kind, f.c.content_item_id)):
        found.add(row, _as_sums(row))
    return found.overview(scope, limit)


class _Found:
    """The sums of figure rows grouped by (at least) network, kind and content item, added
    up as :class:`Overview` shows them.
    """

    def __init__(self) -> None:
        self.totals = dict.fromkeys(_SUM_NAMES, 0)
        self.networks: dict[str, dict[str, int]] = {}
        self.kinds: dict[str, dict[str, int]] = {}
        self.per_item: dict[int, dict[str, int]] = {}

    def add(self, row: Any, sums: dict[str, int]) -> None:
        _add(self.totals, sums)
        _add(self.networks.setdefault(row.network, {}), sums)
        _add(self.kinds.setdefault(row.kind, {}), sums)
        if row.content_item_id is not None:
            _add(self.per_item.setdefault(row.content_item_id, {"shares": 0, "clicks": 0}),
                 {"shares": sums["shares"], "clicks": sums["clicks"]})

    def overview(self, scope: Scope, limit: int) -> Overview:
        ranked, people = _top(scope, limit)
        return Overview(totals={**dict.fromkeys(METRICS, 0), **self.totals, "people": people},
                        networks=_network_rows(self.networks), kinds=_kind_rows(self.kinds),
                        per_item=self.per_item, leaderboard=ranked)


def dashboard(scope: Scope, *, weeks: int, today: date, limit: int = 10
              ) -> tuple[Overview, Weekly]:
    """:func:`overview` and :func:`weekly` of an open-ended scope (no ``until``) in one pass
    over its figures, grouped by network, kind, content item, week of the trend and side of
    ``scope.since`` (the trend may begin before the period): on SQLite each grouping sorts
    every row it reads (a team's year is 38,000 daily rows), so reading them once halves
    the work.
    """
    if scope.until is not None:
        return overview(scope, limit=limit), weekly(scope, weeks=weeks, today=today)
    first = monday(today) - timedelta(weeks=weeks - 1)
    start = datetime.combine(first, time(), tzinfo=UTC)
    since = scope.since
    split = since if since is not None and start < since else None

    def extra(part: figures.Part) -> list[Any]:
        inside = case((part.since(split), 1), else_=0) if split is not None else literal(1)
        return [inside.label("inside"), part.week(first).label("week")]

    read = replace(scope, since=start if split is not None else since)
    f = read.figures(split=split, extra=extra, by_week=True)
    found = _Found()
    per_network: dict[str, dict[str, list[int]]] = {}
    total = {name: [0] * weeks for name in _SUM_NAMES}
    group = (f.c.inside, f.c.week, f.c.network, f.c.kind, f.c.content_item_id)
    for row in db.session.execute(select(*group, *_sums(f)).group_by(*group)):
        sums = _as_sums(row)
        if row.inside:
            found.add(row, sums)
        if 0 <= row.week < weeks:
            lines = per_network.get(row.network)
            if lines is None:
                lines = per_network[row.network] = {n: [0] * weeks for n in _SUM_NAMES}
            for name, value in sums.items():
                lines[name][row.week] += value
                total[name][row.week] += value
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    return found.overview(scope, limit), Weekly(starts, per_network, total)


def _top(scope: Scope, limit: int) -> tuple[list[dict[str, int]], int]:
    """The leaderboard (the first ``limit`` in the order of :func:`_ranked`, without the
    people who opted out or revoked their consent) and the number of people with an event in
    the scope, hidden ones included. The database ranks and counts: sending each person's
    sums (10,000 rows) to be ranked here took most of the page's own CPU on PostgreSQL.
    """
    p = scope.people()
    per_person = select(p.c.user_id, _sum(p.c.events).label("events"),
                        _sum(p.c.with_own_comment).label("own"),
                        _sum(p.c.clicks).label("clicks")).group_by(p.c.user_id).cte("per_person")
    counted = select(func.count()).select_from(per_person)
    c = AdvocacyConsent
    hidden = select(c.user_id).where(c.organization_id == scope.organization_id,
                                     c.leaderboard_opt_out | c.revoked_at.is_not(None))
    score = (per_person.c.events * POINTS_PER_EVENT + per_person.c.own * POINTS_PER_OWN_COMMENT
             + per_person.c.clicks * POINTS_PER_CLICK)
    rows = db.session.execute(
        select(per_person.c.user_id, per_person.c.events, per_person.c.own,
               per_person.c.clicks, counted.scalar_subquery().label("people"))
        .where(per_person.c.user_id.not_in(hidden))
        .order_by(score.desc(), per_person.c.clicks.desc(), per_person.c.user_id)
        .limit(limit)).all()
    people = int(rows[0].people) if rows else int(db.session.scalar(counted) or 0)
    return [{"user_id": r.user_id, "points": points(int(r.events), int(r.own), int(r.clicks)),
             "events": int(r.events), "with_own_comment": int(r.own), "clicks": int(r.clicks)}
            for r in rows], people


def scope_totals(scope: Scope) -> dict[str, int]:
    """:func:`totals` of the scope's events."""
    return overview(scope).totals


def scope_by_network(scope: Scope) -> list[dict[str, object]]:
    """:func:`by_network` of the scope's events."""
    return overview(scope).networks


def scope_by_kind(scope: Scope) -> list[dict[str, object]]:
    """:func:`by_kind` of the scope's events."""
    return overview(scope).kinds


def scope_shares_per_content_item(scope: Scope) -> dict[int, dict[str, int]]:
    """:func:`shares_per_content_item` of the scope's events."""
    return overview(scope).per_item


def scope_leaderboard(scope: Scope, *, limit: int = 10) -> list[dict[str, int]]:
    """:func:`leaderboard` of the scope's events, without the people who opted out of it or
    revoked their consent (see ``queries.leaderboard_hidden``).
    """
    return overview(scope, limit=limit).leaderboard


def scope_activation(scope: Scope, *, since: datetime) -> tuple[float, int]:
    """(:func:`activation_rate`, number of learners): the share of the scope's learners (of
    its team, or cohort, if any) with an event at or after ``since``.
    """
    m = Membership
    learners = select(m.user_id).where(m.organization_id == scope.organization_id,
                                       m.role == Role.LEARNER)
    if scope.team:
        learners = learners.where(m.team == scope.team)
    if scope.cohort_id is not None:
        from lms.courses.cohorts.models import Enrollment

        learners = learners.join(Enrollment, Enrollment.membership_id == m.id).where(
            Enrollment.cohort_id == scope.cohort_id)
    total = db.session.scalar(select(func.count()).select_from(learners.subquery())) or 0
    if not total:
        return 0.0, 0
    active_scope = Scope(scope.organization_id, since=since, team=scope.team,
                         cohort_id=scope.cohort_id)
    f = figures.active(scope.organization_id, since=since, who=active_scope.who)
    active = db.session.scalar(select(func.count(f.c.user_id.distinct())).where(
        f.c.user_id.in_(learners))) or 0
    return active / total, total


def campaigns_progress(organization_id: int, campaigns: Iterable[Any]
                       ) -> dict[int, dict[str, float | int | None]]:
    """:func:`campaign_progress` of each campaign (objects with ``id``, ``target_metric``,
    ``target_value``) over all the organization's events: their running totals.
    """
    campaigns = list(campaigns)
    if not campaigns:
        return {}
    ids = [c.id for c in campaigns]
    # Their running totals (lms.advocacy.figures keeps them with the daily figures).
    t = AdvocacyCampaignTotal
    sums = {row.campaign_id: _as_sums(row) for row in db.session.execute(
        select(t.campaign_id, *[getattr(t, name).label(name) for name in _SUM_NAMES]).where(
            t.organization_id == organization_id, t.campaign_id.in_(ids)))}
    empty = dict.fromkeys(_SUM_NAMES, 0)
    return {c.id: _progress(sums.get(c.id, empty), target_metric=c.target_metric,
                            target_value=c.target_value) for c in campaigns}


def scope_sums(scope: Scope) -> dict[str, int]:
    """The sums of :func:`totals` (without ``people``) of the scope's events, in one
    aggregate query: what the dashboard compares with the previous period.
    """
    f = scope.figures(by_week=True)
    return _as_sums(db.session.execute(select(*_sums(f))).one())


@dataclass
class Weekly:
    """Per-week sums: ``weeks`` are the Mondays, oldest first; ``per_network[network][name]``
    and ``total[name]`` hold one value per week for each name of :data:`_SUM_NAMES`.
    """

    weeks: list[date]
    per_network: dict[str, dict[str, list[int]]]
    total: dict[str, list[int]]


def monday(day: date) -> date:
    """The Monday of ``day``'s week (ISO weeks, as French calendars count them)."""
    return day - timedelta(days=day.weekday())


def weekly(scope: Scope, *, weeks: int, today: date) -> Weekly:
    """The scope's events summed per week and network over the ``weeks`` weeks ending with
    ``today``'s (``scope.since`` is replaced by the first Monday). One query grouped by day
    and network (at most 7 × ``weeks`` × networks rows), bucketed into weeks here: day
    arithmetic is the one thing SQLite and PostgreSQL write alike.
    """
    first = monday(today) - timedelta(weeks=weeks - 1)
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    since = datetime.combine(first, time(), tzinfo=UTC)
    bounded = Scope(scope.organization_id, since=since, until=scope.until, team=scope.team,
                    cohort_id=scope.cohort_id, campaign_id=scope.campaign_id,
                    user_id=scope.user_id)
    f = bounded.figures(by_week=True)
    per_network: dict[str, dict[str, list[int]]] = {}
    total = {name: [0] * weeks for name in _SUM_NAMES}
    for row in db.session.execute(select(f.c.day, f.c.network, *_sums(f))
                                  .group_by(f.c.day, f.c.network)):
        on = row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day)[:10])
        index = (on - first).days // 7
        if not 0 <= index < weeks:
            continue
        sums = _as_sums(row)
        lines = per_network.setdefault(row.network, {n: [0] * weeks for n in _SUM_NAMES})
        for name, value in sums.items():
            lines[name][index] += value
            total[name][index] += value
    return Weekly(starts, per_network, total)
