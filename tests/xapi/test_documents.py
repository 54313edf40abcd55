"""The LRS document resources over HTTP, as xAPI 1.0.3 says (Communication 2.2–2.7, 3.1).

State (/xapi/activities/state), Activity Profile (/xapi/activities/profile) and Agent Profile
(/xapi/agents/profile): PUT, POST merge, GET of one document or of the ids with ``since``,
DELETE, ETag and Last-Modified, If-Match / If-None-Match, parameter validation, organizations.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from lms.extensions import db
from lms.xapi.document_models import Document
from lms.xapi.services import create_lrs_credentials

ANA = {"objectType": "Agent", "mbox": "mailto:ana@example.com"}
BOB = {"objectType": "Agent", "account": {"homePage": "https://example.com", "name": "bob"}}
ACTIVITY = "http://relais.test/activities/1"
STATE = "/xapi/activities/state"
ACTIVITY_PROFILE = "/xapi/activities/profile"
AGENT_PROFILE = "/xapi/agents/profile"


class Lrs:
    """A client of one organization's LRS credentials."""

    def __init__(self, client: FlaskClient, key: str, secret: str) -> None:
        self.client = client
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, *,
                body: Any = None, data: bytes | str | None = None,
                content_type: str | None = None, headers: dict[str, str] | None = None) -> Any:
        query = urlencode({k: json.dumps(v) if isinstance(v, dict) else v
                           for k, v in (params or {}).items()})
        kwargs: dict[str, Any] = {"headers": {**self.headers, **(headers or {})}}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        if data is not None:
            kwargs["data"] = data
            kwargs["content_type"] = content_type
        return self.client.open(f"{path}?{query}", method=method, **kwargs)

    def ok(self, method: str, path: str, params: dict[str, Any], **kw: Any) -> Any:
        response = self.request(method, path, params, **kw)
        assert response.status_code in (200, 204), response.get_data(as_text=True)
        return response


@pytest.fixture()
def make_lrs(client: FlaskClient, create_org: Callable[..., Any]) -> Callable[..., Lrs]:
    def factory(org: Any = None, **options: Any) -> Lrs:
        credential, secret = create_lrs_credentials(organization=org or create_org(), **options)
        db.session.commit()
        return Lrs(client, credential.key, secret)

    return factory


@pytest.fixture()
def lrs(make_lrs: Callable[..., Lrs]) -> Lrs:
    return make_lrs()


def state(state_id: str = "bookmark", **extra: Any) -> dict[str, Any]:
    return {"activityId": ACTIVITY, "agent": ANA, "stateId": state_id, **extra}


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


# --- authentication ------------------------------------------------------------------------

@pytest.mark.parametrize("path", [STATE, ACTIVITY_PROFILE, AGENT_PROFILE])
def test_credentials_and_version_header_are_required(lrs: Lrs, client: FlaskClient,
                                                     path: str) -> None:
    response = client.get(path, headers={"X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 401
    bad = base64.b64encode(b"nobody:wrong").decode()
    assert client.get(path, headers={"X-Experience-API-Version": "1.0.3",
                                     "Authorization": f"Basic {bad}"}).status_code == 401
    response = lrs.request("GET", path, headers={"X-Experience-API-Version": ""})
    assert response.status_code == 400


# --- State ---------------------------------------------------------------------------------

def test_state_put_then_get_returns_the_bytes_with_their_type_etag_and_date(lrs: Lrs) -> None:
    content = b"\x00\xffbinary state\x80"
    response = lrs.request("PUT", STATE, state(), data=content,
                           content_type="application/octet-stream")
    assert response.status_code == 204
    assert response.get_data() == b""
    response = lrs.ok("GET", STATE, state())
    assert response.get_data() == content
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["ETag"] == f'"{sha1(content)}"'
    assert response.headers["Last-Modified"].endswith("GMT")
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_state_put_replaces_the_document_without_concurrency_headers(lrs: Lrs) -> None:
    lrs.ok("PUT", STATE, state(), body={"a": 1})
    lrs.ok("PUT", STATE, state(), data="plain", content_type="text/plain")
    response = lrs.ok("GET", STATE, state())
    assert response.get_data(as_text=True) == "plain"
    assert response.mimetype == "text/plain"


def test_state_post_merges_top_level_properties(lrs: Lrs) -> None:
    lrs.ok("POST", STATE, state(), body={"x": "foo", "y": "bar", "deep": {"a": 1, "b": 2}})
    lrs.ok("POST", STATE, state(), body={"x": "bash", "z": "faz", "deep": {"c": 3}})
    response = lrs.ok("GET", STATE, state())
    assert response.get_json() == {"x": "bash", "y": "bar", "z": "faz", "deep": {"c": 3}}
    assert response.mimetype == "application/json"
    assert response.headers["ETag"] == f'"{sha1(response.get_data())}"'


def test_state_post_of_a_new_document_stores_it(lrs: Lrs) -> None:
    lrs.ok("POST", STATE, state(), body={"progress": 0.5})
    assert lrs.ok("GET", STATE, state()).get_json() == {"progress": 0.5}


@pytest.mark.parametrize(("data", "content_type"), [
    ("abc", "text/plain"),
    ('{"a": 1}', "application/octet-stream"),
    ("[1, 2]", "application/json"),
    ('{"a": 1', "application/json"),
    ('"text"', "application/json"),
    ('{"a": NaN}', "application/json"),
])
def test_state_post_refuses_what_is_not_a_json_object_and_changes_nothing(
        lrs: Lrs, data: str, content_type: str) -> None:
    lrs.ok("POST", STATE, state(), body={"kept": True})
    response = lrs.request("POST", STATE, state(), data=data, content_type=content_type)
    assert response.status_code == 400
    assert "error" in response.get_json()
    assert lrs.ok("GET", STATE, state()).get_json() == {"kept": True}


def test_state_post_refuses_to_merge_into_a_document_that_is_not_json(lrs: Lrs) -> None:
    lrs.ok("PUT", STATE, state(), data="/ asdf / undefined",
           content_type="application/octet-stream")
    response = lrs.request("POST", STATE, state(), body={"a": 1})
    assert response.status_code == 400
    assert lrs.ok("GET", STATE, state()).get_data(as_text=True) == "/ asdf / undefined"


def test_state_get_of_a_missing_document_is_404(lrs: Lrs) -> None:
    assert lrs.request("GET", STATE, state("missing")).status_code == 404


def test_state_ids_listing_with_since_exclusive(lrs: Lrs) -> None:
    lrs.ok("PUT", STATE, state("a"), body={})
    lrs.ok("PUT", STATE, state("b"), body={})
    lrs.ok("PUT", STATE, state("other", agent=BOB), body={})
    context = {"activityId": ACTIVITY, "agent": ANA}
    response = lrs.ok("GET", STATE, context)
    assert sorted(response.get_json()) == ["a", "b"]
    assert "Last-Modified" in response.headers and "ETag" in response.headers

    # Make "a" older, then ask for what changed since its time: "a" itself is excluded.
    a = db.session.scalar(select(Document).where(Document.document_id == "a"))
    b = db.session.scalar(select(Document).where(Document.document_id == "b"))
    a_time = b.updated_at - timedelta(hours=1)
    db.session.execute(update(Document).where(Document.id == a.id).values(updated_at=a_time))
    db.session.commit()
    since = a_time.isoformat().replace("+00:00", "Z")
    assert lrs.ok("GET", STATE, {**context, "since": since}).get_json() == ["b"]
    before = (a_time - timedelta(seconds=1)).isoformat()
    assert sorted(lrs.ok("GET", STATE, {**context, "since": before}).get_json()) == ["a", "b"]
    after = (b.updated_at + timedelta(seconds=1)).isoformat()
    assert lrs.ok("GET", STATE, {**context, "since": after}).get_json() == []


def test_state_registration_is_part_of_the_context(lrs: Lrs) -> None:
    reg1, reg2 = str(uuid.uuid4()), str(uuid.uuid4())
    lrs.ok("PUT", STATE, state("s", registration=reg1), body={"r": 1})
    lrs.ok("PUT", STATE, state("s", registration=reg2), body={"r": 2})
    lrs.ok("PUT", STATE, state("s"), body={"r": 0})
    assert lrs.ok("GET", STATE, state("s", registration=reg1)).get_json() == {"r": 1}
    # Registrations compare as UUIDs, whatever the letter case.
    assert lrs.ok("GET", STATE, state("s", registration=reg2.upper())).get_json() == {"r": 2}
    assert lrs.ok("GET", STATE, state("s")).get_json() == {"r": 0}
    context = {"activityId": ACTIVITY, "agent": ANA}
    assert lrs.ok("GET", STATE, {**context, "registration": reg1}).get_json() == ["s"]
    # Without a registration, the listing spans the agent's state in every registration.
    assert lrs.ok("GET", STATE, context).get_json() == ["s", "s", "s"]


def test_state_delete_one_and_delete_all_of_a_context(lrs: Lrs) -> None:
    reg = str(uuid.uuid4())
    for state_id in ("a", "b"):
        lrs.ok("PUT", STATE, state(state_id), body={})
        lrs.ok("PUT", STATE, state(state_id, registration=reg), body={})
    lrs.ok("PUT", STATE, state("a", agent=BOB), body={})
    lrs.ok("PUT", STATE, state("a", activityId="http://relais.test/other"), body={})
    context = {"activityId": ACTIVITY, "agent": ANA}

    assert lrs.request("DELETE", STATE, state("a")).status_code == 204
    assert lrs.request("GET", STATE, state("a")).status_code == 404
    assert lrs.request("DELETE", STATE, state("a")).status_code == 204  # already gone

    lrs.ok("DELETE", STATE, {**context, "registration": reg})
    assert lrs.ok("GET", STATE, {**context, "registration": reg}).get_json() == []
    assert lrs.ok("GET", STATE, context).get_json() == ["b"]

    lrs.ok("PUT", STATE, state("c", registration=reg), body={})
    lrs.ok("DELETE", STATE, context)
    assert lrs.ok("GET", STATE, context).get_json() == []
    assert lrs.ok("GET", STATE, state("a", agent=BOB)).status_code == 200
    assert lrs.ok("GET", STATE, state("a", activityId="http://relais.test/other"))


def test_state_honours_preconditions_when_given(lrs: Lrs) -> None:
    lrs.ok("PUT", STATE, state(), body={"v": 1})
    etag = lrs.ok("GET", STATE, state()).headers["ETag"]
    wrong = '"' + "1" * 40 + '"'
    for method in ("PUT", "POST"):
        response = lrs.request(method, STATE, state(), body={"v": 2}, headers={"If-Match": wrong})
        assert response.status_code == 412
        response = lrs.request(method, STATE, state(), body={"v": 2},
                               headers={"If-None-Match": "*"})
        assert response.status_code == 412
    assert lrs.request("DELETE", STATE, state(), headers={"If-Match": wrong}).status_code == 412
    assert lrs.ok("GET", STATE, state()).get_json() == {"v": 1}
    lrs.ok("PUT", STATE, state(), body={"v": 3}, headers={"If-Match": etag})
    assert lrs.ok("GET", STATE, state()).get_json() == {"v": 3}


def test_head_returns_the_headers_without_the_document(lrs: Lrs) -> None:
    lrs.ok("PUT", STATE, state(), body={"a": 1})
    response = lrs.ok("HEAD", STATE, state())
    assert response.get_data() == b""
    assert response.headers["ETag"] == f'"{sha1(json.dumps({"a": 1}).encode())}"'
    assert lrs.ok("HEAD", STATE, {"activityId": ACTIVITY, "agent": ANA}).get_data() == b""


# --- parameters ----------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "params"), [
    ("PUT", {"agent": ANA, "stateId": "s"}),
    ("PUT", {"activityId": ACTIVITY, "stateId": "s"}),
    ("PUT", {"activityId": ACTIVITY, "agent": ANA}),
    ("POST", {"activityId": ACTIVITY, "agent": ANA}),
    ("GET", {"agent": ANA}),
    ("GET", {"activityId": ACTIVITY}),
    ("DELETE", {"activityId": ACTIVITY}),
    ("DELETE", {"agent": ANA}),
    ("PUT", state(agent="not JSON")),
    ("PUT", state(agent="true")),
    ("GET", state(agent={"objectType": "Agent", "name": "no identifier"})),
    ("GET", state(agent={"mbox": "ana@example.com"})),
    ("POST", state(agent={"objectType": "Group", "mbox": "mailto:team@example.com"})),
    ("DELETE", state(agent={"mbox": "mailto:a@example.com", "openid": "http://a.example"})),
    ("PUT", state(activityId="not an IRI")),
    ("PUT", state(registration="true")),
    ("GET", state(registration="12345")),
    ("DELETE", state(registration="not-a-uuid")),
    ("GET", {"activityId": ACTIVITY, "agent": ANA, "since": "not a timestamp"}),
    ("GET", {"activityId": ACTIVITY, "agent": ANA, "since": "true"}),
    ("PUT", state(unknown="x")),
    ("PUT", state(since="2026-01-01T00:00:00Z")),
])
def test_state_bad_parameters_are_400_and_store_nothing(lrs: Lrs, method: str,
                                                        params: dict[str, Any]) -> None:
    response = lrs.request(method, STATE, params, body={"a": 1})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["message"]
    assert db.session.scalar(select(Document.id)) is None


def test_a_repeated_parameter_is_400(lrs: Lrs) -> None:
    query = urlencode({"activityId": ACTIVITY, "agent": json.dumps(ANA)})
    response = lrs.client.get(f"{STATE}?{query}&stateId=a&stateId=b", headers=lrs.headers)
    assert response.status_code == 400


def test_an_agent_is_one_agent_whatever_extra_properties_it_carries(lrs: Lrs) -> None:
    lrs.ok("PUT", STATE, state(), body={"a": 1})
    named = {**ANA, "name": "Ana"}
    assert lrs.ok("GET", STATE, state(agent=named)).get_json() == {"a": 1}
    assert lrs.ok("GET", STATE, state(agent={"mbox": ANA["mbox"]})).get_json() == {"a": 1}


# --- Activity Profile ----------------------------------------------------------------------

def profile(profile_id: str = "p", **extra: Any) -> dict[str, Any]:
    return {"activityId": ACTIVITY, "profileId": profile_id, **extra}


def test_activity_profile_put_replacing_needs_a_precondition_header(lrs: Lrs) -> None:
    # Creating without If-None-Match / If-Match is allowed: xAPI 1.0.3 asks for 409 only
    # when the document exists (tincan's RemoteLRS sends no header on its first PUT).
    response = lrs.request("PUT", ACTIVITY_PROFILE, profile(), body={"v": 1})
    assert response.status_code == 204, response.get_data(as_text=True)
    assert lrs.ok("GET", ACTIVITY_PROFILE, profile()).get_json() == {"v": 1}

    # A PUT without either header to an existing document: 409 with an explanation.
    response = lrs.request("PUT", ACTIVITY_PROFILE, profile(), body={"v": 2})
    assert response.status_code == 409
    assert "If-Match" in response.get_json()["error"]["message"]
    assert lrs.ok("GET", ACTIVITY_PROFILE, profile()).get_json() == {"v": 1}


def test_activity_profile_if_match_and_if_none_match(lrs: Lrs) -> None:
    lrs.ok("PUT", ACTIVITY_PROFILE, profile(), body={"v": 1}, headers={"If-None-Match": "*"})
    etag = lrs.ok("GET", ACTIVITY_PROFILE, profile()).headers["ETag"]
    assert etag == f'"{sha1(json.dumps({"v": 1}).encode())}"'

    response = lrs.request("PUT", ACTIVITY_PROFILE, profile(), body={"v": 2},
                           headers={"If-None-Match": "*"})
    assert response.status_code == 412
    response = lrs.request("PUT", ACTIVITY_PROFILE, profile(), body={"v": 2},
                           headers={"If-Match": '"' + "0" * 40 + '"'})
    assert response.status_code == 412
    response = lrs.request("PUT", ACTIVITY_PROFILE, profile(), body={"v": 2},
                           headers={"If-None-Match": etag})
    assert response.status_code == 412
    assert lrs.ok("GET", ACTIVITY_PROFILE, profile()).get_json() == {"v": 1}

    # The current ETag (also in a list, or as "*") lets the replacement through.
    lrs.ok("PUT", ACTIVITY_PROFILE, profile(), body={"v": 2},
           headers={"If-Match": f'"{"0" * 40}", {etag}'})
    assert lrs.ok("GET", ACTIVITY_PROFILE, profile()).get_json() == {"v": 2}
    lrs.ok("PUT", ACTIVITY_PROFILE, profile(), body={"v": 3}, headers={"If-Match": "*"})
    assert lrs.ok("GET", ACTIVITY_PROFILE, profile()).get_json() == {"v": 3}

    # If-Match on a document that does not exist fails.
    response = lrs.request("PUT", ACTIVITY_PROFILE, profile("new"), body={"v": 1},
                           headers={"If-Match": "*"})
    assert response.status_code == 412


def test_activity_profile_post_merge_and_delete_with_preconditions(lrs: Lrs) -> None:
    lrs.ok("POST", ACTIVITY_PROFILE, profile(), body={"a": 1})
    lrs.ok("POST", ACTIVITY_PROFILE, profile(), body={"b": 2})
    response = lrs.ok("GET", ACTIVITY_PROFILE, profile())
    assert response.get_json() == {"a": 1, "b": 2}
    etag = response.headers["ETag"]
    stale = '"' + "2" * 40 + '"'
    assert lrs.request("POST", ACTIVITY_PROFILE, profile(), body={"c": 3},
                       headers={"If-Match": stale}).status_code == 412
    assert lrs.request("DELETE", ACTIVITY_PROFILE, profile(),
                       headers={"If-Match": stale}).status_code == 412
    lrs.ok("DELETE", ACTIVITY_PROFILE, profile(), headers={"If-Match": etag})
    assert lrs.request("GET", ACTIVITY_PROFILE, profile()).status_code == 404


def test_activity_profile_ids_listing(lrs: Lrs) -> None:
    for profile_id in ("one", "two"):
        lrs.ok("POST", ACTIVITY_PROFILE, profile(profile_id), body={})
    lrs.ok("POST", ACTIVITY_PROFILE, profile("elsewhere", activityId="http://relais.test/b"),
           body={})
    ids = lrs.ok("GET", ACTIVITY_PROFILE, {"activityId": ACTIVITY}).get_json()
    assert sorted(ids) == ["one", "two"]
    assert lrs.ok("GET", ACTIVITY_PROFILE, {"activityId": "http://relais.test/none"}
                  ).get_json() == []


@pytest.mark.parametrize(("method", "params"), [
    ("PUT", {"profileId": "p"}),
    ("PUT", {"activityId": ACTIVITY}),
    ("POST", {"activityId": ACTIVITY}),
    ("DELETE", {"activityId": ACTIVITY}),
    ("GET", {"profileId": "p"}),
    ("GET", {"activityId": ACTIVITY, "since": "yesterday"}),
    ("PUT", profile(activityId="relative/path")),
    ("PUT", profile(agent=ANA)),
])
def test_activity_profile_bad_parameters_are_400(lrs: Lrs, method: str,
                                                 params: dict[str, Any]) -> None:
    response = lrs.request(method, ACTIVITY_PROFILE, params, body={"a": 1},
                           headers={"If-None-Match": "*"})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert db.session.scalar(select(Document.id)) is None


# --- Agent Profile -------------------------------------------------------------------------

def agent_profile(profile_id: str = "p", agent: dict[str, Any] = ANA) -> dict[str, Any]:
    return {"agent": agent, "profileId": profile_id}


def test_agent_profile_cycle(lrs: Lrs) -> None:
    # Created without a precondition header (it does not exist yet); replaced only with one.
    assert lrs.request("PUT", AGENT_PROFILE, agent_profile(), body={"v": 1}).status_code == 204
    assert lrs.request("PUT", AGENT_PROFILE, agent_profile(), body={"v": 2}).status_code == 409
    assert lrs.request("PUT", AGENT_PROFILE, agent_profile(), body={"v": 2},
                       headers={"If-None-Match": "*"}).status_code == 412
    lrs.ok("POST", AGENT_PROFILE, agent_profile(), body={"w": 2})
    response = lrs.ok("GET", AGENT_PROFILE, agent_profile())
    assert response.get_json() == {"v": 1, "w": 2}
    lrs.ok("PUT", AGENT_PROFILE, agent_profile("other"), data="x", content_type="text/plain",
           headers={"If-None-Match": "*"})
    lrs.ok("PUT", AGENT_PROFILE, agent_profile("bob's", BOB), body={},
           headers={"If-None-Match": "*"})
    assert sorted(lrs.ok("GET", AGENT_PROFILE, {"agent": ANA}).get_json()) == ["other", "p"]
    assert lrs.request("POST", AGENT_PROFILE, agent_profile("other"),
                       body={"a": 1}).status_code == 400
    lrs.ok("DELETE", AGENT_PROFILE, agent_profile())
    assert lrs.ok("GET", AGENT_PROFILE, {"agent": ANA}).get_json() == ["other"]
    assert lrs.ok("GET", AGENT_PROFILE, {"agent": BOB}).get_json() == ["bob's"]


@pytest.mark.parametrize(("method", "params"), [
    ("PUT", {"profileId": "p"}),
    ("POST", {"agent": ANA}),
    ("DELETE", {"agent": ANA}),
    ("GET", {"profileId": "p"}),
    ("GET", {"agent": "true"}),
    ("PUT", agent_profile(agent={"objectType": "Group", "mbox": "mailto:team@example.com"})),
    ("POST", {"agent": '{"objectType""Agent"}', "profileId": "p"}),
    ("GET", {"agent": ANA, "since": "true"}),
    ("PUT", {**agent_profile(), "activityId": ACTIVITY}),
])
def test_agent_profile_bad_parameters_are_400(lrs: Lrs, method: str,
                                              params: dict[str, Any]) -> None:
    response = lrs.request(method, AGENT_PROFILE, params, body={"a": 1},
                           headers={"If-None-Match": "*"})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert db.session.scalar(select(Document.id)) is None


# --- organizations, credentials, limits, alternate syntax ----------------------------------

def test_organizations_do_not_see_each_others_documents(make_lrs: Callable[..., Lrs]) -> None:
    first, second = make_lrs(), make_lrs()
    first.ok("PUT", STATE, state(), body={"org": 1})
    first.ok("PUT", ACTIVITY_PROFILE, profile(), body={"org": 1},
             headers={"If-None-Match": "*"})
    first.ok("PUT", AGENT_PROFILE, agent_profile(), body={"org": 1},
             headers={"If-None-Match": "*"})
    assert second.request("GET", STATE, state()).status_code == 404
    assert second.ok("GET", STATE, {"activityId": ACTIVITY, "agent": ANA}).get_json() == []
    assert second.request("GET", ACTIVITY_PROFILE, profile()).status_code == 404
    assert second.ok("GET", AGENT_PROFILE, {"agent": ANA}).get_json() == []
    # The same identifiers in another organization are other documents.
    second.ok("PUT", ACTIVITY_PROFILE, profile(), body={"org": 2},
              headers={"If-None-Match": "*"})
    second.ok("DELETE", STATE, {"activityId": ACTIVITY, "agent": ANA})
    assert first.ok("GET", ACTIVITY_PROFILE, profile()).get_json() == {"org": 1}
    assert first.ok("GET", STATE, state()).get_json() == {"org": 1}


def test_a_second_credential_of_the_same_organization_shares_its_documents(
        make_lrs: Callable[..., Lrs], create_org: Callable[..., Any]) -> None:
    org = create_org()
    make_lrs(org).ok("PUT", STATE, state(), body={"a": 1})
    assert make_lrs(org).ok("GET", STATE, state()).get_json() == {"a": 1}


def test_launch_credentials_only_reach_their_learners_documents(
        make_lrs: Callable[..., Lrs], create_org: Callable[..., Any]) -> None:
    org = create_org()
    reg = str(uuid.uuid4())
    launch = make_lrs(org, scope_agent=json.dumps(ANA), scope_registration=reg)
    launch.ok("PUT", STATE, state(registration=reg), body={"mine": True})
    assert launch.request("PUT", STATE, state(agent=BOB, registration=reg),
                          body={}).status_code == 403
    assert launch.request("GET", STATE, state(registration=str(uuid.uuid4()))
                          ).status_code == 403
    assert launch.request("GET", AGENT_PROFILE, {"agent": BOB}).status_code == 403
    assert launch.ok("GET", AGENT_PROFILE, {"agent": ANA}).get_json() == []


def test_documents_over_the_size_limit_are_413(app: Flask, lrs: Lrs) -> None:
    saved = app.config["XAPI_MAX_DOCUMENT_BYTES"]
    app.config["XAPI_MAX_DOCUMENT_BYTES"] = 100
    try:
        response = lrs.request("PUT", STATE, state(), data=b"x" * 101,
                               content_type="application/octet-stream")
        assert response.status_code == 413
        lrs.ok("PUT", STATE, state(), data=b"x" * 100, content_type="application/octet-stream")
    finally:
        app.config["XAPI_MAX_DOCUMENT_BYTES"] = saved


def test_alternate_request_syntax_reaches_the_document_resources(lrs: Lrs) -> None:
    form = {"Authorization": lrs.headers["Authorization"], "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json", "activityId": ACTIVITY,
            "agent": json.dumps(ANA), "stateId": "alt", "content": json.dumps({"via": "form"})}
    response = lrs.client.post(f"{STATE}?method=PUT", data=form,
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 204, response.get_data(as_text=True)
    form.pop("content")
    form.pop("Content-Type")
    response = lrs.client.post(f"{STATE}?method=GET", data=form,
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.get_json() == {"via": "form"}
    etag = response.headers["ETag"]

    profile_form = {"Authorization": lrs.headers["Authorization"],
                    "X-Experience-API-Version": "1.0.3", "activityId": ACTIVITY,
                    "profileId": "alt", "content": "{}", "If-None-Match": "*"}
    response = lrs.client.post(f"{ACTIVITY_PROFILE}?method=PUT", data=profile_form,
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 204
    response = lrs.client.post(f"{ACTIVITY_PROFILE}?method=PUT", data=profile_form,
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 412  # If-None-Match came through as a header

    form["If-Match"] = etag
    response = lrs.client.post(f"{STATE}?method=DELETE", data=form,
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 204
    assert lrs.request("GET", STATE, state("alt")).status_code == 404


def test_concurrent_merges_into_one_document_lose_nothing(lrs: Lrs) -> None:
    # Eight clients POST a property each to the same (not yet existing) document at once:
    # writers of one document are serialised, so every property ends up in it.
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def post(i: int) -> None:
        barrier.wait()
        response = lrs.request("POST", STATE, state("shared"), body={f"k{i}": i})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [204] * 8
    assert lrs.ok("GET", STATE, state("shared")).get_json() == {f"k{i}": i for i in range(8)}
