"""Pseudonymisation of a person's xAPI statements and deletion of their LRS documents.

Statements are the record of learning events and feed every aggregate (progress, cohort and
dashboard figures), so they are not deleted: each agent that identifies the person becomes one
stable pseudonymous account agent, in the stored JSON and in the indexed columns the GET
filters use. Counts stay exactly the same; no name, e-mail or ``mbox_sha1sum`` remains.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, bindparam, delete, func, or_, select, update

from lms.accounts.models import Membership, User
from lms.core.database import insert_rows
from lms.core.errors import BadRequest
from lms.extensions import db
from lms.xapi import partitions
from lms.xapi.agents import agent_key
from lms.xapi.builders import agent_for_user
from lms.xapi.document_models import Document
from lms.xapi.index_keys import index_key
from lms.xapi.models import LrsCredential, Statement, StatementIndex
from lms.xapi.record import dumps, index_rows

# The statement index's columns, for PostgreSQL's bulk insert.
_INDEX_COLUMNS = ("organization_id", "key_hash", "statement_pk")
_INDEX_TYPES = {"statement_pk": "bigint[]", "key_hash": "bigint[]"}

# Index kinds holding agent keys (see StatementIndex): the actor or object, and other agents.
AGENT_KINDS = ("a", "A")


def agent_hashes(keys: Iterable[str]) -> dict[int, tuple[str, str]]:
    """The index keys (hashes, see lms.xapi.index_keys) of these agent keys as actor or
    object and as other agent: hash → (kind, agent key).
    """
    return {index_key(kind, key): (kind, key) for key in keys for kind in AGENT_KINDS}


_CHUNK = 500


def pseudonym(*, organization_id: int, user_id: int) -> str:
    """The stable pseudonym of a person in an organization (``anonymous-<16 hex>``).

    An HMAC under the instance's secret key: the same person always gets the same pseudonym,
    and nobody without the key can test a user id against it.
    """
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, f"erased:{organization_id}:{user_id}".encode(),
                      hashlib.sha256).hexdigest()
    return f"anonymous-{digest[:16]}"


def pseudonymous_agent(name: str) -> dict[str, Any]:
    """The account agent that replaces the person in statements (no name, no e-mail)."""
    return {"objectType": "Agent",
            "account": {"homePage": current_app.config["BASE_URL"], "name": name}}


def person_keys(user: User) -> set[str]:
    """Every agent key that identifies the person: their account, mbox and mbox_sha1sum."""
    mbox = f"mailto:{user.email}"
    return {agent_key(agent_for_user(user)), f"mbox:{mbox}",
            "mbox_sha1sum:" + hashlib.sha1(mbox.encode()).hexdigest()}


def _key(agent: Any) -> str | None:
    if not isinstance(agent, dict):
        return None
    try:
        return agent_key(agent)
    except BadRequest:  # an anonymous group has no identifier
        return None


# An agent key → the pseudonymous agent replacing it, or None to keep the agent.
Lookup = Callable[[str | None], dict[str, Any] | None]


class _Swapper:
    """Replaces the agents ``lookup`` names inside one statement (recursively)."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        self.changed = False

    def agent(self, agent: Any) -> Any:
        if not isinstance(agent, dict):
            return agent
        replacement = self.lookup(_key(agent))
        if agent.get("objectType", "Agent") == "Agent" and replacement is not None:
            self.changed = True
            return dict(replacement)
        if agent.get("objectType") == "Group":
            if replacement is not None:  # an identified group keyed by the person's e-mail
                self.changed = True
                agent = {k: v for k, v in agent.items() if k not in
                         ("mbox", "mbox_sha1sum", "openid", "account", "name")}
                agent.update({k: v for k, v in replacement.items() if k != "objectType"})
            if isinstance(agent.get("member"), list):
                agent = {**agent, "member": [self.agent(m) for m in agent["member"]]}
        return agent

    def statement(self, st: dict[str, Any]) -> dict[str, Any]:
        st = dict(st)
        for field in ("actor", "authority"):
            if field in st:
                st[field] = self.agent(st[field])
        obj = st.get("object")
        if isinstance(obj, dict):
            if obj.get("objectType") in ("Agent", "Group"):
                st["object"] = self.agent(obj)
            elif obj.get("objectType") == "SubStatement":
                st["object"] = self.statement(obj)
        context = st.get("context")
        if isinstance(context, dict):
            context = dict(context)
            for field in ("instructor", "team"):
                if field in context:
                    context[field] = self.agent(context[field])
            st["context"] = context
        return st


def _swapped(pk: int, data: str, lookup: Lookup) -> dict[str, Any] | None:
    """The parameters of :data:`_UPDATE_STATEMENT` for one stored statement whose agents
    ``lookup`` replaces, or None when it names none of them.
    """
    swapper = _Swapper(lookup)
    st = swapper.statement(json.loads(data))
    if not swapper.changed:
        return None
    obj = st.get("object") or {}
    return {"b_pk": pk, "b_data": dumps(st), "b_actor": _key(st.get("actor")),
            "b_object": _key(obj) if obj.get("objectType") in ("Agent", "Group") else None}


_STATEMENTS = cast(Table, Statement.__table__)
_UPDATE_STATEMENT = (update(_STATEMENTS).where(_STATEMENTS.c.pk == bindparam("b_pk"))
                     .values(data=bindparam("b_data"), actor_key=bindparam("b_actor"),
                             object_agent_key=bindparam("b_object")))


def pseudonymise_statements(*, organization_id: int, user: User, name: str) -> int:
    """Replace the person's agents with the pseudonymous agent ``name`` in every statement of
    the organization, JSON and indexed columns alike. Returns the number of statements changed.

    :param name: the account name of the pseudonymous agent (see :func:`pseudonym`).
    """
    keys = person_keys(user)
    replacement = pseudonymous_agent(name)
    new_key = agent_key(replacement)
    # Candidates: the filter index finds every statement about the person (including those
    # targeting one about them); a text search catches an e-mail address the index lacks
    # (e.g. in an authority).
    sha1 = next(k.split(":", 1)[1] for k in keys if k.startswith("mbox_sha1sum:"))
    hashes = agent_hashes(keys)
    pks = set(db.session.scalars(select(StatementIndex.statement_pk).where(
        StatementIndex.organization_id == organization_id,
        StatementIndex.key_hash.in_(list(hashes)))))
    pks.update(db.session.scalars(select(Statement.pk).where(
        Statement.organization_id == organization_id,
        or_(Statement.data.contains(user.email), Statement.data.contains(sha1)))))
    changed = 0
    ordered = sorted(pks)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start:start + _CHUNK]
        updates = []
        for row in db.session.execute(select(Statement.pk, Statement.data).where(
                Statement.pk.in_(chunk))):
            change = _swapped(row.pk, row.data,
                              lambda key: replacement if key in keys else None)
            if change is not None:
                updates.append(change)
        if updates:
            # One executemany per chunk (building an ORM UPDATE per row costs milliseconds).
            db.session.connection().execute(_UPDATE_STATEMENT, updates)
        changed += len(updates)
        # The filter index: the person's keys become the pseudonym's, kind by kind (each
        # hash says which of the person's kinds and keys it is).
        found = db.session.execute(select(StatementIndex.key_hash, StatementIndex.statement_pk)
                                   .where(StatementIndex.organization_id == organization_id,
                                          StatementIndex.statement_pk.in_(chunk),
                                          StatementIndex.key_hash.in_(list(hashes)))).all()
        if found:
            db.session.execute(delete(StatementIndex).where(
                StatementIndex.organization_id == organization_id,
                StatementIndex.statement_pk.in_(chunk),
                StatementIndex.key_hash.in_(list(hashes))))
            insert_rows("xapi_statement_index", _INDEX_COLUMNS,
                        sorted({(organization_id, index_key(hashes[r.key_hash][0], new_key),
                                 r.statement_pk) for r in found}), "ON CONFLICT DO NOTHING",
                        pg_types=_INDEX_TYPES)
    return changed


def delete_documents(*, organization_id: int, user: User) -> int:
    """Delete the person's State and Agent Profile documents; returns how many."""
    result = db.session.execute(delete(Document).where(
        Document.organization_id == organization_id,
        Document.agent_key.in_(person_keys(user))))
    return int(getattr(result, "rowcount", 0) or 0)


def delete_launch_credentials(*, organization_id: int, user: User) -> int:
    """Delete the short-lived LRS credentials issued for the person's package launches."""
    keys = person_keys(user)
    ids = [credential.id for credential in db.session.scalars(select(LrsCredential).where(
        LrsCredential.organization_id == organization_id,
        LrsCredential.scope_agent.is_not(None)))
        if _key(json.loads(credential.scope_agent or "null")) in keys]
    if ids:
        db.session.execute(delete(LrsCredential).where(LrsCredential.id.in_(ids)))
    return len(ids)


def pseudonymise_post_urls(*, organization_id: int, name: str) -> int:
    """Replace the URL of the person's own social-media posts, the object of their advocacy
    statements, with an opaque Relais IRI; returns the number of statements changed.

    A post URL often names its author (``linkedin.com/in/<name>/…``) and leads to them. A URL
    that other people's statements also use (a company post everyone shared) is not the
    person's and stays. Run after :func:`pseudonymise_statements` (``name`` is the pseudonym).
    """
    from lms.xapi.builders import ACTIVITY_TYPES, activity_iri, base_url
    from lms.xapi.models import Activity

    pseudo_key = agent_key(pseudonymous_agent(name))
    post_type = ACTIVITY_TYPES["post"].format(base=base_url())
    own_prefix = activity_iri("post", "")
    rows = db.session.execute(select(Statement.pk, Statement.data, Statement.object_activity_id)
                              .where(Statement.organization_id == organization_id,
                                     Statement.actor_key == pseudo_key,
                                     Statement.object_type == "Activity")).all()
    candidates: dict[int, tuple[dict[str, Any], str]] = {}
    for row in rows:
        url = row.object_activity_id or ""
        if url.startswith(own_prefix):
            continue
        st = json.loads(row.data)
        if ((st.get("object") or {}).get("definition") or {}).get("type") == post_type:
            candidates[row.pk] = (st, url)
    urls = {url for _st, url in candidates.values()}
    shared = set(db.session.scalars(select(Statement.object_activity_id).where(
        Statement.organization_id == organization_id,
        Statement.object_activity_id.in_(urls),
        or_(Statement.actor_key.is_(None), Statement.actor_key != pseudo_key)))) if urls \
        else set()
    personal = urls - shared
    updates: list[dict[str, Any]] = []
    for pk, (st, url) in candidates.items():
        if url not in personal:
            continue
        new_id = activity_iri("post", "erased-" + hashlib.sha256(url.encode()).hexdigest()[:16])
        st["object"] = {**st["object"], "id": new_id}
        updates.append({"b_pk": pk, "b_data": dumps(st), "b_id": new_id, "b_url": url})
    if updates:
        connection = db.session.connection()
        table = cast(Table, StatementIndex.__table__)
        connection.execute(update(_STATEMENTS).where(_STATEMENTS.c.pk == bindparam("b_pk"))
                           .values(data=bindparam("b_data"),
                                   object_activity_id=bindparam("b_id")), updates)
        connection.execute(delete(table).where(
            table.c.organization_id == organization_id,
            table.c.statement_pk == bindparam("b_pk"),
            table.c.key_hash == bindparam("b_hash")),
            [{"b_pk": u["b_pk"], "b_hash": index_key("o", u["b_url"])} for u in updates])
        insert_rows("xapi_statement_index", _INDEX_COLUMNS,
                    [(organization_id, index_key("o", u["b_id"]), u["b_pk"]) for u in updates],
                    "ON CONFLICT DO NOTHING", pg_types=_INDEX_TYPES)
    changed = len(updates)
    if personal:
        db.session.execute(delete(Activity).where(Activity.organization_id == organization_id,
                                                  Activity.activity_id.in_(personal)))
    return changed


# -- retention: every person in statements older than the organization's period --------------

def retention_lookup(organization_id: int) -> Lookup:
    """The replacement of every agent that identifies a person in the organization's statements.

    A Relais user (an account on this instance named by their id, or the e-mail address of a
    member) becomes the same pseudonym an erasure gives them, so their old and erased
    statements stay one agent in the aggregates; any other identified person (an e-mail, an
    OpenID or an account elsewhere, sent by a package) gets a pseudonym of their own. Relais'
    own agents (the system authority, LRS credentials) and pseudonyms stay as they are.
    """
    base = str(current_app.config["BASE_URL"])
    own = f"account:{base}|"
    credentials = f"account:{base}/xapi|"
    members: dict[str, int] = {}
    for user_id, email in db.session.execute(select(User.id, User.email).join(
            Membership, Membership.user_id == User.id).where(
            Membership.organization_id == organization_id)):
        mbox = f"mailto:{email}"
        members[f"mbox:{mbox}"] = user_id
        members["mbox_sha1sum:" + hashlib.sha1(mbox.encode()).hexdigest()] = user_id
    secret = str(current_app.config["SECRET_KEY"]).encode()
    cache: dict[str, dict[str, Any] | None] = {}

    def lookup(key: str | None) -> dict[str, Any] | None:
        if key is None or key.startswith(credentials):
            return None
        if key not in cache:
            if key.startswith(own):
                name = key[len(own):]
                cache[key] = pseudonymous_agent(pseudonym(
                    organization_id=organization_id, user_id=int(name))) if name.isdigit() \
                    else None  # relais:<org> (the system) or already anonymous-…
            elif key in members:
                cache[key] = pseudonymous_agent(pseudonym(organization_id=organization_id,
                                                          user_id=members[key]))
            else:
                digest = hmac.new(secret, f"retained:{organization_id}:{key}".encode(),
                                  hashlib.sha256).hexdigest()
                cache[key] = pseudonymous_agent(f"anonymous-{digest[:16]}")
        return cache[key]

    return lookup


def stored_before(*, organization_id: int, before: datetime, after_pk: int) -> int:
    """How many of the organization's statements after ``after_pk`` were stored before
    ``before`` (what :func:`pseudonymise_older` would read).
    """
    return db.session.scalar(select(func.count()).select_from(Statement).where(
        Statement.organization_id == organization_id, Statement.pk > after_pk,
        Statement.stored < before)) or 0


def pseudonymise_older(*, organization_id: int, before: datetime, after_pk: int, limit: int,
                       lookup: Lookup) -> tuple[int, int, bool]:
    """Pseudonymise, in place, one batch of the organization's statements stored before
    ``before``, in primary-key order from ``after_pk``.

    The store's primary key grows with ``stored``, so the walk stops at the first statement
    stored at or after ``before``: the next run goes on from there.

    :return: (statements changed, the last primary key read, whether the walk is finished).
    """
    rows = db.session.execute(select(
        Statement.pk, Statement.statement_id, Statement.object_statement_id, Statement.data,
        Statement.stored).where(Statement.organization_id == organization_id,
                                Statement.pk > after_pk)
        .order_by(Statement.pk).limit(limit)).all()
    last, finished, updates, changed = after_pk, len(rows) < limit, [], []
    for row in rows:
        if row.stored >= before:
            finished = True
            break
        last = row.pk
        change = _swapped(row.pk, row.data, lookup)
        if change is not None:
            updates.append(change)
            changed.append(row)
    if updates:
        db.session.connection().execute(_UPDATE_STATEMENT, updates)
        _move_agent_rows(organization_id, changed, lookup)
    return len(updates), last, finished


def _agent_keys_in(data: str) -> set[str]:
    """The agent keys a statement's JSON gives its index rows (see record.index_rows)."""
    return {key for kind, key in index_rows(json.loads(data)) if kind in AGENT_KINDS}


def _move_agent_rows(organization_id: int, changed: list[Any], lookup: Lookup) -> None:
    """Make the filter index rows of the agents ``lookup`` replaced in the statements
    ``changed`` (rows with ``pk``, ``statement_id``, ``object_statement_id`` and ``data`` as it
    was before) those of their replacements: in those statements, and in the stored
    statements referring to them, which the store gave their rows (record._insert_index),
    but for the rows those have of their own.

    The index holds hashes (lms.xapi.index_keys), which cannot be looked up: the keys are
    those of the statements' JSON before the change, with those of the statements they
    refer to (whose rows they have).
    """
    keys: set[str] = set()
    for row in changed:
        keys |= _agent_keys_in(row.data)
    ids = {row.statement_id for row in changed}
    targets = sorted({row.object_statement_id for row in changed
                      if row.object_statement_id is not None} - ids)
    if targets:
        # PostgreSQL's monthly partitions find a statement by id through the id table.
        found = Statement.pk.in_(list(partitions.keys_of(organization_id, targets).values())) \
            if partitions.partitioned() else Statement.statement_id.in_(targets)
        for data in db.session.scalars(select(Statement.data).where(
                Statement.organization_id == organization_id, found)):
            keys |= _agent_keys_in(data)
    moves: dict[int, int] = {}
    for key in keys:
        replacement = lookup(key)
        if replacement is not None:
            new_key = agent_key(replacement)
            for kind in AGENT_KINDS:
                moves[index_key(kind, key)] = index_key(kind, new_key)
    if not moves:
        return
    own_pks = {row.pk for row in changed}
    kept: dict[int, set[int]] = {
        row.pk: {index_key(kind, key) for kind, key in index_rows(json.loads(row.data))}
        for row in db.session.execute(select(Statement.pk, Statement.data).where(
            Statement.organization_id == organization_id,
            Statement.object_statement_id.in_(sorted(ids)))) if row.pk not in own_pks}
    moved = [(r.key_hash, r.statement_pk) for r in db.session.execute(
        select(StatementIndex.key_hash, StatementIndex.statement_pk).where(
            StatementIndex.organization_id == organization_id,
            StatementIndex.statement_pk.in_(sorted(own_pks | set(kept))),
            StatementIndex.key_hash.in_(list(moves))))
        if r.key_hash not in kept.get(r.statement_pk, ())]
    if moved:
        index = cast(Table, StatementIndex.__table__)
        db.session.connection().execute(delete(index).where(
            index.c.organization_id == organization_id,
            index.c.statement_pk == bindparam("b_pk"),
            index.c.key_hash == bindparam("b_hash")),
            [{"b_pk": pk, "b_hash": key_hash} for key_hash, pk in moved])
        insert_rows("xapi_statement_index", _INDEX_COLUMNS,
                    sorted({(organization_id, moves[key_hash], pk) for key_hash, pk in moved}),
                    "ON CONFLICT DO NOTHING", pg_types=_INDEX_TYPES)
