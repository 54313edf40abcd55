"""The one advocacy intake: the same bad event gets the same code from the API, the webhook
and the CSV import (and the manual entry page); an API batch costs a fixed number of queries."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.advocacy import csvimport, services
from lms.advocacy.models import AdvocacyEvent
from lms.advocacy.webhook import sign
from lms.core.models import utcnow
from lms.extensions import db
from tests.advocacy.helpers import consent

WHEN = (utcnow() - timedelta(days=3)).strftime("%Y-%m-%d")
GOOD = {"email": "ana@intake.example", "network": "linkedin", "kind": "share",
        "url": "https://acme.example/p/1", "occurred_at": WHEN, "clicks": "4"}

# (overrides making the good event bad, the code every path must answer, the field named)
BAD = {
    "unknown member": ({"email": "nobody@intake.example"}, "unknown_member", "email"),
    "no consent": ({"email": "carl@intake.example"}, "no_consent", "consent"),
    "bad network": ({"network": "myspace"}, "invalid_network", "network"),
    "bad date": ({"occurred_at": "2026-02-31"}, "invalid_date", "date"),
    "future date": ({"occurred_at": (utcnow() + timedelta(days=5)).strftime("%Y-%m-%d")},
                    "future_date", "date"),
    "negative metric": ({"clicks": "-3"}, "invalid_metric", "clicks"),
    "unknown campaign": ({"campaign_id": "999999"}, "unknown_campaign", "campaign_id"),
}


@pytest.fixture()
def world(create_org, create_user, api_token):
    org = create_org(slug="intake")
    ana = create_user(org=org, email="ana@intake.example", name="Ana")
    create_user(org=org, email="carl@intake.example", name="Carl")  # never opted in
    trainer = create_user(Role.TRAINER, org=org, email="tom@intake.example")
    consent(org, ana)
    secret = services.rotate_webhook_secret(organization=org)
    db.session.commit()
    return {"org": org, "ana": ana, "secret": secret, "headers": api_token(trainer)}


def stored() -> int:
    return db.session.scalar(select(func.count()).select_from(AdvocacyEvent))


def api_code(client, world, raw):
    r = client.post("/api/v1/orgs/intake/advocacy/events", json={"events": [GOOD, raw]},
                    headers=world["headers"])
    assert r.status_code == 422, r.json
    error = r.json["error"]
    [problem] = error["events"]
    assert problem["index"] == 1 and error["fields"] == {"events[1]": problem["message"]}
    return problem["code"], problem["field"]


def webhook_code(client, world, raw):
    body = json.dumps([GOOD, raw]).encode()
    ts = str(int(time.time()))
    r = client.post("/hooks/advocacy/intake", data=body, headers={
        "Content-Type": "application/json", "X-Relais-Timestamp": ts,
        "X-Relais-Signature": sign(world["secret"], ts, body)})
    if r.status_code == 200:  # people unknown or not consenting are left out, and reported
        [rejected] = r.json["rejected"]
        assert rejected["index"] == 1 and r.json["created"] == 1
        db.session.rollback()
        db.session.execute(AdvocacyEvent.__table__.delete())
        db.session.commit()
        return rejected["code"], None
    assert r.status_code == 422, r.json
    [problem] = r.json["error"]["events"]
    return problem["code"], problem["field"]


def csv_code(world, raw):
    columns = ["email", "network", "kind", "url", "occurred_at", "clicks", "campaign_id"]
    lines = [",".join(columns)] + [",".join(str(e.get(c, "")) for c in columns)
                                   for e in (GOOD, raw)]
    with pytest.raises(csvimport.ImportRejected) as info:
        csvimport.import_activity(organization=world["org"],
                                  data=("\n".join(lines) + "\n").encode())
    [problem] = info.value.problems
    assert problem.index == 3 and info.value.errors == [(3, problem.text())]
    return problem.code, problem.field


@pytest.mark.parametrize("case", list(BAD))
def test_the_same_bad_event_gets_the_same_code_from_every_path(client, world, case):
    overrides, code, field = BAD[case]
    raw = {**GOOD, **overrides, "url": "https://acme.example/p/2"}
    assert api_code(client, world, raw) == (code, field)
    webhook = webhook_code(client, world, raw)
    assert webhook[0] == code and webhook[1] in (field, None)
    assert csv_code(world, raw) == (code, field)
    assert stored() == 0  # all or nothing: the good event of the batch was not stored either
    if code not in services.WHO_CODES:
        with pytest.raises(services.ValidationFailed) as info:
            services.record_event(organization=world["org"], user=world["ana"], data=raw,
                                  source="manual")
        assert info.value.code == code and field in info.value.fields


def test_a_refused_event_is_explained_in_french(client, world):
    r = client.post("/api/v1/orgs/intake/advocacy/events",
                    json={**GOOD, "network": "myspace", "email": "nobody@intake.example"},
                    headers={**world["headers"], "Accept-Language": "fr"})
    assert r.status_code == 422
    assert r.json["error"]["fields"] == {
        "event": "nobody@intake.example n’est pas membre de cette organisation"}
    assert r.json["error"]["message"] == "Certains événements ne sont pas valides ; aucun " \
                                         "n’a été enregistré."
    r = client.post("/api/v1/orgs/intake/advocacy/events", json={**GOOD, "clicks": -1},
                    headers={**world["headers"], "Accept-Language": "fr"})
    assert r.json["error"]["events"][0]["message"] == "clicks : doit être un nombre positif"


def test_an_api_batch_costs_the_same_queries_whatever_its_size(client, world, create_user,
                                                               count_queries):
    org = world["org"]
    learners = [create_user(org=org, email=f"l{n}@intake.example") for n in range(40)]
    consent(org, *learners)

    def post(users, tag):
        events = [{**GOOD, "email": u.email, "url": f"https://acme.example/{tag}/{n}"}
                  for n, u in enumerate(users)]
        with count_queries() as statements:
            r = client.post("/api/v1/orgs/intake/advocacy/events", json={"events": events},
                            headers=world["headers"])
        assert r.status_code == 201 and r.json["created"] == len(users), r.json
        return len(statements)

    post(learners[:1], "warm-up")  # the first request of a session loads what is cached
    small, large = post(learners[:2], "small"), post(learners, "large")
    assert large == small, f"{small} queries for 2 events, {large} for 40"
    assert small <= 25  # the batch's reads and writes, not one per event
    assert stored() == 43


def test_a_bad_manual_entry_shows_the_message_next_to_its_field(client, world, login):
    login(world["ana"])
    form = {"url": "https://acme.example/p/3", "network": "x", "kind": "post",
            "occurred_at": WHEN, "clicks": "-2"}
    r = client.post("/o/intake/advocacy/me/events", data=form,
                    headers={"Accept-Language": "fr"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert '<p class="error" id="m-clicks-error">doit être un nombre positif</p>' in page
    assert 'value="https://acme.example/p/3"' in page and 'value="-2"' in page
    assert stored() == 0
