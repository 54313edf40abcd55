"""Advocacy KPIs as pure functions over event records (no database here: easy to check by
hand). ``queries.py`` loads the records for an organization, team, campaign and period.

An event record is any object with the attributes of :class:`EventRecord`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from lms.advocacy.models import METRICS

# Points of the leaderboard: added value counts more than volume. Sharing with one's own
# comment is worth five plain shares; each click earned is worth one share.
POINTS_PER_EVENT = 1
POINTS_PER_OWN_COMMENT = 5
POINTS_PER_CLICK = 1
DISTRIBUTING_KINDS = ("post", "share")


@dataclass(frozen=True)
class EventRecord:
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


def by_network(events: Iterable[EventRecord]) -> list[dict[str, object]]:
    """Per network: events, impressions, clicks, engagement rate; the most amplifying first
    (by impressions, then clicks)."""
    groups: dict[str, list[EventRecord]] = defaultdict(list)
    for e in events:
        groups[e.network].append(e)
    rows = []
    for network, items in groups.items():
        t = totals(items)
        rows.append({"network": network, "events": t["events"],
                     "impressions": t["impressions"], "clicks": t["clicks"],
                     "reshares": t["reshares"],
                     "engagement": engagement(t["reactions"], t["comments"], t["reshares"],
                                              t["impressions"])})
    return sorted(rows, key=lambda r: (-int(r["impressions"]), -int(r["clicks"]),  # type: ignore[call-overload]
                                       str(r["network"])))


def by_kind(events: Iterable[EventRecord]) -> list[dict[str, object]]:
    """Per kind of action (post, share, comment…): events, clicks per event, engagement;
    the best (most clicks per event) first."""
    groups: dict[str, list[EventRecord]] = defaultdict(list)
    for e in events:
        groups[e.kind].append(e)
    rows = []
    for kind, items in groups.items():
        t = totals(items)
        rows.append({"kind": kind, "events": t["events"], "clicks": t["clicks"],
                     "clicks_per_event": t["clicks"] / t["events"],
                     "engagement": engagement(t["reactions"], t["comments"], t["reshares"],
                                              t["impressions"])})
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
    points: Counter[int] = Counter()
    clicks: Counter[int] = Counter()
    comments: Counter[int] = Counter()
    counts: Counter[int] = Counter()
    for e in events:
        if e.user_id in hidden_ids:
            continue
        counts[e.user_id] += 1
        comments[e.user_id] += bool(e.with_own_comment)
        clicks[e.user_id] += e.clicks
        points[e.user_id] += (POINTS_PER_EVENT + POINTS_PER_OWN_COMMENT * bool(
            e.with_own_comment) + POINTS_PER_CLICK * e.clicks)
    ranked = sorted(points, key=lambda u: (-points[u], -clicks[u], u))[:limit]
    return [{"user_id": u, "points": points[u], "events": counts[u],
             "with_own_comment": comments[u], "clicks": clicks[u]} for u in ranked]


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
    None without a target)."""
    mine = [e for e in events if e.campaign_id == campaign_id]
    t = totals(mine)
    metric = target_metric or "shares"
    value = t[metric]
    percent = (min(100.0, 100.0 * value / target_value) if target_value else None)
    return {"value": value, "percent": percent, "events": t["events"]}
