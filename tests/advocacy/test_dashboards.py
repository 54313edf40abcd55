"""The dashboards people look at: HR's tiles (change against the previous period, sparkline),
weekly trends per network, ranked leaderboard and import formats by name; the learner's
activity chart and paged list; the timeline by week; the impact report's default cohort and
shared scales."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from lms.accounts.models import Role
from lms.advocacy import impact, kpis, services
from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import add_module, create_blank_program
from lms.courses.sessions.services import schedule_session
from lms.extensions import db
from tests.advocacy.helpers import consent


def _event(user, when, network="linkedin", kind="share", n=[0], **metrics):  # noqa: B006
    n[0] += 1
    return services.normalize_event(
        {"network": network, "kind": kind, "occurred_at": when,
         "url": f"https://www.{network}.com/p/{n[0]}", **metrics},
        user_id=user.id, source="api", now=utcnow())


def _ingest(org, events, *users):
    services.ingest(organization=org, events=events, names={u.id: u.display_name for u in users})
    db.session.commit()


def test_hr_dashboard_tiles_compare_with_the_previous_period(client, create_org, create_user,
                                                             login):
    org = create_org(slug="tiles")
    hr = create_user(Role.HR, org=org)
    a = create_user(org=org, name="Alice Martin")
    b = create_user(org=org, name="Bruno Petit")
    consent(org, a, b)
    now = utcnow()
    # The last 30 days: 3 actions, 30 clicks; the 30 days before: 2 actions, 10 clicks.
    _ingest(org, [
        _event(a, now - timedelta(days=2), clicks=10),
        _event(a, now - timedelta(days=9), network="x", clicks=15),
        _event(b, now - timedelta(days=20), clicks=5, signups=2),
        _event(a, now - timedelta(days=40), clicks=6),
        _event(b, now - timedelta(days=50), clicks=4),
    ], a, b)
    login(hr)
    html = client.get("/o/tiles/advocacy?period=30").get_data(as_text=True)
    # Actions 3 against 2: +50 %; clicks 30 against 10: +200 %.
    tiles = {label: (value, change) for label, value, change in re.findall(
        r'<dt>([^<]+)</dt>\s*<dd><span class="num">([^<]+)</span>'
        r'(?: <span class="change">([^<]+)</span>)?', html)}
    assert tiles["Actions"] == ("3", "+50%") and tiles["Clicks"] == ("30", "+200%")
    assert 'class="tile trend-up"' in html and "vs. the previous 30 days" in html
    assert html.count('class="sparkline"') == 7
    # Weekly trends per network, each with its table.
    for key in ("events", "clicks", "signups"):
        assert f'id="trend-{key}"' in html
    assert ">LinkedIn</text>" in html and ">X</text>" in html
    assert html.count("<summary>The figures</summary>") == 3
    # The leaderboard is a ranked table, not a list.
    board = html[html.index('class="leaderboard"'):]
    assert re.search(r'<td class="rank">1</td><th scope="row">Alice Martin</th>', board)
    # Import formats by the names people know.
    assert ">EveryoneSocial: shares export</option>" in html
    assert '<option value="everyonesocial-shares">' in html
    assert "style=" not in html[html.index("<main"):]  # the CSP refuses inline styles


def test_weekly_sums_per_network_and_week(app, create_org, create_user):
    org = create_org(slug="weeks")
    a = create_user(org=org)
    consent(org, a)
    today = date(2026, 12, 2)  # a Wednesday
    monday = date(2026, 11, 30)
    with time_machine.travel(datetime(2026, 12, 2, 12, tzinfo=UTC), tick=False):
        _ingest(org, [
            _event(a, datetime(2026, 11, 30, 8, tzinfo=UTC), clicks=3),
            _event(a, datetime(2026, 12, 2, 8, tzinfo=UTC), network="x", clicks=1),
            _event(a, datetime(2026, 11, 29, 23, tzinfo=UTC), clicks=7),  # the Sunday before
            _event(a, datetime(2026, 10, 1, tzinfo=UTC), clicks=100),  # before the 4 weeks
        ], a)
        w = kpis.weekly(kpis.Scope(org.id), weeks=4, today=today)
    assert w.weeks == [monday - timedelta(weeks=i) for i in (3, 2, 1, 0)]
    assert w.total["events"] == [0, 0, 1, 2]
    assert w.total["clicks"] == [0, 0, 7, 4]
    assert w.per_network["linkedin"]["clicks"] == [0, 0, 7, 3]
    assert w.per_network["x"]["events"] == [0, 0, 0, 1]


def test_my_activity_has_a_chart_and_a_paged_list(client, create_org, create_user, login):
    org = create_org(slug="me")
    a = create_user(org=org)
    consent(org, a)
    now = utcnow()
    _ingest(org, [_event(a, now - timedelta(days=i), clicks=i) for i in range(25)], a)
    login(a)
    html = client.get("/o/me/advocacy/me").get_data(as_text=True)
    assert 'id="my-trend"' in html and "<title id=\"my-trend-t\">My actions per week</title>" \
        in html
    assert "Page 1 of 2" in html and html.count("Open the post") == 20
    second = client.get("/o/me/advocacy/me?page=2").get_data(as_text=True)
    assert second.count("Open the post") == 5 and 'rel="prev"' in second


def test_timeline_groups_entries_by_week_and_says_what_each_link_opens(
        client, create_org, create_user, login):
    org = create_org(slug="tl")
    a = create_user(org=org)
    consent(org, a)
    with time_machine.travel(datetime(2026, 12, 2, 12, tzinfo=UTC), tick=False):
        _ingest(org, [_event(a, datetime(2026, 12, 1, 9, tzinfo=UTC)),
                      _event(a, datetime(2026, 11, 24, 9, tzinfo=UTC), network="x"),
                      _event(a, datetime(2026, 11, 25, 9, tzinfo=UTC))], a)
        login(a)
        html = client.get("/o/tl/timeline").get_data(as_text=True)
    assert "Week of November 30, 2026" in html and "Week of November 23, 2026" in html
    assert html.index("Week of November 30, 2026") < html.index("Week of November 23, 2026")
    assert html.count('class="timeline-week"') == 2
    assert "Open the LinkedIn post" in html and "Open the X post" in html
    assert ">see<" not in html
    assert 'class="icon" aria-hidden="true"' in html


def _cohort_with_session(org, program, workshop, name, start):
    cohort = create_cohort(program=program, name=name, starts_on=start.date())
    schedule_session(cohort=cohort, module=workshop, starts_at=start,
                             ends_at=start + timedelta(hours=3), place="Lyon")
    return cohort


def test_impact_opens_on_the_latest_cohort_whose_weeks_after_have_begun(
        client, create_org, create_user, login):
    org = create_org(slug="imp")
    hr = create_user(Role.HR, org=org)
    program = create_blank_program(organization=org, title="Parcours", language="fr")
    workshop = add_module(program=program, kind="workshop", title="Atelier")
    now = utcnow()
    old = _cohort_with_session(org, program, workshop, "Printemps", now - timedelta(days=90))
    recent = _cohort_with_session(org, program, workshop, "Automne", now - timedelta(days=10))
    future = _cohort_with_session(org, program, workshop, "Hiver", now + timedelta(days=40))
    pilot = create_cohort(program=program, name="Pilote", pilot=True,
                                  starts_on=(now - timedelta(days=200)).date())
    today = _cohort_with_session(org, program, workshop, "Refresher", now - timedelta(hours=2))
    db.session.commit()
    # Begun a week ago or more (changes to show) beats begun this morning.
    assert impact.default_cohort([today, future, recent, old, pilot], now) == recent
    assert impact.default_cohort([today, future, old], now) == old
    assert impact.default_cohort([today, future], now) == today
    # Nothing has begun: the pilot, else the newest.
    assert impact.default_cohort([future], now) == future
    login(hr)
    html = client.get("/o/imp/advocacy/impact").get_data(as_text=True)
    assert '<h2 id="detail-h">Automne</h2>' in html
    # The overview keeps its key column: the change, in a table whose first column sticks.
    assert 'class="impact-table sticky-first"' in html
    assert html.count("<th scope=\"col\"") >= 6 and ">Change, in percent</th>" in html


def _svg(html, chart_id):
    start = html.index(f'id="{chart_id}"')
    return html[start:html.index("</svg>", start)]


def test_impact_draws_comparable_figures_on_a_shared_scale(client, create_org, create_user,
                                                           login):
    org = create_org(slug="scale")
    hr = create_user(Role.HR, org=org)
    a = create_user(org=org)
    program = create_blank_program(organization=org, title="Parcours", language="fr")
    workshop = add_module(program=program, kind="workshop", title="Atelier")
    now = utcnow()
    cohort = _cohort_with_session(org, program, workshop, "Automne", now - timedelta(days=14))
    enrol(cohort=cohort, membership=a.memberships[0])
    db.session.commit()
    consent(org, a)
    _ingest(org, [_event(a, now - timedelta(days=20), clicks=40),
                  _event(a, now - timedelta(days=3), clicks=300, hires=1)], a)
    login(hr)
    html = client.get(f"/o/scale/advocacy/impact?cohort={cohort.id}").get_data(as_text=True)
    # Clicks and hires are not drawn on one scale, nor each on its own: by unit.
    audience, results = (_svg(html, "impact-audience"), _svg(html, "impact-results"))
    assert ">Clicks</text>" in audience and ">Hires</text>" not in audience
    assert ">Hires</text>" in results and ">Sign-ups</text>" in results
    # In the audience chart, before (40 clicks) and after (300) share one axis up to 300.
    widths = [float(w) for w in re.findall(r'width="([\d.]+)" height="14"', audience)]
    assert widths[1] == max(widths) and widths[0] == pytest.approx(widths[1] * 40 / 300, abs=0.1)
    assert ">300<" in audience
    assert "<title id=\"impact-audience-t\">" in html and "<summary>The figures</summary>" in html
