"""API: idempotent events, consent, roles, campaigns, error envelope, OpenAPI."""

from __future__ import annotations

from lms.accounts.models import Role
from tests.advocacy.helpers import consent

EVENT = {"network": "linkedin", "kind": "share", "url": "https://acme.example/a",
         "occurred_at": "2026-11-18T08:00:00Z", "clicks": 4}


def test_learner_records_own_events_idempotently(client, create_org, create_user,
                                                  api_token):
    org = create_org(slug="api-adv")
    learner = create_user(org=org)
    headers = api_token(learner)
    r = client.post("/api/v1/orgs/api-adv/advocacy/events", json=EVENT, headers=headers)
    assert r.status_code == 422 and "consent" not in r.json["error"]["message"]
    assert "opted in" in r.json["error"]["fields"]["event"]
    consent(org, learner)
    r = client.post("/api/v1/orgs/api-adv/advocacy/events", json=EVENT, headers=headers)
    assert r.status_code == 201 and r.json["created"] == 1
    r = client.post("/api/v1/orgs/api-adv/advocacy/events", json=EVENT, headers=headers)
    assert r.status_code == 200 and r.json["unchanged"] == 1
    listed = client.get("/api/v1/orgs/api-adv/advocacy/events", headers=headers).json
    assert listed["total"] == 1 and listed["items"][0]["metrics"]["clicks"] == 4


def test_batch_all_or_nothing_and_learner_cannot_post_for_others(client, create_org,
                                                                  create_user, api_token):
    org = create_org(slug="api-adv2")
    learner = create_user(org=org, email="lea@api.example")
    other = create_user(org=org, email="other@api.example")
    consent(org, learner, other)
    r = client.post("/api/v1/orgs/api-adv2/advocacy/events", headers=api_token(learner),
                    json={"events": [EVENT, {**EVENT, "email": "other@api.example"}]})
    assert r.status_code == 422
    assert r.json["error"]["fields"] == {
        "events[1]": "learners can only record their own activity"}
    trainer = create_user(Role.TRAINER, org=org)
    r = client.post("/api/v1/orgs/api-adv2/advocacy/events", headers=api_token(trainer),
                    json={"events": [{**EVENT, "email": "lea@api.example"},
                                     {**EVENT, "email": "other@api.example"}]})
    assert r.status_code == 201 and r.json["created"] == 2


def test_campaigns_and_openapi(client, create_org, create_user, api_token):
    org = create_org(slug="api-adv3")
    hr = create_user(Role.HR, org=org)
    learner = create_user(org=org)
    body = {"kind": "campaign", "title": "3 000 inscriptions au lancement T3",
            "target_metric": "signups", "target_value": 3000, "deadline": "2026-09-30",
            "content_items": [{"title": "Page d'inscription",
                               "url": "https://acme.example/t3"}]}
    assert client.post("/api/v1/orgs/api-adv3/advocacy/campaigns", json=body,
                       headers=api_token(learner)).status_code == 403
    r = client.post("/api/v1/orgs/api-adv3/advocacy/campaigns", json=body,
                    headers=api_token(hr))
    assert r.status_code == 201 and r.json["content_items"][0]["title"] == "Page d'inscription"
    bad = client.post("/api/v1/orgs/api-adv3/advocacy/campaigns", json={"kind": "x"},
                      headers=api_token(hr))
    assert bad.status_code == 422 and "kind" in bad.json["error"]["fields"]
    listed = client.get("/api/v1/orgs/api-adv3/advocacy/campaigns",
                        headers=api_token(learner)).json
    assert listed["items"][0]["target_value"] == 3000
    other = create_user(Role.HR, org=create_org())
    assert client.get("/api/v1/orgs/api-adv3/advocacy/campaigns",
                      headers=api_token(other)).status_code == 404
    doc = client.get("/api/v1/openapi.json").json
    assert "/orgs/{org_slug}/advocacy/events" in doc["paths"]
