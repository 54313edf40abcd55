"""Module progress and enrolment completion as a projection of xAPI statements.

``on_statement`` is registered with :mod:`lms.xapi.projections` by ``lms.courses.init_app``.
For each (enrolment, module) a batch of statements touches, it re-reads that module's non-voided
statements for the enrolment and applies the completion rule, so a new statement, an external
package's ``completed`` and a voiding all take the same path and give the same answer.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm.util import identity_key

from lms.accounts.models import Membership, User
from lms.core.database import chunks, insert_rows, run_sql, text_list, time_processor
from lms.core.models import utcnow
from lms.core.registry import Registry
from lms.courses import statements as xs
from lms.courses.cohorts import completion
from lms.courses.cohorts.models import (
    ACTIVE,
    COMPLETED,
    NOT_STARTED,
    WITHDRAWN,
    Cohort,
    Enrollment,
    ModuleProgress,
)
from lms.courses.programs.models import Module
from lms.courses.sessions.models import TrainingSession
from lms.courses.signals import enrollment_completed
from lms.extensions import db
from lms.xapi import projections
from lms.xapi.agents import agent_key
from lms.xapi.index_keys import index_key
from lms.xapi.models import Statement
from lms.xapi.record import loads
from lms.xapi.validation import VOIDED

# Other activity ids that stand for a module (an uploaded xAPI package's root activity),
# registered at app creation: ``fn(activity_ids, module_ids, organization_id) ->
# {activity_id: module_id}`` gives the module of each of ``activity_ids`` that stands for one,
# and every activity id standing for one of ``module_ids`` or of the modules found (one query
# for a batch: which modules its statements are about, and what else names those modules).
ModuleAliases = Callable[[Iterable[str], Iterable[int], int], dict[str, int]]
_ALIASES: Registry[ModuleAliases] = Registry("module aliases")


def register_module_aliases(fn: ModuleAliases) -> None:
    """Let another package map its own activity ids to modules (idempotent)."""
    _ALIASES.add(fn)


def _lookup_aliases(activity_ids: Iterable[str], module_ids: Iterable[int],
                    organization_id: int) -> dict[str, int]:
    found: dict[str, int] = {}
    ids, modules = sorted(set(activity_ids)), sorted(set(module_ids))
    for fn in _ALIASES if ids or modules else ():
        found.update(fn(ids, modules, organization_id))
    return found


def _activity_ids(statement: dict[str, Any]) -> list[str]:
    ids = [statement["object"].get("id", "")]
    for items in ((statement.get("context") or {}).get("contextActivities") or {}).values():
        for item in items if isinstance(items, list) else [items]:
            ids.append(item.get("id", ""))
    return ids


def _named(statement: dict[str, Any], prefix: str) -> tuple[set[int], list[str]]:
    """(our modules a statement names — as object or context activity, directly or through
    one of their sessions —, the other activity ids it names).
    """
    ids = _activity_ids(statement)
    found: set[int] = set()
    others = []
    for i in ids:
        if not isinstance(i, str) or not i:
            continue
        if not i.startswith(prefix):
            others.append(i)
            continue
        kind, _, ident = i[len(prefix):].partition("/")
        if not ident.isdigit():
            continue
        if kind == "module":
            found.add(int(ident))
        elif kind == "session":
            session = db.session.get(TrainingSession, int(ident))
            if session is not None:
                found.add(session.module_id)
    return found, others


def on_statement(statement: dict[str, Any], *, organization_id: int, voided: bool) -> None:
    """Projection handler: note the statement. The (enrolment, module) pairs of a whole batch
    are refreshed together once every statement of it has been seen (see :func:`_project`);
    a statement dispatched alone is projected at once.
    """
    if xs.is_derived(statement):
        return
    memo = projections.batch_memo()
    if memo is None:
        _project([statement], organization_id, revisit={_sid(statement)} if voided else set())
        return
    key = ("courses.projected", organization_id)
    waiting: list[dict[str, Any]] | None = memo.get(key)
    revisit: set[str] = memo.setdefault(("courses.revisit", organization_id), set())
    if waiting is None:
        waiting = memo[key] = []
        projections.after_batch(lambda: _project(waiting, organization_id, memo, revisit))
    if voided:
        revisit.add(_sid(statement))
    waiting.append(statement)


def _sid(statement: dict[str, Any]) -> str:
    return str(statement.get("id", "")).lower()


# The derived statements a projection is collecting, to record them in one call at its end.
_DERIVED: ContextVar[list[dict[str, Any]] | None] = ContextVar("relais_courses_derived",
                                                                default=None)


def _project(statements: list[dict[str, Any]], organization_id: int,
             memo: dict[Any, Any] | None = None, revisit: set[str] | None = None) -> None:
    """Refresh every (enrolment, module) the statements are about: the modules they name
    (and the activities standing for them), the learners, their enrolments, their statements
    and progress rows are each read with one query for the whole batch (not one per
    statement), the progress rows written with one statement, and the completions this
    derives are recorded in one ``record()`` call. A refresh reads the store, which holds
    the whole batch already (and its voids): once per (enrolment, module) gives the same
    progress as once per statement. ``memo``: the batch's; ``revisit``: the ids of the
    statements just voided (their pairs are always re-derived).
    """
    if memo is None:
        # Dispatched alone: a memo of its own, so the modules are read once here too.
        memo = projections.batch_memo()
        memo = memo if memo is not None else {}
    prefix = xs.activity_prefix()
    named = [_named(st, prefix) for st in statements]
    direct = {m for own, _others in named for m in own}
    outside = {i for _own, others in named for i in others}
    # Most statements (advocacy, other content) name no module and no outside activity.
    if not direct and not (outside and _ALIASES):
        return
    aliases = _lookup_aliases(outside, direct, organization_id) if _ALIASES else {}
    items = []
    for st, (own, others) in zip(statements, named, strict=True):
        module_ids = own | {aliases[i] for i in others if i in aliases}
        if module_ids:
            items.append((st, module_ids))
    if not items:
        return
    # What the caller changed is read below with plain queries (no autoflush): flush it once.
    db.session.flush()
    shapes = _shapes({i for _st, ids in items for i in ids}, organization_id, memo)
    if not shapes:
        return
    wanted = _actor_users([st.get("actor") or {} for st, _ids in items])
    found = _enrollments_of({w for w in wanted if w is not None},
                            {s.program_id for s in shapes.values()}, organization_id)
    pairs: dict[tuple[str, int], tuple[_Enrolment, int]] = {}
    sources: dict[tuple[str, int], list[dict[str, Any]] | None] = {}
    for (st, module_ids), user in zip(items, wanted, strict=True):
        if user is None:
            continue
        registration = (st.get("context") or {}).get("registration")
        voided = revisit is not None and _sid(st) in revisit
        for module_id in sorted(module_ids):
            shape = shapes.get(module_id)
            if shape is None:
                continue
            for enrollment in found.get((user, shape.program_id), ()):
                if not registration or enrollment.id == str(registration).lower():
                    key = (enrollment.id, module_id)
                    pairs.setdefault(key, (enrollment, module_id))
                    led = sources.setdefault(key, [])
                    if voided or led is None:
                        sources[key] = None
                    else:
                        led.append(st)
    # The batch's own statements are known: not parsed back from the store.
    known = {_sid(st): st for st, _ids in items}
    _refresh_pairs(list(pairs.values()), organization_id, memo, known, aliases,
                   _Batch({_sid(st): st for st in statements}, sources))


@dataclasses.dataclass(frozen=True, slots=True)
class _Enrolment:
    """What the projection reads of an enrolment (a row, not an ORM object: a batch reads
    dozens; the ORM object is loaded only when its completion changes).
    """

    id: str
    membership_id: int
    user_id: int
    email: str
    program_id: int
    status: str


@dataclasses.dataclass(frozen=True, slots=True)
class _Batch:
    """What the projection knows of the batch it refreshes for: every statement it was given
    (by id), and the statements that led to each pair (None: one was just voided, the pair
    is re-derived).
    """

    statements: dict[str, dict[str, Any]]
    sources: dict[tuple[str, int], list[dict[str, Any]] | None]


@dataclasses.dataclass(frozen=True, slots=True)
class _Shape:
    """A module's program and what completes it."""

    program_id: int
    shape: completion.ModuleShape


def _refresh_pairs(pairs: list[tuple[_Enrolment, int]], organization_id: int,
                   memo: dict[Any, Any] | None, known: dict[str, dict[str, Any]],
                   aliases: dict[str, int], batch: _Batch | None = None) -> None:
    """Re-derive each (enrolment, module)'s progress, then the enrolments' completion; the
    completions derived are recorded together at the end (one ``record()`` call).
    ``batch``: the statements that led here (None: re-derive every pair).
    """
    token = _DERIVED.set([])
    try:
        # Its writes are flushed where they are read again: no flush before every read.
        with db.session.no_autoflush:
            _refresh_many(pairs, organization_id, memo, known, aliases, batch)
        derived = _DERIVED.get() or []
    finally:
        _DERIVED.reset(token)
    _record_now(derived, organization_id)


def _actor_users(actors: list[dict[str, Any]]) -> list[int | str | None]:
    """How each actor names a Relais user: our account (the user id), an e-mail address (in
    lower case), or None.
    """
    base = current_app.config["BASE_URL"]
    wanted: list[int | str | None] = []
    for actor in actors:
        account = actor.get("account") or {}
        mbox = actor.get("mbox")
        if account.get("homePage") == base and str(account.get("name", "")).isdigit():
            wanted.append(int(account["name"]))
        elif isinstance(mbox, str) and mbox.lower().startswith("mailto:"):
            wanted.append(mbox[7:].lower())
        else:
            wanted.append(None)
    return wanted


def _enrollments_of(users: set[int | str], program_ids: set[int], organization_id: int
                    ) -> dict[tuple[int | str, int], list[_Enrolment]]:
    """The organization's enrolments in these programs of the users named by id or e-mail
    address (see :func:`_actor_users`), by (the user's id and their address, program id):
    one query (driver SQL, arrays on PostgreSQL).
    """
    found: dict[tuple[int | str, int], list[_Enrolment]] = {}
    ids = sorted(u for u in users if isinstance(u, int))
    emails = sorted(u for u in users if isinstance(u, str))
    if not users or not program_ids:
        return found
    by_id, id_params = _in("u.id", ids) if ids else ("1 = 0", [])
    by_email, email_params = _in("u.email", emails) if emails else ("1 = 0", [])
    programs, program_params = _in("c.program_id", sorted(program_ids))
    for row in run_sql(
            "SELECT e.id, e.membership_id, m.user_id, u.email, c.program_id, e.status "
            "FROM enrollments e JOIN cohorts c ON c.id = e.cohort_id "
            "JOIN memberships m ON m.id = e.membership_id JOIN users u ON u.id = m.user_id "
            f"WHERE e.organization_id = ? AND {programs} AND ({by_id} OR {by_email})",
            (organization_id, *program_params, *id_params, *email_params)).all():
        enrollment = _Enrolment(*row)
        found.setdefault((enrollment.user_id, enrollment.program_id), []).append(enrollment)
        found.setdefault((enrollment.email, enrollment.program_id), []).append(enrollment)
    return found


_ENROLMENT_COLUMNS = (Enrollment.id, Enrollment.membership_id, Membership.user_id, User.email,
                      Cohort.program_id, Enrollment.status)


def _enrolment_rows(*conditions: Any) -> list[_Enrolment]:
    return [_Enrolment(*row) for row in db.session.execute(
        select(*_ENROLMENT_COLUMNS).select_from(Enrollment)
        .join(Cohort, Enrollment.cohort_id == Cohort.id)
        .join(Membership, Enrollment.membership_id == Membership.id)
        .join(User, Membership.user_id == User.id).where(*conditions))]


def _shapes(module_ids: set[int], organization_id: int,
            memo: dict[Any, Any] | None = None) -> dict[int, _Shape]:
    """The organization's modules among ``module_ids``, with what completes each: read with
    one query for all of them (their programs' modules, and the lessons, quizzes and
    sessions of those asked for), and once per batch (a sheet refreshes the same module for
    every learner). The required modules of their programs are kept too (see
    :func:`_required`).
    """
    memo = memo if memo is not None else projections.batch_memo()
    cache: dict[int, _Shape | None] = memo.setdefault("courses.shapes", {}) \
        if memo is not None else {}
    required: dict[int, set[int]] = memo.setdefault("courses.required", {}) \
        if memo is not None else {}
    missing = sorted(i for i in module_ids if i not in cache)
    if missing:
        parts: dict[tuple[str, int], list[tuple[int, int | None]]] = {}
        modules = []
        asked, asked_params = _in("id", missing)
        for tag, module_id, a, b, text in run_sql(
                # Driver SQL, one round trip: the modules of the programs of those asked
                # for (their kind, rule and whether they are required), then the parts
                # of those asked for, in order.
                "SELECT 'm', pm.id, pm.program_id, CASE WHEN pm.required THEN 1 ELSE 0 END, "
                "pm.kind || ' ' || CAST(pm.completion AS TEXT) FROM program_modules pm "
                "JOIN programs p ON p.id = pm.program_id WHERE p.organization_id = ? AND "
                f"pm.program_id IN (SELECT program_id FROM program_modules WHERE {asked}) "
                "UNION ALL SELECT 'l', module_id, id, position, NULL FROM lessons "
                f"WHERE {_in('module_id', missing)[0]} "
                "UNION ALL SELECT 'q', module_id, id, position, CAST(pass_mark AS TEXT) "
                f"FROM quizzes WHERE {_in('module_id', missing)[0]} "
                "UNION ALL SELECT 's', module_id, id, 0, NULL FROM training_sessions "
                f"WHERE {_in('module_id', missing)[0]} ORDER BY 1, 2, 4",
                (organization_id, *asked_params, *asked_params, *asked_params,
                 *asked_params)).all():
            if tag == "m":
                modules.append((module_id, a, text))
                if b:
                    required.setdefault(a, set()).add(module_id)
                else:
                    required.setdefault(a, set())
            else:
                parts.setdefault((tag, module_id), []).append(
                    (a, int(text) if text is not None else None))
        for i in missing:
            cache[i] = None
        wanted = set(missing)
        for module_id, program_id, text in modules:
            if module_id not in wanted:
                continue
            kind, _, rule = text.partition(" ")
            cache[module_id] = _Shape(program_id, completion.ModuleShape(
                kind=kind, rule=json.loads(rule), module_iri=xs.iri("module", module_id),
                lesson_iris=tuple(xs.iri("lesson", i)
                                  for i, _m in parts.get(("l", module_id), ())),
                quiz_pass_marks={xs.iri("quiz", i): mark or 0
                                 for i, mark in parts.get(("q", module_id), ())},
                session_iris=frozenset(xs.iri("session", i)
                                       for i, _m in parts.get(("s", module_id), ()))))
    return {i: shape for i in module_ids if (shape := cache.get(i)) is not None}


def _required(program_ids: set[int], memo: dict[Any, Any] | None) -> dict[int, set[int]] | None:
    """The required modules of each program, as :func:`_shapes` read them for this batch, or
    None when it did not read them all.
    """
    required = (memo if memo is not None else {}).get("courses.required")
    if required is None or not program_ids <= required.keys():
        return None
    return {p: required[p] for p in program_ids}


def _module_activities(module_ids: list[int], aliases: dict[str, int]) -> dict[int, set[str]]:
    """The activity ids that stand for each module: its IRI and the ids other packages map
    to it (an uploaded package's root activity, see :func:`_lookup_aliases`).
    """
    found = {i: {xs.iri("module", i)} for i in module_ids}
    for activity_id, module_id in aliases.items():
        if module_id in found:
            found[module_id].add(activity_id)
    return found


def _about(statement: dict[str, Any], module_iris: set[str]) -> bool:
    """Whether a statement names the module as its object or a context activity."""
    return any(i in module_iris for i in _activity_ids(statement))


class _LearnerStatements:
    """The non-voided statements of some enrolments' learners about some modules, read from
    the store (see :func:`_learner_statements`): their columns, their activity index rows
    among the modules', and their JSON text (or, for the batch's own, the statement).
    """

    def __init__(self, by_enrollment: dict[str, list[int]], names: dict[int, set[str]],
                 columns: dict[int, tuple[str, str, str | None]],
                 data: dict[int, str | dict[str, Any]]) -> None:
        self._by_enrollment = by_enrollment
        self._names = names
        self._columns = columns  # verb, object type, object activity id
        self._data = data

    def newest(self, enrollment_id: str) -> int:
        """The key of the enrolment's newest statement read (0: none)."""
        return max(self._by_enrollment.get(enrollment_id, ()), default=0)

    def facts(self, enrollment_id: str, module_iri: str, iris: set[str]) -> list[completion.Fact]:
        """What the enrolment's statements naming the module (or an activity standing for
        it, a package's root activity: ``iris``) say about it, reduced to facts; those Relais
        derived do not count.
        """
        derived = xs.derived_extension()
        found = []
        for pk in self._by_enrollment.get(enrollment_id, ()):
            if not self._names[pk] & iris:
                continue
            data = self._data[pk]
            verb, object_type, object_id = self._columns[pk]
            if isinstance(data, str) and object_type == "Activity" and \
                    '"result"' not in data and derived not in data:
                # No result and not derived (neither text is in its JSON): the columns say
                # all the completion rules read; the JSON is not parsed.
                fact = completion.Fact(verb, object_id or "")
            else:
                st = data if isinstance(data, dict) else loads(data)
                # The index's activity rows of a statement about an Activity are exactly its
                # object and context activities; those of another (a sub-statement's, a
                # referred statement's) are checked against the statement itself.
                if object_type != "Activity" and not _about(st, iris) or \
                        ((st.get("context") or {}).get("extensions") or {}).get(derived):
                    continue
                fact = completion.fact_from_statement(st)
            if fact.object_id in iris and fact.object_id != module_iri:
                fact = dataclasses.replace(fact, object_id=module_iri)
            found.append(fact)
        return found


def _learner_statements(enrollments: list[_Enrolment], organization_id: int,
                        wanted_by_enrollment: dict[str, set[str]],
                        known: dict[str, dict[str, Any]]) -> _LearnerStatements:
    """The non-voided statements of each enrolment's learner that name one of
    ``activity_ids`` (as object or context activity).

    Read from the learner's side of the filter index — the enrolment as registration, or the
    learner as actor for statements without one (external content that does not know the
    enrolment) —, their columns only; then which of them name the modules refreshed (the
    index's activity rows, each a lookup on its whole key); only those are read whole (and
    parsed only when their columns do not say enough): four queries for all the enrolments,
    whatever their number. ``known``: the statements of the batch by id, neither read nor
    parsed back.
    """
    keys: dict[str, set[str]] = {}  # agent key → enrolment ids
    for e in enrollments:
        for key in _agent_keys(e):
            keys.setdefault(key, set()).add(e.id)
    if db.session.get_bind().dialect.name == "postgresql":
        return _learner_statements_pg(keys, organization_id, wanted_by_enrollment, known)
    wanted = sorted(set().union(*wanted_by_enrollment.values()))
    # SQLite (a round trip costs little): driver SQL, since these run for every batch with
    # hundreds of values, which SQLAlchemy would render into the statement again at each
    # execution. First the learners' statements (their columns, not their JSON), then which
    # of them name the modules.
    found: dict[str, set[int]] = {}
    columns: dict[int, tuple[str, str, str | None]] = {}
    data: dict[int, str | dict[str, Any]] = {}
    enrollment_ids = [e.id for e in enrollments]
    agents = sorted(keys)
    for kind, values, owners in (("r", enrollment_ids, None), ("a", agents, keys)):
        for part in chunks(values):
            learner = "AND s.registration IS NULL " if kind == "a" else ""
            # The index's keys are hashes (lms.xapi.index_keys): each read back as its key.
            by_hash = {index_key(kind, value): value for value in part}
            keyed, keyed_params = _in("i.key_hash", list(by_hash))
            rows = run_sql(
                "SELECT s.pk, s.statement_id, i.key_hash, s.verb_id, s.object_type, "
                "s.object_activity_id FROM xapi_statement_index i "
                "JOIN xapi_statements s ON s.pk = i.statement_pk "
                f"WHERE i.organization_id = ? AND {keyed} "
                f"AND NOT s.voided AND s.verb_id <> ? {learner}",
                (organization_id, *keyed_params, VOIDED)).all()
            for pk, sid, key_hash, verb, object_type, object_id in rows:
                key = by_hash[key_hash]
                columns[pk] = (verb, object_type, object_id)
                for enrollment_id in (owners[key] if owners is not None else (key,)):
                    found.setdefault(enrollment_id, set()).add(pk)
                if pk not in data:
                    st = known.get(sid)
                    data[pk] = st if st is not None else ""
    names: dict[int, set[str]] = {pk: set() for pk in data}
    # Each activity as object and as other activity, by hash.
    activity_of = {index_key(kind, key): key for key in wanted for kind in ("o", "O")}
    about, about_params = _in("key_hash", list(activity_of))
    for part in chunks(sorted(data)):
        pk_in, pk_params = _in("statement_pk", part)
        for pk, key_hash in run_sql(
                "SELECT statement_pk, key_hash FROM xapi_statement_index "
                f"WHERE organization_id = ? AND {about} AND {pk_in}",
                (organization_id, *about_params, *pk_params)).all():
            names[pk].add(activity_of[key_hash])
    # Only the statements naming one of the modules are read (a superset of those about them:
    # a statement referring to another has its target's rows too, see
    # _LearnerStatements.facts).
    missing = [pk for pk, text in data.items() if text == "" and names[pk]]
    for part in chunks(sorted(missing)):
        pk_in, pk_params = _in("pk", part)
        for pk, text in run_sql(f"SELECT pk, data FROM xapi_statements WHERE {pk_in}",
                                tuple(pk_params)).all():
            data[pk] = text
    return _LearnerStatements({e: sorted(found_pks) for e, found_pks in found.items()},
                              names, columns, data)


# One query on PostgreSQL for every enrolment of a batch: the learner's statements (by the
# enrolment as registration, or the learner as actor for statements without one: the index's
# whole key for each, through LATERAL, which a planner without statistics cannot turn into a
# scan of the organization's rows), with the activities each names among those of its
# enrolment's modules — an Activity's object from its column, the others from the index
# (one lookup on its whole key per statement and activity id) — and the JSON of those that
# name one, unless the batch holds it or its columns say all the rules read (see
# _LearnerStatements.facts: '' then). A context activity of a statement about an Activity
# is in its JSON, which the store writes with orjson: an id it writes as it is (printable
# ASCII without a quote or a backslash) is looked up in the index only when its quoted text
# is there (most of a learner's statements are about other modules: no lookup). OFFSET 0 in
# each EXISTS: a subquery with one is not turned into a hashed semi-join, which a planner
# seeing empty tables (statistics from before the statements came) prefers, and which reads
# every such index row of the organization.
_LEARNER_STATEMENTS_PG = (
    "WITH k AS (SELECT * FROM unnest(string_to_array(%(kinds)s, E'\\x1f'), "
    "string_to_array(%(keys)s, E'\\x1f'), string_to_array(%(probes)s, E'\\x1f'), "
    "CAST(string_to_array(%(hashes)s, E'\\x1f') AS bigint[])) "
    "AS k(kind, key, probes, key_hash)), "
    # By the enrolment as registration: the index's rows only, kept for the next part.
    "registered AS MATERIALIZED (SELECT k.key, k.probes, i.statement_pk AS pk FROM k "
    "CROSS JOIN LATERAL (SELECT i.statement_pk FROM xapi_statement_index i "
    "WHERE i.organization_id = %(org)s AND i.key_hash = k.key_hash OFFSET 0) AS i "
    "WHERE k.kind = 'r'), "
    # By the learner as actor: those found above have a registration, and are left out
    # before their row is read (most of a learner's statements are).
    "found AS (SELECT key, probes, pk, false AS alone FROM registered UNION ALL "
    "SELECT k.key, k.probes, i.statement_pk, true FROM k CROSS JOIN LATERAL "
    "(SELECT i.statement_pk FROM xapi_statement_index i WHERE i.organization_id = %(org)s "
    "AND i.key_hash = k.key_hash AND i.statement_pk NOT IN (SELECT pk FROM registered) "
    "OFFSET 0) AS i WHERE k.kind = 'a') "
    # Only the statements naming one of the activities come back, and each key's newest (the
    # row's ``seen``, see _LearnerStatements.newest): most of a learner's are about other
    # modules.
    "SELECT pk, statement_id, key, verb_id, object_type, object_activity_id, names, data "
    "FROM (SELECT s.pk, s.statement_id, s.key, s.verb_id, s.object_type, s.object_activity_id, "
    "max(s.pk) OVER (PARTITION BY s.key) AS newest, "
    # The batch's ids as a set built once (with ``<> ALL``, a prepared statement's generic
    # plan split the list again for every row).
    "nm.names, CASE WHEN nm.names IS NOT NULL AND s.statement_id NOT IN "
    "(SELECT unnest(string_to_array(%(known)s, E'\\x1f'))) "
    "THEN CASE WHEN s.object_type <> 'Activity' OR strpos(s.data, '\"result\"') > 0 "
    "OR strpos(s.data, %(derived)s) > 0 THEN s.data ELSE '' END END AS data "
    # Each statement's row read once, after the index (through LATERAL too: as a join, the
    # planner puts a cache in front of it that copies every row and never hits).
    "FROM found AS f CROSS JOIN LATERAL (SELECT s.pk, s.statement_id, f.key, f.probes, "
    "s.verb_id, s.object_type, s.object_activity_id, s.data FROM xapi_statements s "
    "WHERE s.pk = f.pk AND NOT s.voided AND s.verb_id <> %(voided)s "
    "AND (NOT f.alone OR s.registration IS NULL) OFFSET 0) AS s "
    "CROSS JOIN LATERAL (SELECT array_agg(w.key) AS names "
    "FROM (SELECT substr(p, 42) AS key, left(p, 1) AS plain, "
    "CAST(substr(p, 2, 20) AS bigint) AS other, CAST(substr(p, 22, 20) AS bigint) AS direct "
    "FROM unnest(string_to_array(s.probes, E'\\n')) AS p) AS w "
    "WHERE (s.object_type = 'Activity' AND s.object_activity_id = w.key) "
    "OR ((s.object_type <> 'Activity' OR w.plain = '0' "
    "OR strpos(s.data, '\"' || w.key || '\"') > 0) "
    "AND EXISTS (SELECT 1 FROM xapi_statement_index n WHERE n.organization_id = %(org)s "
    "AND n.key_hash = w.other AND n.statement_pk = s.pk OFFSET 0)) "
    "OR (s.object_type <> 'Activity' AND EXISTS (SELECT 1 FROM xapi_statement_index n "
    "WHERE n.organization_id = %(org)s AND n.key_hash = w.direct "
    "AND n.statement_pk = s.pk OFFSET 0))) AS nm) AS r WHERE names IS NOT NULL OR pk = newest")


# Activity ids JSON writers (orjson, json.dumps) write as they are: printable ASCII without a
# quote or a backslash.
_PLAIN = re.compile(r'[\x21\x23-\x5b\x5d-\x7e]+')


@functools.lru_cache(maxsize=4096)
def _flagged(activity_id: str) -> str:
    # Then its index keys (lms.xapi.index_keys) as other and as direct activity, 20 characters
    # each (a signed 64-bit integer's longest), then the id.
    return ("1" if _PLAIN.fullmatch(activity_id) else "0") + \
        f"{index_key('O', activity_id):>20}{index_key('o', activity_id):>20}" + activity_id


def _learner_statements_pg(keys: dict[str, set[str]], organization_id: int,
                           wanted_by_enrollment: dict[str, set[str]],
                           known: dict[str, dict[str, Any]]) -> _LearnerStatements:
    """:func:`_learner_statements` on PostgreSQL: one round trip (see
    ``_LEARNER_STATEMENTS_PG``). Each key is probed only for the activities of its own
    enrolments' modules.
    """
    def joined(wanted: Iterable[str]) -> str:
        # Each activity id flagged "1" when the JSON text may be searched for it.
        return "\n".join(_flagged(i) for i in sorted(wanted))

    kinds, values, probes = [], [], []
    owners: dict[str, set[str]] = {}
    for enrollment_id, wanted in wanted_by_enrollment.items():
        kinds.append("r")
        values.append(enrollment_id)
        probes.append(joined(wanted))
        owners[enrollment_id] = {enrollment_id}
    for key, enrollment_ids in sorted(keys.items()):
        kinds.append("a")
        values.append(key)
        probes.append(joined(set().union(
            *(wanted_by_enrollment.get(e, ()) for e in enrollment_ids))))
        owners[key] = enrollment_ids
    # The three lists go as texts (see text_list): a row holding the separator (which no key
    # nor IRI holds) is left out whole, so that they stay aligned.
    rows = [row for row in zip(kinds, values, probes, strict=True)
            if "\x1f" not in row[1] and "\x1f" not in row[2]]
    kinds, values, probes = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    found: dict[str, set[int]] = {}
    columns: dict[int, tuple[str, str, str | None]] = {}
    names: dict[int, set[str]] = {}
    data: dict[int, str | dict[str, Any]] = {}
    connection = db.session.connection()
    for pk, sid, key, verb, object_type, object_id, named, text in connection.exec_driver_sql(
            _LEARNER_STATEMENTS_PG, {
                "kinds": text_list(kinds), "keys": text_list(values),
                "hashes": text_list([str(index_key(kind, value))
                                     for kind, value in zip(kinds, values, strict=True)]),
                "probes": text_list(probes), "org": organization_id, "voided": VOIDED,
                "known": text_list(known), "derived": xs.derived_extension()}).all():
        columns[pk] = (verb, object_type, object_id)
        for enrollment_id in owners[key]:
            found.setdefault(enrollment_id, set()).add(pk)
        names.setdefault(pk, set()).update(named or ())
        if named and not data.get(pk):
            st = known.get(sid)
            data[pk] = st if st is not None else text or ""
        else:
            data.setdefault(pk, "")
    return _LearnerStatements({e: sorted(found_pks) for e, found_pks in found.items()},
                              names, columns, data)


def _in(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    """``column`` among ``values``, for :func:`run_sql`: an array on PostgreSQL (one
    parameter), a list of parameters on SQLite.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        if values and all(isinstance(v, str) for v in values):
            # One text (see lms.core.database.text_list), not an array: psycopg spends
            # about 5 µs on each element of a text array.
            return f"{column} = ANY(string_to_array(?, E'\\x1f'))", [text_list(values)]
        return f"{column} = ANY(?)", [list(values)]
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def refresh(enrollment: Enrollment, module: Module) -> ModuleProgress:
    """Re-derive one module's progress for one enrolment, then the enrolment's completion."""
    db.session.flush()
    organization_id = enrollment.organization_id
    _refresh_pairs([(_enrolment_rows(Enrollment.id == enrollment.id)[0], module.id)],
                   organization_id, {}, {}, _lookup_aliases((), [module.id], organization_id))
    found = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == enrollment.id, ModuleProgress.module_id == module.id))
    assert found is not None
    return found


_PROGRESS_COLUMNS = ("enrollment_id", "module_id", "state", "score", "percent", "updated_at",
                     "basis", "seen")
# The rows of a batch, new or not; ``seen`` is kept only when the row is still the one read
# before (``coalesce(seen, -1)`` then, the last value of each written row): a concurrent
# request that wrote it in between derived it from statements this one may not have seen, and
# the next statement then re-derives it (see _unchanged).
_UPSERT = ("ON CONFLICT (enrollment_id, module_id) DO UPDATE SET state = excluded.state, "
           "score = excluded.score, percent = excluded.percent, "
           "updated_at = excluded.updated_at, basis = excluded.basis, "
           "seen = CASE WHEN coalesce(module_progress.seen, -1) = {was} "
           "THEN excluded.seen END")
# On PostgreSQL the columns go as arrays, the texts (ids, states, bases) each as one text (see
# text_list), and the ``seen`` each row was read with is found by key in an object built once
# (searched for in w, it cost a scan of the batch's rows per row).
_TEXT_COLUMNS = (0, 2, 6)
_UPSERT_PG = (
    "WITH w AS (SELECT * FROM unnest(string_to_array(%s, E'\\x1f'), %b::int[], "
    "string_to_array(%s, E'\\x1f'), %b::float8[], %b::int[], %b::timestamptz[], "
    "string_to_array(%s, E'\\x1f'), %b::bigint[], %b::bigint[]) "
    f"AS w({', '.join(_PROGRESS_COLUMNS)}, was)), "
    "read AS MATERIALIZED (SELECT jsonb_object_agg(enrollment_id || ' ' || module_id, was) "
    "AS seen FROM w) "
    f"INSERT INTO module_progress ({', '.join(_PROGRESS_COLUMNS)}) "
    f"SELECT {', '.join(_PROGRESS_COLUMNS)} FROM w "
    + _UPSERT.format(was="CAST((SELECT seen FROM read) ->> "
                         "(excluded.enrollment_id || ' ' || excluded.module_id) AS bigint)"))


def _refresh_many(pairs: list[tuple[_Enrolment, int]], organization_id: int,
                  memo: dict[Any, Any] | None, known: dict[str, dict[str, Any]],
                  aliases: dict[str, int], batch: _Batch | None = None) -> None:
    """Re-derive the progress of each (enrolment, module), then the enrolments' completion:
    one read of their progress rows, one of their statements about these modules (those
    whose rows the batch cannot change, see :func:`_unchanged`, left out), one statement
    writing the rows (new or not).
    """
    if not pairs:
        return
    enrollments = list({e.id: e for e, _m in pairs}.values())
    module_ids = sorted({m for _e, m in pairs})
    shapes = _shapes(set(module_ids), organization_id, memo)
    # Activities standing for a module (a package's root activity) count as the module.
    iris = _module_activities(module_ids, aliases)
    bases = {m: _basis(shapes[m].shape, iris[m]) for m in module_ids}
    # Every progress row of the enrolments (a program's modules: a few each), for the rows
    # refreshed and the modules each enrolment has completed (its completion, below).
    existing: dict[tuple[str, int], _Row] = {}
    done: dict[str, set[int]] = {}
    for row in _progress_rows([e.id for e in enrollments]):
        existing[(row[1], row[2])] = _Row(*row)
        if row[3] == COMPLETED:
            done.setdefault(row[1], set()).add(row[2])
    kept = _unchanged(pairs, existing, bases, shapes, iris, batch, organization_id) \
        if batch is not None else {}
    wanted: dict[str, set[str]] = {}
    for enrollment, module_id in pairs:
        if (enrollment.id, module_id) not in kept:
            wanted.setdefault(enrollment.id, set()).update(iris[module_id])
    statements = _learner_statements([e for e in enrollments if e.id in wanted],
                                     organization_id, wanted, known) \
        if wanted else _LearnerStatements({}, {}, {}, {})
    now = time_processor()(utcnow())
    writes: list[tuple[Any, ...]] = []
    completed, taken_back = [], []
    for enrollment, module_id in pairs:
        row = existing.get((enrollment.id, module_id))
        was = row.seen if row is not None and row.seen is not None else -1
        seen = kept.get((enrollment.id, module_id))
        if seen is not None:
            # Nothing the batch brings changes the row (see _unchanged): it stays as it is.
            assert row is not None
            writes.append((enrollment.id, module_id, row.state, row.score, row.percent, now,
                           row.basis, seen, was))
            continue
        shape = shapes[module_id].shape
        outcome = completion.evaluate(shape, statements.facts(
            enrollment.id, shape.module_iri, iris[module_id]))
        was_completed = row is not None and row.state == COMPLETED
        if outcome.state == COMPLETED:
            done.setdefault(enrollment.id, set()).add(module_id)
        else:
            done.get(enrollment.id, set()).discard(module_id)
        writes.append((enrollment.id, module_id, outcome.state, outcome.score, outcome.percent,
                       now, bases[module_id], statements.newest(enrollment.id), was))
        if outcome.state == COMPLETED and not was_completed:
            completed.append((enrollment, module_id))
        elif was_completed and outcome.state != COMPLETED:
            taken_back.append((enrollment, module_id))
    # One statement for the batch's rows, new or not, in key order (concurrent requests lock
    # the rows in the same order).
    writes.sort(key=lambda w: (w[0], w[1]))
    _write_progress(writes)
    # Only the rows written changed (the others of the enrolments were only read).
    _forget([row.id for e, m in pairs if (row := existing.get((e.id, m))) is not None],
            [e.id for e in enrollments])
    for enrollment, module_id in completed:
        orm_enrollment = db.session.get(Enrollment, enrollment.id)
        module = db.session.get(Module, module_id)
        assert orm_enrollment is not None and module is not None
        _record([xs.module_completed(orm_enrollment, module)], organization_id)
    for enrollment, module_id in taken_back:
        _void_derived(enrollment.id, organization_id, xs.iri("module", module_id))
    _refresh_enrollments(enrollments, done, _required({e.program_id for e in enrollments}, memo))


_PROGRESS_READ = "SELECT id, enrollment_id, module_id, state, score, percent, basis, seen"
# On PostgreSQL one lookup of the (enrolment, module) index per enrolment, through LATERAL:
# with ``= ANY`` a planner whose statistics are from before the rows came (a new
# organization, a table autovacuum has not analysed yet) scans the whole table and compares
# each row with every enrolment of the batch.
_PROGRESS_READ_PG = (
    "SELECT p.* FROM unnest(string_to_array(%s, E'\\x1f')) AS k(id) CROSS JOIN LATERAL "
    f"({_PROGRESS_READ} FROM module_progress WHERE enrollment_id = k.id OFFSET 0) AS p")


def _progress_rows(enrollment_ids: list[str]) -> Sequence[Any]:
    """Every progress row of the enrolments (one query)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return connection.exec_driver_sql(_PROGRESS_READ_PG, (text_list(enrollment_ids),)).all()
    enrolled, params = _in("enrollment_id", enrollment_ids)
    return run_sql(f"{_PROGRESS_READ} FROM module_progress WHERE {enrolled}",
                   tuple(params)).all()


class _Row(NamedTuple):
    """A progress row as :func:`_refresh_many` reads it."""

    id: int
    enrollment_id: str
    module_id: int
    state: str
    score: float | None
    percent: int
    basis: str | None
    seen: int | None


def _basis(shape: completion.ModuleShape, iris: set[str]) -> str:
    """A digest of what a module's progress is derived with: its rule, lessons, quizzes,
    sessions and the activities standing for it (a row derived with another is re-derived).
    """
    text = json.dumps([shape.kind, shape.rule, shape.module_iri, shape.lesson_iris,
                       sorted((shape.quiz_pass_marks or {}).items()), sorted(shape.session_iris),
                       sorted(iris)], sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _unchanged(pairs: list[tuple[_Enrolment, int]], existing: dict[tuple[str, int], _Row],
               bases: dict[int, str], shapes: dict[int, _Shape], iris: dict[int, set[str]],
               batch: _Batch, organization_id: int) -> dict[tuple[str, int], int]:
    """The pairs whose row the batch cannot change, with the newest statement of the learner
    the row now accounts for: a row derived with the module's present shape (``basis``), not
    ``not_started`` (it has facts), none of the statements of the learner that came since
    the one it was derived with (``seen``: by the enrolment as registration, or the learner
    as actor without one — what re-deriving reads) other than the batch's own, none of which
    names the module but with a fact that changes nothing (:func:`completion.changes_nothing`:
    a package's slides, for one), none just voided. Re-deriving would give the row as it is,
    without reading the learner's statements: one lookup of the index's newest rows per key.
    """
    candidates: dict[tuple[str, int], tuple[_Enrolment, int]] = {}
    for enrollment, module_id in pairs:
        row = existing.get((enrollment.id, module_id))
        led = batch.sources.get((enrollment.id, module_id))
        if row is None or row.seen is None or row.state == NOT_STARTED or \
                row.basis != bases[module_id] or led is None:
            continue
        # First what the batch's own statements say (a lesson viewed: re-derive, no lookup).
        shape = shapes[module_id].shape
        if all(completion.changes_nothing(shape, _fact(st, shape, iris[module_id]))
               for st in led):
            candidates[(enrollment.id, module_id)] = (enrollment, row.seen)
    if not candidates:
        return {}
    floors: dict[str, int] = {}
    owners: dict[str, set[str]] = {}
    for enrollment, floor in candidates.values():
        floors[enrollment.id] = min(floors.get(enrollment.id, floor), floor)
    for enrollment, _floor in candidates.values():
        for key in _agent_keys(enrollment):
            owners.setdefault(key, set()).add(enrollment.id)
    newer: dict[str, list[tuple[int, str]]] = {}
    for kind, key, pk, sid in _newer_statements(floors, owners, organization_id):
        for enrollment_id in (owners[key] if kind == "a" else (key,)):
            newer.setdefault(enrollment_id, []).append((pk, sid))
    kept: dict[tuple[str, int], int] = {}
    for (enrollment_id, module_id), (_enrollment, floor) in candidates.items():
        seen = floor
        shape = shapes[module_id].shape
        for pk, sid in newer.get(enrollment_id, ()):
            if pk <= floor:
                continue
            st = batch.statements.get(sid)
            if st is None or _about(st, iris[module_id]) and \
                    not completion.changes_nothing(shape, _fact(st, shape, iris[module_id])):
                break
            seen = max(seen, pk)
        else:
            kept[(enrollment_id, module_id)] = seen
    return kept


def _fact(statement: dict[str, Any], shape: completion.ModuleShape,
          iris: set[str]) -> completion.Fact:
    """A statement's fact about a module, as :meth:`_LearnerStatements.facts` gives it."""
    fact = completion.fact_from_statement(statement)
    if fact.object_id in iris and fact.object_id != shape.module_iri:
        fact = dataclasses.replace(fact, object_id=shape.module_iri)
    return fact


def _agent_keys(enrollment: _Enrolment) -> tuple[str, str]:
    """The learner as Relais names them (see agent_for_user), and by e-mail address (external
    content often does).
    """
    return _keys_of(current_app.config["BASE_URL"], enrollment.user_id, enrollment.email)


@functools.lru_cache(maxsize=4096)
def _keys_of(base_url: str, user_id: int, email: str) -> tuple[str, str]:
    # Every batch asks again for the same learners, and each key is validated (ifi_of).
    return (agent_key({"account": {"homePage": base_url, "name": str(user_id)}}),
            agent_key({"mbox": f"mailto:{email}"}))


# The statements stored after a given one (its key) of each enrolment as registration ('r') or
# learner as actor without one ('a'): each a range of the index's whole key, through LATERAL
# (see _LEARNER_STATEMENTS_PG).
_NEWER_PG = (
    "SELECT k.kind, k.key, s.pk, s.statement_id FROM unnest("
    "string_to_array(%(kinds)s, E'\\x1f'), string_to_array(%(keys)s, E'\\x1f'), "
    "CAST(string_to_array(%(floors)s, E'\\x1f') AS bigint[]), "
    "CAST(string_to_array(%(hashes)s, E'\\x1f') AS bigint[])) AS k(kind, key, floor, key_hash) "
    "CROSS JOIN LATERAL (SELECT s.pk, s.statement_id, s.registration "
    "FROM xapi_statement_index i JOIN xapi_statements s ON s.pk = i.statement_pk "
    "WHERE i.organization_id = %(org)s AND i.key_hash = k.key_hash "
    "AND i.statement_pk > k.floor OFFSET 0) AS s "
    "WHERE k.kind = 'r' OR s.registration IS NULL")


def _newer_statements(floors: dict[str, int], owners: dict[str, set[str]],
                      organization_id: int) -> list[tuple[str, str, int, str]]:
    """(kind, key, statement key, statement id) of the statements stored after ``floors``
    (by enrolment id) of each enrolment as registration, and of each learner (``owners``:
    agent key → enrolment ids) as actor without a registration.
    """
    keyed = [("r", e, floor) for e, floor in sorted(floors.items())] + [
        ("a", key, min(floors[e] for e in enrollment_ids))
        for key, enrollment_ids in sorted(owners.items()) if enrollment_ids]
    keyed = [k for k in keyed if "\x1f" not in k[1]]
    if db.session.get_bind().dialect.name == "postgresql":
        return [tuple(row) for row in db.session.connection().exec_driver_sql(_NEWER_PG, {
            "kinds": text_list([k[0] for k in keyed]), "keys": text_list([k[1] for k in keyed]),
            "floors": text_list([str(k[2]) for k in keyed]),
            "hashes": text_list([str(index_key(k[0], k[1])) for k in keyed]),
            "org": organization_id}).all()]
    found: list[tuple[str, str, int, str]] = []
    for part in chunks(keyed):
        values = ", ".join("(?, ?, ?, ?)" for _k in part)
        # CROSS JOIN: SQLite keeps the keys as the outer loop (one range of the index each).
        found.extend(tuple(row) for row in run_sql(
            f"WITH k(kind, key, floor, key_hash) AS (VALUES {values}) "
            "SELECT k.kind, k.key, s.pk, s.statement_id FROM k "
            "CROSS JOIN xapi_statement_index i JOIN xapi_statements s ON s.pk = i.statement_pk "
            "WHERE i.organization_id = ? AND i.key_hash = k.key_hash "
            "AND i.statement_pk > k.floor AND (k.kind = 'r' OR s.registration IS NULL)",
            (*(v for k in part for v in (*k, index_key(k[0], k[1]))), organization_id)).all())
    return found


def _write_progress(writes: list[tuple[Any, ...]]) -> None:
    """Upsert the progress rows (``writes``: their columns, then the ``seen`` read before)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and len(writes) > 1:
        connection.exec_driver_sql(_UPSERT_PG, tuple(
            text_list(column) if n in _TEXT_COLUMNS else list(column)
            for n, column in enumerate(zip(*writes, strict=True))))
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "CAST(%s AS bigint)"
    insert_rows("module_progress", _PROGRESS_COLUMNS, writes, _UPSERT.format(was=mark))


def _forget(progress_ids: list[int], enrollment_ids: list[str]) -> None:
    """Expire what the session holds of progress rows written with plain SQL (their objects,
    the enrolments' progress lists), so it reads them again.
    """
    identities = db.session.identity_map
    for progress_id in progress_ids:
        obj = identities.get(identity_key(ModuleProgress, progress_id))
        if obj is not None:
            db.session.expire(obj)
    for enrollment_id in enrollment_ids:
        owner = identities.get(identity_key(Enrollment, enrollment_id))
        if owner is not None and "progress" in owner.__dict__:
            db.session.expire(owner, ["progress"])


def refresh_completion(enrollment: Enrollment) -> None:
    """Re-derive whether an enrolment is completed (its program's modules changed)."""
    db.session.expire(enrollment.cohort.program, ["modules"])
    db.session.flush()
    _refresh_enrollments(_enrolment_rows(Enrollment.id == enrollment.id))


def _refresh_enrollments(enrollments: list[_Enrolment], done: dict[str, set[int]] | None = None,
                         required: dict[int, set[int]] | None = None) -> None:
    """Re-derive whether each enrolment is completed (one read of their completed modules,
    one of their programs' required modules, unless the caller knows them: ``done``, the
    modules each has completed, ``required``, each program's required modules).
    """
    enrollments = [e for e in enrollments if e.status != WITHDRAWN]
    if not enrollments:
        return
    if done is None:
        done = {}
        for enrollment_id, module_id in db.session.execute(
                select(ModuleProgress.enrollment_id, ModuleProgress.module_id).where(
                    ModuleProgress.enrollment_id.in_([e.id for e in enrollments]),
                    ModuleProgress.state == COMPLETED)):
            done.setdefault(enrollment_id, set()).add(module_id)
    if required is None:
        required = {}
        for program_id, module_id in db.session.execute(
                select(Module.program_id, Module.id).where(
                    Module.program_id.in_({e.program_id for e in enrollments}),
                    Module.required.is_(True))):
            required.setdefault(program_id, set()).add(module_id)
    for row in enrollments:
        needed = required.get(row.program_id)
        if needed and needed <= done.get(row.id, set()):
            if row.status != COMPLETED:
                enrollment = _loaded(row.id)
                enrollment.status, enrollment.completed_at = COMPLETED, utcnow()
                db.session.flush()
                _record([xs.program_completed(enrollment)], enrollment.organization_id)
                enrollment_completed.send(enrollment)
        elif row.status == COMPLETED:
            # A voided statement took a required module back: the program is no longer
            # complete.
            enrollment = _loaded(row.id)
            enrollment.status, enrollment.completed_at = ACTIVE, None
            db.session.flush()
            _void_derived(enrollment.id, enrollment.organization_id,
                          xs.iri("program", enrollment.cohort.program_id))


def _loaded(enrollment_id: str) -> Enrollment:
    enrollment = db.session.get(Enrollment, enrollment_id)
    assert enrollment is not None
    return enrollment


def _void_derived(enrollment_id: str, organization_id: int, activity_id: str) -> None:
    """Void the completion Relais derived for an activity that is no longer complete, so the
    store (and any LRS it forwards to) says the same as the progress.
    """
    # A completion derived earlier in this projection is not stored yet: drop it instead.
    waiting = _DERIVED.get()
    if waiting:
        waiting[:] = [st for st in waiting if not (
            st["object"]["id"] == activity_id and st["verb"]["id"] == xs.COMPLETED["id"]
            and st["context"].get("registration") == enrollment_id)]
    rows = db.session.execute(select(Statement.statement_id, Statement.data).where(
        Statement.organization_id == organization_id,
        Statement.registration == enrollment_id, Statement.object_activity_id == activity_id,
        Statement.verb_id == xs.COMPLETED["id"], Statement.voided.is_(False)))
    ids = [row.statement_id for row in rows if xs.is_derived(loads(row.data))]
    if ids:
        _record([{"actor": {"objectType": "Agent", "name": "Relais",
                            "account": {"homePage": current_app.config["BASE_URL"],
                                        "name": "relais"}},
                  "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
                  "object": {"objectType": "StatementRef", "id": sid}} for sid in ids],
                organization_id)


def _record(sts: list[dict[str, Any]], organization_id: int) -> None:
    """Record derived statements: during a projection, with the others it derives, in one
    ``record()`` call at its end (an attendance sheet completes the module of dozens of
    learners: one call, not one per learner).
    """
    waiting = _DERIVED.get()
    if waiting is None:
        _record_now(sts, organization_id)
    else:
        waiting.extend(sts)


def _record_now(sts: list[dict[str, Any]], organization_id: int) -> None:
    from lms.xapi.record import record

    if sts:
        record(sts, organization_id=organization_id)
