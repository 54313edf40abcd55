"""``record()``: the one write path of learning events into the statement store.

Every statement — posted to the LRS, or built by a Relais service — is validated, completed
(id, stored, authority, version, timestamp), stored with its filter index rows in bulk, passed to
the projection handlers and queued for forwarding, all in the caller's transaction. The cost of
a batch is a fixed number of queries, whatever the size of the store: nothing is scanned.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from flask import current_app, has_app_context
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from lms.core.database import (
    CHUNK,
    CopyFormat,
    Formatted,
    chunks,
    collector_paused,
    copy_rows,
    driver_sql,
    insert_row,
    insert_rows,
    next_ids,
    select_matching,
    text_list,
    time_processor,
)
from lms.core.errors import BadRequest, Conflict
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi import partitions, projections, validation
from lms.xapi.index_keys import index_keys
from lms.xapi.models import Statement, StatementAttachment, StatementIndex
from lms.xapi.validation import VOIDED

# Index kinds (see models.StatementIndex).
AGENT, RELATED_AGENT, VERB, ACTIVITY, RELATED_ACTIVITY, REGISTRATION = "a", "A", "v", "o", "O", "r"


def dumps(value: Any) -> str:
    """Serialize JSON compactly (UTF-8, no spaces), as the store keeps it."""
    return orjson.dumps(value).decode()


loads = orjson.loads


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision, as the LRS writes ``stored``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def system_authority(organization_id: int) -> dict[str, Any]:
    """The authority of statements Relais records itself for an organization."""
    base = current_app.config["BASE_URL"] if has_app_context() else "https://relais.invalid"
    return {"objectType": "Agent", "name": "Relais",
            "account": {"homePage": base, "name": f"relais:{organization_id}"}}


def _key(agent: dict[str, Any]) -> str | None:
    """The agent key of an already validated agent (see agents.agent_key), or None."""
    if "mbox" in agent:
        return "mbox:" + agent["mbox"]
    if "account" in agent:
        account = agent["account"]
        return f"account:{account['homePage']}|{account['name']}"
    if "mbox_sha1sum" in agent:
        return "mbox_sha1sum:" + agent["mbox_sha1sum"].lower()
    if "openid" in agent:
        return "openid:" + agent["openid"]
    return None


def _agent_keys(agent: Any) -> tuple[str | None, list[str]]:
    """(the agent's own key or None, keys of it and its members)."""
    if not isinstance(agent, dict):
        return None, []
    own = _key(agent)
    keys = [own] if own else []
    for member in agent.get("member") or ():
        member_key = _key(member)
        if member_key:
            keys.append(member_key)
    return own, keys


def _context_activities(context: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for items in (context.get("contextActivities") or {}).values():
        found.extend(items if isinstance(items, list) else [items])
    return found


def _related(st: dict[str, Any], rows: set[tuple[str, str]],
             activities: list[dict[str, Any]], actor_keys: list[str] | None = None) -> None:
    """Add the related agents and activities of a statement or sub-statement
    (``actor_keys``: its actor's, when already computed).
    """
    keys = _agent_keys(st["actor"])[1] if actor_keys is None else actor_keys
    rows.update((RELATED_AGENT, k) for k in keys)
    obj = st["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        rows.add((RELATED_ACTIVITY, obj["id"]))
        activities.append(obj)
    elif kind in ("Agent", "Group"):
        rows.update((RELATED_AGENT, k) for k in _agent_keys(obj)[1])
    elif kind == "SubStatement":
        _related(obj, rows, activities)
    context = st.get("context")
    if not context:
        return
    for key in ("instructor", "team"):
        if key in context:
            rows.update((RELATED_AGENT, k) for k in _agent_keys(context[key])[1])
    for item in _context_activities(context):
        rows.add((RELATED_ACTIVITY, item["id"]))
        activities.append(item)


def authority_rows(authority: Any) -> set[tuple[str, str]]:
    """The index rows a statement gets from its authority: the same for every statement of
    a batch, so computed once.
    """
    return {(RELATED_AGENT, k) for k in _agent_keys(authority)[1]}


def _index(st: dict[str, Any], activities: list[dict[str, Any]],
           authority: set[tuple[str, str]]) -> tuple[set[tuple[str, str]], str | None]:
    """(the index rows of a stored statement whose authority gives the rows ``authority``,
    the key of its actor), adding the activities it names to ``activities``.
    """
    rows: set[tuple[str, str]] = {(VERB, st["verb"]["id"])}
    own, keys = _agent_keys(st["actor"])
    if own:
        rows.add((AGENT, own))
    obj = st["object"]
    kind = obj.get("objectType", "Activity")
    obj_own = None
    if kind == "Activity":
        rows.add((ACTIVITY, obj["id"]))
    elif kind in ("Agent", "Group"):
        obj_own = _key(obj)
        if obj_own:
            rows.add((AGENT, obj_own))
    context = st.get("context")
    if context:
        registration = context.get("registration")
        if registration:
            rows.add((REGISTRATION, registration.lower()))
    _related(st, rows, activities, keys)
    rows |= authority
    # A key found directly (actor or object) is not indexed again as related: a related
    # filter reads both kinds (see queries.find_statements). One row fewer per statement and
    # kind keeps the index, and the pages each batch touches, smaller.
    if own:
        rows.discard((RELATED_AGENT, own))
    if kind == "Activity":
        rows.discard((RELATED_ACTIVITY, obj["id"]))
    elif obj_own:
        rows.discard((RELATED_AGENT, obj_own))
    return rows, own


def index_rows(st: dict[str, Any],
               activities: list[dict[str, Any]] | None = None) -> set[tuple[str, str]]:
    """The (kind, key) rows a stored statement is found by (see models.StatementIndex; the
    index stores each as its hash, :func:`lms.xapi.index_keys.index_keys`).
    """
    return _index(st, activities if activities is not None else [],
                  authority_rows(st.get("authority")))[0]


def comparable(st: dict[str, Any], *, ignore_timestamp: bool = False) -> Any:
    """A form of a statement for the immutability check: LRS-assigned properties removed,
    equivalent spellings (timestamp offsets, member order, single context activity, case of
    UUIDs and SHA-1 sums) made equal.
    """

    def norm(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                sub = f"{path}.{key}"
                if key == "contextActivities" and isinstance(item, dict):
                    out[key] = {k: norm(v if isinstance(v, list) else [v], f"{sub}.{k}")
                                for k, v in item.items()}
                elif key == "member" and isinstance(item, list):
                    out[key] = sorted((norm(m, sub) for m in item), key=dumps)
                elif key in ("timestamp",) and isinstance(item, str):
                    out[key] = validation.parse_timestamp(item, sub).isoformat()
                elif key in ("registration", "mbox_sha1sum") and isinstance(item, str):
                    out[key] = item.lower()
                elif key == "id" and path in ("", ".object") and isinstance(item, str):
                    out[key] = item.lower()
                else:
                    out[key] = norm(item, sub)
            return out
        if isinstance(value, list):
            return [norm(item, path) for item in value]
        return value

    dropped = {"stored", "authority", "version"} | ({"timestamp"} if ignore_timestamp else set())
    trimmed = {k: v for k, v in st.items() if k not in dropped}
    return norm(trimmed, "")


def _arrays_of_context_activities(st: dict[str, Any]) -> dict[str, Any]:
    """The LRS returns each context activity list as an array, even of one (Data 2.4.6.2)."""
    context = st.get("context")
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict) and \
            not all(isinstance(items, list) for items in context["contextActivities"].values()):
        st["context"] = {**context, "contextActivities": {
            key: items if isinstance(items, list) else [items]
            for key, items in context["contextActivities"].items()}}
    obj = st.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        st["object"] = _arrays_of_context_activities(dict(obj))
    return st


def _merge_definition(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        if key in ("name", "description") and isinstance(old.get(key), dict):
            merged[key] = {**old[key], **value}
        elif key == "extensions" and isinstance(old.get(key), dict):
            merged[key] = {**old[key], **value}
        else:
            merged[key] = value
    return merged


_STATEMENT_COLUMNS = ("organization_id", "statement_id", "actor_key", "verb_id", "object_type",
                      "object_activity_id", "object_agent_key", "object_statement_id",
                      "registration", "timestamp", "stored", "voided", "data")
_INDEX_COLUMNS = ("organization_id", "key_hash", "statement_pk")
_ID_COLUMNS = ("organization_id", "statement_id", "pk")
# PostgreSQL array types of the statement store's columns that are not text (see insert_rows).
_PG_TYPES = {"pk": "bigint[]", "statement_pk": "bigint[]", "key_hash": "bigint[]",
             "voided": "bool[]",
             "timestamp": "timestamptz[]", "stored": "timestamptz[]"}


def _statement_values(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    as_time = time_processor()
    # A batch's rows share one stored time (see _rows): converted once.
    now = rows[0]["stored"] if rows else None
    stored = as_time(now) if now is not None else None
    return [(row["organization_id"], row["statement_id"], row["actor_key"], row["verb_id"],
             row["object_type"], row["object_activity_id"], row["object_agent_key"],
             row["object_statement_id"], row["registration"], as_time(row["timestamp"]),
             stored if row["stored"] is now else as_time(row["stored"]), row["voided"],
             row["data"]) for row in rows]


def _insert_statements(rows: list[dict[str, Any]], suffix: str = "",
                       pks: list[int] | None = None) -> list[Any]:
    """Insert the statements' rows (with these primary keys, when given)."""
    values = _statement_values(rows)
    if pks is None:
        return insert_rows("xapi_statements", _STATEMENT_COLUMNS, values, suffix,
                           pg_types=_PG_TYPES)
    return insert_rows("xapi_statements", ("pk", *_STATEMENT_COLUMNS),
                       [(pk, *value) for pk, value in zip(pks, values, strict=True)], suffix,
                       pg_types=_PG_TYPES)


def _update_activities(organization_id: int, activities: list[dict[str, Any]],
                       known: dict[str, tuple[int, str]] | None = None) -> None:
    """Keep each activity's canonical definition: the latest, language maps merged
    (``known``: the stored (id, definition) of these activities by id, when already read;
    an activity absent from it is not stored).
    """
    incoming: dict[str, dict[str, Any]] = {}
    for item in activities:
        definition = item.get("definition")
        current = incoming.get(item["id"])
        if current is None:
            # The first (often only) mention: its definition as it is (read, never changed).
            incoming[item["id"]] = definition or {}
        elif definition and definition != current:  # the usual case: the same one again
            incoming[item["id"]] = _merge_definition(current, definition)
    if not incoming:
        return
    existing = known if known is not None else {
        row.activity_id: (row.id, row.definition) for row in select_matching(
            "xapi_activities", "id, activity_id, definition", organization_id, "activity_id",
            list(incoming))}
    now = time_processor()(utcnow())
    writes: list[tuple[int, str, str, Any]] = []
    # Builders share one definition among many activities (a network's, in an import): each
    # is serialized once (by identity: every one is alive until the end of this call).
    texts: dict[int, str] = {}
    for activity_id, definition in incoming.items():
        stored = existing.get(activity_id)
        if stored is not None and not definition:  # named again without a definition
            continue
        text = texts.get(id(definition))
        if text is None:
            text = texts[id(definition)] = dumps(definition)
        if stored is None:
            writes.append((organization_id, activity_id, text, now))
            continue
        old_text = stored[1]
        if text == old_text:  # the usual case: the same definition again
            continue
        merged = dumps(_merge_definition(loads(old_text), definition))
        if merged != old_text:
            writes.append((organization_id, activity_id, merged, now))
    if not writes:
        return
    # One upsert in activity id order: concurrent requests (rows were read without a lock)
    # take their row locks in the same order, so they wait for each other, never deadlock;
    # the last writer's merge wins.
    writes.sort(key=lambda row: row[1])
    insert_rows("xapi_activities", ("organization_id", "activity_id", "definition",
                                    "updated_at"), writes,
                "ON CONFLICT (organization_id, activity_id) DO UPDATE SET "
                "definition = excluded.definition, updated_at = excluded.updated_at")


def store_attachments(organization_id: int, parts: dict[str, tuple[str, bytes]]) -> None:
    """Keep attachment contents (sha2 → (content type, bytes)) not stored yet."""
    if not parts:
        return
    known = set(db.session.scalars(select(StatementAttachment.sha2).where(
        StatementAttachment.organization_id == organization_id,
        StatementAttachment.sha2.in_(list(parts)))))
    rows = [{"organization_id": organization_id, "sha2": sha2, "content_type": ctype,
             "content": content, "created_at": utcnow()}
            for sha2, (ctype, content) in parts.items() if sha2 not in known]
    if rows:
        db.session.execute(insert(StatementAttachment), rows)


# -- record(), step by step -----------------------------------------------------------------------

@dataclass
class _References:
    """How a batch's new statements relate to statement references, in the batch and stored."""

    fresh_ids: dict[str, dict[str, Any]]  # new statements by lower-case id
    targets: dict[str, Any]  # stored targets of the new references, by id
    referrers: dict[str, list[Any]]  # stored statements referring to a new one, by its id
    voided_now: set[str]  # ids the batch voids


def _prepare(received: list[dict[str, Any]], *, stored_text: str,
             authority: dict[str, Any], validated: bool) -> list[dict[str, Any]]:
    """Validate each statement (unless ``validated``) and complete it: id, stored,
    authority, version, timestamp (copies; the received statements are not modified).

    :raise BadRequest: an invalid statement, or the same id twice in the batch.
    """
    many = len(received) > 1
    prepared: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(received):
        if not validated:
            validation.statement(raw, f"statements[{i}]" if many else "statement")
        st = _arrays_of_context_activities(dict(raw))
        st["id"] = st.get("id") or str(uuid.uuid4())
        key = st["id"].lower()
        if key in seen:
            raise BadRequest(f"statement id {st['id']} appears twice in the batch")
        seen.add(key)
        st["stored"] = stored_text
        st["authority"] = authority
        st.setdefault("version", "1.0.0")
        st.setdefault("timestamp", stored_text)
        prepared.append(st)
    return prepared


@dataclass
class _Stored:
    """What the store holds of a batch, read in one query (see :func:`_stored_and_referring`)."""

    statements: dict[str, str]  # the JSON of the batch's ids already stored, by id
    referring: dict[str, list[Any]]  # stored statements whose object refers to one, by its id
    # The stored (id, definition) of the activities the batch names, by activity id; None
    # when they were too many to read with the rest (then read by _update_activities).
    activities: dict[str, tuple[int, str]] | None
    # On the monthly partitions, the ids claimed by this query with their new keys (see
    # _claim_by_month); None elsewhere.
    claimed: dict[str, int] | None = None


# The values of one text parameter (see text_list), as the rows of a FROM item, on
# PostgreSQL. The text is read through a sub-select so that the planner never sees its value:
# psycopg prepares a query after a few runs, and with the text a constant each run's custom
# plan knew the list's length (one id for a single POST, against the hundred a generic plan
# assumes), was estimated cheaper than the generic plan, and so the server planned the
# claim's query again at every run (about a third of its backend's CPU a single POST).
_TEXT_VALUES = "unnest(string_to_array((SELECT %s::text), E'\\x1f'))"

# The stored definitions of a write's activities, on PostgreSQL: the activities' arm of the
# queries that read the store before a write (its columns: kind, sid, data, pk, verb_id).
# Each value is looked up in its index on (organization, activity id): LATERAL … OFFSET 0
# leaves the planner no other way (see _stored_and_referring). The ids as one text
# (text_list).
_ACTIVITIES_ARM = ("SELECT 'a', a.activity_id, a.definition, a.id, NULL "
                   f"FROM {_TEXT_VALUES} AS wanted(value) "
                   "CROSS JOIN LATERAL (SELECT activity_id, definition, id FROM xapi_activities "
                   "WHERE organization_id = %s AND activity_id = wanted.value OFFSET 0) a")


def _read_stored(sql: str, params: tuple[Any, ...], found: _Stored) -> None:
    """Run a query of the store's rows for a write (columns kind, sid, data, pk, verb_id)
    and add what it read to ``found``: ``c`` an id this query claimed, ``s`` a stored
    statement's JSON, ``r`` a stored statement referring to one, ``a`` a stored activity.
    """
    for row in driver_sql(sql, params).rows:
        kind = row.kind
        if kind == "s":
            found.statements[row.sid] = row.data
        elif kind == "r":
            found.referring.setdefault(row.sid, []).append(row)
        elif kind == "a":
            found.activities[row.sid] = (row.pk, row.data)  # type: ignore[index]
        else:
            found.claimed[row.sid] = row.pk  # type: ignore[index]


def _stored_and_referring(organization_id: int, ids: list[str], activity_ids: list[str],
                          now: datetime, single: _Row | None = None) -> _Stored:
    """Read, in one query when the lists are short (a single POST is one of each): the JSON
    of those of ``ids`` already stored, the stored statements whose object is a reference to
    one of them (rows with ``pk`` and ``verb_id``), and the stored definitions of the
    activities ``activity_ids``: every statement write asks all three. On the monthly
    partitions the same query also claims the ids, and inserts ``single`` when its id is
    claimed (see :func:`_claim_by_month`).
    """
    ids = list(dict.fromkeys(ids))
    # With the statements' first (often only) chunk, when they fit in one.
    with_activities = len(activity_ids) <= CHUNK and len(ids) <= CHUNK
    found = _Stored({}, {}, {} if with_activities else None)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres and partitions.partitioned():
        found.activities, found.claimed = {}, {}
        _claim_by_month(organization_id, ids, activity_ids, partitions.month_code(now), found,
                        single)
        return found
    for chunk in chunks(ids):
        params: tuple[Any, ...]
        if postgres:
            # Each value of the arrays is looked up in its index on (organization, value):
            # LATERAL … OFFSET 0 leaves the planner no other way. Once psycopg has prepared
            # the query, PostgreSQL may run a generic plan, made from the statistics of the
            # table when it was small (or never analysed): a plain join then became a hash
            # join over every activity (or statement) of the organization, read at each
            # POST (the bench's backend CPU a POST grew from 1.4 to 4 ms over 2,000 POSTs).
            sql = ("SELECT 's' AS kind, s.statement_id AS sid, s.data, NULL::int AS pk, "
                   "NULL::text AS verb_id FROM unnest(%s::text[]) AS wanted(value) "
                   "CROSS JOIN LATERAL (SELECT statement_id, data FROM xapi_statements "
                   "WHERE organization_id = %s AND statement_id = wanted.value OFFSET 0) s "
                   "UNION ALL SELECT 'r', s.object_statement_id, NULL, s.pk, s.verb_id "
                   "FROM unnest(%s::text[]) AS wanted(value) "
                   "CROSS JOIN LATERAL (SELECT object_statement_id, pk, verb_id "
                   "FROM xapi_statements WHERE organization_id = %s "
                   "AND object_statement_id = wanted.value OFFSET 0) s")
            params = (chunk, organization_id, chunk, organization_id)
            if with_activities:
                sql += " UNION ALL " + _ACTIVITIES_ARM
                params += (text_list(activity_ids), organization_id)
        else:
            marks = ", ".join("?" * len(chunk))
            sql = (f"SELECT 's' AS kind, statement_id AS sid, data, NULL AS pk, "
                   f"NULL AS verb_id FROM xapi_statements WHERE organization_id = ? "
                   f"AND statement_id IN ({marks}) UNION ALL "
                   f"SELECT 'r', object_statement_id, NULL, pk, verb_id FROM xapi_statements "
                   f"WHERE organization_id = ? AND object_statement_id IN ({marks})")
            params = (organization_id, *chunk, organization_id, *chunk)
            if with_activities and activity_ids:
                sql += (" UNION ALL SELECT 'a', activity_id, definition, id, NULL "
                        "FROM xapi_activities WHERE organization_id = ? AND activity_id IN "
                        f"({', '.join('?' * len(activity_ids))})")
                params += (organization_id, *activity_ids)
        with_activities = False
        _read_stored(sql, params, found)
    return found


def _claim_by_month(organization_id: int, ids: list[str], activity_ids: list[str],
                    month: int, found: _Stored, single: _Row | None = None) -> None:
    """_stored_and_referring on the monthly partitions, in one query whatever the batch's
    size (arrays): the ids are claimed in the id table (one unique index, whatever the
    months) with their new keys in ``month`` — ``ON CONFLICT DO NOTHING`` waits for a
    concurrent transaction claiming the same id, and skips it if that one commits —; the
    JSON of the ids stored before is read by key (each key prunes to its month), the
    statements referring to them in every month's partial index (a few rows at most each),
    and the stored activities. An id neither claimed nor read was stored by a transaction
    that committed after this query began (the query does not see its rows): the caller
    checks again.

    ``single``: the batch's one statement (``ids`` is its id), inserted with its index rows
    by the same query if its id is claimed, not voided (see :func:`_record`): a single POST
    is then one round trip, not two. Nothing is inserted when the id is not claimed.
    """
    # The reads see the store as it was before the claim (the parts of a query with a
    # data-modifying WITH do not see each other's rows): "s" rows are ids stored before.
    # The ids as one text (see text_list), split by the server: no array for psycopg to dump.
    sql = (f"WITH ids AS MATERIALIZED (SELECT value, n FROM {_TEXT_VALUES} "
           "WITH ORDINALITY AS given(value, n)), "
           "claimed AS (INSERT INTO xapi_statement_ids (organization_id, statement_id, pk) "
           "SELECT %s, value::uuid, (%s::bigint << 40) + nextval('xapi_statements_pk_seq') "
           "FROM ids ORDER BY n ON CONFLICT DO NOTHING RETURNING statement_id, pk)")
    params: tuple[Any, ...] = (text_list(ids), organization_id, month)
    if single is not None:
        # Each part reads the claim's RETURNING: no claim, no row.
        sql += (f", s AS (INSERT INTO xapi_statements (pk, {', '.join(_STATEMENT_COLUMNS)}) "
                f"SELECT pk, {', '.join(['%s'] * len(_STATEMENT_COLUMNS))} FROM claimed), "
                "i AS (INSERT INTO xapi_statement_index (organization_id, key_hash, "
                "statement_pk) SELECT %s, k.key_hash, claimed.pk FROM claimed, "
                "unnest(%b::bigint[]) AS k(key_hash))")
        params += (*_statement_values([single.row])[0], organization_id, list(single.index))
    sql += (" SELECT 'c' AS kind, statement_id::text AS sid, NULL::text AS data, pk, "
            "NULL::text AS verb_id FROM claimed "
            "UNION ALL SELECT 's', ids.value, s.data, i.pk, NULL FROM ids "
            "CROSS JOIN LATERAL (SELECT pk FROM xapi_statement_ids WHERE organization_id = %s "
            "AND statement_id = ids.value::uuid OFFSET 0) i "
            "CROSS JOIN LATERAL (SELECT data FROM xapi_statements WHERE pk = i.pk OFFSET 0) s "
            "UNION ALL SELECT 'r', s.object_statement_id, NULL, s.pk, s.verb_id FROM ids "
            "CROSS JOIN LATERAL (SELECT object_statement_id, pk, verb_id FROM xapi_statements "
            "WHERE organization_id = %s AND object_statement_id = ids.value OFFSET 0) s")
    params += (organization_id, organization_id)
    if activity_ids:
        sql += " UNION ALL " + _ACTIVITIES_ARM
        params += (text_list(activity_ids), organization_id)
    _read_stored(sql, params, found)


def _unclaim(organization_id: int, claimed: dict[str, int] | None) -> None:
    """Give back ids this transaction claimed and will not store (monthly partitions)."""
    if claimed:
        driver_sql("DELETE FROM xapi_statement_ids WHERE organization_id = %s "
                   "AND pk = ANY(%b::bigint[])", (organization_id, list(claimed.values())))


def _not_stored_yet(organization_id: int, prepared: list[dict[str, Any]],
                    received: list[dict[str, Any]], activity_ids: list[str], now: datetime,
                    single: _Row | None = None) -> tuple[list[dict[str, Any]], dict[str, list[Any]],
                               dict[str, tuple[int, str]] | None, dict[str, int] | None] | None:
    """(the statements whose id is not stored yet; the stored statements referring to each
    of them, by id; the stored activities of ``activity_ids``, see :class:`_Stored`; on the
    monthly partitions the new statements' keys by id, claimed, else None), or None when a
    concurrent request stored some of these ids after this check began (monthly partitions:
    nothing is then claimed; check again). One already stored with equivalent content is
    accepted as is (not stored twice). ``single``: see :func:`_claim_by_month`.

    :raise Conflict: an id already stored with different content.
    """
    ids = [st["id"].lower() for st in prepared]
    found = _stored_and_referring(organization_id, ids, activity_ids, now, single)
    stored_ids, claimed = found.statements, found.claimed
    if claimed is not None and any(sid not in claimed and sid not in stored_ids
                                   for sid in ids):
        _unclaim(organization_id, claimed)
        return None
    fresh = []
    for st, raw, sid in zip(prepared, received, ids, strict=True):
        old = stored_ids.get(sid)
        if old is None or (claimed is not None and sid in claimed):
            fresh.append(st)
            continue
        # A timestamp the LRS filled in (the statement came without one) is not content.
        loose = "timestamp" not in raw
        if comparable(loads(old), ignore_timestamp=loose) != comparable(
                st, ignore_timestamp=loose):
            _unclaim(organization_id, claimed)
            raise Conflict(f"statement {st['id']} is already stored with different content")
    new_ids = {st["id"].lower() for st in fresh}
    return fresh, {sid: rows for sid, rows in found.referring.items() if sid in new_ids}, \
        found.activities, claimed


def _references(organization_id: int, fresh: list[dict[str, Any]],
                referrers: dict[str, list[Any]]) -> _References:
    """Read the stored targets of the new statement references; with the stored statements
    that refer to the new ones (they arrived before their target; see _not_stored_yet).

    :raise BadRequest: a statement voids a voiding statement.
    """
    fresh_ids = {st["id"].lower(): st for st in fresh}
    wanted = {st["object"]["id"].lower() for st in fresh
              if st["object"].get("objectType") == "StatementRef"}
    targets: dict[str, Any] = {row.statement_id: row for row in _statements_by_id(
        organization_id, "pk, statement_id, verb_id, voided, data",
        sorted(wanted - set(fresh_ids)))}
    for st in fresh:
        if st["verb"]["id"] == VOIDED:
            target = st["object"]["id"].lower()
            in_batch = fresh_ids.get(target)
            if in_batch is not None and in_batch["verb"]["id"] == VOIDED or (
                    target in targets and targets[target].verb_id == VOIDED):
                raise BadRequest(f"statement {st['id']} voids a voiding statement, which is "
                                 "not allowed")
    voided_now = {st["object"]["id"].lower() for st in fresh if st["verb"]["id"] == VOIDED}
    return _References(fresh_ids, targets, referrers, voided_now)


def _statements_by_id(organization_id: int, columns: str, ids: list[str]) -> list[Any]:
    """Rows (``columns``) of the organization's stored statements with these ids."""
    if not ids or not partitions.partitioned():
        return select_matching("xapi_statements", columns, organization_id, "statement_id",
                               ids)
    # The id table gives each key, the key its month (one partition read each).
    return driver_sql(
        "SELECT s.* FROM unnest(%b::text[]) AS wanted(value) CROSS JOIN LATERAL "
        "(SELECT pk FROM xapi_statement_ids WHERE organization_id = %s "
        "AND statement_id = wanted.value::uuid OFFSET 0) i CROSS JOIN LATERAL "
        f"(SELECT {columns} FROM xapi_statements WHERE pk = i.pk OFFSET 0) s",
        (list(dict.fromkeys(ids)), organization_id)).rows


@dataclass
class _Row:
    """What a prepared statement stores: its row (``voided`` is set once the store has been
    read), its index keys (hashed, see :func:`lms.xapi.index_keys.index_key`) and the
    activities it names.
    """

    row: dict[str, Any]
    index: set[int]
    activities: list[dict[str, Any]]


def _rows(organization_id: int, prepared: list[dict[str, Any]], now: datetime
          ) -> dict[str, _Row]:
    """The store's row of each prepared statement, by lower-case id. Computed before the
    store is read (and, on SQLite, locked): nothing here depends on it.
    """
    found: dict[str, _Row] = {}
    # One authority for the whole batch (see _prepare): its rows are computed once.
    authority = authority_rows(prepared[0]["authority"]) if prepared else set()
    # Each key hashed once here (the rest of record() handles the ints); a batch names the
    # same verbs, activities and agents again and again: they come from index_keys' cache.
    hashed = index_keys
    for st in prepared:
        obj = st["object"]
        kind = obj.get("objectType", "Activity")
        sid = st["id"].lower()
        activities: list[dict[str, Any]] = []
        index, actor_key = _index(st, activities, authority)
        registration = (st.get("context") or {}).get("registration")
        found[sid] = _Row({
            "organization_id": organization_id, "statement_id": sid,
            "actor_key": actor_key, "verb_id": st["verb"]["id"],
            "object_type": kind,
            "object_activity_id": obj["id"] if kind == "Activity" else None,
            "object_agent_key": _key(obj) if kind in ("Agent", "Group") else None,
            "object_statement_id": obj["id"].lower() if kind == "StatementRef" else None,
            "registration": registration.lower() if registration else None,
            "timestamp": validation.parse_timestamp(st["timestamp"], "timestamp"),
            "stored": now, "voided": False, "data": dumps(st),
        }, hashed(index), activities)
    return found


def _statement_rows(fresh: list[dict[str, Any]], refs: _References,
                    computed: dict[str, _Row]) -> tuple[list[dict[str, Any]],
                                                         dict[str, set[int]],
                                                         list[dict[str, Any]]]:
    """(the store's row of each new statement, its index keys by id, the activities it
    names). A statement is stored voided when the batch or a stored statement voids it.
    """
    rows: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    index_by_id: dict[str, set[int]] = {}
    for st in fresh:
        sid = st["id"].lower()
        found = computed[sid]
        index_by_id[sid] = set(found.index)
        activities.extend(found.activities)
        voided = st["verb"]["id"] != VOIDED and (
            sid in refs.voided_now
            or any(r.verb_id == VOIDED for r in refs.referrers.get(sid, ())))
        found.row["voided"] = voided  # set again by each attempt (see _record)
        rows.append(found.row)
    return rows, index_by_id, activities


# How many times record() checks a batch again after concurrent requests stored some of its
# ids between its check and its insert (PostgreSQL): each retry sees their commits.
_ATTEMPTS = 3


def _lock_store() -> None:
    """SQLite: take the database's write lock before reading which ids are stored, so the
    check and the insert see the same store: a concurrent request storing the same ids waits
    here, then finds them stored (accepted if equivalent, 409 otherwise). PostgreSQL checks
    at the insert instead (see ``_insert``).
    """
    if db.session.get_bind().dialect.name == "sqlite":
        # A write that changes nothing takes the lock (SQLite has no SELECT … FOR UPDATE).
        driver_sql("UPDATE xapi_statements SET voided = voided WHERE 0 = 1")


def _insert_with_index(organization_id: int, row: dict[str, Any], keys: set[int],
                       claimed: dict[str, int] | None) -> dict[str, int] | None:
    """PostgreSQL, one statement: insert it and its index rows ``keys`` with one query (a
    single POST: one round trip fewer than the statement, then its index rows); return its
    primary key by id, or None when a concurrent request stored its id after our check
    (nothing is then inserted). On the monthly partitions its key is the one its id claimed
    (``claimed``): nothing can conflict.
    """
    key_values = ", ".join(["(CAST(? AS bigint))"] * len(keys))
    if claimed is not None:
        pk = claimed[row["statement_id"]]
        driver_sql(
            f"WITH s AS (INSERT INTO xapi_statements (pk, {', '.join(_STATEMENT_COLUMNS)}) "
            f"VALUES (?, {', '.join('?' * len(_STATEMENT_COLUMNS))})) "
            "INSERT INTO xapi_statement_index (organization_id, key_hash, statement_pk) "
            f"SELECT k_org.value, k.key_hash, k_org.pk FROM (VALUES (?, ?)) "
            f"AS k_org(value, pk), (VALUES {key_values}) AS k(key_hash)",
            (pk, *_statement_values([row])[0], organization_id, pk, *keys))
        return {row["statement_id"]: pk}
    rows = driver_sql(
        f"WITH s AS (INSERT INTO xapi_statements ({', '.join(_STATEMENT_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_STATEMENT_COLUMNS))}) "
        "ON CONFLICT (organization_id, statement_id) DO NOTHING RETURNING statement_id, pk), "
        "i AS (INSERT INTO xapi_statement_index (organization_id, key_hash, statement_pk) "
        f"SELECT s_org.value, k.key_hash, s.pk FROM s, (VALUES (?)) AS s_org(value), "
        f"(VALUES {key_values}) AS k(key_hash)) SELECT statement_id, pk FROM s",
        (*_statement_values([row])[0], organization_id, *keys)).rows
    return {rows[0].statement_id: rows[0].pk} if rows else None


def _insert(organization_id: int, rows: list[dict[str, Any]], claimed: dict[str, int] | None
            ) -> dict[str, int] | None:
    """Insert the statements; return their primary keys by id, or None when a concurrent
    request stored one of these ids after our check (PostgreSQL): nothing of this batch is
    then left inserted, and the caller checks the batch again against the store. On the
    monthly partitions their keys are those their ids claimed (``claimed``, see
    :func:`_claim_by_month`), and they go in with COPY: nothing can conflict.
    """
    if claimed is not None:
        values = _statement_values(rows)
        copy_rows("xapi_statements", ("pk", *_STATEMENT_COLUMNS),
                  [(claimed[row["statement_id"]], *value)
                   for row, value in zip(rows, values, strict=True)])
        return claimed
    # A plain executemany (SQLite) or one INSERT … SELECT FROM unnest (PostgreSQL): no ORM
    # bookkeeping nor SQLAlchemy parameter processing (only the two datetimes need the column
    # type's conversion).
    if db.session.get_bind().dialect.name == "postgresql":
        # ON CONFLICT DO NOTHING waits for a concurrent transaction inserting the same id
        # and skips the row if that one commits; RETURNING says which rows are ours (and
        # saves reading the new pks).
        returned = _insert_statements(rows, "ON CONFLICT (organization_id, statement_id) "
                                            "DO NOTHING RETURNING statement_id, pk")
        pk_by_id = {row[0]: row[1] for row in returned}
        if len(pk_by_id) == len(rows):
            return pk_by_id
        if pk_by_id:  # undo our part (no index row, projection or outbox entry yet)
            driver_sql("DELETE FROM xapi_statements WHERE pk = ANY(%b::bigint[])",
                       (list(pk_by_id.values()),))
        return None
    # Not RETURNING on SQLite: it would insert row by row to keep the order. The write lock
    # is held since the check (_lock_store), so the pks are those SQLite would give (after
    # the largest) and no concurrent request can have stored these ids meanwhile: no read
    # back of the new rows.
    if len(rows) == 1:  # one statement (a single POST): SQLite gives its key as it inserts
        try:
            pk = insert_row("xapi_statements", _STATEMENT_COLUMNS,
                            _statement_values(rows)[0]).lastrowid
        except IntegrityError as exc:
            raise Conflict("a statement with one of these ids was being stored at the same "
                           "time; send it again") from exc
        assert pk is not None  # SQLite gives the key of the row an INSERT added
        return {rows[0]["statement_id"]: pk}
    pks = _new_pks(len(rows))
    try:
        _insert_statements(rows, pks=pks)
    except IntegrityError as exc:  # belt and braces: the same id from outside the lock
        raise Conflict("a statement with one of these ids was being stored at the same time; "
                       "send it again") from exc
    return {row["statement_id"]: pk for row, pk in zip(rows, pks, strict=True)}


def _stored_index(pks: list[int]) -> Iterable[Any]:
    """The index rows (statement_pk, key_hash) of stored statements."""
    for chunk in chunks(pks):
        yield from db.session.execute(
            select(StatementIndex.statement_pk, StatementIndex.key_hash)
            .where(StatementIndex.statement_pk.in_(chunk)))


def _insert_index(organization_id: int, fresh: list[dict[str, Any]],
                  index_by_id: dict[str, set[int]], pk_by_id: dict[str, int],
                  refs: _References) -> None:
    """Insert the index rows of the new statements. Statements referring to another are found
    by their target's filters too (Communication 2.1.3), whichever arrived first.
    """
    inherited: dict[int, set[int]] = {}
    for row in _stored_index([r.pk for r in refs.targets.values()]):
        inherited.setdefault(row.statement_pk, set()).add(row.key_hash)
    for st in fresh:
        if st["object"].get("objectType") == "StatementRef":
            target = st["object"]["id"].lower()
            extra = index_by_id.get(target) if target in refs.fresh_ids else (
                inherited.get(refs.targets[target].pk, set()) if target in refs.targets
                else None)
            if extra:
                index_by_id[st["id"].lower()] |= extra
    rows_index: list[tuple[int, int, int]] = []
    for sid, keys in index_by_id.items():
        pk = pk_by_id[sid]
        rows_index.extend((organization_id, key, pk) for key in keys)
    # The new statements' rows cannot be stored yet (their pks are new, each statement's keys
    # a set): COPY on PostgreSQL, the cheapest way in for the server; a plain executemany on
    # SQLite (all values are plain ints: no SQLAlchemy parameter processing).
    copy_rows("xapi_statement_index", _INDEX_COLUMNS, rows_index)
    _insert_late_index(organization_id, index_by_id, refs)


def _insert_late_index(organization_id: int, index_by_id: dict[str, set[int]],
                       refs: _References) -> None:
    """Give the stored statements referring to a new one (they arrived before it) the new
    statement's index rows ``index_by_id``.
    """
    late: set[tuple[int, int]] = set()
    for sid, referring in refs.referrers.items():
        for ref in referring:
            late.update((ref.pk, key) for key in index_by_id[sid])
    if late:
        existing = {(row[0], row[1]) for row in _stored_index(sorted({pk for pk, _k in late}))}
        insert_rows("xapi_statement_index", _INDEX_COLUMNS,
                    [(organization_id, key, pk) for pk, key in late - existing],
                    "ON CONFLICT DO NOTHING", pg_types=_PG_TYPES)


def _void_targets(refs: _References) -> list[Any]:
    """Mark the stored statements the batch voids; return those newly voided."""
    newly_voided = [refs.targets[t] for t in refs.voided_now
                    if t in refs.targets and not refs.targets[t].voided]
    if newly_voided:
        db.session.execute(update(Statement).where(
            Statement.pk.in_([r.pk for r in newly_voided])).values(voided=True))
    return newly_voided


def _dispatch(organization_id: int, rows: list[dict[str, Any]], fresh: list[dict[str, Any]],
              newly_voided: list[Any]) -> None:
    """Pass the new statements that are not voided to the projection handlers, and the
    newly voided ones so they undo what they fed.
    """
    if not projections.has_handlers():
        return
    recorded = [st for row, st in zip(rows, fresh, strict=True) if not row["voided"]]
    voided = [loads(target_row.data) for target_row in newly_voided]
    with projections.batch(recorded + voided):
        for st in recorded:
            projections.dispatch(st, organization_id=organization_id)
        for st in voided:
            projections.dispatch(st, organization_id=organization_id, voided=True)
    # A target voided in its own batch was never passed to handlers: nothing to undo.


def record(statements: Iterable[dict[str, Any]], *, organization_id: int,
           authority: dict[str, Any] | None = None,
           attachments: dict[str, tuple[str, bytes]] | None = None,
           validated: bool = False, forwarding: bool | None = None) -> list[str]:
    """Validate, assign id/stored/authority, store (bulk insert), run projection handlers,
    queue for forwarding. Flushes; the caller commits. Returns the statement ids.

    All or nothing: one invalid or conflicting statement rejects the whole batch. A statement
    whose id is already stored with equivalent content is accepted and not stored twice.

    :param statements: statements as received (not modified).
    :param organization_id: the organization whose store receives them.
    :param authority: the agent vouching for them (the LRS credentials); Relais' own
        authority when None.
    :param attachments: attachment contents by SHA-2 (content type, bytes), if any.
    :param validated: the statements were built by Relais code whose output is known valid
        (its tests check it against the validator), not received: the per-statement schema
        check is skipped, everything else is done. Never for statements from outside.
    :param forwarding: whether the organization forwards to an external LRS, when the caller
        has read it in this transaction (the LRS, with the credentials); else read here.
    :raise BadRequest: an invalid statement, or the same id twice in the batch.
    :raise Conflict: an id already stored with different content.
    """
    received = list(statements)
    if not received:
        return []
    # A batch makes thousands of short-lived objects without cycles (statements, rows, the
    # projections' reads): the collections they would trigger each scan the whole heap of
    # the process (a third of a batch's CPU in bench/courses_progress.py). Bounded work:
    # collection resumes at the end of the call.
    with collector_paused():
        return _record(received, organization_id=organization_id, authority=authority,
                       attachments=attachments, validated=validated, forwarding=forwarding)


def _record(received: list[dict[str, Any]], *, organization_id: int,
            authority: dict[str, Any] | None,
            attachments: dict[str, tuple[str, bytes]] | None, validated: bool,
            forwarding: bool | None) -> list[str]:
    now = utcnow()
    # The column and the JSON must agree exactly, for since/until: keep milliseconds only.
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    prepared = _prepare(received, stored_text=format_timestamp(now),
                        authority=authority or system_authority(organization_id),
                        validated=validated)
    result_ids = [st["id"] for st in prepared]
    computed = _rows(organization_id, prepared, now)
    postgres = db.session.get_bind().dialect.name == "postgresql"
    # Read with the ids (one query): the activities of every statement, a superset of those
    # of the statements not stored yet that _update_activities keeps.
    activity_ids = list(dict.fromkeys(
        item["id"] for found in computed.values() for item in found.activities))
    # One statement that does not refer to another (a single POST, usually): on the monthly
    # partitions the claim inserts it with its index rows (see _claim_by_month). It cannot
    # be refused once claimed: only a statement voiding a voiding one is (_references).
    single = next(iter(computed.values())) if postgres and len(computed) == 1 and \
        partitions.partitioned() and prepared[0]["object"].get("objectType") != "StatementRef" \
        else None
    _lock_store()
    for _attempt in range(_ATTEMPTS):
        checked = _not_stored_yet(organization_id, prepared, received, activity_ids, now,
                                  single)
        if checked is None:
            continue
        fresh, referrers, known, claimed = checked
        if not fresh:
            return result_ids
        try:
            refs = _references(organization_id, fresh, referrers)
        except BadRequest:
            _unclaim(organization_id, claimed)
            raise
        rows, index_by_id, activities = _statement_rows(fresh, refs, computed)
        if single is not None:  # inserted by the claim, as not voided, without late rows
            assert claimed is not None
            pk_by_id = claimed
            if rows[0]["voided"]:  # a voiding statement stored before it (rare)
                driver_sql("UPDATE xapi_statements SET voided = true WHERE pk = ?",
                           (claimed[rows[0]["statement_id"]],))
            _insert_late_index(organization_id, index_by_id, refs)
            break
        # One new statement that neither refers to another nor is referred to (a single
        # POST, usually): on PostgreSQL its index rows go in with it, in one query.
        together = postgres and len(rows) == 1 and not refs.referrers and \
            rows[0]["object_type"] != "StatementRef"
        inserted = _insert_with_index(organization_id, rows[0],
                                      index_by_id[rows[0]["statement_id"]], claimed) \
            if together else _insert(organization_id, rows, claimed)
        if inserted is not None:
            pk_by_id = inserted
            break
        # A concurrent request stored some of these ids meanwhile (and committed): check
        # again, so identical statements are accepted and different ones get 409.
    else:
        raise Conflict("statements with these ids kept being stored by other requests at the "
                       "same time; send them again")
    if single is None and not together:
        _insert_index(organization_id, fresh, index_by_id, pk_by_id, refs)
    _update_activities(organization_id, activities, known)
    if attachments:
        store_attachments(organization_id, attachments)
    newly_voided = _void_targets(refs)
    _dispatch(organization_id, rows, fresh, newly_voided)

    # Imported here: forwarding reads the statement store, so it depends on this module.
    from lms.xapi.forwarding import enqueue

    enqueue(organization_id=organization_id, statement_pks=[
        pk_by_id[row["statement_id"]] for row in rows], enabled=forwarding)
    return result_ids


# -- statements Relais has just built, in bulk ----------------------------------------------------

class Built(NamedTuple):
    """A statement Relais code has just built, with what the store needs of it taken from the
    builder rather than parsed back from the JSON (see :func:`built`, :func:`record_built`).
    A named tuple: an import makes one per event, and a frozen dataclass's construction cost
    several times as much.
    """

    statement: dict[str, Any]
    timestamp: datetime  # the instant statement["timestamp"] was written from
    actor_key: str
    keys: frozenset[tuple[str, str]]  # its index rows (see index_rows), the authority's aside
    # ``timestamp`` as the driver takes it (lms.core.database.time_processor), when the
    # caller has converted it already (an import compares its events' times in that form).
    driver_timestamp: Any = None


def built(statement: dict[str, Any], *, timestamp: datetime) -> Built:
    """Wrap a statement built by Relais code for :func:`record_built`: its id is a UUID the
    caller has just generated (lower case), its actor an identified Agent, its object an
    Activity, its context activities lists and no instructor nor team; ``timestamp`` is the
    aware datetime its ``timestamp`` was written from (``isoformat()``).

    The index rows are those :func:`index_rows` gives such a statement (tests compare), read
    straight from the few places they can be.
    """
    actor, obj = statement["actor"], statement["object"]
    actor_key = _key(actor)
    assert actor_key is not None and actor.get("objectType", "Agent") == "Agent" and \
        obj.get("objectType", "Activity") == "Activity" and not {"instructor", "team"} & set(
            statement.get("context") or ()), \
        "record_built() takes statements of an Agent about an Activity"
    object_id = obj["id"]
    keys = {(VERB, statement["verb"]["id"]), (AGENT, actor_key), (ACTIVITY, object_id)}
    context = statement.get("context")
    if context:
        registration = context.get("registration")
        if registration:
            keys.add((REGISTRATION, registration.lower()))
        for items in (context.get("contextActivities") or {}).values():
            # The object's own id is found directly: not indexed again as related.
            keys.update((RELATED_ACTIVITY, item["id"]) for item in items
                        if item["id"] != object_id)
    return Built(statement, timestamp, actor_key, frozenset(keys))


def record_built(items: list[Built], *, organization_id: int) -> list[int]:
    """Store statements Relais has just built (see :func:`built`) as :func:`record` would
    store them with Relais' authority — the same JSON, columns and index rows — then run the
    projection handlers and queue them for forwarding. Flushes; the caller commits. Returns
    their primary keys.

    The fast path of large imports: the statements are not validated (their builder's tests
    check its output against the validator), their ids are new (nothing stored can have them
    or refer to them: the store is not read), none voids another; their columns and index
    rows come from the builder; rows go in with ``COPY`` on PostgreSQL. In two steps for a
    caller that makes one batch while the previous one is written: :class:`StatementKeys`,
    :func:`prepare_built` (no database) and :func:`store_prepared`.
    """
    if not items:
        return []
    pks = StatementKeys().take(len(items))
    store_prepared(prepare_built(items, organization_id=organization_id, pks=pks))
    return pks


@dataclass(slots=True)
class Prepared:
    """Built statements made into the store's rows (:func:`prepare_built`), to be written by
    :func:`store_prepared`.
    """

    organization_id: int
    pks: list[int]
    rows: list[tuple[Any, ...]] | Formatted  # of xapi_statements
    index: list[tuple[int, int, int]] | Formatted  # of xapi_statement_index
    activities: list[dict[str, Any]]  # the activities they name (for xapi_activities)
    statements: list[dict[str, Any]]  # as stored (for the projection handlers)
    ids: Formatted | None = None  # of xapi_statement_ids (partitioned store), when formatted


def _id_rows(organization_id: int, statements: list[dict[str, Any]], pks: list[int]
             ) -> list[tuple[int, str, int]]:
    """The rows of ``xapi_statement_ids`` (:data:`_ID_COLUMNS`) of new statements."""
    return [(organization_id, st["id"], pk) for st, pk in zip(statements, pks, strict=True)]


class StoreFormats:
    """The ``COPY`` formats of the statements' and index rows' tables (see
    :class:`lms.core.database.CopyFormat`), made while the connection is free, for
    :func:`prepare_built` to format a batch's rows as it makes them.
    """

    def __init__(self) -> None:
        self.statements = CopyFormat("xapi_statements", ("pk", *_STATEMENT_COLUMNS))
        self.index = CopyFormat("xapi_statement_index", _INDEX_COLUMNS)
        # Text: the ids' column is a UUID there, and the statements' ids are text.
        self.ids = CopyFormat("xapi_statement_ids", _ID_COLUMNS, binary=False) \
            if partitions.partitioned() else None


def prepare_built(items: list[Built], *, organization_id: int, pks: list[int],
                  formats: StoreFormats | None = None) -> Prepared:
    """The store's rows of statements Relais has just built (see :func:`record_built`),
    with these primary keys (from :class:`StatementKeys`): Python work only, the database
    is not used. With ``formats``, the rows are formatted for their ``COPY`` here.
    """
    now = utcnow()
    # As record(): the column and the JSON agree to the millisecond.
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    stored_text, authority = format_timestamp(now), system_authority(organization_id)
    authority_keys = _agent_keys(authority)[1]
    as_time = time_processor()
    stored = as_time(now)
    index: list[tuple[int, int, int]] = []
    activities: list[dict[str, Any]] = []
    statements: list[dict[str, Any]] = []
    rows: list[tuple[Any, ...]] = []
    # The authority is a related agent, unless the statement already has that key.
    authority_rows = [(RELATED_AGENT, key) for key in authority_keys]
    authority_conflicts = frozenset(authority_rows) | {(AGENT, key) for key in authority_keys}
    # The keys as the index stores them (see lms.xapi.index_keys): index_keys looks a
    # statement's keys up in one pass (an import names the same few keys again and again).
    authority_hashes = index_keys(authority_rows)
    add_index, add_row, add_activity = index.extend, rows.append, activities.append
    for pk, item in zip(pks, items, strict=True):
        st = item.statement
        # The keys record() adds, in its order (the JSON is the same text).
        st["stored"], st["authority"] = stored_text, authority
        st.setdefault("version", "1.0.0")
        statements.append(st)
        obj, context = st["object"], st.get("context") or {}
        add_activity(obj)
        if "contextActivities" in context:
            activities.extend(_context_activities(context))
        keys = item.keys
        if authority_conflicts.isdisjoint(keys):  # the usual case: no set made
            add_index([(organization_id, key, pk) for key in index_keys(keys)])
            add_index([(organization_id, key, pk) for key in authority_hashes])
        else:
            add_index([(organization_id, key, pk) for key in index_keys(keys | {
                (RELATED_AGENT, key) for key in authority_keys if (AGENT, key) not in keys})])
        add_row((pk, organization_id, st["id"], item.actor_key, st["verb"]["id"],
                 "Activity", obj["id"], None, None,
                 (context.get("registration") or "").lower() or None,
                 as_time(item.timestamp) if item.driver_timestamp is None
                 else item.driver_timestamp, stored, False, dumps(st)))
    if formats is not None and rows:
        ids = None if formats.ids is None else formats.ids.format(
            _id_rows(organization_id, statements, pks))
        return Prepared(organization_id, pks, formats.statements.format(rows),
                        formats.index.format(index), activities, statements, ids)
    return Prepared(organization_id, pks, rows, index, activities, statements)



def store_prepared(prepared: Prepared) -> None:
    """Write statements made into rows by :func:`prepare_built`, update their activities,
    run the projection handlers and queue them for forwarding (flushes).
    """
    if not prepared.pks:
        return
    organization_id = prepared.organization_id
    copy_rows("xapi_statements", ("pk", *_STATEMENT_COLUMNS), prepared.rows)
    copy_rows("xapi_statement_index", _INDEX_COLUMNS, prepared.index)
    if prepared.ids is not None:  # the ids are new (see prepare_built): nothing to conflict
        copy_rows("xapi_statement_ids", _ID_COLUMNS, prepared.ids)
    elif partitions.partitioned():
        copy_rows("xapi_statement_ids", _ID_COLUMNS,
                  _id_rows(organization_id, prepared.statements, prepared.pks))
    _update_activities(organization_id, prepared.activities)
    if projections.has_handlers():
        with projections.batch(prepared.statements):
            for st in projections.wanted(prepared.statements):
                projections.dispatch(st, organization_id=organization_id)

    from lms.xapi.forwarding import enqueue

    enqueue(organization_id=organization_id, statement_pks=prepared.pks)


class StatementKeys:
    """Primary keys for new statements, given before their rows are written (COPY returns
    none). PostgreSQL: from the column's sequence, as an INSERT would. SQLite: those it would
    give itself, after the largest: read once, under the write lock (taken here and held
    until the transaction ends), then counted on, so the keys of a batch not written yet
    are not given twice.
    """

    def __init__(self) -> None:
        self._next: int | None = None

    def take(self, count: int) -> list[int]:
        """``count`` new keys, in order."""
        if count <= 0:
            return []
        if db.session.get_bind().dialect.name == "postgresql":
            if partitions.partitioned():  # the key carries the month of stored (partitions)
                month = partitions.key_floor(partitions.month_code(utcnow()))
                return [month + n for n in next_ids("xapi_statements.pk", count)]
            return next_ids("xapi_statements.pk", count)
        if self._next is None:
            _lock_store()
            self._next = (driver_sql("SELECT max(pk) FROM xapi_statements").rows[0][0] or 0) + 1
        first = self._next
        self._next += count
        return list(range(first, first + count))


def _new_pks(count: int) -> list[int]:
    """Primary keys for ``count`` new statements, in order (see :class:`StatementKeys`)."""
    return StatementKeys().take(count)
