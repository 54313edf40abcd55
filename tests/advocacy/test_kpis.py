"""KPIs checked against values computed by hand: the pure rules, and the same figures
aggregated by the database (which the pages use)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lms.advocacy import kpis
from lms.advocacy.kpis import EventRecord as E
from lms.advocacy.models import METRICS

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


# -- the same KPIs computed by the database ------------------------------------------------------

@pytest.fixture()
def stored(create_org, create_user):
    """EVENTS stored in an organization (users 1, 2, 3 → real members, plus a learner 4
    with no activity, and a manager whose events do not count for activation), with a
    second organization's event that must never be counted."""
    from lms.accounts.models import Role
    from lms.advocacy import services
    from lms.extensions import db
    from tests.advocacy.helpers import consent

    org, other = create_org(slug="kpi-org"), create_org(slug="kpi-other")
    users = {1: create_user(Role.LEARNER, org=org, team="Ventes"),
             2: create_user(Role.LEARNER, org=org, team="RH"),
             3: create_user(Role.LEARNER, org=org, team="Ventes"),
             4: create_user(Role.LEARNER, org=org, team="Ventes")}
    outsider = create_user(Role.LEARNER, org=other)
    consent(org, *users.values())
    consent(other, outsider)
    campaign = services.create_campaign(organization=org, kind="campaign", title="Salon",
                                        target_metric="signups", target_value=8)
    other_campaign = services.create_campaign(organization=org, kind="talent",
                                              title="Recrutement", target_value=4)
    item = services.add_content_item(campaign=campaign, title="Article",
                                     url="https://example.com/article")
    ids = {"campaign": campaign.id, "item": item.id}

    def normalized(e, n, org_users):
        return services.normalize_event(
            {"network": e.network, "kind": e.kind, "occurred_at": e.occurred_at,
             "url": f"https://www.linkedin.com/feed/update/{n}",
             "with_own_comment": e.with_own_comment,
             "campaign_id": ids["campaign"] if e.campaign_id else None,
             "content_item_id": ids["item"] if e.content_item_id else None,
             **{m: getattr(e, m) for m in METRICS}},
            user_id=org_users[e.user_id].id, source="api", now=NOV)

    events = [normalized(e, n, users) for n, e in enumerate(EVENTS)]
    services.ingest(organization=org, events=events,
                    names={u.id: u.display_name for u in users.values()})
    services.ingest(organization=other, events=[normalized(
        E(1, "x", "share", NOV, clicks=1000, impressions=1000), 99, {1: outsider})],
        names={outsider.id: outsider.display_name})
    db.session.commit()
    return {"org": org, "users": users, "campaign": campaign, "other_campaign": other_campaign,
            "item": item}


def _real(rows, users):
    """The hand-computed rows with users 1, 2, 3 as the stored members' ids."""
    back = {u.id: n for n, u in users.items()}
    return [{**r, "user_id": back[r["user_id"]]} for r in rows]


def test_database_totals_networks_and_kinds_match_the_hand_computed_values(stored):
    from lms.advocacy.kpis import Scope

    scope = Scope(stored["org"].id)
    assert kpis.scope_totals(scope) == kpis.totals(EVENTS)
    assert kpis.scope_by_network(scope) == kpis.by_network(EVENTS)
    assert kpis.scope_by_kind(scope) == kpis.by_kind(EVENTS)
    assert kpis.scope_shares_per_content_item(scope) == {
        stored["item"].id: {"shares": 3, "clicks": 13}}


def test_database_leaderboard_ranks_and_hides_like_the_rules(stored):
    from lms.advocacy import services
    from lms.advocacy.kpis import Scope
    from lms.extensions import db

    scope, users = Scope(stored["org"].id), stored["users"]
    assert _real(kpis.scope_leaderboard(scope), users) == kpis.leaderboard(EVENTS)
    assert [r["user_id"] for r in _real(kpis.scope_leaderboard(scope, limit=2), users)] == [2, 1]
    services.set_leaderboard_opt_out(organization=stored["org"], user=users[2], opt_out=True)
    services.revoke_consent(organization=stored["org"], user=users[3])
    db.session.commit()
    # Opted out of the ranking, or no longer consenting: not shown.
    assert [r["user_id"] for r in _real(kpis.scope_leaderboard(scope), users)] == [1]


def test_database_kpis_per_period_team_campaign_and_person(stored):
    from lms.advocacy.kpis import Scope

    org_id, users = stored["org"].id, stored["users"]
    # [since, until): the October comment is left out; an event at `since` counts.
    november = Scope(org_id, since=NOV, until=datetime(2026, 12, 1, tzinfo=UTC))
    assert kpis.scope_totals(november) == kpis.totals(EVENTS[:4])
    assert kpis.scope_totals(Scope(org_id, until=NOV))["events"] == 1
    # Team "Ventes" is users 1 and 3 (and 4, without events).
    ventes = Scope(org_id, team="Ventes")
    assert kpis.scope_totals(ventes) == kpis.totals([EVENTS[0], EVENTS[1], EVENTS[2],
                                                     EVENTS[4]])
    assert kpis.scope_totals(Scope(org_id, team="Nobody"))["events"] == 0
    in_campaign = Scope(org_id, campaign_id=stored["campaign"].id)
    assert kpis.scope_by_network(in_campaign) == kpis.by_network(
        [e for e in EVENTS if e.campaign_id == 3])
    mine = Scope(org_id, user_id=users[2].id)
    assert kpis.scope_totals(mine) == kpis.totals([EVENTS[3]])
    # Nothing at all: zeros, not None.
    empty = kpis.scope_totals(Scope(org_id, since=datetime(2027, 1, 1, tzinfo=UTC)))
    assert empty == {**dict.fromkeys(empty, 0)} and kpis.scope_by_kind(
        Scope(org_id, since=datetime(2027, 1, 1, tzinfo=UTC))) == []


def test_database_activation_counts_learners_of_the_scope(stored):
    from lms.advocacy.kpis import Scope

    org_id = stored["org"].id
    since = datetime(2026, 10, 24, tzinfo=UTC)
    # Learners 1, 2, 3, 4: 1 and 2 active since the 24th → 2 / 4 (as the pure rule).
    assert kpis.scope_activation(Scope(org_id), since=since) == (
        kpis.activation_rate(EVENTS, {1, 2, 3, 4}, since=since), 4)
    # Team "Ventes" (1, 3, 4): only 1 active → 1 / 3.
    assert kpis.scope_activation(Scope(org_id, team="Ventes"), since=since) == (1 / 3, 3)
    assert kpis.scope_activation(Scope(org_id, team="Nobody"), since=since) == (0.0, 0)


def test_database_activation_of_a_cohort(stored, create_org):
    from lms.advocacy.kpis import Scope
    from lms.courses.cohorts.services import create_cohort, enrol
    from lms.courses.programs.services import create_blank_program
    from lms.extensions import db

    org, users = stored["org"], stored["users"]
    program = create_blank_program(organization=org, title="Parcours", language="fr")
    cohort = create_cohort(program=program, name="Pilote", pilot=True)
    for n in (2, 3):
        enrol(cohort=cohort, membership=users[n].memberships[0])
    db.session.commit()
    since = datetime(2026, 10, 24, tzinfo=UTC)
    scope = Scope(org.id, cohort_id=cohort.id)
    assert kpis.scope_activation(scope, since=since) == (0.5, 2)
    assert kpis.scope_totals(scope) == kpis.totals([EVENTS[3], EVENTS[4]])


def test_database_campaign_progress_counts_all_the_campaigns_events(stored):
    progress = kpis.campaigns_progress(stored["org"].id, [stored["campaign"],
                                                          stored["other_campaign"]])
    assert progress[stored["campaign"].id] == kpis.campaign_progress(
        EVENTS, campaign_id=3, target_metric="signups", target_value=8)
    assert progress[stored["campaign"].id] == {"value": 2, "percent": 25.0, "events": 3}
    assert progress[stored["other_campaign"].id] == {"value": 0, "percent": 0.0, "events": 0}
    assert kpis.campaigns_progress(stored["org"].id, []) == {}
