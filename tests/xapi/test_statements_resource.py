"""The Statements resource over HTTP, as xAPI 1.0.3 (Communication 2.1) says it behaves."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from lms.extensions import db
from lms.xapi.services import create_lrs_credentials

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
ANA = {"objectType": "Agent", "name": "Ana", "mbox": "mailto:ana@example.com"}
BOB = {"objectType": "Agent", "name": "Bob", "mbox": "mailto:bob@example.com"}
COURSE = "http://relais.test/programs/1"


def statement(actor: dict[str, Any] = ANA, verb: str = COMPLETED,
              activity: str = "http://relais.test/modules/1", **extra: Any) -> dict[str, Any]:
    st = {"actor": actor, "verb": {"id": verb, "display": {"en-US": "did", "fr-FR": "a fait"}},
          "object": {"id": activity, "definition": {"name": {"en-US": "Module", "fr": "Module"}}}}
    st.update(extra)
    return st


class Lrs:
    """An LRS client for one organization's credentials."""

    def __init__(self, client: FlaskClient, key: str, secret: str) -> None:
        self.client = client
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}

    def post(self, body: Any, **kw: Any) -> Any:
        return self.client.post("/xapi/statements", json=body, headers=self.headers, **kw)

    def put(self, body: Any, statement_id: str) -> Any:
        return self.client.put(f"/xapi/statements?statementId={statement_id}", json=body,
                               headers=self.headers)

    def get(self, headers: dict[str, str] | None = None, **params: Any) -> Any:
        query = urlencode({k: json.dumps(v) if isinstance(v, dict) else v
                           for k, v in params.items()})
        return self.client.get(f"/xapi/statements?{query}",
                               headers={**self.headers, **(headers or {})})

    def ids(self, **params: Any) -> list[str]:
        response = self.get(**params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [st["id"] for st in response.get_json()["statements"]]


@pytest.fixture()
def make_lrs(client: FlaskClient, create_org: Callable[..., Any]) -> Callable[..., Lrs]:
    def factory(org: Any = None) -> Lrs:
        org = org or create_org()
        credential, secret = create_lrs_credentials(organization=org)
        db.session.commit()
        return Lrs(client, credential.key, secret)

    return factory


@pytest.fixture()
def lrs(make_lrs: Callable[..., Lrs]) -> Lrs:
    return make_lrs()


def test_credentials_and_version_are_required(lrs: Lrs, client: FlaskClient) -> None:
    assert client.get("/xapi/statements",
                      headers={"X-Experience-API-Version": "1.0.3"}).status_code == 401
    wrong = {**lrs.headers, "Authorization": "Basic " + base64.b64encode(b"x:y").decode()}
    assert client.get("/xapi/statements", headers=wrong).status_code == 401
    no_version = {"Authorization": lrs.headers["Authorization"]}
    assert client.get("/xapi/statements", headers=no_version).status_code == 400
    old = {**lrs.headers, "X-Experience-API-Version": "0.9"}
    assert client.get("/xapi/statements", headers=old).status_code == 400
    assert client.get("/xapi/about").get_json()["version"][-1] == "1.0.3"


def test_revoked_or_expired_credentials_are_refused_at_once(
        client: FlaskClient, create_org: Callable[..., Any]) -> None:
    # The credentials are read on every request (no cache): revoking or expiring them takes
    # effect on the next request, in every serving process.
    from lms.core.models import utcnow
    from lms.xapi.models import LrsCredential

    org = create_org()
    pairs = [create_lrs_credentials(organization=org) for _ in range(2)]
    db.session.commit()
    clients = [Lrs(client, credential.key, secret) for credential, secret in pairs]
    for lrs_client in clients:
        assert lrs_client.post(statement()).status_code == 200
    revoked, expired = (db.session.get(LrsCredential, credential.id) for credential, _ in pairs)
    revoked.revoked_at = utcnow()
    expired.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    for lrs_client in clients:
        assert lrs_client.post(statement()).status_code == 401
        assert lrs_client.get().status_code == 401


def test_post_then_get_by_id_with_lrs_properties(lrs: Lrs) -> None:
    response = lrs.post(statement())
    assert response.status_code == 200
    [sid] = response.get_json()
    got = lrs.get(statementId=sid)
    assert got.status_code == 200
    assert got.headers["X-Experience-API-Consistent-Through"]
    assert got.headers["Last-Modified"]
    data = got.get_json()
    assert data["id"] == sid and data["stored"] and data["timestamp"]
    assert data["authority"]["account"]["homePage"].endswith("/xapi")
    assert data["verb"]["display"] == {"en-US": "did", "fr-FR": "a fait"}
    head = lrs.client.head(f"/xapi/statements?statementId={sid}", headers=lrs.headers)
    assert head.status_code == 200 and head.get_data() == b""


def test_put_semantics(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    assert lrs.put(statement(), sid).status_code == 204
    assert lrs.put(statement(), sid).status_code == 204  # same content: accepted again
    assert lrs.put(statement(verb=ATTEMPTED), sid).status_code == 409
    assert lrs.put(statement(id=str(uuid.uuid4())), sid).status_code == 400
    missing = lrs.client.put("/xapi/statements", json=statement(), headers=lrs.headers)
    assert missing.status_code == 400
    assert lrs.get(statementId=sid).get_json()["verb"]["id"] == COMPLETED


def test_post_conflict_and_equivalent_content(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    st = statement(id=sid, timestamp="2026-11-23T10:00:00+01:00")
    assert lrs.post(st).status_code == 200
    same_instant = {**st, "timestamp": "2026-11-23T09:00:00Z"}
    assert lrs.post(same_instant).get_json() == [sid]
    assert lrs.post({**st, "result": {"success": True}}).status_code == 409


def test_batch_is_all_or_nothing_and_rejects_duplicate_ids(lrs: Lrs) -> None:
    good = statement(id=str(uuid.uuid4()))
    bad = statement(verb="not an iri")
    response = lrs.post([good, bad])
    assert response.status_code == 400
    assert "statements[1].verb.id" in response.get_json()["error"]["message"]
    assert lrs.get(statementId=good["id"]).status_code == 404
    dup = str(uuid.uuid4())
    assert lrs.post([statement(id=dup), statement(id=dup)]).status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x"])
def test_content_type_is_checked(lrs: Lrs, content_type: str) -> None:
    response = lrs.client.post("/xapi/statements", data=json.dumps(statement()),
                               headers={**lrs.headers, "Content-Type": content_type})
    assert response.status_code == 400


def test_bad_parameters_are_rejected(lrs: Lrs) -> None:
    assert lrs.get(foo="bar").status_code == 400
    sid = lrs.post(statement()).get_json()[0]
    assert lrs.get(statementId=sid, verb=COMPLETED).status_code == 400
    assert lrs.get(statementId=sid, format="ids").status_code == 200
    assert lrs.get(limit="-1").status_code == 400
    assert lrs.get(agent="not json").status_code == 400
    assert lrs.get(agent={"name": "no ifi"}).status_code == 400
    assert lrs.get(since="yesterday").status_code == 400
    assert lrs.get(format="full").status_code == 400
    assert lrs.get(registration="abc").status_code == 400


def test_filters(lrs: Lrs) -> None:
    reg = str(uuid.uuid4())
    [a1] = lrs.post(statement()).get_json()
    [a2] = lrs.post(statement(verb=ATTEMPTED, context={"registration": reg})).get_json()
    [b1] = lrs.post(statement(actor=BOB, activity="http://relais.test/modules/2", context={
        "instructor": ANA, "contextActivities": {"parent": {"id": COURSE}}})).get_json()
    [b2] = lrs.post(statement(actor=BOB, object={"objectType": "Agent", **ANA})).get_json()
    assert lrs.ids(agent=ANA) == [b2, a2, a1]
    assert lrs.ids(agent=ANA, related_agents="true") == [b2, b1, a2, a1]
    assert lrs.ids(agent=ANA, verb=ATTEMPTED) == [a2]
    assert lrs.ids(verb=ATTEMPTED) == [a2]
    assert lrs.ids(registration=reg) == [a2]
    assert lrs.ids(registration=reg.upper()) == [a2]
    assert lrs.ids(activity="http://relais.test/modules/1") == [a2, a1]
    assert lrs.ids(activity=COURSE) == []
    assert lrs.ids(activity=COURSE, related_activities="true") == [b1]
    assert lrs.ids(agent=BOB, ascending="true") == [b1, b2]
    assert lrs.ids() == [b2, b1, a2, a1]


def test_since_and_until_use_stored_time(lrs: Lrs) -> None:
    [first] = lrs.post(statement()).get_json()
    stored = lrs.get(statementId=first).get_json()["stored"]
    [second] = lrs.post(statement(verb=ATTEMPTED)).get_json()
    assert lrs.ids(until=stored) == [first]
    assert first not in lrs.ids(since=stored)
    assert second in lrs.ids(since=stored) or lrs.get(statementId=second).get_json()[
        "stored"] == stored


def test_more_pages_through_every_statement_once(lrs: Lrs) -> None:
    posted = lrs.post([statement(activity=f"http://relais.test/m/{i}") for i in range(7)])
    expected = list(reversed(posted.get_json()))
    lrs.post(statement(verb=ATTEMPTED))
    seen: list[str] = []
    response = lrs.get(verb=COMPLETED, limit=3)
    while True:
        body = response.get_json()
        assert len(body["statements"]) <= 3
        seen.extend(st["id"] for st in body["statements"])
        if not body["more"]:
            break
        response = lrs.client.get(body["more"], headers=lrs.headers)
        assert response.status_code == 200
    assert seen == expected


def test_voiding(lrs: Lrs) -> None:
    [target] = lrs.post(statement(verb=ATTEMPTED)).get_json()
    [ref] = lrs.post(statement(verb=COMPLETED, object={
        "objectType": "StatementRef", "id": target})).get_json()
    voiding = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target})
    [voider] = lrs.post(voiding).get_json()
    assert lrs.get(statementId=target).status_code == 404
    assert lrs.get(voidedStatementId=target).get_json()["id"] == target
    assert lrs.get(voidedStatementId=ref).status_code == 404
    assert target not in lrs.ids()
    # Statements targeting a voided statement are still returned, and match its filters.
    assert lrs.ids(verb=ATTEMPTED) == [voider, ref]
    cannot = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": voider})
    assert lrs.post(cannot).status_code == 400
    assert lrs.get(statementId=voider).status_code == 200


def test_a_statement_posted_before_its_target_matches_the_targets_filters(lrs: Lrs) -> None:
    # Each POSTed alone, the reference first: on PostgreSQL the target is then inserted by
    # its id's claim, and the reference takes up its filters after (Communication 2.1.3).
    target, late = str(uuid.uuid4()), str(uuid.uuid4())
    [ref] = lrs.post(statement(verb=COMPLETED, object={
        "objectType": "StatementRef", "id": target})).get_json()
    assert lrs.ids(verb=ATTEMPTED) == []
    assert lrs.post(statement(verb=ATTEMPTED, id=target)).get_json() == [target]
    assert lrs.ids(verb=ATTEMPTED) == [target, ref]
    # A target that arrives after its voiding statement is stored voided.
    [voider] = lrs.post(statement(verb=VOIDED, object={
        "objectType": "StatementRef", "id": late})).get_json()
    assert lrs.post(statement(verb=ATTEMPTED, id=late)).get_json() == [late]
    assert lrs.get(statementId=late).status_code == 404
    assert lrs.get(voidedStatementId=late).get_json()["id"] == late
    assert lrs.ids(verb=ATTEMPTED) == [voider, target, ref]


def test_formats(lrs: Lrs) -> None:
    [sid] = lrs.post(statement(context={"contextActivities": {"parent": {"id": COURSE}}})
                     ).get_json()
    exact = lrs.get(statementId=sid).get_json()
    assert exact["context"]["contextActivities"]["parent"] == [{"id": COURSE}]
    ids = lrs.get(statementId=sid, format="ids").get_json()
    assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:ana@example.com"}
    assert ids["object"] == {"id": "http://relais.test/modules/1"}
    assert ids["verb"] == {"id": COMPLETED}
    canonical = lrs.get(statementId=sid, format="canonical",
                        headers={"Accept-Language": "fr-FR, en;q=0.5"}).get_json()
    assert canonical["verb"]["display"] == {"fr-FR": "a fait"}
    assert canonical["object"]["definition"]["name"] == {"fr": "Module"}


def multipart(parts: list[tuple[dict[str, str], bytes]]) -> tuple[bytes, str]:
    boundary = "xyzBOUNDARYzyx"
    body = b""
    for headers, content in parts:
        body += f"--{boundary}\r\n".encode()
        body += "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n"
        body += content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/mixed; boundary={boundary}"


def with_attachment(content: bytes) -> dict[str, Any]:
    return statement(attachments=[{
        "usageType": "http://relais.test/usage/evidence", "display": {"en": "evidence"},
        "contentType": "text/plain", "length": len(content),
        "sha2": hashlib.sha256(content).hexdigest()}])


def test_attachments_round_trip(lrs: Lrs) -> None:
    content = b"screenshot of my first post"
    sha2 = hashlib.sha256(content).hexdigest()
    st = with_attachment(content)
    body, ctype = multipart([
        ({"Content-Type": "application/json"}, json.dumps(st).encode()),
        ({"Content-Type": "text/plain", "Content-Transfer-Encoding": "binary",
          "X-Experience-API-Hash": sha2}, content)])
    response = lrs.client.post("/xapi/statements", data=body,
                               headers={**lrs.headers, "Content-Type": ctype})
    assert response.status_code == 200, response.get_data(as_text=True)
    [sid] = response.get_json()
    got = lrs.get(statementId=sid, attachments="true")
    assert got.mimetype == "multipart/mixed"
    raw = got.get_data()
    assert content in raw and f"X-Experience-API-Hash: {sha2}".encode() in raw
    assert raw.index(b"application/json") < raw.index(content)


def test_attachment_errors(lrs: Lrs) -> None:
    content = b"evidence"
    sha2 = hashlib.sha256(content).hexdigest()
    st = json.dumps(with_attachment(content)).encode()
    json_part = ({"Content-Type": "application/json"}, st)
    binary = {"Content-Type": "text/plain", "Content-Transfer-Encoding": "binary"}
    cases = [
        [json_part],  # content missing
        [json_part, ({**binary, "X-Experience-API-Hash": "0" * 64}, content)],  # wrong hash
        [json_part, (binary, content)],  # no hash header
        [json_part, ({"Content-Type": "text/plain", "X-Experience-API-Hash": sha2}, content)],
        [({"Content-Type": "text/plain"}, st),
         ({**binary, "X-Experience-API-Hash": sha2}, content)],  # first part not JSON
    ]
    for parts in cases:
        body, ctype = multipart(parts)
        response = lrs.client.post("/xapi/statements", data=body,
                                   headers={**lrs.headers, "Content-Type": ctype})
        assert response.status_code == 400, parts
    # As JSON, an attachment needs a fileUrl.
    assert lrs.post(with_attachment(content)).status_code == 400
    linked = with_attachment(content)
    linked["attachments"][0]["fileUrl"] = "http://relais.test/files/1"
    assert lrs.post(linked).status_code == 200


def test_alternate_request_syntax(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    form = {"statementId": sid, "content": json.dumps(statement()),
            "Authorization": lrs.headers["Authorization"], "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json"}
    response = lrs.client.post("/xapi/statements?method=PUT", data=form)
    assert response.status_code == 204, response.get_data(as_text=True)
    got = lrs.client.post("/xapi/statements?method=GET", data={
        "statementId": sid, "Authorization": lrs.headers["Authorization"],
        "X-Experience-API-Version": "1.0.3"})
    assert got.status_code == 200 and got.get_json()["id"] == sid
    extra = lrs.client.post(f"/xapi/statements?method=PUT&statementId={sid}", data=form)
    assert extra.status_code == 400
    not_post = lrs.client.put("/xapi/statements?method=POST", data=form)
    assert not_post.status_code == 400
    no_content = {k: v for k, v in form.items() if k != "content"}
    assert lrs.client.post("/xapi/statements?method=PUT", data=no_content).status_code == 400


def test_organizations_are_isolated(make_lrs: Callable[..., Lrs]) -> None:
    lrs_a, lrs_b = make_lrs(), make_lrs()
    [sid] = lrs_a.post(statement()).get_json()
    assert lrs_b.get(statementId=sid).status_code == 404
    assert lrs_b.ids() == []
    assert lrs_b.ids(agent=ANA) == []
    # The same id may exist in another organization's store without conflict.
    assert lrs_b.put(statement(verb=ATTEMPTED), sid).status_code == 204
    assert lrs_a.get(statementId=sid).get_json()["verb"]["id"] == COMPLETED


def test_activities_and_agents_resources(lrs: Lrs) -> None:
    lrs.post(statement())
    lrs.post(statement(object={"id": "http://relais.test/modules/1", "definition": {
        "description": {"en-US": "First module"}}}))
    response = lrs.client.get("/xapi/activities?activityId=http://relais.test/modules/1",
                              headers=lrs.headers)
    activity = response.get_json()
    assert activity["id"] == "http://relais.test/modules/1"
    assert activity["definition"]["name"]["en-US"] == "Module"
    assert activity["definition"]["description"] == {"en-US": "First module"}
    assert lrs.client.get("/xapi/activities", headers=lrs.headers).status_code == 400
    person = lrs.client.get("/xapi/agents?" + urlencode({"agent": json.dumps(ANA)}),
                            headers=lrs.headers).get_json()
    assert person == {"objectType": "Person", "name": ["Ana"],
                      "mbox": ["mailto:ana@example.com"]}


def test_launch_credentials_only_see_and_write_their_learner(
        client: FlaskClient, create_org: Callable[..., Any]) -> None:
    org = create_org()
    credential, secret = create_lrs_credentials(organization=org)
    launch, launch_secret = create_lrs_credentials(
        organization=org, label="launch", scope_agent=json.dumps(ANA))
    db.session.commit()
    full = Lrs(client, credential.key, secret)
    scoped = Lrs(client, launch.key, launch_secret)
    [bob_id] = full.post(statement(actor=BOB)).get_json()
    assert scoped.post(statement(actor=BOB)).status_code == 403
    [ana_id] = scoped.post(statement()).get_json()
    assert scoped.ids() == [ana_id]
    assert scoped.get(statementId=bob_id).status_code == 404
    assert scoped.get(agent=BOB).status_code == 403
    assert set(full.ids()) == {ana_id, bob_id}
