"""Forwarding to an external LRS: durable outbox, order, retries, dead letters, isolation.

The external LRS is a real HTTP server on 127.0.0.1 (``forwarding_double.LrsDouble``) that can
be stopped and started again on the same port, and told to fail.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from forwarding_double import LrsDouble
from sqlalchemy import select

from lms import create_app
from lms.accounts.models import Organization
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi import forwarding
from lms.xapi.forwarding_models import ExternalLrs, OutboxEntry, OutboxStatus

LATER = timedelta(hours=3)  # past any backoff with the default settings


@pytest.fixture()
def double() -> Iterator[LrsDouble]:
    lrs = LrsDouble().start()
    yield lrs
    lrs.stop()


@pytest.fixture()
def forwarding_org(create_org: Callable[..., Organization],
                   double: LrsDouble) -> Organization:
    org = create_org()
    forwarding.configure_external_lrs(organization_id=org.id, endpoint=double.url + "/",
                                      key=double.key, secret=double.secret)
    db.session.commit()
    return org


def statement(n: int = 0) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": f"mailto:learner{n}@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced",
                 "display": {"en-US": "experienced"}},
        "object": {"id": f"https://relais.test/activities/lesson-{n}"},
    }


def record_statements(org: Organization, count: int) -> list[str]:
    """Record ``count`` statements through ``record()`` (one transaction); return their ids."""
    from lms.xapi.record import record

    statements = [statement(n) for n in range(count)]
    record(statements, organization_id=org.id)
    db.session.commit()
    return [s["id"] for s in statements]


def rows(org: Organization) -> list[OutboxEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEntry).where(
        OutboxEntry.organization_id == org.id).order_by(OutboxEntry.statement_pk)))


def test_statements_are_delivered_in_order_with_the_lrs_headers(
        forwarding_org: Organization, double: LrsDouble) -> None:
    ids = record_statements(forwarding_org, 3) + record_statements(forwarding_org, 2)

    report = forwarding.deliver_pending()

    assert report.delivered == 5 and report.dead == 0
    assert double.ids == ids
    post = double.statement_posts[0]
    assert post["path"] == "/xapi/statements"
    assert post["headers"]["X-Experience-API-Version"] == "1.0.3"
    assert post["headers"]["Content-Type"] == "application/json"
    assert post["headers"]["Authorization"].startswith("Basic ")
    # What leaves is the statement as stored, with what the LRS added (stored, authority).
    assert {"stored", "authority"} <= set(double.received[0])
    assert {r.status for r in rows(forwarding_org)} == {OutboxStatus.DELIVERED}
    target = forwarding.external_lrs_for(forwarding_org.id)
    assert target is not None and target.last_success_at is not None


def test_acknowledged_statements_are_never_sent_again(
        forwarding_org: Organization, double: LrsDouble) -> None:
    record_statements(forwarding_org, 4)
    forwarding.deliver_pending()
    posts = len(double.statement_posts)

    again = forwarding.deliver_pending(now=utcnow() + LATER)

    assert again.delivered == 0 and again.requests == 0
    assert len(double.statement_posts) == posts
    assert len(double.received) == 4


def test_batches_respect_the_batch_size(app: Flask, forwarding_org: Organization,
                                        double: LrsDouble, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "XAPI_FORWARD_BATCH_SIZE", 2)
    ids = record_statements(forwarding_org, 5)

    report = forwarding.deliver_pending()

    assert report.batches == 3
    assert [p["count"] for p in double.statement_posts] == [2, 2, 1]
    assert double.ids == ids


def test_the_periodic_drain_sends_a_backlog_larger_than_one_round(
        app: Flask, forwarding_org: Organization, double: LrsDouble, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "XAPI_FORWARD_BATCH_SIZE", 2)
    ids = record_statements(forwarding_org, 7)

    report = forwarding.drain(limit=3)

    assert report.delivered == 7
    assert double.ids == ids


def test_an_outage_loses_nothing_and_delivery_resumes_in_order(
        forwarding_org: Organization, double: LrsDouble) -> None:
    double.stop()
    first = record_statements(forwarding_org, 3)

    down = forwarding.deliver_pending()

    assert down.delivered == 0 and down.retried == 3
    assert "Connection refused" in down.errors[forwarding_org.id]
    waiting = rows(forwarding_org)
    assert [r.status for r in waiting] == [OutboxStatus.PENDING] * 3
    assert all(r.attempts == 1 and r.next_attempt_at > utcnow() for r in waiting)
    target = forwarding.external_lrs_for(forwarding_org.id)
    assert target is not None and "Connection refused" in (target.last_error or "")

    # Recorded after the failure, it must not overtake the older statements.
    second = record_statements(forwarding_org, 1)
    double.start()
    early = forwarding.deliver_pending()
    assert early.requests == 0 and double.received == []

    back = forwarding.deliver_pending(now=utcnow() + LATER)

    assert back.delivered == 4
    assert double.ids == first + second
    assert forwarding.deliver_pending(now=utcnow() + 2 * LATER).requests == 0
    assert double.ids == first + second


def test_backoff_grows_exponentially_with_jitter_and_a_cap(app: Flask, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "XAPI_FORWARD_BACKOFF_BASE", 10)
    monkeypatch.setitem(app.config, "XAPI_FORWARD_BACKOFF_CAP", 300)
    for attempts, full in [(1, 10), (2, 20), (3, 40), (5, 160), (6, 300), (20, 300)]:
        delays = {forwarding.backoff_seconds(attempts) for _ in range(20)}
        assert all(full / 2 <= d <= full for d in delays)
        assert len(delays) > 1  # jittered
    assert forwarding.backoff_seconds(1, retry_after=120) >= 120
    assert forwarding.backoff_seconds(1, retry_after=10_000) <= 300


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_throttling_are_retried_later(
        forwarding_org: Organization, double: LrsDouble, status: int) -> None:
    double.fail_status = status
    double.retry_after = "900" if status == 429 else None
    record_statements(forwarding_org, 2)
    before = utcnow()

    report = forwarding.deliver_pending()

    assert report.retried == 2 and report.dead == 0
    waiting = rows(forwarding_org)
    assert all(r.status == OutboxStatus.PENDING and r.attempts == 1 for r in waiting)
    assert all(f"HTTP {status}" in (r.last_error or "") for r in waiting)
    if status == 429:  # the LRS's Retry-After is honoured
        assert all(r.next_attempt_at >= before + timedelta(seconds=900) for r in waiting)
    double.fail_status = None
    assert forwarding.deliver_pending(now=utcnow() + LATER).delivered == 2


def test_dead_letter_after_max_attempts_then_requeue(
        app: Flask, forwarding_org: Organization, double: LrsDouble, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "XAPI_FORWARD_MAX_ATTEMPTS", 3)
    double.fail_status = 503
    ids = record_statements(forwarding_org, 2)
    now = utcnow()

    reports = [forwarding.deliver_pending(now=now + i * LATER) for i in range(3)]

    assert [r.retried for r in reports] == [2, 2, 0]
    assert reports[2].dead == 2
    dead = rows(forwarding_org)
    assert [(r.status, r.attempts) for r in dead] == [(OutboxStatus.DEAD, 3)] * 2
    assert "HTTP 503" in (dead[0].last_error or "")
    # Dead letters are not tried again by themselves.
    double.fail_status = None
    assert forwarding.deliver_pending(now=now + 10 * LATER).requests == 0

    assert forwarding.requeue_dead(organization_id=forwarding_org.id) == 2
    db.session.commit()
    assert forwarding.deliver_pending().delivered == 2
    assert double.ids == ids
    assert [(r.status, r.attempts) for r in rows(forwarding_org)] == [
        (OutboxStatus.DELIVERED, 1)] * 2


def test_one_refused_statement_does_not_block_the_others(
        forwarding_org: Organization, double: LrsDouble) -> None:
    ids = record_statements(forwarding_org, 20)
    double.reject_ids = {ids[13]}

    report = forwarding.deliver_pending()

    assert report.delivered == 19 and report.dead == 1
    assert double.ids == [i for i in ids if i != ids[13]]  # still in order
    by_status = {r.status: r for r in rows(forwarding_org)}
    assert "HTTP 400" in (by_status[OutboxStatus.DEAD].last_error or "")
    assert by_status[OutboxStatus.DEAD].attempts == 1  # refused: no point retrying
    # Halving isolates it in about 2·log2(n) requests rather than one per statement.
    assert report.requests < 20


def test_bad_credentials_are_retried_not_split_into_dead_letters(
        forwarding_org: Organization, double: LrsDouble) -> None:
    double.secret = "rotated-on-the-lrs-side"
    record_statements(forwarding_org, 4)

    report = forwarding.deliver_pending()

    assert report.requests == 1 and report.dead == 0 and report.retried == 4
    assert "HTTP 401" in report.errors[forwarding_org.id]


def test_a_crash_after_sending_resends_the_batch_harmlessly(
        forwarding_org: Organization, double: LrsDouble, monkeypatch: Any) -> None:
    ids = record_statements(forwarding_org, 3)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("worker killed between the LRS's answer and our commit")

    with monkeypatch.context() as m:
        m.setattr(forwarding, "_apply", crash)
        with pytest.raises(RuntimeError):
            forwarding.deliver_pending()
    assert len(double.received) == 3
    assert {r.status for r in rows(forwarding_org)} == {OutboxStatus.PENDING}

    # A strict LRS refuses the whole batch with 409 because it knows these ids: halving down
    # to single statements shows each one is already there.
    double.conflict_on_duplicate = True
    report = forwarding.deliver_pending()

    assert report.delivered == 3 and report.dead == 0
    assert double.ids == ids  # stored once each
    assert {r.status for r in rows(forwarding_org)} == {OutboxStatus.DELIVERED}


def test_a_killed_workers_claim_lapses(forwarding_org: Organization, double: LrsDouble) -> None:
    record_statements(forwarding_org, 2)
    target = forwarding.external_lrs_for(forwarding_org.id)
    assert target is not None
    target.claimed_until = utcnow() + timedelta(minutes=5)  # a worker died holding it
    target.claimed_by = "dead-worker"
    db.session.commit()

    assert forwarding.deliver_pending().requests == 0
    assert forwarding.deliver_pending(now=utcnow() + timedelta(minutes=6)).delivered == 2


def test_a_restart_loses_nothing(app: Flask, database_url: str, forwarding_org: Organization,
                                 double: LrsDouble) -> None:
    double.stop()
    ids = record_statements(forwarding_org, 3)
    forwarding.deliver_pending()
    double.start()
    db.session.remove()

    # A new process: its own app, engine and session, in another thread.
    result: dict[str, Any] = {}

    def new_process() -> None:
        other = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret",
                            "TESTING": True})
        with other.app_context():
            try:
                result["report"] = forwarding.deliver_pending(now=utcnow() + LATER)
            finally:
                db.session.remove()
                db.engine.dispose()

    worker = threading.Thread(target=new_process)
    worker.start()
    worker.join(timeout=60)

    assert result["report"].delivered == 3
    assert double.ids == ids


def test_two_workers_at_once_send_each_statement_once(
        app: Flask, forwarding_org: Organization, double: LrsDouble, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "XAPI_FORWARD_BATCH_SIZE", 5)
    ids = record_statements(forwarding_org, 40)
    org_id = forwarding_org.id
    db.session.remove()
    reports: list[forwarding.DeliveryReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        with app.app_context():
            try:
                start.wait()
                while True:
                    report = forwarding.deliver_pending(limit=10)
                    reports.append(report)
                    if not forwarding.outbox_counts(org_id)[org_id].pending:
                        break
            except BaseException as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert not errors
    assert double.ids == ids
    assert sum(p["count"] for p in double.statement_posts) == 40  # nothing sent twice
    assert sum(r.delivered for r in reports) == 40


def test_nothing_is_queued_without_an_external_lrs(
        create_org: Callable[..., Organization], double: LrsDouble) -> None:
    org = create_org()
    record_statements(org, 3)

    assert rows(org) == []
    assert forwarding.deliver_pending().requests == 0
    assert double.requests == []


def test_organizations_are_isolated(create_org: Callable[..., Organization],
                                    double: LrsDouble) -> None:
    other_lrs = LrsDouble(key="other-key", secret="other-secret").start()
    try:
        one, two, silent = create_org(), create_org(), create_org()
        forwarding.configure_external_lrs(organization_id=one.id, endpoint=double.url,
                                          key=double.key, secret=double.secret)
        forwarding.configure_external_lrs(organization_id=two.id, endpoint=other_lrs.url,
                                          key=other_lrs.key, secret=other_lrs.secret)
        db.session.commit()
        ids_one = record_statements(one, 2)
        ids_two = record_statements(two, 3)
        record_statements(silent, 2)

        forwarding.deliver_pending()

        assert double.ids == ids_one
        assert other_lrs.ids == ids_two
        # One organization's outage does not hold the other back.
        double.stop()
        ids_one_later = record_statements(one, 1)
        ids_two_later = record_statements(two, 1)
        report = forwarding.deliver_pending()
        assert report.delivered == 1 and report.retried == 1
        assert other_lrs.ids == ids_two + ids_two_later
        double.start()
        forwarding.deliver_pending(now=utcnow() + LATER)
        assert double.ids == ids_one + ids_one_later
    finally:
        other_lrs.stop()


def test_disabling_stops_queueing_and_sending(forwarding_org: Organization,
                                              double: LrsDouble) -> None:
    queued = record_statements(forwarding_org, 2)
    forwarding.disable_external_lrs(organization_id=forwarding_org.id)
    db.session.commit()
    record_statements(forwarding_org, 2)

    assert len(rows(forwarding_org)) == 2
    assert forwarding.deliver_pending().requests == 0

    forwarding.configure_external_lrs(organization_id=forwarding_org.id, endpoint=double.url,
                                      key=double.key, secret=None)
    db.session.commit()
    forwarding.deliver_pending()
    assert double.ids == queued


def test_the_secret_is_encrypted_at_rest(forwarding_org: Organization, double: LrsDouble) -> None:
    stored = db.session.scalar(select(ExternalLrs.secret_encrypted).where(
        ExternalLrs.organization_id == forwarding_org.id))
    assert stored and double.secret not in stored
    assert forwarding.decrypt_secret(stored) == double.secret


@pytest.mark.parametrize("endpoint", ["ftp://lrs.example.com", "lrs.example.com",
                                      "https://user:pw@lrs.example.com/xapi", ""])
def test_bad_endpoints_are_refused(create_org: Callable[..., Organization],
                                   endpoint: str) -> None:
    org = create_org()
    with pytest.raises(forwarding.ValidationFailed):
        forwarding.configure_external_lrs(organization_id=org.id, endpoint=endpoint, key="k",
                                          secret="s")


def test_attachment_contents_travel_with_their_statements(
        forwarding_org: Organization, double: LrsDouble) -> None:
    from lms.xapi.record import record

    content = b"%PDF-1.7 certificate\x00\xff binary"
    sha2 = hashlib.sha256(content).hexdigest()
    with_file = statement(1)
    with_file["attachments"] = [{
        "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
        "display": {"en-US": "Certificate"}, "contentType": "application/pdf",
        "length": len(content), "sha2": sha2}]
    plain = statement(2)
    record([plain, with_file], organization_id=forwarding_org.id,
           attachments={sha2: ("application/pdf", content)})
    db.session.commit()

    assert forwarding.deliver_pending().delivered == 2

    assert double.ids == [plain["id"], with_file["id"]]
    assert double.statement_posts[0]["headers"]["Content-Type"].startswith("multipart/mixed")
    assert double.attachments == {sha2: content}


def test_one_organizations_backlog_does_not_starve_another(
        app: Flask, create_org: Callable[..., Organization], double: LrsDouble,
        monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "XAPI_FORWARD_BATCH_SIZE", 5)
    busy, small = create_org(), create_org()
    for org in (busy, small):
        forwarding.configure_external_lrs(organization_id=org.id, endpoint=double.url,
                                          key=double.key, secret=double.secret)
    db.session.commit()
    record_statements(busy, 40)
    small_ids = record_statements(small, 5)

    report = forwarding.deliver_pending(limit=20)

    assert report.delivered == 20
    assert set(small_ids) <= set(double.ids)
    assert forwarding.deliver_pending(limit=100).delivered == 25


def test_backfill_queues_statements_stored_before_forwarding_was_set_up(
        create_org: Callable[..., Organization], double: LrsDouble) -> None:
    org = create_org()
    before = record_statements(org, 3)
    with pytest.raises(forwarding.NotFound):
        forwarding.enqueue_existing(organization_id=org.id)
    forwarding.configure_external_lrs(organization_id=org.id, endpoint=double.url,
                                      key=double.key, secret=double.secret)
    db.session.commit()
    after = record_statements(org, 2)

    assert forwarding.enqueue_existing(organization_id=org.id) == 3
    db.session.commit()
    assert forwarding.enqueue_existing(organization_id=org.id) == 0  # never queued twice
    forwarding.deliver_pending()

    assert sorted(double.ids) == sorted(before + after)
    assert double.ids[:3] == before  # statement order: the older ones first
    assert forwarding.enqueue_existing(organization_id=org.id,
                                       since=utcnow() - timedelta(days=1)) == 0


def test_statements_posted_to_relais_lrs_are_forwarded(
        client: Any, forwarding_org: Organization, double: LrsDouble) -> None:
    import base64

    from lms.xapi.services import create_lrs_credentials

    credential, secret = create_lrs_credentials(organization=forwarding_org)
    db.session.commit()
    auth = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
    sent = [statement(1), statement(2)]

    response = client.post("/xapi/statements", json=sent, headers={
        "Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 200, response.get_data(as_text=True)

    assert forwarding.deliver_pending().delivered == 2
    assert double.ids == [s["id"] for s in sent]
    assert double.received[0]["verb"] == sent[0]["verb"]


def test_no_transaction_is_open_while_the_lrs_is_awaited(
        forwarding_org: Organization, double: LrsDouble, monkeypatch: Any) -> None:
    record_statements(forwarding_org, 3)
    open_during_send: list[bool] = []
    real_post = forwarding.post_statements

    def watching_post(*args: Any, **kwargs: Any) -> forwarding.Answer:
        open_during_send.append(db.session().in_transaction())
        return real_post(*args, **kwargs)

    monkeypatch.setattr(forwarding, "post_statements", watching_post)
    assert forwarding.deliver_pending().delivered == 3
    assert open_during_send == [False]
