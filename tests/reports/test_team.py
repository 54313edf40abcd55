"""My team: a manager sees their direct reports, a champion their team; nobody else's people.
Nudges are recorded, e-mailed, limited to one a day per person."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lms.accounts import services as accounts
from lms.accounts.models import Membership, Nudge, Role
from lms.advocacy import services as advocacy
from lms.core.models import utcnow
from lms.extensions import db
from tests.support import statements_by_verb


def member(user, org) -> Membership:
    return next(m for m in user.memberships if m.organization_id == org.id)


@pytest.fixture()
def people(enrolled, create_user):
    """Acme: a manager (learner role) managing learners 0 and 1; learner 2 champion of Sales;
    learner 3 in Marketing; a stranger manager elsewhere."""
    w = enrolled
    boss = create_user(Role.LEARNER, org=w.org, name="Bea Boss", team="Direction")
    for u in w.learners[:2]:
        accounts.set_manager(membership=w.member(u), manager=member(boss, w.org))
    accounts.set_champion(membership=w.member(w.learners[2]), champion=True)
    accounts.add_member(organization=w.org, user=w.learners[3], role=Role.LEARNER,
                        team="Marketing")
    advocacy.give_consent(organization=w.org, user=w.learners[0])
    db.session.commit()
    return w, boss


def test_a_manager_sees_their_direct_reports_and_nobody_else(client, login, people):
    w, boss = people
    login(boss)
    page = client.get(f"/o/{w.org.slug}/team").get_data(as_text=True)
    assert "My direct reports" in page
    assert "Learner 0" in page and "Learner 1" in page
    assert "Learner 2" not in page and "Learner 3" not in page
    # Activity only with consent: learner 0 consented, learner 1 did not.
    assert page.count("has not agreed to their activity being collected") == 1
    assert "Skills against the target profile" in page
    assert "My team" in page  # the menu entry
    # Consulting the team is a statement on the manager's own team, naming nobody in it.
    [seen] = statements_by_verb("http://adlnet.gov/expapi/verbs/experienced")
    assert seen["object"]["id"] == (
        f"http://relais.test/xapi/activities/team/{member(boss, w.org).id}")
    assert seen["actor"]["account"]["name"] == str(boss.id)
    assert "Learner 0" not in json.dumps(seen)
    # A job family reads as its name, not its code.
    w.member(w.learners[0]).job_family = "sales"
    db.session.commit()
    page = client.get(f"/o/{w.org.slug}/team").get_data(as_text=True)
    assert "· Sales" in page and "· sales" not in page


def test_a_champion_sees_their_team_but_not_other_teams(client, login, people):
    w, _boss = people
    login(w.learners[2])
    page = client.get(f"/o/{w.org.slug}/team").get_data(as_text=True)
    assert "My group as champion of the team Sales" in page
    assert "Learner 0" in page and "Learner 1" in page
    assert "Learner 3" not in page  # Marketing
    assert "Waiting for your approval" not in page  # a champion approves nothing


def test_someone_who_follows_nobody_sees_an_empty_page_without_menu_entry(client, login,
                                                                         people):
    w, _boss = people
    login(w.learners[3])
    response = client.get(f"/o/{w.org.slug}/team")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "there is nobody to follow here" in page
    assert f'href="/o/{w.org.slug}/team"' not in page


def test_a_nudge_is_recorded_emailed_once_a_day_and_only_to_people_one_follows(
        client, login, people, caplog):
    w, boss = people
    login(boss)
    target = w.member(w.learners[0])
    with caplog.at_level("INFO", logger="lms.core.mail"):
        response = client.post(f"/o/{w.org.slug}/team/{target.id}/nudge",
                               data={"message": "Ton quiz t'attend !"})
    assert response.status_code == 302
    # In the person's language (French when they chose none).
    assert f"to={w.learners[0].email} subject=Un mot de Bea Boss" in caplog.text
    row = db.session.query(Nudge).one()
    assert (row.sender_id, row.recipient_id, row.as_role) == (member(boss, w.org).id,
                                                               target.id, "manager")
    # A second nudge the same day, even from the champion, is refused next to the field.
    client.post("/logout")
    login(w.learners[2])
    again = client.post(f"/o/{w.org.slug}/team/{target.id}/nudge",
                        data={"message": "Et le post de la semaine ?"})
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "Already nudged today." in page and "Et le post de la semaine ?" in page
    # Someone outside the group: 404, nothing written.
    outsider = w.member(w.learners[3])
    assert client.post(f"/o/{w.org.slug}/team/{outsider.id}/nudge",
                       data={"message": "Coucou"}).status_code == 404
    assert db.session.query(Nudge).count() == 1
    # 24 hours later the limit is lifted.
    row.sent_at = utcnow() - timedelta(days=1, minutes=1)
    db.session.commit()
    response = client.post(f"/o/{w.org.slug}/team/{target.id}/nudge",
                           data={"message": "Et le post de la semaine ?"})
    assert response.headers["Location"].endswith(f"/team#person-{target.id}")
    assert db.session.query(Nudge).count() == 2


def test_an_empty_nudge_is_refused_with_its_message(client, login, people):
    w, boss = people
    login(boss)
    target = w.member(w.learners[1])
    response = client.post(f"/o/{w.org.slug}/team/{target.id}/nudge", data={"message": "  "})
    assert response.status_code == 422
    assert "Write a short message." in response.get_data(as_text=True)
    assert db.session.query(Nudge).count() == 0


def test_the_team_api_and_nudges(client, api_token, people):
    w, boss = people
    headers = api_token(boss)
    body = client.get(f"/api/v1/orgs/{w.org.slug}/team", headers=headers).get_json()
    assert [p["display_name"] for p in body["reports"]] == ["Learner 0", "Learner 1"]
    assert body["group"] == []
    first = body["reports"][0]
    assert first["follows_as"] == "manager" and first["activity"]["events"] == 0
    assert body["reports"][1]["activity"] is None  # no consent
    assert first["enrollments"][0]["cohort"] == "Pilot"
    outsider = w.member(w.learners[3])
    refused = client.post(f"/api/v1/orgs/{w.org.slug}/members/{outsider.id}/nudges",
                          headers=headers, json={"message": "Coucou"})
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
    target = w.member(w.learners[1])
    bad = client.post(f"/api/v1/orgs/{w.org.slug}/members/{target.id}/nudges",
                      headers=headers, json={"message": ""})
    assert bad.status_code == 422 and "message" in bad.get_json()["error"]["fields"]
    done = client.post(f"/api/v1/orgs/{w.org.slug}/members/{target.id}/nudges",
                       headers=headers, json={"message": "Un petit mot"})
    assert done.status_code == 201 and done.get_json()["follows_as"] == "manager"
    again = client.post(f"/api/v1/orgs/{w.org.slug}/members/{target.id}/nudges",
                        headers=headers, json={"message": "Encore"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"


def test_hr_sets_a_champion_on_the_members_page_and_through_the_api(client, login,
                                                                  create_user, api_token,
                                                                  people):
    w, _boss = people
    hr = create_user(Role.HR, org=w.org)
    login(hr)
    target = w.member(w.learners[3])
    assert "Make champion" in client.get(f"/o/{w.org.slug}/members").get_data(as_text=True)
    assert client.post(f"/o/{w.org.slug}/members/{target.id}/champion",
                       data={"champion": "1"}).status_code == 302
    db.session.refresh(target)
    assert target.champion
    page = client.get(f"/o/{w.org.slug}/members").get_data(as_text=True)
    assert "is now the champion of the team Marketing" in page
    assert "Stop being champion" in page
    headers = api_token(hr)
    got = client.get(f"/api/v1/orgs/{w.org.slug}/members/{target.id}", headers=headers)
    assert got.get_json()["champion"] is True
    off = client.post(f"/api/v1/orgs/{w.org.slug}/members", headers=headers,
                      json={"email": w.learners[3].email, "role": "learner", "champion": False})
    assert off.status_code == 200 and off.get_json()["champion"] is False
    # A champion needs a team; a non-boolean is refused.
    nobody = create_user(Role.LEARNER, org=w.org)
    refused = client.post(f"/api/v1/orgs/{w.org.slug}/members", headers=headers,
                          json={"email": nobody.email, "role": "learner", "champion": True})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"champion": "no team"}
    wrong = client.post(f"/api/v1/orgs/{w.org.slug}/members", headers=headers,
                        json={"email": nobody.email, "role": "learner", "champion": "yes"})
    assert wrong.status_code == 422
    assert not member(nobody, w.org).champion


def test_a_learner_cannot_make_champions(client, login, people):
    w, _boss = people
    login(w.learners[0])
    target = w.member(w.learners[3])
    assert client.post(f"/o/{w.org.slug}/members/{target.id}/champion",
                       data={"champion": "1"}).status_code == 403


def test_nudges_are_in_the_person_s_export_and_go_with_their_erasure(people):
    from lms.accounts import nudges
    from lms.privacy.export import collect
    from lms.privacy.services import erase_member

    w, boss = people
    target = w.member(w.learners[0])
    nudges.nudge(sender=member(boss, w.org), recipient=target, message="Ton quiz t'attend")
    db.session.commit()
    data, _files, _lines = collect(w.learners[0], w.org)
    assert [n["message"] for n in data["account"]["nudges_received"]] == ["Ton quiz t'attend"]
    erased = erase_member(membership=target, by=None)
    db.session.commit()
    assert erased.counts["nudges"] == 1
    assert db.session.query(Nudge).count() == 0
