"""The audit log: append an entry for a sensitive action, and read entries back.

Callers pass ids and counts, never names, e-mail addresses or secrets: the log outlives the
people it mentions (an erased person leaves only their former id here).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from lms.accounts.models import AuditEvent, Organization, User
from lms.extensions import db

# Actions written today; the admin page offers them as a filter.
ACTIONS = ("personal_data.export", "personal_data.erase", "member.role_change",
           "second_factor.enable", "second_factor.disable", "second_factor.recovery_codes",
           "organization.second_factor_requirement")
# What each action is called on the audit page, in the reader's language.
ACTION_LABELS = {
    "personal_data.export": _l("Personal data exported"),
    "personal_data.erase": _l("Personal data erased"),
    "member.role_change": _l("Role changed"),
    "second_factor.enable": _l("Second factor turned on"),
    "second_factor.disable": _l("Second factor turned off"),
    "second_factor.recovery_codes": _l("Recovery codes replaced"),
    "organization.second_factor_requirement": _l("Second factor requirement changed"),
}


def record(*, action: str, actor: User | None, organization: Organization | None,
           target: str = "", address: str | None = None,
           details: dict[str, Any] | None = None) -> AuditEvent:
    """Append one entry (flushed, committed with the action it records).

    :param target: what was acted on, as ids (``"membership:12"``), never a name.
    :param address: the client's IP address, None from the command line.
    """
    entry = AuditEvent(action=action, actor_id=actor.id if actor is not None else None,
                       organization_id=organization.id if organization is not None else None,
                       target=target[:200], address=(address or None) and address[:64],
                       details=details or {})
    db.session.add(entry)
    db.session.flush()
    return entry


def events_query(*, organization_id: int, action: str | None = None,
                 since: datetime | None = None) -> Select[Any]:
    """An organization's entries, newest first, optionally of one action and since a date."""
    stmt = select(AuditEvent).where(AuditEvent.organization_id == organization_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
