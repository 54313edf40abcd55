"""Forwarding of statements to an organization's external LRS through a durable outbox.

``enqueue`` is called by ``record()`` in the same transaction as the statements, so a
statement is stored if and only if its outbox row is. ``deliver_pending`` sends due rows in
statement order, in batches, and commits after each batch.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi.forwarding_models import ExternalLrs, OutboxEntry, OutboxStatus


def forwarding_enabled(organization_id: int) -> bool:
    """Whether the organization forwards its statements to an external LRS."""
    return bool(db.session.scalar(
        select(ExternalLrs.id).where(ExternalLrs.organization_id == organization_id,
                                     ExternalLrs.enabled.is_(True))))


def enqueue(*, organization_id: int, statement_pks: list[int]) -> None:
    """Queue statements for the organization's external LRS; no-op when none is configured.

    Flushes only: the rows commit (or roll back) with the statements themselves.

    :param organization_id: the organization the statements belong to.
    :param statement_pks: primary keys of the stored statements, in recording order.
    """
    if not statement_pks or not forwarding_enabled(organization_id):
        return
    now = utcnow()
    db.session.execute(insert(OutboxEntry), [
        {"organization_id": organization_id, "statement_pk": pk,
         "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now,
         "created_at": now}
        for pk in statement_pks
    ])
