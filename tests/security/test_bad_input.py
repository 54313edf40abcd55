"""Bad input never gives a 500: out-of-range integers, NUL and lone surrogates, impossible
dates (422 naming the field), and a database out of reach (503 with Retry-After)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.accounts.models import Role
from lms.advocacy import services as advocacy
from lms.advocacy.webhook import sign
from lms.core.inputs import json_problems
from lms.courses.cohorts.services import create_cohort
from lms.courses.programs.services import create_blank_program
from lms.extensions import db
from tests.advocacy.helpers import consent

BIG = 10**20


def test_the_shared_check_names_each_field():
    assert json_problems({"a": 1, "b": "x", "c": [1, {"d": "2026-03-01"}], "e": None,
                          "f": True, "g": 2.5, "h": "le 30-02-2026"}) == {}
    problems = json_problems({"program_id": BIG, "team": "\ud800", "name": "a\x00b",
                              "c": [{"on": "2026-02-30"}, {"on": "0001-01-01T00:00:00Z"}],
                              "x": -(2**31) - 1, "y": float("inf")})
    assert set(problems) == {"program_id", "team", "name", "c[0].on", "c[1].on", "x", "y"}
    assert "does not exist" in problems["c[0].on"] and "1900" in problems["c[1].on"]


@pytest.fixture()
def admin(create_user, api_token):
    user = create_user(Role.ADMIN)
    return user.memberships[0].organization, api_token(user)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("cohorts", {"program_id": BIG, "name": "x"}, "program_id"),
    ("cohorts", {"program_id": 1, "name": "x", "starts_on": "2026-02-30"}, "starts_on"),
    ("cohorts", {"program_id": 1, "name": "x", "starts_on": "1850-01-01"}, "starts_on"),
    ("advocacy/campaigns", {"kind": "campaign", "title": "t", "target_value": BIG},
     "target_value"),
    ("advocacy/campaigns", {"kind": "campaign", "title": "t", "deadline": "2200-01-01"},
     "deadline"),
    ("members", {"email": "a@b.example", "role": "learner", "team": "\ud800"}, "team"),
    ("members", {"email": "a@b.example", "role": "learner", "team": "a\u0000b"}, "team"),
])
def test_api_bodies_get_422_naming_the_field(client, admin, path, body, field):
    org, headers = admin
    response = client.post(f"/api/v1/orgs/{org.slug}/{path}", json=body, headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["fields"]


def test_more_endpoints_with_out_of_range_ids(client, admin, create_user):
    org, headers = admin
    program = create_blank_program(organization=org, title="P", language="fr")
    cohort = create_cohort(program=program, name="C", starts_on=None)
    db.session.commit()
    for path, body, field in (
            (f"cohorts/{cohort.id}/enrolments", {"member_id": BIG}, "member_id"),
            (f"cohorts/{cohort.id}/sessions", {"module_id": BIG, "capacity": BIG}, "module_id"),
            ("certificates/exports", {"cohort": BIG}, "cohort")):
        response = client.post(f"/api/v1/orgs/{org.slug}/{path}", json=body, headers=headers)
        assert response.status_code == 422, (path, response.get_data(as_text=True))
        assert field in response.get_json()["error"]["fields"]


def test_webhook_refuses_out_of_range_campaign_and_absurd_dates(client, create_org,
                                                               create_user):
    org = create_org()
    learner = create_user(org=org, email="lea@hook.example")
    consent(org, learner)
    secret = advocacy.rotate_webhook_secret(organization=org)
    db.session.commit()
    import json
    import time

    def post(event):
        body = json.dumps(event).encode()
        stamp = str(int(time.time()))
        return client.post(f"/hooks/advocacy/{org.slug}", data=body,
                           content_type="application/json",
                           headers={"X-Relais-Timestamp": stamp,
                                    "X-Relais-Signature": sign(secret, stamp, body)})

    base = {"email": "lea@hook.example", "network": "linkedin", "kind": "share",
            "url": "https://x.example/1", "occurred_at": "2026-01-05"}
    response = post({**base, "campaign_id": BIG})
    assert response.status_code == 422
    assert "campaign_id" in response.get_json()["error"]["fields"]
    # As text the number passes JSON's check; the event's own check refuses it.
    response = post({**base, "campaign_id": str(BIG)})
    assert response.status_code in (400, 422) and response.status_code < 500
    assert "campaign_id" in response.get_data(as_text=True)
    response = post({**base, "occurred_at": "0001-01-01"})
    assert response.status_code == 422
    assert advocacy.normalize_event  # the service refuses it too:
    with pytest.raises(ValueError, match="before 1900"):
        advocacy.normalize_event({**base, "occurred_at": "1899-12-31T10:00:00"},
                                 user_id=learner.id, source="api")


@pytest.fixture()
def unreachable(other_app, tmp_path: Path):
    """An app whose database cannot be opened (a file in a folder that does not exist)."""
    return other_app(WTF_CSRF_ENABLED=False,
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/x.db")


def test_database_unreachable_is_503_with_retry_after(unreachable):
    with unreachable.app_context():
        client = unreachable.test_client()
        api = client.get("/api/v1/me", headers={"Authorization": "Bearer abc"})
        assert api.status_code == 503 and api.headers["Retry-After"] == "30"
        assert api.get_json()["error"]["code"] == "unavailable"
        lrs = client.get("/xapi/statements", headers={"X-Experience-API-Version": "1.0.3",
                                                      "Authorization": "Basic eDp5"})
        assert lrs.status_code == 503 and lrs.headers["Retry-After"] == "30"
        page = client.post("/login", data={"email": "a@b.example", "password": "whatever1"},
                           headers={"Accept-Language": "fr"})
        assert page.status_code == 503 and page.headers["Retry-After"] == "30"
        assert "Temporairement indisponible" in page.get_data(as_text=True)


def test_huge_ids_in_addresses_and_query_arguments(client, create_user, login, api_token):
    user = create_user(Role.HR)
    slug = user.memberships[0].organization.slug
    # An id in the path beyond 32 bits is simply unknown.
    assert client.get(f"/api/v1/orgs/{slug}/members/{BIG}",
                      headers=api_token(user)).status_code == 404
    login(user)
    assert client.get(f"/o/{slug}/members/{BIG}").status_code == 404
    # A filter the database cannot hold is a 400 page, not a 500.
    response = client.get(f"/o/{slug}/advocacy?campaign={BIG}")
    assert response.status_code in (200, 400)
    assert client.get(f"/o/{slug}/advocacy?campaign=12").status_code == 200
