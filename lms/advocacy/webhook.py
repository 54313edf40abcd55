"""The signed advocacy webhook: ``POST /hooks/advocacy/<org-slug>``.

Signing: ``X-Relais-Timestamp`` is the sending time in Unix seconds, and
``X-Relais-Signature: sha256=<hex>`` is the HMAC-SHA256, keyed with the organization's webhook
secret, of ``<timestamp>.<raw body>``. Replay protection is the timestamp: a request older (or
newer) than 5 minutes is refused, and since the timestamp is signed it cannot be refreshed.
Within those 5 minutes a replay changes nothing, because events are idempotent (same event →
same row, same metrics). Body: one event object, a list of events, or ``{"events": [...]}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from lms.accounts.models import Organization
from lms.advocacy import services
from lms.core.inputs import json_problems
from lms.core.limits import max_body
from lms.extensions import db

bp = Blueprint("advocacy_hooks", __name__, url_prefix="/hooks/advocacy")

TOLERANCE_SECONDS = 300
MAX_EVENTS = 5000


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _error(status: int, code: str, message: str, fields: dict[str, str] | None = None
           ) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    # The webhook answers in the JSON envelope, even before its view runs (413 on size).
    status = exc.code or 500
    return _error(status, "too_large" if status == 413 else "error", exc.description or "")


@bp.post("/<org_slug>")
@max_body("WEBHOOK_MAX_BYTES")
def receive(org_slug: str) -> Any:
    """Receive signed advocacy events from a connector or an advocacy platform."""
    org = db.session.scalar(select(Organization).where(Organization.slug == org_slug))
    settings = db.session.get(services.AdvocacySettings, org.id) if org else None
    # An unknown organization and a bad signature get the same answer: nothing to probe.
    if org is None or settings is None or not settings.webhook_secret:
        return _error(401, "unauthorized", "Missing or invalid signature.")
    body = request.get_data(cache=False)
    timestamp = request.headers.get("X-Relais-Timestamp", "")
    given = request.headers.get("X-Relais-Signature", "")
    if not timestamp.isdigit() or not given:
        return _error(401, "unauthorized", "Missing or invalid signature.")
    expected = sign(settings.webhook_secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), given.strip().encode()):
        return _error(401, "unauthorized", "Missing or invalid signature.")
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return _error(401, "replayed", "The timestamp is more than 5 minutes away from now: "
                      "the request is refused (replay protection).")
    try:
        payload = json.loads(body)
    except ValueError:
        return _error(400, "bad_request", "The body is not JSON.")
    # The intake checks event dates with its own codes, as for every other path.
    problems = json_problems(payload, dates=False)
    if problems:
        return _error(422, "validation_failed", "Some values cannot be accepted.", problems)
    if isinstance(payload, dict) and "events" in payload:
        payload = payload["events"]
    events = payload if isinstance(payload, list) else [payload]
    if not events or len(events) > MAX_EVENTS or not all(isinstance(e, dict) for e in events):
        return _error(400, "bad_request", f"Send one event object or a list of 1 to "
                      f"{MAX_EVENTS} event objects.")

    # People unknown or not consenting are left out and reported; any other problem refuses
    # the batch (a platform sends everyone's activity, consent is each person's choice).
    items = [(str(e.get("email") or ""), e) for e in events]
    try:
        result, checked = services.record_events(organization=org, items=items,
                                                 source="webhook", skip=services.WHO_CODES)
    except services.EventsRejected as exc:
        return jsonify(exc.envelope()), exc.status
    db.session.commit()
    return {**result.as_dict(), "rejected": [{"index": p.index, "code": p.code, "error": p.text()}
                                             for p in checked.problems]}
