"""Module progress and enrolment completion as a projection of xAPI statements.

``on_statement`` is registered with :mod:`lms.xapi.projections` by ``lms.courses.init_app``.
For each (enrolment, module) a batch of statements touches, it re-reads that module's non-voided
statements for the enrolment and applies the completion rule, so a new statement, an external
package's ``completed`` and a voiding all take the same path and give the same answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm.util import identity_key

from lms.accounts.models import Membership, User
from lms.core.database import chunks, insert_rows, run_sql, time_processor
from lms.core.models import utcnow
from lms.core.registry import Registry
from lms.courses import statements as xs
from lms.courses.cohorts import completion
from lms.courses.cohorts.models import (
    ACTIVE,
    COMPLETED,
    WITHDRAWN,
    Cohort,
    Enrollment,
    ModuleProgress,
)
from lms.courses.programs.models import Lesson, Module, Program, Quiz
from lms.courses.sessions.models import TrainingSession
from lms.courses.signals import enrollment_completed
from lms.extensions import db
from lms.xapi import projections
from lms.xapi.agents import agent_key
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
        _project([statement], organization_id)
        return
    key = ("courses.projected", organization_id)
    waiting: list[dict[str, Any]] | None = memo.get(key)
    if waiting is None:
        waiting = memo[key] = []
        projections.after_batch(lambda: _project(waiting, organization_id, memo))
    waiting.append(statement)


# The derived statements a projection is collecting, to record them in one call at its end.
_DERIVED: ContextVar[list[dict[str, Any]] | None] = ContextVar("relais_courses_derived",
                                                                default=None)


def _project(statements: list[dict[str, Any]], organization_id: int,
             memo: dict[Any, Any] | None = None) -> None:
    """Refresh every (enrolment, module) the statements are about: the modules they name
    (and the activities standing for them), the learners, their enrolments, their statements
    and progress rows are each read with one query for the whole batch (not one per
    statement), the progress rows written with one statement, and the completions this
    derives are recorded in one ``record()`` call. A refresh reads the store, which holds
    the whole batch already (and its voids): once per (enrolment, module) gives the same
    progress as once per statement. ``memo``: the batch's.
    """
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
    users = _user_ids([st.get("actor") or {} for st, _ids in items])
    found = _enrollments_by_user(set(users) - {None}, {s.program_id for s in shapes.values()},
                                 organization_id)
    pairs: dict[tuple[str, int], tuple[_Enrolment, int]] = {}
    for (st, module_ids), user_id in zip(items, users, strict=True):
        if user_id is None:
            continue
        registration = (st.get("context") or {}).get("registration")
        for module_id in sorted(module_ids):
            shape = shapes.get(module_id)
            if shape is None:
                continue
            for enrollment in found.get((user_id, shape.program_id), ()):
                if not registration or enrollment.id == str(registration).lower():
                    pairs.setdefault((enrollment.id, module_id), (enrollment, module_id))
    # The batch's own statements are known: not parsed back from the store.
    known = {str(st.get("id", "")).lower(): st for st, _ids in items}
    _refresh_pairs(list(pairs.values()), organization_id, memo, known, aliases)


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
class _Shape:
    """A module's program and what completes it."""

    program_id: int
    shape: completion.ModuleShape


def _refresh_pairs(pairs: list[tuple[_Enrolment, int]], organization_id: int,
                   memo: dict[Any, Any] | None, known: dict[str, dict[str, Any]],
                   aliases: dict[str, int]) -> None:
    """Re-derive each (enrolment, module)'s progress, then the enrolments' completion; the
    completions derived are recorded together at the end (one ``record()`` call).
    """
    token = _DERIVED.set([])
    try:
        # Its writes are flushed where they are read again: no flush before every read.
        with db.session.no_autoflush:
            _refresh_many(pairs, organization_id, memo, known, aliases)
        derived = _DERIVED.get() or []
    finally:
        _DERIVED.reset(token)
    _record_now(derived, organization_id)


def _user_ids(actors: list[dict[str, Any]]) -> list[int | None]:
    """The Relais user each actor names (our account, or an e-mail address), or None."""
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
    ids = {w for w in wanted if isinstance(w, int)}
    emails = {w for w in wanted if isinstance(w, str)}
    known = set(db.session.scalars(select(User.id).where(User.id.in_(ids)))) if ids else set()
    by_email: dict[str, int] = {email: uid for email, uid in db.session.execute(
        select(User.email, User.id).where(User.email.in_(emails)))} if emails else {}
    return [(w if w in known else None) if isinstance(w, int)
            else by_email.get(w) if isinstance(w, str) else None for w in wanted]


_ENROLMENT_COLUMNS = (Enrollment.id, Enrollment.membership_id, Membership.user_id, User.email,
                      Cohort.program_id, Enrollment.status)


def _enrolment_rows(*conditions: Any) -> list[_Enrolment]:
    return [_Enrolment(*row) for row in db.session.execute(
        select(*_ENROLMENT_COLUMNS).select_from(Enrollment)
        .join(Cohort, Enrollment.cohort_id == Cohort.id)
        .join(Membership, Enrollment.membership_id == Membership.id)
        .join(User, Membership.user_id == User.id).where(*conditions))]


def _enrollments_by_user(user_ids: set[int | None], program_ids: set[int],
                         organization_id: int) -> dict[tuple[int, int], list[_Enrolment]]:
    """The enrolments of these users in these programs, by (user id, program id)."""
    found: dict[tuple[int, int], list[_Enrolment]] = {}
    if not user_ids:
        return found
    for row in _enrolment_rows(Enrollment.organization_id == organization_id,
                               Membership.user_id.in_(user_ids),
                               Cohort.program_id.in_(program_ids)):
        found.setdefault((row.user_id, row.program_id), []).append(row)
    return found


def _shapes(module_ids: set[int], organization_id: int,
            memo: dict[Any, Any] | None = None) -> dict[int, _Shape]:
    """The organization's modules among ``module_ids``, with what completes each: read for
    all of them with one query per kind of part (lessons, quizzes, sessions), and once per
    batch (a sheet refreshes the same module for every learner).
    """
    memo = memo if memo is not None else projections.batch_memo()
    cache: dict[int, _Shape | None] = memo.setdefault("courses.shapes", {}) \
        if memo is not None else {}
    missing = sorted(i for i in module_ids if i not in cache)
    if missing:
        rows = db.session.execute(select(Module.id, Module.program_id, Module.kind,
                                         Module.completion).join(Program).where(
            Module.id.in_(missing), Program.organization_id == organization_id)).all()
        lessons: dict[int, list[int]] = {}
        quizzes: dict[int, dict[str, int]] = {}
        sessions: dict[int, set[str]] = {}
        if rows:
            ids = [row.id for row in rows]
            for module_id, lesson_id in db.session.execute(
                    select(Lesson.module_id, Lesson.id).where(Lesson.module_id.in_(ids))
                    .order_by(Lesson.module_id, Lesson.position)):
                lessons.setdefault(module_id, []).append(lesson_id)
            for module_id, quiz_id, mark in db.session.execute(
                    select(Quiz.module_id, Quiz.id, Quiz.pass_mark)
                    .where(Quiz.module_id.in_(ids)).order_by(Quiz.module_id, Quiz.position)):
                quizzes.setdefault(module_id, {})[xs.iri("quiz", quiz_id)] = mark
            for module_id, session_id in db.session.execute(
                    select(TrainingSession.module_id, TrainingSession.id)
                    .where(TrainingSession.module_id.in_(ids))):
                sessions.setdefault(module_id, set()).add(xs.iri("session", session_id))
        for i in missing:
            cache[i] = None
        for row in rows:
            cache[row.id] = _Shape(row.program_id, completion.ModuleShape(
                kind=row.kind, rule=row.completion, module_iri=xs.iri("module", row.id),
                lesson_iris=tuple(xs.iri("lesson", i) for i in lessons.get(row.id, ())),
                quiz_pass_marks=quizzes.get(row.id, {}),
                session_iris=frozenset(sessions.get(row.id, ()))))
    return {i: shape for i in module_ids if (shape := cache.get(i)) is not None}


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
                        activity_ids: set[str], known: dict[str, dict[str, Any]]
                        ) -> _LearnerStatements:
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
    base_url = current_app.config["BASE_URL"]
    # The learner as Relais names them (see agent_for_user), or by e-mail address (external
    # content often does).
    keys: dict[str, set[str]] = {}  # agent key → enrolment ids
    for e in enrollments:
        for key in (agent_key({"account": {"homePage": base_url, "name": str(e.user_id)}}),
                    agent_key({"mbox": f"mailto:{e.email}"})):
            keys.setdefault(key, set()).add(e.id)
    wanted = sorted(activity_ids)
    # Driver SQL: these run for every batch with hundreds of values, which SQLAlchemy would
    # render into the statement again at each execution. First the learners' statements
    # (their columns, not their JSON), then which of them name the modules (a lookup on the
    # index's whole key for each statement and activity id).
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    found: dict[str, set[int]] = {}
    columns: dict[int, tuple[str, str, str | None]] = {}
    data: dict[int, str | dict[str, Any]] = {}
    enrollment_ids = [e.id for e in enrollments]
    agents = sorted(keys)
    # Each (kind, activity id) the index is probed for, with a statement's key.
    probes = (["o"] * len(wanted) + ["O"] * len(wanted), wanted + wanted)
    for kind, values, owners in (("r", enrollment_ids, None), ("a", agents, keys)):
        for part in chunks(values):
            learner = "AND s.registration IS NULL " if kind == "a" else ""
            if postgresql:
                # Arrays joined (see lms.core.database.select_matching): every probe is an
                # equality on the index's whole key, whatever the statistics say (an IN or
                # ANY on a table never analysed scanned the organization's index rows).
                # LATERAL with OFFSET 0 / LIMIT 1: not flattened, so not reordered either.
                rows = run_sql(
                    "SELECT s.pk, s.statement_id, k.key, s.verb_id, s.object_type, "
                    "s.object_activity_id FROM unnest(?::text[]) AS k(key) "
                    "CROSS JOIN LATERAL (SELECT i.statement_pk FROM xapi_statement_index i "
                    "WHERE i.organization_id = ? AND i.kind = ? AND i.key = k.key OFFSET 0) "
                    "AS i JOIN xapi_statements s ON s.pk = i.statement_pk "
                    f"WHERE NOT s.voided AND s.verb_id <> ? {learner}",
                    (part, organization_id, kind, VOIDED)).all()
            else:
                keyed, keyed_params = _in("i.key", part)
                rows = run_sql(
                    "SELECT s.pk, s.statement_id, i.key, s.verb_id, s.object_type, "
                    "s.object_activity_id FROM xapi_statement_index i "
                    "JOIN xapi_statements s ON s.pk = i.statement_pk "
                    f"WHERE i.organization_id = ? AND i.kind = ? AND {keyed} "
                    f"AND NOT s.voided AND s.verb_id <> ? {learner}",
                    (organization_id, kind, *keyed_params, VOIDED)).all()
            for pk, sid, key, verb, object_type, object_id in rows:
                columns[pk] = (verb, object_type, object_id)
                for enrollment_id in (owners[key] if owners is not None else (key,)):
                    found.setdefault(enrollment_id, set()).add(pk)
                if pk not in data:
                    st = known.get(sid)
                    data[pk] = st if st is not None else ""
    names: dict[int, set[str]] = {pk: set() for pk in data}
    for part in chunks(sorted(data)):
        if postgresql:
            named = run_sql(
                "SELECT p.pk, w.key FROM unnest(?::bigint[]) AS p(pk) "
                "CROSS JOIN unnest(?::text[], ?::text[]) AS w(kind, key) "
                "CROSS JOIN LATERAL (SELECT 1 FROM xapi_statement_index n "
                "WHERE n.organization_id = ? AND n.kind = w.kind AND n.key = w.key "
                "AND n.statement_pk = p.pk LIMIT 1) AS hit",
                (part, *probes, organization_id)).all()
        else:
            pk_in, pk_params = _in("statement_pk", part)
            about, about_params = _in("key", wanted)
            named = run_sql(
                "SELECT statement_pk, key FROM xapi_statement_index WHERE organization_id = ? "
                f"AND kind IN ('o', 'O') AND {about} AND {pk_in}",
                (organization_id, *about_params, *pk_params)).all()
        for pk, key in named:
            names[pk].add(key)
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


def _in(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    """``column`` among ``values``, for :func:`run_sql`: an array on PostgreSQL (one
    parameter), a list of parameters on SQLite.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return f"{column} = ANY(?)", [list(values)]
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def refresh(enrollment: Enrollment, module: Module) -> ModuleProgress:
    """Re-derive one module's progress for one enrolment, then the enrolment's completion."""
    db.session.flush()
    organization_id = enrollment.organization_id
    _refresh_pairs([(_enrolment_rows(Enrollment.id == enrollment.id)[0], module.id)],
                   organization_id, None, {}, _lookup_aliases((), [module.id], organization_id))
    found = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == enrollment.id, ModuleProgress.module_id == module.id))
    assert found is not None
    return found


_PROGRESS_COLUMNS = ("enrollment_id", "module_id", "state", "score", "percent", "updated_at")
_PROGRESS_TYPES = {"module_id": "int[]", "score": "float8[]", "percent": "int[]"}


def _refresh_many(pairs: list[tuple[_Enrolment, int]], organization_id: int,
                  memo: dict[Any, Any] | None, known: dict[str, dict[str, Any]],
                  aliases: dict[str, int]) -> None:
    """Re-derive the progress of each (enrolment, module), then the enrolments' completion:
    one read of their statements about these modules, one of their progress rows, one
    statement writing the rows (new or not).
    """
    if not pairs:
        return
    enrollments = list({e.id: e for e, _m in pairs}.values())
    module_ids = sorted({m for _e, m in pairs})
    shapes = _shapes(set(module_ids), organization_id, memo)
    # Activities standing for a module (a package's root activity) count as the module.
    iris = _module_activities(module_ids, aliases)
    statements = _learner_statements(enrollments, organization_id,
                                     set().union(*iris.values()), known)
    existing = {(row.enrollment_id, row.module_id): row for row in db.session.execute(
        select(ModuleProgress.id, ModuleProgress.enrollment_id, ModuleProgress.module_id,
               ModuleProgress.state).where(
            ModuleProgress.enrollment_id.in_([e.id for e in enrollments]),
            ModuleProgress.module_id.in_(module_ids)))}
    now = time_processor()(utcnow())
    writes: list[tuple[Any, ...]] = []
    completed, taken_back = [], []
    for enrollment, module_id in pairs:
        shape = shapes[module_id].shape
        outcome = completion.evaluate(shape, statements.facts(
            enrollment.id, shape.module_iri, iris[module_id]))
        row = existing.get((enrollment.id, module_id))
        was_completed = row is not None and row.state == COMPLETED
        writes.append((enrollment.id, module_id, outcome.state, outcome.score, outcome.percent,
                       now))
        if outcome.state == COMPLETED and not was_completed:
            completed.append((enrollment, module_id))
        elif was_completed and outcome.state != COMPLETED:
            taken_back.append((enrollment, module_id))
    # One statement for the batch's rows, new or not, in key order (concurrent requests lock
    # the rows in the same order).
    writes.sort(key=lambda w: (w[0], w[1]))
    insert_rows("module_progress", _PROGRESS_COLUMNS, writes,
                "ON CONFLICT (enrollment_id, module_id) DO UPDATE SET state = excluded.state, "
                "score = excluded.score, percent = excluded.percent, "
                "updated_at = excluded.updated_at", pg_types=_PROGRESS_TYPES)
    _forget([row.id for row in existing.values()], [e.id for e in enrollments])
    for enrollment, module_id in completed:
        orm_enrollment = db.session.get(Enrollment, enrollment.id)
        module = db.session.get(Module, module_id)
        assert orm_enrollment is not None and module is not None
        _record([xs.module_completed(orm_enrollment, module)], organization_id)
    for enrollment, module_id in taken_back:
        _void_derived(enrollment.id, organization_id, xs.iri("module", module_id))
    _refresh_enrollments(enrollments)


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


def _refresh_enrollments(enrollments: list[_Enrolment]) -> None:
    """Re-derive whether each enrolment is completed (one read of their completed modules,
    one of their programs' required modules).
    """
    enrollments = [e for e in enrollments if e.status != WITHDRAWN]
    if not enrollments:
        return
    done: dict[str, set[int]] = {}
    for enrollment_id, module_id in db.session.execute(
            select(ModuleProgress.enrollment_id, ModuleProgress.module_id).where(
                ModuleProgress.enrollment_id.in_([e.id for e in enrollments]),
                ModuleProgress.state == COMPLETED)):
        done.setdefault(enrollment_id, set()).add(module_id)
    required: dict[int, set[int]] = {}
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
