"""KPIs checked against values computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lms.advocacy import kpis
from lms.advocacy.kpis import EventRecord as E

NOV = datetime(2026, 11, 10, tzinfo=UTC)
OCT = datetime(2026, 10, 1, tzinfo=UTC)
EVENTS = [
    # user 1: three plain shares on LinkedIn, 2 clicks each
    E(1, "linkedin", "share", NOV, clicks=2, impressions=100, content_item_id=7, campaign_id=3),
    E(1, "linkedin", "share", NOV, clicks=2, impressions=100, content_item_id=7, campaign_id=3),
    E(1, "linkedin", "share", NOV, clicks=2, impressions=100, reactions=10),
    # user 2: one share with own comment, 9 clicks, 2 sign-ups
    E(2, "x", "share", NOV, with_own_comment=True, clicks=9, impressions=50, signups=2,
      content_item_id=7, campaign_id=3),
    # user 3: an old comment
    E(3, "linkedin", "comment", OCT, clicks=0, impressions=0, reactions=4, hires=1),
]


def test_totals():
    t = kpis.totals(EVENTS)
    assert (t["events"], t["shares"], t["clicks"], t["impressions"], t["signups"],
            t["hires"], t["people"], t["with_own_comment"]) == (5, 4, 15, 350, 2, 1, 3, 1)


def test_networks_that_amplify_most_come_first():
    rows = kpis.by_network(EVENTS)
    assert [r["network"] for r in rows] == ["linkedin", "x"]
    assert (rows[0]["events"], rows[0]["impressions"], rows[0]["clicks"]) == (4, 300, 6)
    # (10 + 4 reactions) / 300 impressions
    assert rows[0]["engagement"] == pytest.approx(14 / 300)


def test_content_types_ranked_by_clicks_per_event():
    rows = kpis.by_kind(EVENTS)
    assert [(r["kind"], r["clicks_per_event"]) for r in rows] == [("share", 15 / 4),
                                                                  ("comment", 0.0)]


def test_shares_per_content_item():
    assert kpis.shares_per_content_item(EVENTS) == {7: {"shares": 3, "clicks": 13}}


def test_leaderboard_rewards_added_value_over_volume():
    board = kpis.leaderboard(EVENTS)
    # user 2: 1 event + 5 own comment + 9 clicks = 15; user 1: 3 events + 6 clicks = 9;
    # user 3: 1 event = 1
    assert [(r["user_id"], r["points"]) for r in board] == [(2, 15), (1, 9), (3, 1)]
    assert [r["user_id"] for r in kpis.leaderboard(EVENTS, hidden={2})] == [1, 3]


def test_activation_rate_counts_learners_active_since():
    since = datetime(2026, 10, 24, tzinfo=UTC)
    # learners 1, 2, 3, 4: 1 and 2 active since the 24th → 2 / 4
    assert kpis.activation_rate(EVENTS, {1, 2, 3, 4}, since=since) == 0.5
    assert kpis.activation_rate(EVENTS, set(), since=since) == 0.0


def test_campaign_progress():
    progress = kpis.campaign_progress(EVENTS, campaign_id=3, target_metric="signups",
                                      target_value=8)
    assert progress == {"value": 2, "percent": 25.0, "events": 3}
    shares = kpis.campaign_progress(EVENTS, campaign_id=3, target_metric=None,
                                    target_value=2)
    assert shares["value"] == 3 and shares["percent"] == 100.0
