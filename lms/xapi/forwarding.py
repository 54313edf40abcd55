"""Forwarding of statements to an organization's external LRS through a durable outbox.

``enqueue`` is called by ``record()`` in the same transaction as the statements, so a
statement is stored if and only if its outbox row is. ``deliver_pending`` sends due rows of
each organization in statement order, in batches, and commits after each batch.

Guarantees: at-least-once delivery, idempotent by statement id. A row is marked delivered
only after the external LRS acknowledged it (200/204, or 409 "I already have it"), and a
delivered row is never sent again. A crash between the LRS's answer and our commit resends
that one batch; the LRS answers 204/409 for statement ids it already holds, so this is
harmless.

Concurrency: a worker claims an organization's outbox with a short lease on its
``ExternalLrs`` row (a compare-and-set UPDATE, after ``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL) and holds no transaction open while it waits for the network. Several workers
may run at once: each organization is served by one of them at a time, in order. On SQLite
the compare-and-set is enough (SQLite has a single writer).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import urllib3
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, literal, or_, select, update

from lms.core import crypto
from lms.core.database import run_sql
from lms.core.errors import NotFound, ValidationFailed
from lms.core.models import UTCDateTime, utcnow
from lms.extensions import db
from lms.xapi.forwarding_models import ExternalLrs, OutboxEntry, OutboxStatus

log = logging.getLogger(__name__)

XAPI_VERSION = "1.0.3"
# Answers that concern the connection (wrong key, wrong endpoint), not one statement: retried
# with backoff like an outage, never split into per-statement dead letters.
CONNECTION_STATUSES = {401, 403, 404, 405, 407}
TRANSIENT_STATUSES = {408, 425, 429}
ERROR_LENGTH = 1000


def _setting(name: str) -> Any:
    # RELAIS_XAPI_FORWARD_* settings; their defaults are in lms.config.DEFAULTS.
    return current_app.config[name]


# ---------------------------------------------------------------------------------------------
# The secret, encrypted at rest


# The purpose string keeps the key of secrets stored before the helper moved to lms.core.
_SECRET_PURPOSE = "xapi-forwarding"


def encrypt_secret(secret: str) -> str:
    """Encrypt an external LRS secret for storage."""
    return crypto.encrypt_secret(secret, purpose=_SECRET_PURPOSE)


def decrypt_secret(token: str) -> str:
    """Decrypt a stored secret.

    :raise ValueError: it was encrypted under another SECRET_KEY.
    """
    try:
        return crypto.decrypt_secret(token, purpose=_SECRET_PURPOSE)
    except crypto.SecretUnreadable:
        raise ValueError("the stored LRS secret cannot be decrypted (was SECRET_KEY changed?); "
                         "enter the secret again") from None


# ---------------------------------------------------------------------------------------------
# Writes


def external_lrs_for(organization_id: int) -> ExternalLrs | None:
    """The organization's external LRS settings, or None."""
    return db.session.scalar(
        select(ExternalLrs).where(ExternalLrs.organization_id == organization_id))


def forwarding_enabled(organization_id: int) -> bool:
    """Whether the organization forwards its statements to an external LRS."""
    # Driver SQL: every record() call asks (one statement POSTed alone included).
    row = run_sql("SELECT enabled FROM xapi_external_lrs WHERE organization_id = ?",
                  (organization_id,)).first()
    return row is not None and bool(row.enabled)


def enqueue(*, organization_id: int, statement_pks: list[int],
            enabled: bool | None = None) -> None:
    """Queue statements for the organization's external LRS; no-op when none is configured.

    Flushes only: the rows commit (or roll back) with the statements themselves.

    :param organization_id: the organization the statements belong to.
    :param statement_pks: primary keys of the stored statements, in recording order.
    :param enabled: whether the organization forwards, when the caller has just read it in
        this transaction (the LRS, with the credentials); read here when None.
    """
    if not statement_pks:
        return
    if not (forwarding_enabled(organization_id) if enabled is None else enabled):
        return
    now = utcnow()
    db.session.execute(insert(OutboxEntry), [
        {"organization_id": organization_id, "statement_pk": pk,
         "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now,
         "created_at": now}
        for pk in statement_pks
    ])


def enqueue_existing(*, organization_id: int, since: datetime | None = None) -> int:
    """Queue the organization's stored statements that were never queued (a backfill).

    :param since: only statements stored at or after this time.
    :return: how many statements were queued.
    :raise NotFound: no external LRS is configured, or it is disabled.
    """
    from lms.xapi.models import Statement

    if not forwarding_enabled(organization_id):
        raise NotFound(_l("No enabled external LRS is configured for this organization."))
    now = utcnow()
    source = (
        select(Statement.organization_id, Statement.pk,
               literal(OutboxStatus.PENDING.value), literal(0), literal(now, UTCDateTime()),
               literal(now, UTCDateTime()))
        .outerjoin(OutboxEntry, OutboxEntry.statement_pk == Statement.pk)
        .where(Statement.organization_id == organization_id, OutboxEntry.id.is_(None))
        .order_by(Statement.pk))
    if since is not None:
        source = source.where(Statement.stored >= since)
    inserted = db.session.scalars(insert(OutboxEntry).from_select(
        ["organization_id", "statement_pk", "status", "attempts", "next_attempt_at",
         "created_at"], source).returning(OutboxEntry.id))
    return len(inserted.all())


def normalize_endpoint(endpoint: str) -> str:
    """Check an LRS endpoint URL and return it without a trailing slash.

    :raise ValidationFailed: not an http(s) URL, or it carries credentials.
    """
    endpoint = (endpoint or "").strip()
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(_l("The endpoint must be an http:// or https:// URL."),
                               fields={"endpoint": _l("an http:// or https:// URL is required")})
    if parts.username or parts.password:
        raise ValidationFailed(_l("Put the key and secret in their own fields, not in the URL."),
                               fields={"endpoint": _l("no credentials in the URL")})
    if parts.query or parts.fragment:
        raise ValidationFailed(_l("The endpoint takes no query or fragment."),
                               fields={"endpoint": _l("no query or fragment")})
    return endpoint.rstrip("/")


def configure_external_lrs(*, organization_id: int, endpoint: str, key: str,
                           secret: str | None, enabled: bool = True) -> ExternalLrs:
    """Create or update the organization's external LRS.

    :param secret: the new secret; None or empty keeps the stored one (required the first time).
    :raise ValidationFailed: bad endpoint, missing key, or no secret for a new configuration.
    """
    endpoint = normalize_endpoint(endpoint)
    key = (key or "").strip()
    if not key:
        raise ValidationFailed(_l("The key is required."), fields={"key": _l("required")})
    if len(key) > 255 or len(endpoint) > 500:
        raise ValidationFailed(_l("Endpoint or key too long."),
                               fields={"endpoint": _l("at most 500 characters"),
                                       "key": _l("at most 255 characters")})
    target = external_lrs_for(organization_id)
    if target is None:
        if not secret:
            raise ValidationFailed(_l("The secret is required."), fields={"secret": _l("required")})
        target = ExternalLrs(organization_id=organization_id, endpoint=endpoint, key=key,
                             secret_encrypted=encrypt_secret(secret), enabled=enabled)
        db.session.add(target)
    else:
        target.endpoint = endpoint
        target.key = key
        if secret:
            target.secret_encrypted = encrypt_secret(secret)
        target.enabled = enabled
        target.updated_at = utcnow()
        # New settings deserve a prompt try rather than the old settings' backoff.
        db.session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.organization_id == organization_id,
                   OutboxEntry.status == OutboxStatus.PENDING)
            .values(next_attempt_at=utcnow()))
    db.session.flush()
    return target


def disable_external_lrs(*, organization_id: int) -> ExternalLrs:
    """Stop forwarding: new statements are no longer queued; queued ones wait.

    :raise NotFound: no external LRS is configured.
    """
    target = external_lrs_for(organization_id)
    if target is None:
        raise NotFound(_l("No external LRS is configured for this organization."))
    target.enabled = False
    target.updated_at = utcnow()
    db.session.flush()
    return target


def requeue_dead(*, organization_id: int, entry_ids: Sequence[int] | None = None) -> int:
    """Put dead-lettered statements back in the queue with a fresh count of attempts.

    :param entry_ids: outbox rows to requeue; None requeues all of the organization's.
    :return: how many rows were requeued.
    """
    stmt = (update(OutboxEntry)
            .where(OutboxEntry.organization_id == organization_id,
                   OutboxEntry.status == OutboxStatus.DEAD)
            .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow()))
    if entry_ids is not None:
        stmt = stmt.where(OutboxEntry.id.in_(list(entry_ids)))
    result = db.session.execute(stmt.execution_options(synchronize_session=False))
    db.session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# Reads


@dataclass(frozen=True)
class OutboxCounts:
    """How many of an organization's statements wait, were delivered, or were given up."""

    pending: int = 0
    delivered: int = 0
    dead: int = 0


def outbox_counts(organization_id: int | None = None) -> dict[int, OutboxCounts]:
    """Counts per organization id (only organizations with outbox rows appear)."""
    stmt = select(OutboxEntry.organization_id, OutboxEntry.status, func.count()).group_by(
        OutboxEntry.organization_id, OutboxEntry.status)
    if organization_id is not None:
        stmt = stmt.where(OutboxEntry.organization_id == organization_id)
    found: dict[int, dict[str, int]] = {}
    for org_id, status, count in db.session.execute(stmt):
        found.setdefault(org_id, {})[OutboxStatus(status).value] = count
    return {org_id: OutboxCounts(**values) for org_id, values in found.items()}


def dead_entries(organization_id: int, *, limit: int = 100) -> list[OutboxEntry]:
    """The organization's dead-lettered rows, oldest statement first."""
    return list(db.session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.organization_id == organization_id,
               OutboxEntry.status == OutboxStatus.DEAD)
        .order_by(OutboxEntry.statement_pk).limit(limit)))


def statement_payloads(statement_pks: Sequence[int]) -> dict[int, str]:
    """The stored JSON of statements, by primary key (what is sent to the external LRS)."""
    from lms.xapi.models import Statement

    if not statement_pks:
        return {}
    rows = db.session.execute(
        select(Statement.pk, Statement.data).where(Statement.pk.in_(list(statement_pks))))
    return {pk: text if isinstance(text, str) else json.dumps(text) for pk, text in rows}


def statement_ids(statement_pks: Sequence[int]) -> dict[int, str]:
    """The xAPI ids of statements, by primary key (for the admin page)."""
    from lms.xapi.models import Statement

    if not statement_pks:
        return {}
    rows = db.session.execute(
        select(Statement.pk, Statement.statement_id).where(Statement.pk.in_(list(statement_pks))))
    return {pk: str(sid) for pk, sid in rows}


# ---------------------------------------------------------------------------------------------
# HTTP


_pools: dict[int, urllib3.PoolManager] = {}
_pools_lock = threading.Lock()


def _http() -> urllib3.PoolManager:
    """A keep-alive connection pool for this process (a forked worker builds its own)."""
    pid = os.getpid()
    with _pools_lock:
        pool = _pools.get(pid)
        if pool is None:
            _pools.clear()
            pool = _pools[pid] = urllib3.PoolManager(num_pools=32, maxsize=4, retries=False)
        return pool


@dataclass(frozen=True)
class Answer:
    """What the external LRS answered: a status, or a network error (status 0)."""

    status: int
    body: str = ""
    retry_after: float | None = None
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status in (200, 204)

    @property
    def transient(self) -> bool:
        return (self.status == 0 or self.status >= 500 or self.status in TRANSIENT_STATUSES
                or self.status in CONNECTION_STATUSES)

    def describe(self) -> str:
        if self.status == 0:
            return f"network error: {self.error}"[:ERROR_LENGTH]
        body = " ".join(self.body.split())[:400]
        return f"HTTP {self.status}: {body}"[:ERROR_LENGTH] if body else f"HTTP {self.status}"


def _headers(key: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": XAPI_VERSION,
            "Content-Type": "application/json", "Accept": "application/json",
            "User-Agent": "Relais-LRS-forwarder"}


def _request(method: str, url: str, headers: dict[str, str], body: bytes | None = None
             ) -> Answer:
    timeout = urllib3.Timeout(connect=float(_setting("XAPI_FORWARD_CONNECT_TIMEOUT")),
                              read=float(_setting("XAPI_FORWARD_READ_TIMEOUT")))
    try:
        response = _http().request(method, url, body=body, headers=headers, timeout=timeout,
                                   redirect=False, preload_content=True)
    except (TimeoutError, urllib3.exceptions.HTTPError, OSError) as exc:
        # urllib3's messages name the URL, never the Authorization header.
        return Answer(status=0, error=f"{type(exc).__name__}: {exc}")
    retry_after = None
    if "Retry-After" in response.headers:
        try:
            retry_after = float(response.headers["Retry-After"])
        except ValueError:
            retry_after = None
    return Answer(status=response.status, body=response.data[:2000].decode("utf-8", "replace"),
                  retry_after=retry_after)


def post_statements(endpoint: str, key: str, secret: str, payloads: Sequence[str],
                    contents: Sequence[tuple[str, str, bytes]] = ()) -> Answer:
    """POST statements (stored JSON texts) as one array to ``<endpoint>/statements``.

    :param contents: attachment contents (sha2, content type, bytes) the statements refer to;
        when there are any, the request is multipart/mixed as xAPI requires.
    """
    from lms.xapi.attachments import build_multipart

    body = ("[" + ",".join(payloads) + "]").encode()
    headers = _headers(key, secret)
    if contents:
        body, headers["Content-Type"] = build_multipart(body, list(contents))
    return _request("POST", f"{endpoint}/statements", headers, body)


def check_connection(target: ExternalLrs) -> tuple[bool, str]:
    """Call the external LRS's /about with the stored credentials; return (ok, message)."""
    try:
        secret = decrypt_secret(target.secret_encrypted)
    except ValueError as exc:
        return False, str(exc)
    answer = _request("GET", f"{target.endpoint}/about", _headers(target.key, secret))
    if answer.status != 200:
        return False, answer.describe()
    try:
        versions = json.loads(answer.body).get("version") or []
    except (ValueError, AttributeError):
        return False, "the LRS answered /about with something that is not JSON"
    return True, "xAPI " + ", ".join(str(v) for v in versions)


# ---------------------------------------------------------------------------------------------
# Delivery


@dataclass
class DeliveryReport:
    """What one ``deliver_pending`` call did."""

    delivered: int = 0
    retried: int = 0  # rows whose attempt failed and that wait for a later one
    dead: int = 0
    batches: int = 0
    requests: int = 0
    errors: dict[int, str] = field(default_factory=dict)  # organization id → last error

    def merge(self, other: DeliveryReport) -> None:
        """Add another call's counts and errors to this report."""
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead
        self.batches += other.batches
        self.requests += other.requests
        self.errors.update(other.errors)


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Seconds to wait after ``attempts`` failed attempts: exponential, jittered, capped."""
    base = float(_setting("XAPI_FORWARD_BACKOFF_BASE"))
    cap = float(_setting("XAPI_FORWARD_BACKOFF_CAP"))
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    # "Equal jitter": never less than half the delay, so workers do not retry in lockstep.
    delay = delay / 2 + random.uniform(0, delay / 2)
    if retry_after:
        delay = max(delay, min(cap, retry_after))
    return delay


@dataclass
class _Batch:
    entries: list[int]  # outbox row ids, in statement order
    payloads: list[str]
    # Per entry, the SHA-256 of the attachment contents its statement carries with it.
    hashes: list[list[str]] = field(default_factory=list)
    contents: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def part(self, start: int, stop: int) -> _Batch:
        return _Batch(self.entries[start:stop], self.payloads[start:stop],
                      self.hashes[start:stop], self.contents)

    def attachment_parts(self) -> list[tuple[str, str, bytes]]:
        wanted = sorted({h for hashes in self.hashes for h in hashes if h in self.contents})
        return [(h, *self.contents[h]) for h in wanted]


def _attachment_hashes(payload: str) -> list[str]:
    if '"attachments"' not in payload:  # most statements: no parsing needed
        return []
    from lms.xapi.attachments import all_attachments

    return [str(item["sha2"]).lower() for item in all_attachments(json.loads(payload))
            if item.get("sha2")]


class _Outcome:
    """Results of sending one batch, applied to the rows in one transaction."""

    def __init__(self) -> None:
        self.delivered: list[int] = []
        self.dead: dict[int, str] = {}
        self.failed: list[int] = []  # attempted, transient failure
        self.deferred: list[int] = []  # not attempted because an earlier one failed
        self.answer: Answer | None = None  # the transient failure, if any
        self.requests = 0


def deliver_pending(*, limit: int = 500, now: datetime | None = None,
                    organization_id: int | None = None) -> DeliveryReport:
    """Send due outbox rows to the external LRSs, committing after each batch.

    Safe to call from several threads or processes at once, each in its own app context:
    an organization is served by one caller at a time. It commits the session, so call it
    from a worker or a command, not inside a request's unit of work.

    :param limit: most rows to send in this call (across organizations).
    :param now: the current time (tests move it forward to pass backoff delays).
    :param organization_id: only this organization.
    """
    now = now or utcnow()
    report = DeliveryReport()
    db.session.commit()  # start from a clean transaction that sees the latest commits
    stmt = select(ExternalLrs.organization_id).where(ExternalLrs.enabled.is_(True))
    if organization_id is not None:
        stmt = stmt.where(ExternalLrs.organization_id == organization_id)
    due = [org_id for org_id in sorted(db.session.scalars(stmt)) if _head_is_due(org_id, now)]
    batch_size = max(1, int(_setting("XAPI_FORWARD_BATCH_SIZE")))
    budget = limit
    # Rounds with a fair share each, so one organization's backlog does not starve the others.
    while due and budget > 0:
        share = max(batch_size, -(-budget // len(due)))
        busy = []
        for org_id in due:
            allowed = min(share, budget)
            if allowed <= 0:
                break
            done = _deliver_organization(org_id, allowed, now)
            report.merge(done)
            processed = done.delivered + done.dead + done.retried
            budget -= processed
            if processed >= allowed and org_id not in done.errors:
                busy.append(org_id)  # it may have more
        due = busy
    db.session.commit()
    return report


def drain(*, seconds: float = 25.0, limit: int = 500) -> DeliveryReport:
    """Deliver rounds of ``limit`` rows until nothing is due or ``seconds`` have passed.

    The periodic task calls this, so a backlog drains at the LRS's pace instead of ``limit``
    rows per period.
    """
    deadline = time.monotonic() + seconds
    report = DeliveryReport()
    while True:
        done = deliver_pending(limit=limit)
        report.merge(done)
        if done.delivered + done.retried + done.dead < limit or time.monotonic() >= deadline:
            return report



def _head_is_due(org_id: int, now: datetime) -> bool:
    """Whether the organization's oldest pending statement may be sent (one index probe)."""
    head = db.session.scalar(
        select(OutboxEntry.next_attempt_at)
        .where(OutboxEntry.organization_id == org_id, OutboxEntry.status == OutboxStatus.PENDING)
        .order_by(OutboxEntry.statement_pk).limit(1))
    return head is not None and head <= now


def _claim(org_id: int, now: datetime) -> tuple[ExternalLrs, str] | None:
    """Claim the organization's outbox for this worker; None if another worker holds it."""
    target = db.session.scalar(
        select(ExternalLrs)
        .where(ExternalLrs.organization_id == org_id, ExternalLrs.enabled.is_(True),
               or_(ExternalLrs.claimed_until.is_(None), ExternalLrs.claimed_until < now))
        .with_for_update(skip_locked=True))
    if target is None:
        db.session.rollback()
        return None
    token = f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"
    until = now + timedelta(seconds=int(_setting("XAPI_FORWARD_CLAIM_SECONDS")))
    # Compare-and-set: on SQLite (no FOR UPDATE) two workers may both read the row above;
    # only one of them changes it here.
    result = db.session.execute(
        update(ExternalLrs)
        .where(ExternalLrs.id == target.id,
               or_(ExternalLrs.claimed_until.is_(None), ExternalLrs.claimed_until < now))
        .values(claimed_until=until, claimed_by=token)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return None
    db.session.commit()
    return target, token


def _release(target_id: int, token: str) -> None:
    db.session.execute(
        update(ExternalLrs).where(ExternalLrs.id == target_id, ExternalLrs.claimed_by == token)
        .values(claimed_until=None, claimed_by=None)
        .execution_options(synchronize_session=False))


def _next_batch(org_id: int, size: int, now: datetime) -> _Batch:
    """The organization's next pending rows in statement order, up to the first not yet due."""
    entries = list(db.session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.organization_id == org_id, OutboxEntry.status == OutboxStatus.PENDING)
        .order_by(OutboxEntry.statement_pk).limit(size)))
    due: list[OutboxEntry] = []
    for entry in entries:
        # Statement order: a row waiting for its retry holds back the ones recorded after it.
        if entry.next_attempt_at > now:
            break
        due.append(entry)
    texts = statement_payloads([e.statement_pk for e in due])
    due = [e for e in due if e.statement_pk in texts]  # a statement erased meanwhile is gone
    payloads = [texts[e.statement_pk] for e in due]
    hashes = [_attachment_hashes(text) for text in payloads]
    contents: dict[str, tuple[str, bytes]] = {}
    wanted = sorted({h for items in hashes for h in items})
    if wanted:
        from lms.xapi.queries import attachment_contents

        contents = {sha2: (ctype, content)
                    for sha2, ctype, content in attachment_contents(org_id, wanted)}
    batch = _Batch(entries=[e.id for e in due], payloads=payloads, hashes=hashes,
                   contents=contents)
    # Nothing stays open while the network is awaited (no snapshot, no lock).
    db.session.commit()
    return batch


def _deliver_organization(org_id: int, budget: int, now: datetime) -> DeliveryReport:
    report = DeliveryReport()
    claimed = _claim(org_id, now)
    if claimed is None:
        return report
    target, token = claimed
    target_id = target.id
    try:
        secret = decrypt_secret(target.secret_encrypted)
    except ValueError as exc:
        _record_target_error(target_id, str(exc))
        _release(target_id, token)
        db.session.commit()
        report.errors[org_id] = str(exc)
        return report
    endpoint, key = target.endpoint, target.key
    batch_size = max(1, int(_setting("XAPI_FORWARD_BATCH_SIZE")))
    try:
        while budget > 0:
            batch = _next_batch(org_id, min(batch_size, budget), now)
            if not batch.entries:
                break
            outcome = _Outcome()
            _send(endpoint, key, secret, batch, outcome)
            _apply(org_id, target_id, outcome, now, report)
            db.session.commit()  # one batch's results, durable before the next batch leaves
            report.batches += 1
            report.requests += outcome.requests
            budget -= len(batch.entries)
            if outcome.answer is not None:
                break  # the LRS is failing: wait for the backoff
    finally:
        db.session.rollback()
        _release(target_id, token)
        db.session.commit()
    return report


def _send(endpoint: str, key: str, secret: str, batch: _Batch, outcome: _Outcome) -> None:
    """Send ``batch``; on a rejected batch, halve it until the bad statements are isolated."""
    entries = batch.entries
    if outcome.answer is not None:  # an earlier part failed transiently: keep the order
        outcome.deferred.extend(entries)
        return
    answer = post_statements(endpoint, key, secret, batch.payloads, batch.attachment_parts())
    outcome.requests += 1
    if answer.acknowledged or (answer.status == 409 and len(entries) == 1):
        # 409 on a single statement: the LRS already holds this id (a resend after a crash).
        outcome.delivered.extend(entries)
    elif answer.transient:
        outcome.answer = answer
        outcome.failed.extend(entries)
    elif len(entries) == 1:
        outcome.dead[entries[0]] = answer.describe()
    else:
        # A 4xx (or 409) for the batch: some statement in it is refused, or already there.
        half = len(entries) // 2
        _send(endpoint, key, secret, batch.part(0, half), outcome)
        _send(endpoint, key, secret, batch.part(half, len(entries)), outcome)


def _apply(org_id: int, target_id: int, outcome: _Outcome, now: datetime,
           report: DeliveryReport) -> None:
    delivered_at = utcnow()
    if outcome.delivered:
        db.session.execute(
            update(OutboxEntry).where(OutboxEntry.id.in_(outcome.delivered))
            .values(status=OutboxStatus.DELIVERED, delivered_at=delivered_at, last_error=None,
                    attempts=OutboxEntry.attempts + 1)
            .execution_options(synchronize_session=False))
        report.delivered += len(outcome.delivered)
    for entry_id, message in outcome.dead.items():
        db.session.execute(
            update(OutboxEntry).where(OutboxEntry.id == entry_id)
            .values(status=OutboxStatus.DEAD, last_error=message,
                    attempts=OutboxEntry.attempts + 1)
            .execution_options(synchronize_session=False))
        log.warning("xAPI forwarding: organization %s: statement row %s refused: %s",
                    org_id, entry_id, message)
    report.dead += len(outcome.dead)
    if outcome.answer is not None:
        message = outcome.answer.describe()
        max_attempts = max(1, int(_setting("XAPI_FORWARD_MAX_ATTEMPTS")))
        rows = db.session.execute(
            select(OutboxEntry.id, OutboxEntry.attempts)
            .where(OutboxEntry.id.in_(outcome.failed + outcome.deferred))).all()
        failed = set(outcome.failed)
        for entry_id, attempts in rows:
            attempts += 1 if entry_id in failed else 0
            if attempts >= max_attempts:
                values: dict[str, Any] = {"status": OutboxStatus.DEAD}
                report.dead += 1
            else:
                retry_in = backoff_seconds(max(attempts, 1), outcome.answer.retry_after)
                values = {"next_attempt_at": now + timedelta(seconds=retry_in)}
                report.retried += 1
            db.session.execute(
                update(OutboxEntry).where(OutboxEntry.id == entry_id)
                .values(attempts=attempts, last_error=message, **values)
                .execution_options(synchronize_session=False))
        _record_target_error(target_id, message)
        report.errors[org_id] = message
        log.warning("xAPI forwarding: organization %s: %s (%d rows wait)", org_id, message,
                    len(rows))
    elif outcome.dead:
        _record_target_error(target_id, next(iter(outcome.dead.values())))
        report.errors[org_id] = next(iter(outcome.dead.values()))
    if outcome.delivered:
        db.session.execute(
            update(ExternalLrs).where(ExternalLrs.id == target_id)
            .values(last_success_at=delivered_at)
            .execution_options(synchronize_session=False))


def _record_target_error(target_id: int, message: str) -> None:
    db.session.execute(
        update(ExternalLrs).where(ExternalLrs.id == target_id)
        .values(last_error=message[:ERROR_LENGTH], last_error_at=utcnow())
        .execution_options(synchronize_session=False))


__all__ = [
    "DeliveryReport", "OutboxCounts", "configure_external_lrs", "deliver_pending",
    "disable_external_lrs", "enqueue", "outbox_counts", "requeue_dead", "check_connection",
]
