"""The signed webhook: signature, replay protection, batches, consent."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from lms.advocacy import services
from lms.advocacy.models import AdvocacyEvent
from lms.advocacy.webhook import sign
from lms.extensions import db
from tests.advocacy.helpers import consent


@pytest.fixture()
def hook(create_org, create_user):
    org = create_org(slug="hooked")
    alice = create_user(org=org, email="alice@hooked.example", name="Alice")
    create_user(org=org, email="carol@hooked.example", name="Carol")
    consent(org, alice)
    secret = services.rotate_webhook_secret(organization=org)
    db.session.commit()
    return org, alice, secret


EVENT = {"email": "alice@hooked.example", "network": "linkedin", "kind": "share",
         "url": "https://acme.example/p/9", "occurred_at": "2026-11-20T10:00:00Z",
         "external_id": "es-981", "clicks": 12, "impressions": 800}


def post(client, slug, secret, payload, *, ts=None, signature=None):
    body = json.dumps(payload).encode()
    ts = str(int(time.time()) if ts is None else ts)
    headers = {"Content-Type": "application/json", "X-Relais-Timestamp": ts,
               "X-Relais-Signature": signature or sign(secret, ts, body)}
    return client.post(f"/hooks/advocacy/{slug}", data=body, headers=headers)


def events() -> int:
    return db.session.scalar(select(func.count()).select_from(AdvocacyEvent))


def test_good_signature_stores_event_and_repeat_is_idempotent(client, hook):
    org, alice, secret = hook
    r = post(client, "hooked", secret, EVENT)
    assert r.status_code == 200, r.json
    assert r.json["created"] == 1
    r = post(client, "hooked", secret, {**EVENT, "clicks": 30})
    assert (r.json["created"], r.json["updated"]) == (0, 1)
    assert events() == 1
    event = db.session.scalar(select(AdvocacyEvent))
    assert (event.clicks, event.source, event.user_id) == (30, "webhook", alice.id)


def test_bad_or_missing_signature_is_401_json(client, hook):
    _, _, secret = hook
    assert post(client, "hooked", "wrong-secret", EVENT).status_code == 401
    r = post(client, "hooked", secret, EVENT, signature="sha256=00")
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    r = client.post("/hooks/advocacy/hooked", json=EVENT)
    assert r.status_code == 401
    assert post(client, "nope", secret, EVENT).status_code == 401
    assert events() == 0


def test_body_changed_after_signing_is_refused(client, hook):
    _, _, secret = hook
    ts = str(int(time.time()))
    body = json.dumps(EVENT).encode()
    r = client.post("/hooks/advocacy/hooked", data=body.replace(b"12", b"99"),
                    headers={"X-Relais-Timestamp": ts,
                             "X-Relais-Signature": sign(secret, ts, body)})
    assert r.status_code == 401


def test_old_timestamp_is_refused_as_replay(client, hook):
    _, _, secret = hook
    r = post(client, "hooked", secret, EVENT, ts=int(time.time()) - 600)
    assert r.status_code == 401 and r.json["error"]["code"] == "replayed"
    assert events() == 0


def test_rotated_secret_stops_the_old_one(client, hook):
    org, _, secret = hook
    services.rotate_webhook_secret(organization=org)
    db.session.commit()
    assert post(client, "hooked", secret, EVENT).status_code == 401


def test_batch_with_non_consenting_learner_reports_them(client, hook):
    _, _, secret = hook
    batch = {"events": [EVENT, {**EVENT, "external_id": "es-982"},
                        {**EVENT, "email": "carol@hooked.example", "external_id": "es-983"}]}
    r = post(client, "hooked", secret, batch)
    assert r.status_code == 200
    assert r.json["created"] == 2
    assert r.json["rejected"] == [{"index": 2, "code": "no_consent",
                                   "error": "carol@hooked.example has not opted "
                                            "in to advocacy activity collection"}]


def test_invalid_event_in_batch_stores_nothing(client, hook):
    _, _, secret = hook
    r = post(client, "hooked", secret, [EVENT, {**EVENT, "network": "myspace"}])
    assert r.status_code == 422
    assert "events[1]" in r.json["error"]["fields"]
    assert events() == 0
