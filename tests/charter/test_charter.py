"""The social-media charter: publishing versions, accepting the one in force (a statement in the
LRS), being asked again for a new version, the pages of learners and staff, HR's figures per
team and cohort with the CSV and e-mail reminders, and the API."""

from __future__ import annotations

import csv
import io
from email import message_from_bytes

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.charter import default, queries, services
from lms.charter.models import CharterAcceptance
from lms.core.errors import Conflict, ValidationFailed
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.extensions import db
from lms.xapi import validation
from lms.xapi.models import Statement
from lms.xapi.record import loads
from tests.support import membership, smtp_listener


@pytest.fixture()
def org(create_org):
    return create_org(slug="lumiere", name="Maison Lumière")


def _publish(org, by=None, fr="## Règles\n\nJe parle en mon nom.", en="## Rules\n\nMy own name."):
    version = services.publish(organization=org, body_fr=fr, body_en=en, by=by)
    db.session.commit()
    return version


def test_accepting_records_an_accepted_statement_once(org, create_user):
    learner = membership(create_user(Role.LEARNER, org=org, name="Camille Martin"), org)
    version = _publish(org)
    first = services.accept(membership=learner, number=1)
    again = services.accept(membership=learner)
    db.session.commit()
    assert again.id == first.id and first.version_id == version.id
    stored = db.session.scalars(select(Statement).where(
        Statement.organization_id == org.id)).all()
    assert len(stored) == 1 and stored[0].statement_id == first.statement_id
    data = loads(stored[0].data)
    validation.statement(data)  # what Relais builds is valid xAPI
    assert data["verb"]["id"] == "http://activitystrea.ms/schema/1.0/accept"
    assert data["verb"]["display"]["fr-FR"] == "a accepté"
    assert data["object"]["id"].endswith(f"/xapi/activities/charter/{version.id}")
    assert data["actor"]["account"]["name"] == str(learner.user_id)


def test_a_new_version_asks_everyone_again_and_keeps_the_earlier_acceptances(org, create_user):
    hr = create_user(Role.HR, org=org)
    learner = membership(create_user(Role.LEARNER, org=org), org)
    _publish(org, by=hr)
    services.accept(membership=learner)
    db.session.commit()
    assert queries.accepted_current(learner)
    v2 = _publish(org, by=hr, fr="Version deux")
    assert v2.number == 2 and queries.to_accept(learner).id == v2.id
    # Accepting what one read when a newer version is in force is refused.
    with pytest.raises(Conflict):
        services.accept(membership=learner, number=1)
    services.accept(membership=learner, number=2)
    db.session.commit()
    assert [a.version.number for a in queries.acceptances_of([learner.id])] == [1, 2]


def test_publishing_needs_a_french_text_and_nothing_is_written_without_it(org, create_user):
    learner = membership(create_user(Role.LEARNER, org=org), org)
    with pytest.raises(ValidationFailed) as refused:
        services.publish(organization=org, body_fr="  ", body_en="Rules", by=None)
    assert "body_fr" in refused.value.fields
    assert queries.current_version(org.id) is None
    with pytest.raises(ValidationFailed):  # nothing to accept yet
        services.accept(membership=learner)


def test_the_learner_is_prompted_on_the_dashboard_until_accepting(org, create_user, client,
                                                                 login):
    learner = create_user(Role.LEARNER, org=org, name="Camille Martin")
    learner.locale = "fr"
    _publish(org, fr="## Règles\n\nJe parle en mon nom. <script>alert(1)</script>")
    login(learner)
    dashboard = client.get("/o/lumiere/").get_data(as_text=True)
    assert 'id="charter-prompt"' in dashboard and "/o/lumiere/charter" in dashboard
    page = client.get("/o/lumiere/charter").get_data(as_text=True)
    assert "<h2>Règles</h2>" in page and "<script>alert(1)" not in page
    response = client.post("/o/lumiere/charter", data={"version": "1"})
    assert response.status_code == 302
    assert 'id="charter-prompt"' not in client.get("/o/lumiere/").get_data(as_text=True)
    assert "Vous avez accepté cette version" in client.get("/o/lumiere/charter").get_data(
        as_text=True)
    assert db.session.scalar(select(CharterAcceptance.statement_id)) is not None


def test_the_charter_reads_in_english_for_an_english_reader(org, create_user, client, login):
    learner = create_user(Role.LEARNER, org=org)
    learner.locale = "en"
    db.session.commit()
    _publish(org)
    login(learner)
    page = client.get("/o/lumiere/charter").get_data(as_text=True)
    assert "My own name." in page and "Je parle en mon nom" not in page


def test_publishing_goes_through_a_confirmation_that_says_everyone_is_asked_again(
        org, create_user, client, login):
    trainer = create_user(Role.TRAINER, org=org)
    login(trainer)
    form = client.get("/o/lumiere/charter/manage").get_data(as_text=True)
    assert "Je parle en mon nom" in form  # Relais' default text is proposed for version 1
    preview = client.post("/o/lumiere/charter/manage", data={
        "body_fr": default.BODY_FR, "body_en": default.BODY_EN, "summary": "Première version"})
    text = preview.get_data(as_text=True)
    assert "every member will be asked to read and accept it again" in text
    assert queries.current_version(org.id) is None  # a preview publishes nothing
    done = client.post("/o/lumiere/charter/manage", data={
        "body_fr": default.BODY_FR, "body_en": default.BODY_EN, "summary": "Première version",
        "confirmed": "yes"})
    assert done.status_code == 302
    assert queries.current_version(org.id).summary == "Première version"
    empty = client.post("/o/lumiere/charter/manage", data={"body_fr": "", "body_en": "x"})
    assert empty.status_code == 422 and "Write the charter in French." in empty.get_data(
        as_text=True)


def test_the_gates_are_chosen_on_the_manage_page(org, create_user, client, login):
    login(create_user(Role.ADMIN, org=org))
    client.post("/o/lumiere/charter/gates", data={"gate_exercises": "y",
                                                  "gate_certificates": "y"})
    settings = queries.settings_for(org.id)
    assert (settings.gate_exercises, settings.gate_certificates,
            settings.gate_advocacy) == (True, True, False)


@pytest.fixture()
def teams(org, create_user):
    """Two teams and a cohort across them; version 1 accepted by three of five."""
    load_catalogue()
    hr = create_user(Role.HR, org=org, name="Harry HR")
    people = [membership(create_user(Role.LEARNER, org=org, name=name, team=team), org)
              for name, team in (("Alice", "Ventes"), ("=HYPERLINK(1)", "Ventes"),
                                 ("Chloé", "Marketing"), ("Dan", "Marketing"))]
    program = copy_from_catalogue(organization=org, slug="parcours-ambassadeurs-6-semaines")
    cohort = create_cohort(program=program, name="Pilote", pilot=True)
    for person in people[1:3]:
        enrol(cohort=cohort, membership=person)
    _publish(org)
    for person in (people[0], people[2], membership(hr, org)):
        services.accept(membership=person)
    db.session.commit()
    return hr, people, cohort


def test_hr_sees_acceptance_per_team_and_cohort_and_downloads_a_safe_csv(teams, client, login,
                                                                        org):
    hr, people, cohort = teams
    everyone = queries.people(org.id, queries.current_version(org.id))
    tallies = queries.tallies(everyone, org.id)
    assert (tallies["all"][0].accepted, tallies["all"][0].total) == (3, 5)
    assert [(t.name, t.accepted, t.total) for t in tallies["teams"]] == [
        ("Marketing", 1, 2), ("Ventes", 1, 2)]
    assert [(t.name, t.accepted, t.total) for t in tallies["cohorts"]] == [("Pilote", 1, 2)]
    login(hr)
    page = client.get(f"/o/lumiere/charter/acceptances?cohort={cohort.id}").get_data(
        as_text=True)
    assert "Chloé" in page and "Alice" not in page
    response = client.get("/o/lumiere/charter/acceptances.csv?team=Ventes")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Name" and len(rows) == 3
    assert ["'=HYPERLINK(1)", ""] == [rows[1][0], rows[1][-1]] or \
        ["'=HYPERLINK(1)", ""] == [rows[2][0], rows[2][-1]]


def test_reminders_reach_those_who_have_not_accepted_by_smtp(teams, client, login, app):
    hr, people, cohort = teams
    login(hr)
    with smtp_listener() as server:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.server_address[1])
        response = client.post("/o/lumiere/charter/reminders", data={"team": "Marketing"})
    assert response.status_code == 302 and "team=Marketing" in response.headers["Location"]
    assert len(server.messages) == 1  # Dan; Chloé accepted
    mail = message_from_bytes(server.messages[0])
    assert mail["To"] == people[3].user.email
    assert "http://relais.test/o/lumiere/charter" in mail.get_payload(decode=True).decode()


def test_learners_cannot_see_acceptances_or_publish(org, create_user, client, login):
    login(create_user(Role.LEARNER, org=org))
    assert client.get("/o/lumiere/charter/acceptances").status_code == 403
    assert client.post("/o/lumiere/charter/manage", data={"body_fr": "x"}).status_code == 403


def test_the_api_gives_the_charter_takes_an_acceptance_and_lists_them(teams, client, api_token,
                                                                     org):
    hr, people, _cohort = teams
    learner = people[3]
    headers = api_token(learner.user)
    charter = client.get("/api/v1/orgs/lumiere/charter", headers=headers).get_json()
    assert charter["current"]["number"] == 1 and charter["my_acceptance"] is None
    assert "<h2>Règles</h2>" in charter["current"]["html"]["fr"]
    stale = client.post("/api/v1/orgs/lumiere/charter/acceptances", headers=headers,
                        json={"version": 7})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "conflict"
    bad = client.post("/api/v1/orgs/lumiere/charter/acceptances", headers=headers,
                      json={"version": "one"})
    assert bad.status_code == 422 and "version" in bad.get_json()["error"]["fields"]
    done = client.post("/api/v1/orgs/lumiere/charter/acceptances", headers=headers,
                       json={"version": 1})
    assert done.status_code == 201 and done.get_json()["statement_id"]
    assert client.post("/api/v1/orgs/lumiere/charter/acceptances", headers=headers,
                       json={}).status_code == 200
    assert client.get("/api/v1/orgs/lumiere/charter/acceptances",
                      headers=headers).status_code == 403
    listing = client.get("/api/v1/orgs/lumiere/charter/acceptances?team=Marketing",
                         headers=api_token(hr)).get_json()
    assert (listing["total"], listing["accepted"]) == (2, 2)
    assert client.get("/api/v1/orgs/lumiere/charter/acceptances?version=9",
                      headers=api_token(hr)).status_code == 404


def test_without_a_charter_the_api_says_so(org, create_user, client, api_token):
    headers = api_token(create_user(Role.LEARNER, org=org))
    response = client.get("/api/v1/orgs/lumiere/charter", headers=headers)
    assert response.status_code == 200 and response.get_json()["current"] is None
    refused = client.post("/api/v1/orgs/lumiere/charter/acceptances", headers=headers, json={})
    assert refused.status_code == 422


def test_the_charter_endpoints_declare_who_may_use_them(app):
    # The authorization matrix (tests/accounts/test_authz_matrix.py) checks every role against
    # what each endpoint declares; these pin the declarations themselves.
    from lms.accounts.authz import REQUIRED_ROLES_ATTR

    editors = frozenset({Role.TRAINER, Role.HR, Role.ADMIN})
    expected = {"charter.read": None, "charter.manage": editors, "charter.save_gates": editors,
                "charter.acceptances": editors, "charter.acceptances_csv": editors,
                "charter.send_reminders": editors, "api.get_charter": frozenset(),
                "api.accept_charter": frozenset(), "api.list_charter_acceptances": editors}
    for endpoint, roles in expected.items():
        assert getattr(app.view_functions[endpoint], REQUIRED_ROLES_ATTR, None) == roles, \
            endpoint
