"""The table of the LRS's documents: State, Activity Profile and Agent Profile (one table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.accounts.models import OrganizationOwned
from lms.core.models import Base, utcnow


class Document(OrganizationOwned, Base):
    """One stored document: its bytes exactly as sent, their Content-Type and SHA-1 ETag.

    A document is identified by its kind (``state``, ``activity_profile``, ``agent_profile``),
    its context (activity id, agent key, registration: ``""`` where the kind has none, so the
    unique index treats "none" as a value, which NULL would not) and its id within that
    context. IRIs, agent keys and ids have no length limit in xAPI, so the indexes use
    SHA-256 digests of them (``scope_hash`` of kind, activity and agent; ``key_hash`` of the
    whole context and the id): index entries stay small on every database, and the readable
    columns are kept alongside.
    """

    __tablename__ = "xapi_documents"
    __table_args__ = (
        UniqueConstraint("organization_id", "key_hash"),
        # Listing a context's ids (with ``since``) and deleting all its state documents.
        Index("ix_xapi_documents_org_scope_updated", "organization_id", "scope_hash",
              "updated_at"),
    )
    organization_indexed = False

    kind: Mapped[str] = mapped_column(String(16))
    activity_id: Mapped[str] = mapped_column(Text)
    agent_key: Mapped[str] = mapped_column(Text)
    registration: Mapped[str] = mapped_column(String(36))
    document_id: Mapped[str] = mapped_column(Text)
    scope_hash: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(255))
    # Loaded only when the bytes are needed (GET of one document, POST merge).
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # Hex SHA-1 of ``content``, unquoted.
    etag: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
