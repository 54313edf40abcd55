"""Tables of the LRS: credentials, statements, their filter index, attachments, activities.

Documents (state, profiles) have their own module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    delete,
    event,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organization, OrganizationOwned
from lms.core.models import Base, TimestampMixin, utcnow

# Statement keys: 64-bit on PostgreSQL, where the key carries the month of ``stored`` in its
# high bits (lms.xapi.partitions); SQLite's INTEGER is 64-bit already, and only that exact
# type makes an autoincrementing rowid key.
STATEMENT_KEY = BigInteger().with_variant(Integer(), "sqlite")


class LrsCredential(OrganizationOwned, TimestampMixin, Base):
    """An HTTP Basic key/secret pair for the LRS; statements land in its organization.

    Only the SHA-256 of the secret is stored. ``expires_at`` and ``scope_*`` serve short-lived
    launch credentials for one learner (xAPI content launched from a module).
    """

    __tablename__ = "xapi_credentials"

    key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    # For launch credentials: the learner (agent JSON) and registration they are limited to.
    scope_agent: Mapped[str | None] = mapped_column(String(1000))
    scope_registration: Mapped[str | None] = mapped_column(String(36))

    organization: Mapped[Organization] = relationship()


class Statement(Base):
    """One stored xAPI statement: its JSON exactly as served back, plus the columns it is found by.

    ``pk`` grows monotonically and orders the store (``more`` cursors, forwarding). The GET
    filters go through :class:`StatementIndex`, so this table carries only the indexes that
    writes need (id uniqueness, statement references) and the plain listing order.

    On PostgreSQL (migration 0040) the table is partitioned by month of ``stored``: the key's
    high bits are that month (see lms.xapi.partitions), a partitioned table cannot hold the
    unique constraint on ids, and the table ``xapi_statement_ids`` keeps them unique instead
    (neither is described here: SQLite keeps this plain table).
    """

    __tablename__ = "xapi_statements"
    __table_args__ = (
        UniqueConstraint("organization_id", "statement_id"),
        Index("ix_xapi_statements_org_pk", "organization_id", "pk"),
        # Voiding and statement references: who targets a given statement id (only the few
        # statements that target one are indexed).
        Index("ix_xapi_statements_org_target", "organization_id", "object_statement_id",
              postgresql_where=text("object_statement_id IS NOT NULL"),
              sqlite_where=text("object_statement_id IS NOT NULL")),
    )

    pk: Mapped[int] = mapped_column(STATEMENT_KEY, primary_key=True, autoincrement=True)
    # No foreign key (migration 0042): the database would check each statement an import
    # writes against the organizations (about a quarter of writing one on PostgreSQL). An
    # organization's deletion deletes its statements (below).
    organization_id: Mapped[int] = mapped_column(Integer)
    statement_id: Mapped[str] = mapped_column(String(36))
    # The agent key of the actor (see agents.agent_key); None for an anonymous group.
    actor_key: Mapped[str | None] = mapped_column(Text)
    verb_id: Mapped[str] = mapped_column(Text)
    object_type: Mapped[str] = mapped_column(String(16))
    object_activity_id: Mapped[str | None] = mapped_column(Text)
    object_agent_key: Mapped[str | None] = mapped_column(Text)
    object_statement_id: Mapped[str | None] = mapped_column(String(36))
    registration: Mapped[str | None] = mapped_column(String(36))
    timestamp: Mapped[datetime] = mapped_column()
    stored: Mapped[datetime] = mapped_column()
    voided: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The complete statement (id, stored, authority, version, timestamp included), as served.
    data: Mapped[str] = mapped_column(Text)


class StatementIndex(Base):
    """The GET filters: one row per (kind, key) a statement can be found by, the pair
    hashed into one signed 64-bit integer (``key_hash``, see
    :func:`lms.xapi.index_keys.index_key`: 8 bytes instead of the key's text; two keys of one
    organization share a hash with a probability of about n² / 2⁶⁵ for n keys, 3 · 10⁻⁶ for
    10⁷; rows are per organization, so nothing crosses organizations).

    Kinds: ``a`` agent (actor or object), ``A`` other related agent, ``v`` verb, ``o``
    activity (object), ``O`` other related activity, ``r`` registration. A related filter
    reads ``a`` and ``A`` (``o`` and ``O``): a key is stored once per statement. A statement
    whose object is a StatementRef also gets the rows of its target, as the specification's
    filter rule for targeting statements asks. The primary key is the lookup order: newest
    first per key. Reads join the statements, so a row can only ever find a stored statement.
    """

    __tablename__ = "xapi_statement_index"
    __table_args__ = ({"sqlite_with_rowid": False},)

    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # No foreign key: PostgreSQL would check each of the millions of rows an import writes
    # against the statements (half the cost of writing the index). The store writes the rows
    # with their statement; an organization's deletion deletes them (below).
    statement_pk: Mapped[int] = mapped_column(STATEMENT_KEY, primary_key=True)


class StatementAttachment(OrganizationOwned, Base):
    """An attachment's raw content, stored once per organization and SHA-256."""

    __tablename__ = "xapi_attachments"
    __table_args__ = (UniqueConstraint("organization_id", "sha2"),)
    organization_indexed = False

    sha2: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Activity(OrganizationOwned, Base):
    """An activity's canonical definition, merged from the statements that carried it."""

    __tablename__ = "xapi_activities"
    __table_args__ = (UniqueConstraint("organization_id", "activity_id"),)
    organization_indexed = False
    # Upserted once per statement of an import: no foreign key to check each time (as for
    # the statements); deleted with the organization below.
    organization_foreign_key = False

    activity_id: Mapped[str] = mapped_column(Text)
    # JSON of the definition (may be "{}").
    definition: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


@event.listens_for(Organization, "before_delete")
def _delete_statement_rows(_mapper: Any, connection: Connection, target: Organization) -> None:
    """Delete an organization's statements, their filter index and ids, and its activities:
    tables without a foreign key to the organization, whose cascade would have done this.

    Before the organization's own row goes: the statements' outbox entries then go with
    their statements (their foreign key), and nothing in these tables is left to cascade.
    """
    for table in (StatementIndex, Statement, Activity):
        connection.execute(delete(table).where(table.organization_id == target.id))
    if connection.dialect.name == "postgresql" and connection.exec_driver_sql(
            "SELECT to_regclass('xapi_statement_ids')").scalar() is not None:
        connection.exec_driver_sql("DELETE FROM xapi_statement_ids WHERE organization_id = %s",
                                   (target.id,))
