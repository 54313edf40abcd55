"""A cohort against colleagues not yet trained, formats compared, ROI: the services, the page,
the PDF, the settings and the API, on a small organization whose figures are computed by hand.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest

from lms.accounts.models import Role
from lms.advocacy import services as advocacy
from lms.coaching.models import HELD, FollowUp
from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import add_module, create_blank_program
from lms.courses.sessions.services import schedule_session
from lms.extensions import db
from lms.impact import comparison, estimator, roi, services

# Trained: 1 share before, 3 after (+2 per 28 days); coached ones 5 after (+4).
# Not yet trained: 1 before, 2 after (+1). Per month (30 days): 2×30/28 − 1×30/28 = 30/28.
PER_MONTH = 30 / 28


@pytest.fixture()
def world(create_org, create_user):
    now = utcnow()
    kickoff = now - timedelta(weeks=6)
    org = create_org(slug="lumiere")
    hr = create_user(Role.HR, org=org, name="Hélène RH")
    trainer = create_user(Role.TRAINER, org=org)
    trained = [create_user(Role.LEARNER, org=org, name=f"Trained {i}") for i in range(6)]
    later = [create_user(Role.LEARNER, org=org, name=f"Wave 2 {i}") for i in range(3)]
    never = [create_user(Role.LEARNER, org=org, name=f"Never {i}") for i in range(3)]
    earlier = create_user(Role.LEARNER, org=org, name="Trained earlier")
    no_consent = create_user(Role.LEARNER, org=org, name="No consent")
    program = create_blank_program(organization=org, title="Parcours", language="en")
    workshop = add_module(program=program, kind="workshop", title="Kick-off")
    coaching = add_module(program=program, kind="coaching", title="Follow-up")
    pilot = create_cohort(program=program, name="Pilot group", pilot=True)
    enrollments = [enrol(cohort=pilot, membership=u.memberships[0]) for u in trained]
    schedule_session(cohort=pilot, module=workshop, starts_at=kickoff,
                     ends_at=kickoff + timedelta(hours=7), place="Lyon")
    wave = create_cohort(program=program, name="Wave 2",
                         starts_on=(now + timedelta(days=30)).date())
    for u in later:
        enrol(cohort=wave, membership=u.memberships[0])
    first = create_cohort(program=program, name="Earlier run",
                          starts_on=(kickoff - timedelta(weeks=2)).date())
    enrol(cohort=first, membership=earlier.memberships[0])
    # Three of the trained are coached (a follow-up held).
    for e in enrollments[:3]:
        db.session.add(FollowUp(organization_id=org.id, enrollment_id=e.id,
                                module_id=coaching.id, scheduled_at=kickoff + timedelta(days=7),
                                duration_minutes=60, status=HELD))
    db.session.commit()
    for u in trained + later + never + [earlier, no_consent]:
        advocacy.give_consent(organization=org, user=u)
    advocacy.revoke_consent(organization=org, user=no_consent)
    events = []

    def shares(user, before, after):
        for n in range(before):
            events.append((user, kickoff - timedelta(days=3 + n)))
        for n in range(after):
            events.append((user, kickoff + timedelta(days=2 + n)))

    for i, u in enumerate(trained):
        shares(u, 1, 5 if i < 3 else 3)
    for u in later + never:
        shares(u, 1, 2)
    shares(earlier, 0, 9)
    shares(no_consent, 0, 9)
    advocacy.ingest(organization=org, events=[advocacy.normalize_event(
        {"network": "linkedin", "kind": "share", "occurred_at": at, "clicks": 2,
         "url": f"https://www.linkedin.com/feed/update/{n}"}, user_id=u.id, source="api",
        now=now) for n, (u, at) in enumerate(events)], names={})
    db.session.commit()
    return {"org": org, "hr": hr, "trainer": trainer, "pilot": pilot, "trained": trained}


def test_the_estimate_against_colleagues_not_yet_trained(world):
    result = comparison.compare_cohort(world["pilot"], weeks=4)
    # Later waves and never-enrolled colleagues; not the one trained earlier nor the one who
    # withdrew consent.
    assert (len(result.treated), len(result.control)) == (6, 6)
    shares = result.estimates["shares"]
    # Trained mean change: (3 × 4 + 3 × 2) / 6 = 3 per 28 days; not yet trained: 1.
    assert shares.point == pytest.approx(2 * PER_MONTH)
    assert shares.low < shares.point < shares.high
    assert shares.verdict() == estimator.INCREASE
    assert result.estimates["clicks"].point == pytest.approx(4 * PER_MONTH)
    # Event study: 8 whole weeks, the trained above the others from week 0 only.
    assert [k for k, _t, _c in result.event_study] == list(range(-4, 4))
    # Week -1 holds everyone's share before; week 0 the trained's 5 or 3 and the others' 2.
    assert result.event_study[3] == (-1, 1.0, 1.0)
    assert result.event_study[4] == (0, (3 * 5 + 3 * 3) / 6, 2.0)
    assert result.event_study[5] == (1, 0.0, 0.0)


def test_formats_compared_within_the_cohort(world):
    coached = comparison.compare_formats(world["pilot"], "coached", weeks=4)
    assert (coached.yes, coached.no) == (3, 3)
    # Coached +4, the others +2 per 28 days.
    assert coached.estimates["shares"].point == pytest.approx(2 * PER_MONTH)
    assert coached.estimates["shares"].verdict() == estimator.TOO_FEW


def test_roi_with_values_and_costs(world):
    services.save_settings(organization=world["org"], data={
        "currency": "eur", "outcome_values": {"clicks": "1.50"}, "trainer_day_rate": "700",
        "learner_hourly_cost": "", "tools_cost_per_learner": "10"})
    db.session.commit()
    result = comparison.compare_cohort(world["pilot"], weeks=4)
    # Value: 1.50 per click, 2 clicks a share → 3 × the shares estimate.
    assert result.estimates["value"].point == pytest.approx(3 * 2 * PER_MONTH)
    cohort_roi = roi.cohort_roi(result)
    # One 7-hour day at 700, tools 10 × 6 learners; no hourly cost.
    assert cohort_roi.costs.total == pytest.approx(760.0)
    benefit = 3 * 2 * PER_MONTH * 6 * 28 / 30
    assert cohort_roi.benefit[1] == pytest.approx(benefit)
    assert cohort_roi.roi[1] == pytest.approx((benefit - 760) / 760)


def test_settings_refuse_bad_amounts_and_keep_nothing(world):
    from lms.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        services.save_settings(organization=world["org"], data={
            "currency": "euros", "outcome_values": {"signups": "-3", "likes": "1"},
            "trainer_day_rate": "a lot"})
    assert set(refused.value.fields) == {"currency", "value_signups", "value_likes",
                                         "trainer_day_rate"}
    assert comparison.settings_of(world["org"].id) is None


def test_the_page_the_settings_and_the_pdf(world, client, login):
    org, pilot = world["org"], world["pilot"]
    login(world["hr"])
    page = client.get(f"/o/{org.slug}/impact/cohorts/{pilot.id}?format=coached")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "likely increase of" in html and "shares per person per month" in html
    assert "too few people to tell" in html and 'id="event-study"' in html
    bad = client.post(f"/o/{org.slug}/impact/settings", data={
        "currency": "EUR", "value_signups": "douze", "trainer_day_rate": "800"})
    assert bad.status_code == 422
    assert "A positive amount, or blank." in bad.get_data(as_text=True)
    assert 'value="douze"' in bad.get_data(as_text=True)
    saved = client.post(f"/o/{org.slug}/impact/settings?cohort={pilot.id}", data={
        "currency": "EUR", "value_clicks": "2", "trainer_day_rate": "800"})
    assert saved.status_code == 302
    pdf = client.get(f"/o/{org.slug}/impact/cohorts/{pilot.id}/roi.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True,
                              check=True).stdout.decode()
        assert "Return on investment: Pilot group" in text and "Parcours" in text
        assert "likely increase of" in text


def test_the_page_in_french(world, client, login):
    login(world["hr"])
    html = client.get(f"/o/{world['org'].slug}/impact/cohorts/{world['pilot'].id}",
                      headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "hausse probable de" in html and "partages par personne et par mois" in html


def test_the_api(world, client, api_token):
    org, pilot = world["org"], world["pilot"]
    headers = api_token(world["hr"])
    body = client.get(f"/api/v1/orgs/{org.slug}/impact/cohorts/{pilot.id}?weeks=4",
                      headers=headers).get_json()
    assert body["people"] == {"trained": 6, "not_yet_trained": 6}
    assert body["estimates"]["shares"]["point"] == pytest.approx(2 * PER_MONTH, abs=1e-4)
    assert body["estimates"]["shares"]["verdict"] == "increase"
    formats = client.get(f"/api/v1/orgs/{org.slug}/impact/cohorts/{pilot.id}/formats"
                         "?format=coached&scope=program", headers=headers).get_json()
    assert (formats["followed"], formats["not_followed"]) == (3, 4)
    bad = client.put(f"/api/v1/orgs/{org.slug}/impact/settings", headers=headers,
                     json={"outcome_values": {"hires": "x"}})
    assert bad.status_code == 422 and "value_hires" in bad.get_json()["error"]["fields"]
    put = client.put(f"/api/v1/orgs/{org.slug}/impact/settings", headers=headers,
                     json={"outcome_values": {"hires": 5000}, "trainer_day_rate": 900})
    assert put.get_json()["outcome_values"] == {"hires": "5000.00"}
    result = client.get(f"/api/v1/orgs/{org.slug}/impact/cohorts/{pilot.id}/roi",
                        headers=headers).get_json()
    assert result["cohort"]["costs"]["trainers"] == pytest.approx(900.0)
    assert result["program"]["trained_cohorts"] == 2
    assert client.get(f"/api/v1/orgs/{org.slug}/impact/cohorts/{pilot.id}?weeks=0",
                      headers=headers).status_code == 400
    assert client.put(f"/api/v1/orgs/{org.slug}/impact/settings", json={},
                      headers=api_token(world["trainer"])).status_code == 403
    learner = api_token(world["trained"][0])
    assert client.get(f"/api/v1/orgs/{org.slug}/impact/cohorts/{pilot.id}",
                      headers=learner).status_code == 403
