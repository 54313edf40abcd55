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

from lms.accounts.models import Membership, User
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
from lms.courses.programs.models import Module
from lms.courses.sessions.models import TrainingSession
from lms.courses.signals import enrollment_completed
from lms.extensions import db
from lms.xapi import projections
from lms.xapi.agents import agent_key
from lms.xapi.models import Statement, StatementIndex
from lms.xapi.record import loads
from lms.xapi.validation import VOIDED

# Other activity ids that stand for a module (an uploaded xAPI package's root activity):
# ``fn(activity_ids, organization_id) -> {activity_id: module_id}``, registered at app creation.
ModuleAliases = Callable[[Iterable[str], int], dict[str, int]]
_ALIASES: Registry[ModuleAliases] = Registry("module aliases")


def register_module_aliases(fn: ModuleAliases) -> None:
    """Let another package map its own activity ids to modules (idempotent)."""
    _ALIASES.add(fn)


def _lookup_aliases(ids: list[str], organization_id: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for fn in _ALIASES if ids else ():
        found.update(fn(ids, organization_id))
    return found


def _aliases(activity_ids: Iterable[str], organization_id: int,
             memo: dict[Any, Any] | None = None) -> dict[str, int]:
    """Module id of each of these activity ids that stands for a module.

    While a batch of statements is projected, the first statement that needs it looks up
    every outside activity of the batch at once, and the answers are kept for the batch:
    one query per batch instead of one per statement. ``memo``: the memo of a batch whose
    dispatch has ended (its projection runs after it).
    """
    ids = [i for i in activity_ids if isinstance(i, str) and i]
    memo = memo if memo is not None else projections.batch_memo()
    if memo is None or not ids:
        return _lookup_aliases(ids, organization_id)
    known: dict[str, int | None] = memo.setdefault(("courses.module_aliases", organization_id),
                                                   {})
    missing = {i for i in ids if i not in known}
    if missing:
        prefix = xs.activity_prefix()
        missing.update(i for st in projections.batch_statements() or ()
                       for i in _activity_ids(st)
                       if isinstance(i, str) and i and not i.startswith(prefix))
        missing.difference_update(known)
        found = _lookup_aliases(sorted(missing), organization_id)
        known.update({i: found.get(i) for i in missing})
    return {i: module_id for i in ids if (module_id := known[i]) is not None}


def _activity_ids(statement: dict[str, Any]) -> list[str]:
    ids = [statement["object"].get("id", "")]
    for items in ((statement.get("context") or {}).get("contextActivities") or {}).values():
        for item in items if isinstance(items, list) else [items]:
            ids.append(item.get("id", ""))
    return ids


def _module_ids(statement: dict[str, Any], organization_id: int) -> set[int]:
    """Our modules a statement is about: as object, or as a context activity."""
    prefix = xs.activity_prefix()
    ids = _activity_ids(statement)
    # Most statements (advocacy, other content) name none of our activities: one string test.
    ours = [i[len(prefix):] for i in ids if isinstance(i, str) and i.startswith(prefix)]
    found = set(_aliases([i for i in ids if isinstance(i, str) and not i.startswith(prefix)],
                         organization_id).values()) if _ALIASES else set()
    for rest in ours:
        kind, _, ident = rest.partition("/")
        if not ident.isdigit():
            continue
        if kind == "module":
            found.add(int(ident))
        elif kind == "session":
            session = db.session.get(TrainingSession, int(ident))
            if session is not None:
                found.add(session.module_id)
    return found


def on_statement(statement: dict[str, Any], *, organization_id: int, voided: bool) -> None:
    """Projection handler: note the modules this statement is about. The (enrolment, module)
    pairs of a whole batch are refreshed together once every statement of it has been seen
    (see :func:`_project`); a statement dispatched alone is projected at once.
    """
    if xs.is_derived(statement):
        return
    module_ids = _module_ids(statement, organization_id)
    if not module_ids:
        return
    memo = projections.batch_memo()
    if memo is None:
        _project([(statement, module_ids)], organization_id)
        return
    key = ("courses.projected", organization_id)
    waiting: list[tuple[dict[str, Any], set[int]]] | None = memo.get(key)
    if waiting is None:
        waiting = memo[key] = []
        projections.after_batch(lambda: _project(waiting, organization_id, memo))
    waiting.append((statement, module_ids))


# The derived statements a projection is collecting, to record them in one call at its end.
_DERIVED: ContextVar[list[dict[str, Any]] | None] = ContextVar("relais_courses_derived",
                                                                default=None)


def _project(items: list[tuple[dict[str, Any], set[int]]], organization_id: int,
             memo: dict[Any, Any] | None = None) -> None:
    """Refresh every (enrolment, module) the statements are about: the learners, their
    enrolments, their statements and progress rows are each read with one query for the
    whole batch (not one per statement), and the completions this derives are recorded in
    one ``record()`` call. A refresh reads the store, which holds the whole batch already
    (and its voids): once per (enrolment, module) gives the same progress as once per
    statement. ``memo``: the batch's, whose package activities are known already.
    """
    modules = {m.id: m for m in db.session.scalars(select(Module).where(
        Module.id.in_(sorted({i for _st, ids in items for i in ids}))))
        if m.program.organization_id == organization_id}
    if not modules:
        return
    users = _user_ids([st.get("actor") or {} for st, _ids in items])
    found = _enrollments_by_user(set(users) - {None}, {m.program_id for m in modules.values()},
                                 organization_id)
    pairs: dict[tuple[str, int], tuple[Enrollment, Module]] = {}
    for (st, module_ids), user_id in zip(items, users, strict=True):
        if user_id is None:
            continue
        registration = (st.get("context") or {}).get("registration")
        for module_id in sorted(module_ids):
            module = modules.get(module_id)
            if module is None:
                continue
            for enrollment in found.get((user_id, module.program_id), ()):
                if not registration or enrollment.id == str(registration).lower():
                    pairs.setdefault((enrollment.id, module.id), (enrollment, module))
    token = _DERIVED.set([])
    try:
        # Its writes are flushed where they are read again: no flush before every read.
        with db.session.no_autoflush:
            _refresh_many(list(pairs.values()), memo)
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


def _enrollments_by_user(user_ids: set[int | None], program_ids: set[int],
                         organization_id: int) -> dict[tuple[int, int], list[Enrollment]]:
    """The enrolments of these users in these programs, by (user id, program id)."""
    found: dict[tuple[int, int], list[Enrollment]] = {}
    if not user_ids:
        return found
    rows = db.session.execute(
        select(Enrollment, Membership.user_id, Cohort.program_id).join(Cohort)
        .join(Membership, Enrollment.membership_id == Membership.id)
        .where(Enrollment.organization_id == organization_id,
               Membership.user_id.in_(user_ids), Cohort.program_id.in_(program_ids)))
    for enrollment, user_id, program_id in rows:
        found.setdefault((user_id, program_id), []).append(enrollment)
    return found


def _shape(module: Module) -> completion.ModuleShape:
    """What completes ``module`` (read once per module in a batch: a sheet refreshes the same
    module for every learner).
    """
    memo = projections.batch_memo()
    if memo is None:
        return _read_shape(module)
    key = ("courses.shape", module.id)
    if key not in memo:
        memo[key] = _read_shape(module)
    return memo[key]  # type: ignore[no-any-return]


def _read_shape(module: Module) -> completion.ModuleShape:
    sessions = db.session.scalars(select(TrainingSession.id).where(
        TrainingSession.module_id == module.id))
    return completion.ModuleShape(
        kind=module.kind, rule=module.completion, module_iri=xs.iri("module", module.id),
        lesson_iris=tuple(xs.iri("lesson", lesson.id) for lesson in module.lessons),
        quiz_pass_marks={xs.iri("quiz", q.id): q.pass_mark for q in module.quizzes},
        session_iris=frozenset(xs.iri("session", s) for s in sessions))


def _about(statement: dict[str, Any], module_iris: set[str]) -> bool:
    """Whether a statement names the module as its object or a context activity."""
    return any(i in module_iris for i in _activity_ids(statement))


def _learner_statements(enrollments: list[Enrollment]) -> dict[str, list[dict[str, Any]]]:
    """The non-voided statements of each enrolment's learner that may be about its modules,
    by enrolment id, in recording order.

    Read from the learner's side of the filter index — the enrolment as registration, or the
    learner as actor for statements without one (external content that does not know the
    enrolment) — so the cost follows these learners' statements, not the cohort's: two
    queries for all the enrolments.
    """
    if not enrollments:
        return {}
    organization_id = enrollments[0].organization_id
    users = {membership_id: (user_id, email)
             for membership_id, user_id, email in db.session.execute(
                 select(Membership.id, User.id, User.email)
                 .join(User, Membership.user_id == User.id)
                 .where(Membership.id.in_({e.membership_id for e in enrollments})))}
    base_url = current_app.config["BASE_URL"]
    # The learner as Relais names them (see agent_for_user), or by e-mail address (external
    # content often does).
    keys: dict[str, set[str]] = {}  # agent key → enrolment ids
    for e in enrollments:
        user_id, email = users[e.membership_id]
        for key in (agent_key({"account": {"homePage": base_url, "name": str(user_id)}}),
                    agent_key({"mbox": f"mailto:{email}"})):
            keys.setdefault(key, set()).add(e.id)
    base = (select(Statement.pk, Statement.data, StatementIndex.key)
            .join(StatementIndex, StatementIndex.statement_pk == Statement.pk)
            .where(StatementIndex.organization_id == organization_id,
                   Statement.voided.is_(False), Statement.verb_id != VOIDED))
    # Two lookups, each on the index's primary key prefix (an OR across kinds would scan).
    by_registration = base.where(StatementIndex.kind == "r",
                                 StatementIndex.key.in_({e.id for e in enrollments}))
    by_actor = base.where(StatementIndex.kind == "a", StatementIndex.key.in_(set(keys)),
                          Statement.registration.is_(None))
    rows: dict[str, dict[int, str]] = {e.id: {} for e in enrollments}
    for pk, data, key in db.session.execute(by_registration):
        rows[key][pk] = data
    for pk, data, key in db.session.execute(by_actor):
        for enrollment_id in keys[key]:
            rows[enrollment_id][pk] = data
    # Parsed once each (a statement without registration counts for every enrolment of its
    # learner), with the store's own parser.
    parsed: dict[int, dict[str, Any]] = {}
    for found in rows.values():
        for pk, data in found.items():
            if pk not in parsed:
                parsed[pk] = loads(data)
    return {enrollment_id: [parsed[pk] for pk in sorted(found)]
            for enrollment_id, found in rows.items()}


def _facts(statements: list[dict[str, Any]], module: Module,
           aliases: dict[str, int]) -> list[completion.Fact]:
    """What a learner's statements say about ``module``: those naming it (or an activity
    standing for it, a package's root activity), reduced to facts.
    """
    module_iri = xs.iri("module", module.id)
    iris = {module_iri} | {a for a, m in aliases.items() if m == module.id}
    facts = []
    for st in statements:
        if _about(st, iris) and not xs.is_derived(st):
            fact = completion.fact_from_statement(st)
            if fact.object_id in iris and fact.object_id != module_iri:
                fact = dataclasses.replace(fact, object_id=module_iri)
            facts.append(fact)
    return facts


def refresh(enrollment: Enrollment, module: Module) -> ModuleProgress:
    """Re-derive one module's progress for one enrolment, then the enrolment's completion."""
    return _refresh_many([(enrollment, module)])[0]


def _refresh_many(pairs: list[tuple[Enrollment, Module]],
                  memo: dict[Any, Any] | None = None) -> list[ModuleProgress]:
    """Re-derive the progress of each (enrolment, module), then the enrolments' completion."""
    if not pairs:
        return []
    enrollments = list({e.id: e for e, _m in pairs}.values())
    statements = _learner_statements(enrollments)
    # Activities standing for a module (a package's root activity) count as the module.
    prefix = xs.activity_prefix()
    others = {i for sts in statements.values() for st in sts for i in _activity_ids(st)
              if isinstance(i, str) and not i.startswith(prefix)} if _ALIASES else set()
    aliases = _aliases(others, enrollments[0].organization_id, memo)
    existing = {(p.enrollment_id, p.module_id): p for p in db.session.scalars(
        select(ModuleProgress).where(
            ModuleProgress.enrollment_id.in_([e.id for e in enrollments]),
            ModuleProgress.module_id.in_({m.id for _e, m in pairs})))}
    shapes: dict[int, completion.ModuleShape] = {}
    results, completed, taken_back = [], [], []
    for enrollment, module in pairs:
        if module.id not in shapes:
            shapes[module.id] = _shape(module)
        outcome = completion.evaluate(shapes[module.id],
                                      _facts(statements[enrollment.id], module, aliases))
        progress = existing.get((enrollment.id, module.id))
        if progress is None:
            progress = ModuleProgress(enrollment_id=enrollment.id, module_id=module.id,
                                      state="not_started", percent=0)
            db.session.add(progress)
        was_completed = progress.state == COMPLETED
        progress.state, progress.score, progress.percent = outcome.state, outcome.score, \
            outcome.percent
        progress.updated_at = utcnow()
        if outcome.state == COMPLETED and not was_completed:
            completed.append((enrollment, module))
        elif was_completed and outcome.state != COMPLETED:
            taken_back.append((enrollment, module))
        results.append(progress)
    db.session.flush()
    for enrollment, module in completed:
        _record([xs.module_completed(enrollment, module)], enrollment)
    for enrollment, module in taken_back:
        _void_derived(enrollment, xs.iri("module", module.id))
    _refresh_enrollments(enrollments)
    return results


def refresh_completion(enrollment: Enrollment) -> None:
    """Re-derive whether an enrolment is completed (its program's modules changed)."""
    db.session.expire(enrollment.cohort.program, ["modules"])
    _refresh_enrollments([enrollment])


def _refresh_enrollments(enrollments: list[Enrollment]) -> None:
    """Re-derive whether each enrolment is completed (one read of their completed modules)."""
    enrollments = [e for e in enrollments if e.status != WITHDRAWN]
    if not enrollments:
        return
    done: dict[str, set[int]] = {}
    for enrollment_id, module_id in db.session.execute(
            select(ModuleProgress.enrollment_id, ModuleProgress.module_id).where(
                ModuleProgress.enrollment_id.in_([e.id for e in enrollments]),
                ModuleProgress.state == COMPLETED)):
        done.setdefault(enrollment_id, set()).add(module_id)
    for enrollment in enrollments:
        required = [m.id for m in enrollment.cohort.program.modules if m.required]
        if required and set(required) <= done.get(enrollment.id, set()):
            if enrollment.status != COMPLETED:
                enrollment.status, enrollment.completed_at = COMPLETED, utcnow()
                db.session.flush()
                _record([xs.program_completed(enrollment)], enrollment)
                enrollment_completed.send(enrollment)
        elif enrollment.status == COMPLETED:
            # A voided statement took a required module back: the program is no longer
            # complete.
            enrollment.status, enrollment.completed_at = ACTIVE, None
            db.session.flush()
            _void_derived(enrollment, xs.iri("program", enrollment.cohort.program_id))


def _void_derived(enrollment: Enrollment, activity_id: str) -> None:
    """Void the completion Relais derived for an activity that is no longer complete, so the
    store (and any LRS it forwards to) says the same as the progress.
    """
    # A completion derived earlier in this projection is not stored yet: drop it instead.
    waiting = _DERIVED.get()
    if waiting:
        waiting[:] = [st for st in waiting if not (
            st["object"]["id"] == activity_id and st["verb"]["id"] == xs.COMPLETED["id"]
            and st["context"].get("registration") == enrollment.id)]
    rows = db.session.execute(select(Statement.statement_id, Statement.data).where(
        Statement.organization_id == enrollment.organization_id,
        Statement.registration == enrollment.id, Statement.object_activity_id == activity_id,
        Statement.verb_id == xs.COMPLETED["id"], Statement.voided.is_(False)))
    ids = [row.statement_id for row in rows if xs.is_derived(loads(row.data))]
    if ids:
        _record([{"actor": {"objectType": "Agent", "name": "Relais",
                            "account": {"homePage": current_app.config["BASE_URL"],
                                        "name": "relais"}},
                  "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
                  "object": {"objectType": "StatementRef", "id": sid}} for sid in ids],
                enrollment)


def _record(sts: list[dict[str, Any]], enrollment: Enrollment) -> None:
    """Record derived statements: during a projection, with the others it derives, in one
    ``record()`` call at its end (an attendance sheet completes the module of dozens of
    learners: one call, not one per learner).
    """
    waiting = _DERIVED.get()
    if waiting is None:
        _record_now(sts, enrollment.organization_id)
    else:
        waiting.extend(sts)


def _record_now(sts: list[dict[str, Any]], organization_id: int) -> None:
    from lms.xapi.record import record

    if sts:
        record(sts, organization_id=organization_id)
