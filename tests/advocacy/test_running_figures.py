"""Each person's totals and last day, each campaign's totals (migration 0038) stay equal to a
rebuild after every write: the scenarios of ``test_daily_figures`` run again, each of their
checks against a rebuild comparing these two tables too.
"""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest
from sqlalchemy import select

import tests.advocacy.test_daily_figures as daily
from lms.advocacy import figures, kpis, services
from lms.advocacy.models import AdvocacyCampaignTotal, AdvocacyPersonTotal
from lms.core.models import utcnow
from lms.extensions import db
from tests.advocacy.test_daily_figures import org  # noqa: F401 (the fixture)

SCENARIOS = [
    daily.test_imports_and_re_imports_keep_the_figures,
    daily.test_an_event_moved_to_another_day_by_its_source_moves_its_figures,
    daily.test_webhook_api_manual_and_orm_writes_keep_the_figures,
    daily.test_deleting_a_campaign_or_an_item_unlinks_the_figures,
    daily.test_erasure_moves_the_figures_with_the_events,
    daily.test_retention_deletes_the_figures_of_the_events_it_deletes,
]


def running(organization_id: int) -> tuple[list[tuple], list[tuple]]:
    person, total = AdvocacyPersonTotal, AdvocacyCampaignTotal
    days = [tuple(r) for r in db.session.execute(
        select(person.user_id, person.last_day, person.events, person.with_own_comment,
               person.clicks).where(person.organization_id == organization_id)
        .order_by(person.user_id))]
    sums = [getattr(total, name) for name in figures.CAMPAIGN_SUMS]
    totals = [tuple(r) for r in db.session.execute(
        select(total.campaign_id, *sums).where(total.organization_id == organization_id)
        .order_by(total.campaign_id))]
    return days, totals


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__[5:])
def test_kept_as_rebuilt_after_every_write(scenario, request, monkeypatch):
    checks = []
    rebuilt_checked = daily.assert_as_rebuilt

    def assert_as_rebuilt(organization_id: int) -> list[tuple]:
        kept = running(organization_id)
        rows = rebuilt_checked(organization_id)
        assert kept == running(organization_id)
        checks.append(kept)
        return rows

    monkeypatch.setattr(daily, "assert_as_rebuilt", assert_as_rebuilt)
    scenario(**{name: request.getfixturevalue(name)
                for name in inspect.signature(scenario).parameters})
    assert checks and any(days for days, _totals in checks)


def test_campaign_totals_count_shares_as_the_figures_do(org):  # noqa: F811
    campaign = services.create_campaign(organization=org, kind="campaign", title="Salon",
                                        target_metric="clicks", target_value=10)
    other = services.create_campaign(organization=org, kind="campaign", title="Forum")
    at = f"{daily.day_text(3)}T10:00:00Z"
    services.record_events(organization=org, items=[("alice@daily.example", {
        "network": "linkedin", "kind": kind, "url": f"https://daily.example/c{n}",
        "occurred_at": at, "clicks": n, "campaign_id": campaign.id})
        for n, kind in enumerate(["share", "post", "comment"])] + [("bob@daily.example", {
            "network": "x", "kind": "share", "url": "https://daily.example/o",
            "occurred_at": at, "impressions": 40, "campaign_id": other.id})], source="api")
    db.session.commit()
    assert running(org.id)[1] == [(campaign.id, 3, 2, 0, 0, 3, 0, 0, 0, 0, 0, 0),
                                  (other.id, 1, 1, 0, 40, 0, 0, 0, 0, 0, 0, 0)]
    assert kpis.campaigns_progress(org.id, [campaign])[campaign.id] == {
        "value": 3, "percent": 30.0, "events": 3}


def test_activation_counts_the_cut_hours_of_its_first_day(org):  # noqa: F811
    """Active since 10:00 on a day: an event at 11:00 that day counts, one at 09:00 does
    not (the last day alone cannot tell them apart: the events of that day are read).
    """
    since = (utcnow() - timedelta(days=3)).replace(hour=10, minute=0, second=0,
                                                   microsecond=0)
    for email, hour in (("alice@daily.example", 11), ("bob@daily.example", 9)):
        services.record_events(organization=org, items=[(email, {
            "network": "linkedin", "kind": "share", "url": f"https://daily.example/h{hour}",
            "occurred_at": since.replace(hour=hour).isoformat()})], source="api")
    db.session.commit()
    assert kpis.scope_activation(kpis.Scope(org.id), since=since) == (0.5, 2)
    assert kpis.scope_activation(kpis.Scope(org.id), since=since - timedelta(hours=2)) == (
        1.0, 2)
    assert kpis.scope_activation(kpis.Scope(org.id), since=since + timedelta(days=1)) == (
        0.0, 2)


def test_the_page_s_one_pass_gives_the_overview_and_the_weekly_trend(org):  # noqa: F811
    """kpis.dashboard (one query) against kpis.overview and kpis.weekly (one each), for
    periods that begin mid-day before, on and after the trend's first Monday, at midnight,
    and for all time; events at every hour of the days around them.
    """
    campaign = services.create_campaign(organization=org, kind="campaign", title="Salon")
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    kinds = ("share", "post", "comment", "reaction")
    items = [(email, {"network": ("linkedin", "x")[n % 2], "kind": kinds[n % 4],
                      "url": f"https://daily.example/p{n}", "clicks": n % 7,
                      "impressions": n, "signups": n % 3, "with_own_comment": n % 5 == 0,
                      "occurred_at": (now - timedelta(hours=5 * n + 1)).isoformat(),
                      **({"campaign_id": campaign.id} if n % 3 == 0 else {})})
             for n in range(600) for email in ("alice@daily.example", "bob@daily.example")
             if (n + len(email)) % 2]
    services.record_events(organization=org, items=items, source="api")
    db.session.commit()
    today = now.date()
    first = kpis.monday(today) - timedelta(weeks=12)
    starts = [None, now - timedelta(days=90), now - timedelta(days=30),
              kpis.figures._midnight(first) + timedelta(hours=7),
              kpis.figures._midnight(first) - timedelta(hours=7),
              kpis.figures._midnight(first) + timedelta(days=3),
              kpis.figures._midnight(first)]
    for since in starts:
        for extra in ({}, {"campaign_id": campaign.id}, {"team": "nope"}):
            scope = kpis.Scope(org.id, since=since, **extra)
            for weeks in (13, 5):
                got, trend = kpis.dashboard(scope, weeks=weeks, today=today)
                assert got == kpis.overview(scope), (since, extra, weeks)
                assert trend == kpis.weekly(scope, weeks=weeks, today=today), (since, extra)
    assert got.totals["events"] == 0  # nobody in the team "nope"
    assert kpis.dashboard(kpis.Scope(org.id), weeks=13, today=today)[0].totals["events"] == 600


def test_the_running_totals_hold_the_daily_figures_sums():
    # One declaration (models.FigureSums, LeaderboardSums) gives every figures table its sums:
    # the writes (figures.SUMS, MONTH_SUMS, CAMPAIGN_SUMS) name columns each table has.
    from lms.advocacy.models import AdvocacyDailyFigure, AdvocacyPersonMonth

    def columns(model):
        return {c.name for c in model.__table__.columns}

    assert set(figures.SUMS) <= columns(AdvocacyDailyFigure)
    assert set(figures.CAMPAIGN_SUMS) == columns(AdvocacyCampaignTotal) - {
        "organization_id", "campaign_id"}
    for model in (AdvocacyPersonMonth, AdvocacyPersonTotal):
        assert set(figures.MONTH_SUMS) <= columns(model)
