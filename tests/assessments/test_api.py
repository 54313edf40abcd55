"""The skill-mapping API: questionnaires, attempts, answers, submit, results, the map."""

from __future__ import annotations

import pytest

from lms.accounts.models import Role

API = "/api/v1/orgs"


@pytest.fixture()
def org(create_org, content):
    return create_org(slug="api-skills")


def _answer_everything(client, headers, slug, attempt, strong=True):
    """Answer each screen the API asks, as a strong learner; returns the last attempt JSON."""
    for _ in range(40):
        if attempt["finished"]:
            return attempt
        answers = {}
        for q in attempt["next"]:
            if q["type"] == "can_do":
                answers[q["key"]] = "alone" if strong else "never"
            elif q["type"] == "frequency":
                answers[q["key"]] = "daily"
            else:
                # The API never reveals the key: a strong learner knows it, from the file.
                keyed = CORRECT[q["key"]]
                answers[q["key"]] = keyed if q["type"] == "multiple_choice" else keyed[0]
        response = client.post(f"{API}/{slug}/attempts/{attempt['id']}/answers",
                               json={"answers": answers}, headers=headers)
        assert response.status_code == 200, response.get_json()
        attempt = response.get_json()
    raise AssertionError("never finished")


CORRECT: dict[str, list[str]] = {}


@pytest.fixture(autouse=True)
def _keys(questionnaire):
    CORRECT.update({x.key: [o["key"] for o in x.options if o["correct"]]
                    for x in questionnaire.questions if x.options})


def test_the_whole_journey(client, create_user, api_token, org):
    learner = create_user(Role.LEARNER, org=org, job_family="sales")
    headers = api_token(learner)
    listed = client.get(f"{API}/{org.slug}/questionnaires", headers=headers).get_json()
    assert [q["key"] for q in listed["items"]] == ["social-media-skills"]

    started = client.post(f"{API}/{org.slug}/questionnaires/social-media-skills/attempts",
                          headers=headers)
    assert started.status_code == 201
    attempt = started.get_json()
    assert [q["key"] for q in attempt["next"]] == ["c1-l3-can", "c1-l3-sjt"]
    assert attempt["next"][0]["scale"] == ["never", "with_help", "alone", "teach"]
    assert all("correct" not in o for o in attempt["next"][1]["options"])
    # Resuming gives the same draft.
    again = client.post(f"{API}/{org.slug}/questionnaires/social-media-skills/attempts",
                        headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == attempt["id"]

    attempt = _answer_everything(client, headers, org.slug, attempt)
    done = client.post(f"{API}/{org.slug}/attempts/{attempt['id']}/submit", headers=headers)
    assert done.status_code == 200
    profile = done.get_json()
    by_code = {c["code"]: c for c in profile["competencies"]}
    assert by_code["C1"]["measured"] == 5
    assert by_code["C1"]["level"] == 3 and by_code["C1"]["pending_validation"] == 5
    assert {g["code"] for g in profile["gaps"]} == {"C4", "C5"}  # sales targets of 4

    # Submit once: afterwards 409, and answers are refused.
    assert client.post(f"{API}/{org.slug}/attempts/{attempt['id']}/submit",
                       headers=headers).status_code == 409
    late = client.post(f"{API}/{org.slug}/attempts/{attempt['id']}/answers",
                       json={"answers": {"c1-l3-can": "never"}}, headers=headers)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "conflict"
    results = client.get(f"{API}/{org.slug}/attempts/{attempt['id']}/results", headers=headers)
    assert results.status_code == 200 and results.get_json() == profile
    mine = client.get(f"{API}/{org.slug}/members/{learner.memberships[0].id}/skills",
                      headers=headers).get_json()
    assert len(mine["history"]) == 1


def test_bad_answers_get_field_errors_and_save_nothing(client, create_user, api_token, org):
    learner = create_user(Role.LEARNER, org=org)
    headers = api_token(learner)
    attempt = client.post(f"{API}/{org.slug}/questionnaires/social-media-skills/attempts",
                          headers=headers).get_json()
    url = f"{API}/{org.slug}/attempts/{attempt['id']}/answers"
    response = client.post(url, data="not json", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    response = client.post(url, json={"answers": []}, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"answers": "a non-empty object expected"}
    response = client.post(url, json={"answers": {"c1-l3-can": "sometimes", "c1-l3-sjt": "a",
                                                  "nope": "x"}}, headers=headers)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"c1-l3-can", "nope"}
    assert "with_help" in fields["c1-l3-can"]
    # A question that is not asked at this point, and a half-answered screen.
    response = client.post(url, json={"answers": {"c2-l3-can": "alone"}}, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "c2-l3-can": "not asked at this point of the questionnaire"}
    response = client.post(url, json={"answers": {"c1-l3-can": "alone"}}, headers=headers)
    assert response.status_code == 422
    assert "c1-l3-sjt" in response.get_json()["error"]["fields"]
    state = client.get(f"{API}/{org.slug}/attempts/{attempt['id']}", headers=headers).get_json()
    assert state["answered"] == 0
    # Submitting an unfinished attempt: 422 naming what is still to answer.
    response = client.post(f"{API}/{org.slug}/attempts/{attempt['id']}/submit", headers=headers)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"c1-l3-can", "c1-l3-sjt"}


def test_several_screens_in_one_call(client, create_user, api_token, org):
    learner = create_user(Role.LEARNER, org=org)
    headers = api_token(learner)
    attempt = client.post(f"{API}/{org.slug}/questionnaires/social-media-skills/attempts",
                          headers=headers).get_json()
    sjt3, sjt4 = CORRECT["c1-l3-sjt"][0], CORRECT["c1-l4-sjt"][0]
    wrong5 = next(k for k in "abc" if k not in CORRECT["c1-l5-sjt"])
    response = client.post(f"{API}/{org.slug}/attempts/{attempt['id']}/answers", json={
        "answers": {"c1-l3-can": "alone", "c1-l3-sjt": sjt3, "c1-l4-can": "teach",
                    "c1-l4-sjt": sjt4, "c1-l5-can": "alone", "c1-l5-sjt": wrong5}},
        headers=headers)
    assert response.status_code == 200
    assert [q["key"] for q in response.get_json()["next"]] == ["c2-l3-can", "c2-l3-sjt"]


def test_who_sees_what(client, create_user, create_org, api_token, org):
    learner = create_user(Role.LEARNER, org=org)
    colleague = create_user(Role.LEARNER, org=org)
    hr = create_user(Role.HR, org=org)
    outsider = create_user(Role.ADMIN, org=create_org())
    attempt = client.post(f"{API}/{org.slug}/questionnaires/social-media-skills/attempts",
                          headers=api_token(learner)).get_json()
    url = f"{API}/{org.slug}/attempts/{attempt['id']}"
    assert client.get(url, headers=api_token(colleague)).status_code == 404
    seen = client.get(url, headers=api_token(hr))
    assert seen.status_code == 200 and "next" not in seen.get_json()
    assert client.post(f"{url}/answers", json={"answers": {"c1-l3-can": "alone"}},
                       headers=api_token(hr)).status_code == 404
    assert client.get(url, headers=api_token(outsider)).status_code == 404
    assert client.get(f"{API}/{org.slug}/skill-map",
                      headers=api_token(outsider)).status_code == 404
    forbidden = client.get(f"{API}/{org.slug}/skill-map", headers=api_token(colleague))
    assert forbidden.status_code == 403
    assert forbidden.get_json()["error"]["code"] == "forbidden"
    member = learner.memberships[0].id
    assert client.get(f"{API}/{org.slug}/members/{member}/skills",
                      headers=api_token(colleague)).status_code == 404
    assert client.get(f"{API}/{org.slug}/members/{member}/skills",
                      headers=api_token(hr)).status_code == 200


def test_skill_map_with_filters(client, create_user, api_token, org):
    a = create_user(Role.LEARNER, org=org, team="Ventes", job_family="sales")
    create_user(Role.LEARNER, org=org, team="RH", job_family="hr")
    headers = api_token(a)
    attempt = client.post(f"{API}/{org.slug}/questionnaires/social-media-skills/attempts",
                          headers=headers).get_json()
    attempt = _answer_everything(client, headers, org.slug, attempt, strong=False)
    client.post(f"{API}/{org.slug}/attempts/{attempt['id']}/submit", headers=headers)
    trainer = api_token(create_user(Role.TRAINER, org=org))
    data = client.get(f"{API}/{org.slug}/skill-map", headers=trainer).get_json()
    assert [(i["team"], i["answered"]) for i in data["items"]] == [("Ventes", True),
                                                                  ("RH", False)]
    assert data["averages"]["C1"] == 0 and data["average_targets"]["C4"] == 4
    only = client.get(f"{API}/{org.slug}/skill-map?job_family=hr", headers=trainer).get_json()
    assert [i["team"] for i in only["items"]] == ["RH"]


def test_openapi_lists_the_skill_paths(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/orgs/{org_slug}/questionnaires", "/orgs/{org_slug}/attempts/{attempt_id}/answers",
            "/orgs/{org_slug}/skill-map"} <= set(paths)
