"""The before/after impact report, checked against values computed by hand."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from lms.accounts.models import Role
from lms.advocacy import impact, services
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import add_module, create_blank_program
from lms.courses.sessions.services import schedule_session
from lms.extensions import db
from tests.advocacy.helpers import consent

T = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)  # the first session: the training date
NOW = datetime(2026, 11, 1, tzinfo=UTC)  # both 4-week windows are over


def _event(user, when, kind="share", n=[0], **metrics):  # noqa: B006  (a counter)
    n[0] += 1
    return services.normalize_event(
        {"network": "linkedin", "kind": kind, "occurred_at": when,
         "url": f"https://www.linkedin.com/feed/update/{n[0]}", **metrics},
        user_id=user.id, source="api", now=NOW)


@pytest.fixture()
def world(create_org, create_user, content, questionnaire, answer_as):
    org = create_org(slug="lumiere")
    hr = create_user(Role.HR, org=org)
    trainer = create_user(Role.TRAINER, org=org)
    a, b, c, d = (create_user(Role.LEARNER, org=org, name=n) for n in ("Alice", "Bruno",
                                                                          "Chloé", "Denis"))
    program = create_blank_program(organization=org, title="Parcours", language="fr")
    workshop = add_module(program=program, kind="workshop", title="Atelier")
    cohort = create_cohort(program=program, name="Pilote", pilot=True,
                           starts_on=date(2026, 9, 1))
    for user in (a, b, c, d):
        enrol(cohort=cohort, membership=user.memberships[0])
    schedule_session(cohort=cohort, module=workshop, starts_at=T,
                     ends_at=T.replace(hour=12), place="Lyon")
    schedule_session(cohort=cohort, module=workshop,
                     starts_at=datetime(2026, 10, 1, 9, tzinfo=UTC),
                     ends_at=datetime(2026, 10, 1, 12, tzinfo=UTC), place="Lyon")
    db.session.commit()
    consent(org, a, b, c, d)
    events = [
        # Alice: one share before; a share, a post and a comment after.
        _event(a, "2026-09-01", clicks=4, reactions=2),
        _event(a, "2026-09-20", clicks=10, signups=1),
        _event(a, "2026-09-25", kind="post", clicks=6, comments=3),
        _event(a, "2026-10-01", kind="comment", reactions=1),
        # Bruno: nothing before; a reaction at the very start of the training, a share after.
        _event(b, T, kind="reaction"),
        _event(b, "2026-10-10", clicks=2, hires=1),
        # Chloé: a reaction at the very start of the "before" window and a share; outside
        # both windows, a share in early August and one in late October (not counted).
        _event(c, "2026-08-18 09:00", kind="reaction"),
        _event(c, "2026-08-20", clicks=1),
        _event(c, "2026-08-10", clicks=50),
        _event(c, "2026-10-20", clicks=50),
        # Denis shared a lot, then revoked his consent: not counted.
        _event(d, "2026-09-20", clicks=100),
    ]
    services.ingest(organization=org, events=events,
                    names={u.id: u.display_name for u in (a, b, c, d)})
    services.revoke_consent(organization=org, user=d)
    # Skill maps: Alice masters level 3 everywhere, Bruno level 1; Chloé has none.
    from lms.assessments import services as skills

    for user, level in ((a, 3), (b, 1)):
        attempt, _ = skills.start_attempt(membership=user.memberships[0],
                                          questionnaire=questionnaire)
        answer_as(attempt, {f"C{i}": level for i in range(1, 9)})
        skills.submit_attempt(attempt=attempt)
    db.session.commit()
    return {"org": org, "hr": hr, "trainer": trainer, "cohort": cohort, "users": (a, b, c, d)}


@pytest.fixture()
def content():
    from lms.assessments import queries
    from lms.assessments import services as skills

    skills.load_builtin_content()
    db.session.commit()
    return queries.default_framework()


@pytest.fixture()
def questionnaire(content):
    from lms.assessments import queries

    return queries.builtin_questionnaires()[0]


@pytest.fixture()
def answer_as():
    from lms.assessments.demo import answers_for

    def answer(attempt, levels):
        answers_for(attempt, {f"C{i}": levels.get(f"C{i}", 0) for i in range(1, 9)}, set())

    return answer


def test_before_and_after_totals_per_learner_and_change(world):
    r = impact.cohort_impact(world["cohort"], weeks=4, now=NOW)
    assert (r.training.at, r.training.source) == (T, "session")
    assert r.windows["before"] == (datetime(2026, 8, 18, 9, tzinfo=UTC), T)
    assert r.windows["after"] == (T, datetime(2026, 10, 13, 9, tzinfo=UTC))
    assert r.after_complete and r.days == {"before": 28.0, "after": 28.0}
    # Four enrolled; Denis revoked his consent: three counted, two active in each window.
    assert (r.learners, r.consenting, r.active["before"], r.active["after"]) == (4, 3, 2, 2)
    assert r.totals["before"] == {"events": 3, "shares": 2, "clicks": 5, "reactions": 2,
                                  "comments": 0, "signups": 0, "hires": 0}
    assert r.totals["after"] == {"events": 5, "shares": 3, "clicks": 18, "reactions": 1,
                                 "comments": 3, "signups": 1, "hires": 1}
    assert r.per_learner("before", "shares") == pytest.approx(2 / 3)
    assert r.per_learner("after", "shares") == 1.0
    assert r.change("shares") == pytest.approx(50.0)     # 2 → 3
    assert r.change("clicks") == pytest.approx(260.0)    # 5 → 18
    assert r.change("reactions") == pytest.approx(-50.0)  # 2 → 1
    assert r.change("comments") is None                  # nothing before: no percentage
    rows = {row.name: row for row in r.rows}
    assert set(rows) == {"Alice", "Bruno", "Chloé"}
    assert (rows["Alice"].before["clicks"], rows["Alice"].after["clicks"]) == (4, 16)
    assert (rows["Chloé"].before["events"], rows["Chloé"].after["events"]) == (2, 0)


def test_under_the_charter_gate_only_the_people_who_accepted_count(world):
    from lms.charter import services as charter

    a, b, c, _d = world["users"]
    charter.publish(organization=world["org"], body_fr="Je parle en mon nom.", body_en="",
                    by=None)
    charter.set_gates(organization=world["org"], advocacy=True, exercises=False,
                      certificates=False)
    charter.accept(membership=a.memberships[0])
    db.session.commit()
    # The learners' rows (in detail) and the cohort's totals alone (an overview's other
    # cohorts) count Alice's events only: one share before; a share, a post and a comment.
    reports = [impact.organization_impact([world["cohort"]], weeks=4, now=NOW,
                                          detailed=detailed)[0] for detailed in (None, ())]
    for r in reports:
        assert r.totals["before"]["events"] == 1 and r.totals["after"]["events"] == 3
        assert r.totals["after"]["clicks"] == 16
        assert (r.active["before"], r.active["after"]) == (1, 1)
    assert {row.name: (row.before["events"], row.after["events"])
            for row in reports[0].rows if row.before["events"] or row.after["events"]} == {
        "Alice": (1, 3)}


def test_skill_bands_relate_levels_to_activity(world):
    r = impact.cohort_impact(world["cohort"], weeks=4, now=NOW)
    bands = {b["band"]: b for b in r.bands}
    assert [b["band"] for b in r.bands] == [3, 1, 0]  # highest first, not assessed last
    assert (bands[3]["learners"], bands[3]["after_events"], bands[3]["after_shares"],
            bands[3]["after_clicks"], bands[3]["before_events"]) == (1, 3.0, 2.0, 16.0, 1.0)
    assert (bands[1]["learners"], bands[1]["after_events"], bands[1]["after_clicks"]) == (
        1, 2.0, 2.0)
    assert (bands[0]["learners"], bands[0]["before_events"], bands[0]["after_events"],
            bands[0]["active_after"]) == (1, 2.0, 0.0, 0)


def test_weeks_change_the_windows(world):
    r = impact.cohort_impact(world["cohort"], weeks=1, now=NOW)
    # 8–15 Sept: nothing; 15–22 Sept: Bruno's reaction and Alice's share.
    assert r.totals["before"]["events"] == 0 and r.totals["after"]["events"] == 2
    assert r.change("events") is None


def test_a_running_after_window_compares_daily_rates(world):
    now = datetime(2026, 9, 29, 9, tzinfo=UTC)  # 14 days after the training
    r = impact.cohort_impact(world["cohort"], weeks=4, now=now)
    assert not r.after_complete and r.days["after"] == 14.0
    # After so far: Bruno's reaction, Alice's share and post (clicks 16) over 14 days,
    # against 5 clicks over 28 days before: (16 / 14) / (5 / 28) - 1 = +540 %.
    assert r.totals["after"]["clicks"] == 16
    assert r.change("clicks") == pytest.approx(540.0)


def test_no_change_is_claimed_in_the_first_week_after_training(world):
    now = datetime(2026, 9, 18, 9, tzinfo=UTC)  # three days after the training
    r = impact.cohort_impact(world["cohort"], weeks=4, now=now)
    assert r.held and r.too_early and r.totals["after"]["events"] > 0
    assert r.change("events") is None and r.change("clicks") is None
    later = impact.cohort_impact(world["cohort"], weeks=4, now=now + timedelta(days=4))
    assert not later.too_early and later.change("clicks") is not None


def test_without_a_session_the_start_date_is_the_training_date(world):
    from lms.courses.sessions.models import TrainingSession

    for s in db.session.scalars(db.select(TrainingSession)):
        db.session.delete(s)
    db.session.commit()
    r = impact.cohort_impact(world["cohort"], weeks=4, now=NOW)
    assert (r.training.at, r.training.source) == (datetime(2026, 9, 1, tzinfo=UTC),
                                                  "start_date")
    # Before 4–31 Aug: Chloé's two (the 10 Aug share is in now); after 1–29 Sept: Alice ×3
    # (her 1 Sept share is now "after"), Bruno's reaction.
    assert r.totals["before"]["events"] == 3 and r.totals["after"]["events"] == 4


def test_the_page_the_csv_and_the_api(world, client, login, api_token):
    org, cohort = world["org"], world["cohort"]
    login(world["hr"])
    page = client.get(f"/o/{org.slug}/advocacy/impact?weeks=4")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Pilote" in html and "<svg" in html and "first session" in html
    rows = list(csv.DictReader(io.StringIO(client.get(
        f"/o/{org.slug}/advocacy/impact?weeks=4&export=cohorts").get_data(as_text=True))))
    shares = next(r for r in rows if r["figure"] == "shares")
    # The page's "now" is real time: the windows of September 2026 are over by then or not;
    # the figures inside them are the same either way once the after window has ended.
    assert (shares["learners_with_consent"], shares["training_date"],
            shares["training_date_source"]) == ("3", "2026-09-15", "session")
    learners = client.get(f"/o/{org.slug}/advocacy/impact?cohort={cohort.id}&export=learners")
    assert learners.status_code == 200 and "Alice" in learners.get_data(as_text=True)
    assert "Denis" not in learners.get_data(as_text=True)
    assert client.get(f"/o/{org.slug}/advocacy/impact?cohort=999999").status_code == 404
    body = client.get(f"/api/v1/orgs/{org.slug}/advocacy/impact?weeks=4&cohort={cohort.id}",
                      headers=api_token(world["trainer"])).get_json()
    item = body["items"][0]
    assert item["learners"]["with_consent"] == 3
    assert item["training_date_source"] == "session"
    assert client.get(f"/api/v1/orgs/{org.slug}/advocacy/impact?weeks=0",
                      headers=api_token(world["trainer"])).status_code == 400
    learner = world["users"][0]
    assert client.get(f"/api/v1/orgs/{org.slug}/advocacy/impact",
                      headers=api_token(learner)).status_code == 403


def test_learners_cannot_see_the_report(world, client, login):
    login(world["users"][0])
    assert client.get(f"/o/{world['org'].slug}/advocacy/impact").status_code == 403


def test_empty_state(create_org, create_user, client, login):
    org = create_org()
    login(create_user(Role.HR, org=org))
    html = client.get(f"/o/{org.slug}/advocacy/impact").get_data(as_text=True)
    assert "No cohort yet" in html


def test_percent_change_and_bands_by_hand():
    assert impact.percent_change(4, 28, 6, 28) == pytest.approx(50.0)
    assert impact.percent_change(0, 28, 6, 28) is None
    assert impact.percent_change(4, 28, 6, 0) is None
    assert impact.band_of([]) == 0 and impact.band_of([0, 0]) == 0
    assert impact.band_of([2, 3, 3, 3]) == 2 and impact.band_of([5, 5]) == 5
    assert impact.clamp_weeks("8") == 8 and impact.clamp_weeks("x") == 4
    assert impact.clamp_weeks("0") == 4


def test_the_report_in_french(world, client, login):
    login(world["hr"])
    html = client.get(f"/o/{world['org'].slug}/advocacy/impact",
                      headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Impact de la formation sur la prise de parole" in html
    assert "première session" in html and "Niveau 3 — Autonome" in html


def test_the_cohort_overview_is_paged(world, client, login):
    program = world["cohort"].program
    for n in range(11):
        create_cohort(program=program, name=f"Vague {n + 1:02d}")
    db.session.commit()
    login(world["hr"])
    first = client.get(f"/o/{world['org'].slug}/advocacy/impact").get_data(as_text=True)
    second = client.get(f"/o/{world['org'].slug}/advocacy/impact?page=2").get_data(
        as_text=True)
    # Newest first, ten a page: the pilot is on page 2 and still shown in detail on page 1.
    assert "Page 1 of 2" in first and "Vague 11" in first and "Vague 01" not in first
    assert "Vague 01" in second and ">Pilote</a>" in second
    assert "Training date: Sep 15, 2026" in first



def test_each_learner_links_to_their_timeline(world, client, login):
    org, cohort = world["org"], world["cohort"]
    login(world["hr"])
    html = client.get(f"/o/{org.slug}/advocacy/impact?cohort={cohort.id}").get_data(
        as_text=True)
    # The links are written from one url_for: each learner's leads to their own timeline.
    for user in world["users"][:3]:
        link = f"/o/{org.slug}/learners/{user.memberships[0].id}/timeline"
        assert f'<a href="{link}">{user.display_name}</a>' in html
        page = client.get(link)
        assert page.status_code == 200 and user.display_name in page.get_data(as_text=True)


def test_cohorts_not_in_detail_have_the_same_totals_summed_by_the_database(world):
    program = world["cohort"].program
    # A second cohort trained later, sharing Alice and Bruno: its windows cut the events
    # differently.
    other = create_cohort(program=program, name="Vague 2",
                          starts_on=(T + timedelta(days=16)).date())
    for user in world["users"][:2]:
        enrol(cohort=other, membership=user.memberships[0])
    empty = create_cohort(program=program, name="Vague 3")  # no training date
    db.session.commit()
    cohorts = [world["cohort"], other, empty]
    seen = []
    for weeks in (1, 4, 8):
        # After both windows, during the first after window, before the training.
        for now in (NOW, T + timedelta(days=5), T - timedelta(days=14)):
            full = impact.organization_impact(cohorts, weeks=weeks, now=now)
            brief = impact.organization_impact(cohorts, weeks=weeks, now=now, detailed=set())
            for a, b in zip(full, brief, strict=True):
                assert (b.totals, b.active, b.days, b.consenting) == (
                    a.totals, a.active, a.days, a.consenting)
                assert b.rows == [] and b.bands == []
                seen.append(a.totals["after"]["events"] and a.active["before"])
    assert any(seen)  # figures in both windows were compared, not zeros alone
