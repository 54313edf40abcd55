"""The parrot effect: own words in shares and near-identical post texts, before and after the
training, per learner and cohort — counted by hand on a small cohort; the ``text`` of an event
through the one intake (CSV, API), its limit, its export and its erasure.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.accounts.models import Role
from lms.advocacy import csvimport
from lms.advocacy import services as advocacy
from lms.advocacy.models import MAX_TEXT, AdvocacyEvent
from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import add_module, create_blank_program
from lms.courses.sessions.services import schedule_session
from lms.extensions import db
from lms.impact import parrot
from lms.privacy import export as privacy_export
from lms.privacy import services as privacy
from tests.support import load_demo_once

SAMPLE = ("Maison Lumière ouvre son nouvel atelier de Lyon : venez découvrir nos luminaires "
          "fabriqués en France lors des portes ouvertes.")
OWN_1 = ("J'ai visité l'atelier la semaine dernière et les artisans m'ont montré comment ils "
         "montent une suspension en laiton.")
OWN_2 = ("Question à mon réseau d'architectes : qu'attendez-vous d'un fabricant quand vous "
         "rénovez un hôtel de centre-ville ?")
OWN_3 = ("Trois leçons apprises avec un client cette année : la lumière se choisit sur place, "
         "toujours, et les délais comptent.")


def test_near_identical_texts_across_people_only():
    texts = [
        (1, SAMPLE),                      # 0: pasted
        (2, SAMPLE + " #Lyon"),           # 1: pasted with a hashtag: same words plus one
        (1, SAMPLE.upper()),              # 2: pasted again by person 1 (case ignored)
        (3, OWN_1),                       # 3: own words
        (4, "Bravo à toute l'équipe !"),  # 4: too short to count
        (5, "Bravo à toute l'équipe !"),  # 5: too short to count
        (6, OWN_1.replace("laiton", "cuivre")),  # 6: one word changed from 3
    ]
    # 0-1, 1-2 match across people; 0-2 is one person; 3-6 differ by one word in 19.
    assert parrot.near_identical(texts) == {0, 1, 2, 3, 6}
    # A person copying only themselves is not a parrot of colleagues.
    assert parrot.near_identical([(1, SAMPLE), (1, SAMPLE)]) == set()
    assert parrot.near_identical([(1, SAMPLE), (2, OWN_2), (3, OWN_3)]) == set()


@pytest.fixture()
def cohort_world(create_org, create_user):
    now = utcnow()
    kickoff = now - timedelta(weeks=3)
    org = create_org(slug="lumiere")
    hr = create_user(Role.HR, org=org, name="Hélène RH")
    learners = [create_user(Role.LEARNER, org=org, name=f"Learner {i}") for i in (1, 2, 3)]
    outsider = create_user(Role.LEARNER, org=org, name="No consent")
    program = create_blank_program(organization=org, title="Parcours", language="en")
    workshop = add_module(program=program, kind="workshop", title="Kick-off")
    pilot = create_cohort(program=program, name="Pilot group", pilot=True)
    for u in [*learners, outsider]:
        enrol(cohort=pilot, membership=u.memberships[0])
    schedule_session(cohort=pilot, module=workshop, starts_at=kickoff,
                     ends_at=kickoff + timedelta(hours=7), place="Lyon")
    db.session.commit()
    for u in learners:
        advocacy.give_consent(organization=org, user=u)
    l1, l2, l3 = learners
    before, after = kickoff - timedelta(days=5), kickoff + timedelta(days=4)
    rows = [
        (l1, "share", before, False, SAMPLE),
        (l1, "share", before + timedelta(hours=1), False, SAMPLE + " À très vite !"),
        (l2, "share", before, False, SAMPLE + " #Lyon"),
        (l3, "post", before, True, OWN_3),
        (l1, "share", after, True, OWN_1),
        (l1, "share", after + timedelta(hours=1), False, None),
        (l2, "share", after, True, OWN_2),
        (l3, "share", after, True, SAMPLE),
        (l3, "comment", after, False, SAMPLE),  # a comment: neither share nor post
        (outsider, "share", after, False, SAMPLE),  # no consent: not counted
    ]
    advocacy.ingest(organization=org, events=[advocacy.normalize_event(
        {"network": "linkedin", "kind": kind, "occurred_at": at, "with_own_comment": own,
         "text": text, "url": f"https://www.linkedin.com/feed/update/{n}"},
        user_id=u.id, source="api", now=now) for n, (u, kind, at, own, text) in enumerate(rows)],
        names={})
    db.session.commit()
    return {"org": org, "hr": hr, "learners": learners, "pilot": pilot}


def test_cohort_figures_before_and_after(cohort_world):
    result = parrot.cohort_parrot(cohort_world["pilot"], weeks=4)
    before, after = result.totals["before"], result.totals["after"]
    # Before: 3 shares, none with own words; 4 texts, the 3 pasted ones near-identical.
    assert (before.shares, before.own_words, before.texts, before.near_identical) == (3, 0, 4, 3)
    assert before.own_words_percent == 0 and before.plain_percent == 100
    # After: 4 shares, 3 with own words (75 %); 3 texts, only one of them the sample.
    assert (after.shares, after.own_words, after.texts, after.near_identical) == (4, 3, 3, 0)
    assert after.own_words_percent == 75
    l1, l2, l3 = cohort_world["learners"]
    mine = result.of(l1.id)
    assert (mine["before"].own_words_percent, mine["before"].near_identical) == (0, 2)
    assert (mine["after"].own_words_percent, mine["after"].near_identical) == (50, 0)
    assert result.of(l3.id)["before"].own_words_percent is None  # a post, no share


def test_cohort_page_shows_the_parrot_section(client, login, cohort_world):
    login(cohort_world["hr"])
    page = client.get(f"/o/lumiere/impact/cohorts/{cohort_world['pilot'].id}?weeks=4")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "the parrot effect" in html
    assert "Learner 1" in html and "No consent" not in html
    assert "75" in html


def _days_ago(days: int) -> str:
    """A recent day (ISO), so the events stay within any listing or retention window."""
    return (utcnow() - timedelta(days=days)).date().isoformat()


def test_text_through_the_csv_import_with_its_limit(cohort_world):
    org = cohort_world["org"]
    l1 = cohort_world["learners"][0]
    header = "email,network,kind,url,date,text\n"
    good = f'{l1.email},linkedin,share,https://x.example/a,{_days_ago(10)},"{OWN_1}"\n'
    result = csvimport.import_activity(organization=org, data=(header + good).encode())
    db.session.commit()
    assert result.created == 1
    assert db.session.scalar(db.select(AdvocacyEvent.text).where(
        AdvocacyEvent.url == "https://x.example/a")) == OWN_1
    # The same event with another text is an update, not a duplicate.
    csvimport.import_activity(organization=org,
                              data=(header + good.replace("laiton", "cuivre")).encode())
    db.session.commit()
    assert "cuivre" in db.session.scalar(db.select(AdvocacyEvent.text).where(
        AdvocacyEvent.url == "https://x.example/a"))
    too_long = (f"{l1.email},linkedin,share,https://x.example/b,{_days_ago(10)},"
                f"{'a' * (MAX_TEXT + 1)}\n")
    with pytest.raises(csvimport.ImportRejected) as rejected:
        csvimport.import_activity(organization=org, data=(header + too_long).encode())
    assert rejected.value.errors[0][0] == 2
    assert "5000" in rejected.value.errors[0][1].replace("\u202f", "").replace(",", "")


def test_text_through_the_api_exported_and_erased(client, api_token, cohort_world):
    org = cohort_world["org"]
    l1 = cohort_world["learners"][0]
    headers = api_token(l1)
    created = client.post(f"/api/v1/orgs/{org.slug}/advocacy/events", headers=headers, json={
        "network": "linkedin", "kind": "post", "occurred_at": f"{_days_ago(9)}T10:00:00Z",
        "url": "https://x.example/api", "text": OWN_2})
    assert created.status_code in (200, 201), created.get_json()
    listed = client.get(f"/api/v1/orgs/{org.slug}/advocacy/events", headers=headers).get_json()
    assert OWN_2 in [e["text"] for e in listed["items"]]
    bad = client.post(f"/api/v1/orgs/{org.slug}/advocacy/events", headers=headers, json={
        "network": "linkedin", "kind": "post", "occurred_at": f"{_days_ago(9)}T11:00:00Z",
        "url": "https://x.example/api2", "text": "a" * (MAX_TEXT + 1)})
    assert bad.status_code == 422
    assert "text" in str(bad.get_json()["error"])

    data, _files, _statements = privacy_export.collect(l1, org)
    assert OWN_2 in [e["text"] for e in data["advocacy"]["events"]]
    privacy.erase_member(membership=l1.memberships[0], by=cohort_world["hr"])
    db.session.commit()
    assert db.session.scalars(db.select(AdvocacyEvent.text).where(
        AdvocacyEvent.user_id == l1.id, AdvocacyEvent.text.is_not(None))).all() == []


def test_demo_shows_the_parrot_effect_receding_and_a_behaviour_gap():
    from lms.accounts.models import User
    from lms.assessments import queries, recommendations
    from lms.courses.cohorts.models import Cohort

    load_demo_once()
    pilot = db.session.scalar(db.select(Cohort).where(Cohort.pilot.is_(True)))
    result = parrot.cohort_parrot(pilot, weeks=4)
    before, after = result.totals["before"], result.totals["after"]
    assert before.near_identical >= 2 and after.texts > after.near_identical
    assert before.own_words_percent < after.own_words_percent
    # Nathan rates his conversation at target and never comments: a gap from behaviour.
    nathan = db.session.scalar(db.select(User).where(User.display_name.like("Nathan%")))
    membership = nathan.memberships[0]
    signals = recommendations.activity_signals(membership.organization_id, [nathan.id])
    assert signals[nathan.id]["C5"].strength == "none"
    profile = queries.profile_for(membership)
    gaps = recommendations.behaviour_gaps(profile.lines, signals[nathan.id])
    assert "C5" in [x.competency.code for x in gaps]


def test_parrot_activity_and_rule_through_the_api(client, api_token, cohort_world):
    org, hr = cohort_world["org"], cohort_world["hr"]
    l1 = cohort_world["learners"][0]
    base = f"/api/v1/orgs/{org.slug}/impact"
    body = client.get(f"{base}/cohorts/{cohort_world['pilot'].id}/parrot?weeks=4",
                      headers=api_token(hr)).get_json()
    assert body["cohort"]["before"]["near_identical"] == 3
    assert body["cohort"]["after"]["own_words_percent"] == 75
    mine = next(x for x in body["learners"] if x["user_id"] == l1.id)
    assert mine["before"]["near_identical"] == 2 and mine["after"]["own_words_percent"] == 50
    # Learners read their own signals, not others'.
    own = client.get(f"{base}/activity", headers=api_token(l1)).get_json()
    assert own["user_id"] == l1.id and set(own["signals"]) == {"C3", "C4", "C5", "C8"}
    other = client.get(f"{base}/activity?user_id={hr.id}", headers=api_token(l1))
    assert other.status_code == 400 and "user_id" in other.get_json()["error"]["fields"]
    # The recertification rule: checked, saved, read back.
    bad = client.put(f"{base}/settings", headers=api_token(hr),
                     json={"recertify_below_actions": "many"})
    assert bad.status_code == 422
    assert "recertify_below_actions" in bad.get_json()["error"]["fields"]
    ok = client.put(f"{base}/settings", headers=api_token(hr),
                    json={"recertify_below_actions": 2, "recertify_weeks": 8})
    assert ok.status_code == 200
    assert (ok.get_json()["recertify_below_actions"], ok.get_json()["recertify_weeks"]) == (2, 8)
