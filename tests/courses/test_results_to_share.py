"""Results to share and the survey API: the one-page PDF names only the people who agreed,
shows the content shared most and the follow-up survey; the API gives the same with the JSON
error envelope, and nothing of another organization.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

from lms.advocacy.services import add_content_item, create_campaign, give_consent, record_event
from lms.core.models import utcnow
from lms.courses.surveys import queries, services
from lms.extensions import db
from lms.privacy.export import collect
from tests.courses.test_surveys import ANSWERS, attended_session, template
from tests.support import statements_by_verb


def shared_world(w, *, named: int = 2):
    campaign = create_campaign(organization=w.org, kind="campaign", title="Salon de l'emploi",
                               target_metric="shares", target_value=20)
    item = add_content_item(campaign=campaign, title="Nos offres de stage 2027",
                            url="https://example.com/stages")
    for n, user in enumerate(w.learners):
        give_consent(organization=w.org, user=user)
        record_event(organization=w.org, user=user, source="manual", data={
            "network": "linkedin", "kind": "share", "url": f"https://example.com/p/{n}",
            "occurred_at": (utcnow() - timedelta(days=2)).isoformat(),
            "campaign_id": campaign.id, "content_item_id": item.id, "clicks": 3})
    for user in w.learners[:named]:
        user.named_in_results = True
    db.session.commit()
    return campaign


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "results.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_the_cohort_pdf_names_only_who_agreed(client, login, enrolled, tmp_path):
    w = enrolled
    shared_world(w)
    login(w.trainer)
    response = client.get(f"/o/{w.org.slug}/results.pdf?cohort={w.cohort.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    assert "Learner 0" in text and "Learner 1" in text
    assert "Learner 2" not in text and "Learner 3" not in text
    assert "Nos offres de stage 2027" in text
    assert text.count("\f") == 1  # one page
    # The download is a statement by who downloaded it, on this cohort's sheet.
    [downloaded] = statements_by_verb("http://relais.test/xapi/verbs/downloaded")
    assert downloaded["actor"]["account"]["name"] == str(w.trainer.id)
    assert downloaded["object"]["id"] == (
        f"http://relais.test/xapi/activities/results/cohort-{w.cohort.id}")
    assert downloaded["verb"]["display"]["fr-FR"] == "a téléchargé"
    page = client.get(f"/o/{w.org.slug}/results?cohort={w.cohort.id}").get_data(as_text=True)
    assert "Learner 0" in page and "Learner 3" not in page


def test_the_campaign_and_period_sheets(client, login, enrolled, tmp_path):
    w = enrolled
    campaign = shared_world(w, named=0)
    login(w.trainer)
    text = pdf_text(client.get(f"/o/{w.org.slug}/results.pdf?campaign={campaign.id}").data,
                    tmp_path)
    assert "Salon de l'emploi" in text and "4 / 20" in text
    assert "Nobody has agreed to be named yet" in text
    today = utcnow().date()
    bad = client.get(f"/o/{w.org.slug}/results?since={today + timedelta(days=9)}&until={today}")
    assert bad.status_code == 422 and 'id="until-error"' in bad.get_data(as_text=True)


def test_the_follow_up_survey_shows_what_changed(app, client, login, enrolled, tmp_path):
    w = enrolled
    services.add_rule(program=w.program, survey_id=template("followup").id,
                      trigger="after_session")
    attended_session(w)
    services.apply_rules()
    for user in w.learners:
        invitation = queries.open_invitations(w.member(user))[0]
        services.answer(invitation=invitation, raw={
            "frequency": "more", "own_words": "4", "charter_used": "5",
            "changes": ["profile", "comment"], "obstacle": "Le temps"})
    db.session.commit()
    app.config["SURVEY_MIN_ANSWERS"] = 4
    login(w.trainer)
    text = pdf_text(client.get(f"/o/{w.org.slug}/results.pdf?cohort={w.cohort.id}").data,
                    tmp_path)
    assert "A few weeks on: what has changed?" in text or "Quelques semaines" in text
    assert "average 4.0 / 5" in text or "4,0" in text


def test_the_opt_in_is_off_by_default_set_on_the_profile_and_exported(client, login,
                                                                      create_user):
    user = create_user("learner")
    assert user.named_in_results is False
    login(user)
    assert "I agree to be named in internal results" in client.get("/account").get_data(
        as_text=True)
    client.post("/account", data={"display_name": user.display_name, "locale": "",
                                  "named_in_results": "y"})
    db.session.refresh(user)
    assert user.named_in_results is True
    data, _files, _lines = collect(user)
    assert data["account"]["user"]["named_in_results"] is True


def test_the_api_answers_and_gives_results(app, client, api_token, create_user, enrolled):
    w = enrolled
    trainer = api_token(w.trainer)
    survey = template("satisfaction")
    base = f"/api/v1/orgs/{w.org.slug}"
    refused = client.post(f"{base}/programs/{w.program.id}/survey-rules", headers=trainer,
                          json={"survey_id": survey.id, "trigger": "later"})
    assert refused.status_code == 422
    assert set(refused.get_json()["error"]["fields"]) == {"trigger"}
    created = client.post(f"{base}/programs/{w.program.id}/survey-rules", headers=trainer,
                          json={"survey_id": survey.id, "trigger": "after_session"})
    assert created.status_code == 201
    attended_session(w)
    services.apply_rules()
    db.session.commit()
    learner = api_token(w.learners[0])
    mine = client.get(f"{base}/survey-invitations", headers=learner).get_json()["items"]
    assert [i["survey"]["key"] for i in mine] == ["satisfaction"]
    url = f"{base}/survey-invitations/{mine[0]['id']}/answers"
    bad = client.post(url, headers=learner, json={"answers": {**ANSWERS, "pace": "never"}})
    assert bad.status_code == 422 and "pace" in bad.get_json()["error"]["fields"]
    assert client.post(url, headers=learner, json={"answers": ANSWERS}).status_code == 201
    again = client.post(url, headers=learner, json={"answers": ANSWERS})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    results = client.get(f"{base}/surveys/{survey.id}/results?cohort={w.cohort.id}",
                         headers=trainer).get_json()
    assert results["answers"] == 1 and results["shown"] is False and results["items"] == []
    sheet = client.get(f"{base}/results-to-share?cohort={w.cohort.id}", headers=trainer)
    assert sheet.status_code == 200 and sheet.get_json()["kind"] == "cohort"
    # Another organization's member reaches none of it.
    outsider = api_token(create_user("admin"))
    assert client.get(f"{base}/survey-invitations", headers=outsider).status_code == 404
    other = create_user("learner", org=w.org)
    assert client.post(url, headers=api_token(other),
                       json={"answers": ANSWERS}).status_code == 404
    assert client.get(f"{base}/results-to-share", headers=learner).status_code == 403
