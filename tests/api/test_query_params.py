"""Query strings: unknown or malformed parameters are refused with 400 naming them, on every API
list endpoint (one shared check against the OpenAPI document), and on the LRS as xAPI says."""

from __future__ import annotations

import base64

import pytest

from lms.accounts.models import Role
from lms.api.openapi import PATHS
from lms.api.query import document_path
from lms.extensions import db
from lms.xapi.services import create_lrs_credentials


@pytest.fixture()
def admin(create_user, api_token):
    user = create_user(Role.ADMIN)
    return user.memberships[0].organization.slug, api_token(user)


@pytest.mark.parametrize("path, query, field, message", [
    ("members", "limit=abc", "limit", "unknown parameter"),
    ("members", "unknown=1", "unknown", "unknown parameter"),
    ("members", "page=abc", "page", "integer expected"),
    ("members", "page=0", "page", "between 1 and 1000000"),
    ("members", "per_page=201", "per_page", "between 1 and 200"),
    ("members", "page=99999999999999999999", "page", "integer expected"),
    ("members", "page=1&page=2", "page", "given more than once"),
    ("certificates", "since=2026-02-30", "since", "This date does not exist."),
    ("certificates", "until=1850-01-01", "until", "A date between 1900 and 2100."),
    ("certificates", "status=lost", "status", "one of valid, expired, revoked"),
    ("certificates", "cohort=x", "cohort", "integer expected"),
    ("followups", "show=some", "show", "one of open, recorded, all"),
    ("followups", "coach=-", "coach", "integer expected"),
    ("advocacy/impact", "weeks=53", "weeks", "between 1 and 52"),
    ("exercises/reviews", "mine=maybe", "mine", "true or false expected"),
    ("approvals", "status=all", "status", "one of pending, decided"),
    ("skill-map", "team=%00", "team", "NUL characters are not allowed."),
    ("jobs", "sort=name", "sort", "unknown parameter"),
    ("advocacy/events", "since=2026-01-01", "since", "unknown parameter"),
])
def test_each_list_refuses_bad_parameters_naming_them(client, admin, path, query, field,
                                                      message):
    slug, headers = admin
    response = client.get(f"/api/v1/orgs/{slug}/{path}?{query}", headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and error["fields"] == {field: message}
    assert field in error["message"]


def test_good_filters_still_work(client, admin):
    slug, headers = admin
    for path in ("members?page=1&per_page=5", "certificates?status=valid&since=2026-01-01",
                 "exercises/reviews?mine=true", "followups?show=open"):
        response = client.get(f"/api/v1/orgs/{slug}/{path}", headers=headers)
        assert response.status_code == 200, (path, response.get_data(as_text=True))


def test_messages_are_translated(client, admin):
    slug, headers = admin
    response = client.get(f"/api/v1/orgs/{slug}/members?page=abc",
                          headers={**headers, "Accept-Language": "fr"})
    error = response.get_json()["error"]
    assert error["fields"]["page"] == "nombre entier attendu"


def test_every_route_is_matched_to_its_document_path(app):
    routes = {document_path(rule.rule) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi_document"}
    assert routes <= set(PATHS), routes - set(PATHS)


@pytest.mark.parametrize("query, message", [
    ("unknown=1", "unexpected parameter"),
    ("limit=abc", "limit"),
    ("since=2026-02-30T00:00:00Z", "since"),
    ("since=2026-01-01T00:00:00%2B99:00", "offset"),
    ("since=0001-01-01T00:00:00%2B01:00", "since"),
    ("ascending=maybe", "ascending"),
    ("registration=%00", "registration"),
])
def test_the_lrs_refuses_bad_statement_parameters(client, create_org, query, message):
    org = create_org()
    credential, secret = create_lrs_credentials(organization=org)
    db.session.commit()
    auth = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
    response = client.get(f"/xapi/statements?{query}",
                          headers={"Authorization": f"Basic {auth}",
                                   "X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]
