"""The audit log: append an entry for a sensitive action, and read entries back.

Callers pass ids and counts, never names, e-mail addresses or secrets: the log outlives the
people it mentions (an erased person leaves only their former id here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import AuditEvent, Organization, User
from lms.extensions import db

# What each action is called on the audit page, in the reader's language; the page offers
# them as a filter.
ACTION_LABELS = {
    "personal_data.export": _l("Personal data exported"),
    "personal_data.erase": _l("Personal data erased"),
    "member.role_change": _l("Role changed"),
    "sso.saml_settings": _l("SAML settings changed"),
    "certificates.export": _l("Certificates exported"),
    "certificate.revoke": _l("Certificate revoked"),
    "advocacy.consent_on_behalf": _l("Consent recorded on someone's behalf"),
    "api_token.create": _l("API token created"),
    "api_token.revoke": _l("API token revoked"),
    "lrs_credentials.create": _l("LRS credentials created"),
    "webhook_secret.rotate": _l("Webhook secret created or replaced"),
    "retention.settings": _l("Retention periods changed"),
    "retention.run": _l("Retention applied"),
    "sso.settings": _l("Single sign-on settings changed"),
    "scim_token.issue": _l("SCIM token issued"),
    "scim_token.revoke": _l("SCIM tokens revoked"),
    "second_factor.enable": _l("Second factor turned on"),
    "second_factor.disable": _l("Second factor turned off"),
    "second_factor.recovery_codes": _l("Recovery codes replaced"),
    "organization.second_factor_requirement": _l("Second factor requirement changed"),
}
ACTIONS = tuple(ACTION_LABELS)
# The columns of the CSV export, as the page names them.
CSV_HEADER = (_l("When"), _l("Who"), _l("Action"), _l("Target"), _l("Address"), _l("Details"))
# Entries read from the database at a time while a CSV is written.
CSV_BATCH = 500


def record(*, action: str, actor: User | None, organization: Organization | None,
           target: str = "", address: str | None = None,
           details: dict[str, Any] | None = None) -> AuditEvent:
    """Append one entry (flushed, committed with the action it records).

    :param target: what was acted on, as ids (``"membership:12"``), never a name.
    :param address: the client's IP address; by default the current request's, so a service
        records it whichever surface (page, API) called it; None from the command line.
    """
    if address is None and has_request_context():
        address = request.remote_addr
    entry = AuditEvent(action=action, actor_id=actor.id if actor is not None else None,
                       organization_id=organization.id if organization is not None else None,
                       target=target[:200], address=(address or None) and address[:64],
                       details=details or {})
    db.session.add(entry)
    db.session.flush()
    return entry


def events_query(*, organization_id: int, action: str | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> Select[Any]:
    """An organization's entries, newest first, optionally of one action, since a date and
    before another.
    """
    stmt = select(AuditEvent).where(AuditEvent.organization_id == organization_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def actor_label(entry: AuditEvent) -> str:
    """Who did it: the person's name, else the periodic work or the command line."""
    if entry.actor is not None:
        return entry.actor.display_name
    return str(_l("scheduled work") if entry.details.get("by") == "periodic"
               else _l("command line"))


def csv_rows(stmt: Select[Any]) -> Iterator[list[str]]:
    """The CSV rows of the entries ``stmt`` (from :func:`events_query`) selects, read in batches:
    when (ISO 8601, UTC), who, the action's label and code, target, address, details (JSON).
    """
    entries = db.session.scalars(stmt.options(joinedload(AuditEvent.actor))
                                 .execution_options(yield_per=CSV_BATCH))
    for entry in entries:
        label = ACTION_LABELS.get(entry.action)
        yield [entry.at.astimezone(UTC).isoformat(), actor_label(entry),
               f"{label} ({entry.action})" if label is not None else entry.action,
               entry.target, entry.address or "",
               json.dumps(entry.details, ensure_ascii=False, sort_keys=True)]


def purge(*, organization_id: int, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` of the organization's entries older than ``before``, oldest
    first; returns how many.

    The one way an entry leaves the log: the organization's retention period (GDPR art.
    5(1)(e)) applied by lms/privacy/retention.py, which records each run here. A bulk DELETE,
    so the ORM's append-only guard (which refuses deleting loaded entries) is not involved.
    """
    ids = db.session.scalars(select(AuditEvent.id).where(
        AuditEvent.organization_id == organization_id, AuditEvent.at < before)
        .order_by(AuditEvent.at, AuditEvent.id).limit(limit)).all()
    if ids:
        db.session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids))
                           .execution_options(synchronize_session=False))
    return len(ids)
