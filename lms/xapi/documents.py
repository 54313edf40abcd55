"""Documents of the LRS (xAPI 1.0.3, Communication 2.2–2.7 and 3.1): store, merge, read, delete.

State, Activity Profile and Agent Profile documents behave alike; they differ in the context
that holds them (:class:`Scope`) and in concurrency: a PUT replacing an existing profile
document must carry ``If-Match`` or ``If-None-Match`` (409 without), while a PUT creating one
may come without them (xAPI 1.0.3 asks for 409 only when the document exists; ``tincan``'s
RemoteLRS creates profiles so), and State accepts writes without them. Preconditions that are
sent are always honoured (412).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, false, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from lms.core.errors import BadRequest, Conflict, DomainError
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi.document_models import Document

STATE = "state"
ACTIVITY_PROFILE = "activity_profile"
AGENT_PROFILE = "agent_profile"
JSON_TYPE = "application/json"
DEFAULT_TYPE = "application/octet-stream"


class PreconditionFailed(DomainError, code="precondition_failed", status=412):
    """An If-Match or If-None-Match precondition does not hold (HTTP 412)."""


@dataclass(frozen=True)
class Scope:
    """The context a document lives in; ``""`` stands for a part the kind does not use.

    A State scope without a registration designates, for single documents, the documents
    stored without one; for the ids listing and the bulk delete, the agent's state for the
    activity in every registration ("Activity + Agent [+ registration if specified]").
    """

    kind: str
    activity_id: str = ""
    agent_key: str = ""
    registration: str = ""

    @property
    def scope_hash(self) -> str:
        """Digest of kind, activity and agent: what listings and the bulk delete look up."""
        parts = [self.kind, self.activity_id, self.agent_key]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def key_hash(self, document_id: str) -> str:
        """Digest of the whole context and the document id: one document's unique key."""
        parts = [self.kind, self.activity_id, self.agent_key, self.registration, document_id]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def where(self, organization_id: int) -> list[Any]:
        """The conditions selecting this scope's documents (all registrations when none)."""
        conditions = [Document.organization_id == organization_id,
                      Document.scope_hash == self.scope_hash]
        if self.registration:
            conditions.append(Document.registration == self.registration)
        return conditions


@dataclass(frozen=True)
class Preconditions:
    """The entity tags of ``If-Match`` / ``If-None-Match`` (None: header absent)."""

    if_match: frozenset[str] | None = None
    if_none_match: frozenset[str] | None = None

    @classmethod
    def from_headers(cls, if_match: str | None, if_none_match: str | None) -> Preconditions:
        """Parse the two headers: ``*`` or a comma-separated list of (quoted) entity tags."""
        return cls(_etags(if_match), _etags(if_none_match))

    @property
    def given(self) -> bool:
        """Whether the request carries either header."""
        return self.if_match is not None or self.if_none_match is not None


def _etags(header: str | None) -> frozenset[str] | None:
    if header is None:
        return None
    tags = set()
    for part in header.split(","):
        tag = part.strip()
        # Weak tags compare by their value here: documents have one representation.
        if tag.startswith("W/"):
            tag = tag[2:]
        tags.add(tag.strip('"').lower())
    tags.discard("")
    return frozenset(tags)


def etag_of(content: bytes) -> str:
    """The ETag value of a document: the hex SHA-1 of its bytes (unquoted)."""
    return hashlib.sha1(content).hexdigest()


def is_json_type(content_type: str | None) -> bool:
    """Whether a Content-Type is ``application/json`` (parameters such as charset allowed)."""
    return (content_type or "").split(";")[0].strip().lower() == JSON_TYPE


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_object(content: bytes, *, what: str) -> dict[str, Any]:
    """Parse bytes as a JSON object.

    :raise BadRequest: not UTF-8 JSON, or JSON that is not an object.
    """
    try:
        data = json.loads(content.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"{what} is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest(f"{what} is not a JSON object")
    return data


# --- reads ---------------------------------------------------------------------------------

def find_document(organization_id: int, scope: Scope, document_id: str, *,
                  with_content: bool = True, for_update: bool = False) -> Document | None:
    """The document with this id in this context, or None."""
    stmt = select(Document).where(Document.organization_id == organization_id,
                                  Document.key_hash == scope.key_hash(document_id))
    if with_content:
        stmt = stmt.options(undefer(Document.content))
    if for_update:
        # Writers of one document run one after the other, so a merge or an If-Match check
        # never works on a version another request is replacing.
        if db.session.get_bind().dialect.name == "sqlite":
            # SQLite has no FOR UPDATE; a write that changes nothing takes its write lock.
            db.session.execute(update(Document).where(false()).values(etag=Document.etag)
                               .execution_options(synchronize_session=False))
        else:
            stmt = stmt.with_for_update()
    return db.session.scalar(stmt)


def document_ids(organization_id: int, scope: Scope, *,
                 since: datetime | None = None) -> tuple[list[str], datetime | None]:
    """The ids of a context's documents updated after ``since`` (exclusive), oldest first,
    and when the most recent of them was updated.
    """
    stmt = (select(Document.document_id, Document.updated_at)
            .where(*scope.where(organization_id))
            .order_by(Document.updated_at, Document.id))
    if since is not None:
        stmt = stmt.where(Document.updated_at > since)
    rows = db.session.execute(stmt).all()
    latest = max((row.updated_at for row in rows), default=None)
    return [row.document_id for row in rows], latest


# --- writes --------------------------------------------------------------------------------

def check_preconditions(existing: Document | None, preconditions: Preconditions) -> None:
    """Apply ``If-Match`` and ``If-None-Match`` as RFC 7232 says.

    :raise PreconditionFailed: a precondition does not hold.
    """
    if preconditions.if_match is not None:
        if existing is None:
            raise PreconditionFailed("If-Match was given but the document does not exist")
        if "*" not in preconditions.if_match and existing.etag not in preconditions.if_match:
            raise PreconditionFailed(
                "If-Match does not match the document's current ETag: it was changed since "
                "you read it; GET it again")
    if preconditions.if_none_match is not None and existing is not None:
        if "*" in preconditions.if_none_match:
            raise PreconditionFailed("If-None-Match: * was given but the document exists")
        if existing.etag in preconditions.if_none_match:
            raise PreconditionFailed("If-None-Match matches the document's current ETag")


def _store(organization_id: int, scope: Scope, document_id: str, existing: Document | None,
           content: bytes, content_type: str) -> Document:
    now = utcnow()
    if existing is not None:
        existing.content = content
        existing.content_type = content_type
        existing.etag = etag_of(content)
        existing.updated_at = now
        db.session.flush()
        return existing
    document = Document(
        organization_id=organization_id, kind=scope.kind, activity_id=scope.activity_id,
        agent_key=scope.agent_key, registration=scope.registration, document_id=document_id,
        scope_hash=scope.scope_hash, key_hash=scope.key_hash(document_id),
        content_type=content_type, content=content, etag=etag_of(content), updated_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(document)
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict("the document was created by another request at the same time; "
                       "GET it and retry with If-Match") from exc
    return document


def put_document(*, organization_id: int, scope: Scope, document_id: str, content: bytes,
                 content_type: str | None, preconditions: Preconditions,
                 require_precondition: bool) -> Document:
    """Store a document, replacing any previous one (PUT).

    :param require_precondition: profiles need If-Match or If-None-Match on a PUT that
        replaces a document (not on one that creates it).
    :raise Conflict: a required precondition is missing and the document exists, or was
        created by a concurrent request meanwhile (409).
    :raise PreconditionFailed: a precondition does not hold.
    """
    existing = find_document(organization_id, scope, document_id, with_content=False,
                             for_update=True)
    if require_precondition and not preconditions.given and existing is not None:
        raise Conflict(
            "the document already exists: GET it to check its current state, then PUT "
            "again with If-Match set to its ETag to replace it")
    check_preconditions(existing, preconditions)
    return _store(organization_id, scope, document_id, existing, content,
                  content_type or DEFAULT_TYPE)


def post_document(*, organization_id: int, scope: Scope, document_id: str, content: bytes,
                  content_type: str | None, preconditions: Preconditions) -> Document:
    """Merge a JSON object into a document, or store it when there is none (POST).

    Top-level properties of the posted object replace those of the stored one (Communication
    2.2, JSON Procedure).

    :raise BadRequest: the posted document or the stored one is not an application/json
        object; nothing is changed.
    :raise PreconditionFailed: a precondition does not hold.
    """
    if not is_json_type(content_type):
        raise BadRequest("POST merges JSON: the document must be sent as application/json "
                         "(use PUT to store other content)")
    posted = json_object(content, what="the posted document")
    existing = find_document(organization_id, scope, document_id, for_update=True)
    check_preconditions(existing, preconditions)
    if existing is None:
        try:
            return _store(organization_id, scope, document_id, None, content, JSON_TYPE)
        except Conflict:
            # Another request created it meanwhile (PostgreSQL cannot lock a missing row):
            # merge into that one instead.
            existing = find_document(organization_id, scope, document_id, for_update=True)
            if existing is None:
                raise
            check_preconditions(existing, preconditions)
    if not is_json_type(existing.content_type):
        raise BadRequest(f"the stored document is {existing.content_type}, not "
                         "application/json: it cannot be merged (use PUT to replace it)")
    merged = json_object(existing.content, what="the stored document")
    merged.update(posted)
    body = json.dumps(merged, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _store(organization_id, scope, document_id, existing, body, JSON_TYPE)


def delete_document(*, organization_id: int, scope: Scope, document_id: str,
                    preconditions: Preconditions) -> bool:
    """Delete one document; deleting one that does not exist is not an error.

    :return: whether a document was deleted.
    :raise PreconditionFailed: a precondition does not hold.
    """
    existing = find_document(organization_id, scope, document_id, with_content=False,
                             for_update=True)
    check_preconditions(existing, preconditions)
    if existing is None:
        return False
    db.session.delete(existing)
    db.session.flush()
    return True


def delete_documents(*, organization_id: int, scope: Scope) -> int:
    """Delete every document of a context (State: all of an agent's state for an activity,
    within a registration when one is given).

    :return: how many were deleted.
    """
    result = db.session.execute(
        delete(Document).where(*scope.where(organization_id))
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
