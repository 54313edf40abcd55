"""Module progress and enrolment completion as a projection of xAPI statements.

``on_statement`` is registered with :mod:`lms.xapi.projections` by ``lms.courses.init_app``.
For each (enrolment, module) a statement touches, it re-reads that module's non-voided
statements for the enrolment and applies the completion rule, so a new statement, an external
package's ``completed`` and a voiding all take the same path and give the same answer.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
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
from lms.xapi.builders import agent_for_user
from lms.xapi.models import Statement, StatementIndex
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


def _aliases(activity_ids: Iterable[str], organization_id: int) -> dict[str, int]:
    """Module id of each of these activity ids that stands for a module.

    While a batch of statements is projected, the first statement that needs it looks up
    every outside activity of the batch at once, and the answers are kept for the batch:
    one query per batch instead of one per statement.
    """
    ids = [i for i in activity_ids if isinstance(i, str) and i]
    memo = projections.batch_memo()
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


def _user_of(actor: dict[str, Any]) -> User | None:
    """The Relais user an actor names (our account, or an e-mail address)."""
    account = actor.get("account") or {}
    if account.get("homePage") == current_app.config["BASE_URL"] and \
            str(account.get("name", "")).isdigit():
        return db.session.get(User, int(account["name"]))
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and mbox.lower().startswith("mailto:"):
        return db.session.scalar(select(User).where(User.email == mbox[7:].lower()))
    return None


def _enrollments(statement: dict[str, Any], organization_id: int,
                 module: Module) -> list[Enrollment]:
    """The enrolments a statement about ``module`` counts for (looked up once per actor,
    registration and program in a batch).
    """
    actor = statement.get("actor") or {}
    registration = (statement.get("context") or {}).get("registration")
    memo = projections.batch_memo()
    if memo is None:
        return _find_enrollments(actor, registration, organization_id, module)
    key = ("courses.enrollments", json.dumps(actor, sort_keys=True), registration,
           module.program_id)
    if key not in memo:
        memo[key] = _find_enrollments(actor, registration, organization_id, module)
    return memo[key]  # type: ignore[no-any-return]


def _find_enrollments(actor: dict[str, Any], registration: Any, organization_id: int,
                      module: Module) -> list[Enrollment]:
    user = _user_of(actor)
    if user is None:
        return []
    stmt = (select(Enrollment).join(Cohort).join(Membership, Enrollment.membership_id
                                                 == Membership.id)
            .where(Enrollment.organization_id == organization_id,
                   Membership.user_id == user.id, Cohort.program_id == module.program_id))
    if registration:
        stmt = stmt.where(Enrollment.id == registration.lower())
    return list(db.session.scalars(stmt))


def on_statement(statement: dict[str, Any], *, organization_id: int, voided: bool) -> None:
    """Projection handler: refresh the progress of the modules this statement is about."""
    module_ids = _module_ids(statement, organization_id)
    if not module_ids or xs.is_derived(statement):
        return
    # A refresh reads the store, which holds the whole batch already (and its voids): once
    # per (enrolment, module) and batch gives the same progress as once per statement (an
    # attendance sheet is hundreds of statements about a few dozen enrolments).
    memo = projections.batch_memo()
    refreshed: set[tuple[str, int]] = memo.setdefault("courses.refreshed", set()) \
        if memo is not None else set()
    for module_id in sorted(module_ids):
        module = db.session.get(Module, module_id)
        if module is None or module.program.organization_id != organization_id:
            continue
        for enrollment in _enrollments(statement, organization_id, module):
            if (enrollment.id, module.id) not in refreshed:
                refreshed.add((enrollment.id, module.id))
                refresh(enrollment, module)


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


def module_facts(enrollment: Enrollment, module: Module) -> list[completion.Fact]:
    """The non-voided statements of this learner about this module, reduced to facts.

    Read from the learner's side of the filter index — the enrolment as registration, or the
    learner as actor for statements without one (external content that does not know the
    enrolment) — so the cost follows one learner's statements, not the cohort's.
    """
    user = enrollment.membership.user
    # The learner as Relais names them, or by e-mail address (external content often does).
    keys = [agent_key(agent_for_user(user)), agent_key({"mbox": f"mailto:{user.email}"})]
    base = (select(Statement.pk, Statement.data)
            .join(StatementIndex, StatementIndex.statement_pk == Statement.pk)
            .where(StatementIndex.organization_id == enrollment.organization_id,
                   Statement.voided.is_(False), Statement.verb_id != VOIDED))
    # Two lookups, each on the index's primary key prefix (an OR across kinds would scan).
    by_registration = base.where(StatementIndex.kind == "r",
                                 StatementIndex.key == enrollment.id)
    by_actor = base.where(StatementIndex.kind == "a", StatementIndex.key.in_(keys),
                          Statement.registration.is_(None))
    rows = sorted([*db.session.execute(by_registration), *db.session.execute(by_actor)],
                  key=lambda row: row[0])
    module_iri = xs.iri("module", module.id)
    statements, seen = [], set()
    for pk, data in rows:
        if pk in seen:  # found both by registration and by actor
            continue
        seen.add(pk)
        statements.append(json.loads(data))
    # Activities standing for this module (a package's root activity) count as the module.
    prefix = xs.activity_prefix()
    others = {i for st in statements for i in _activity_ids(st)
              if isinstance(i, str) and not i.startswith(prefix)} if _ALIASES else set()
    iris = {module_iri} | {a for a, m in _aliases(others, enrollment.organization_id).items()
                           if m == module.id}
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
    outcome = completion.evaluate(_shape(module), module_facts(enrollment, module))
    progress = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == enrollment.id, ModuleProgress.module_id == module.id))
    if progress is None:
        progress = ModuleProgress(enrollment_id=enrollment.id, module_id=module.id,
                                  state="not_started", percent=0)
        db.session.add(progress)
    was_completed = progress.state == COMPLETED
    progress.state, progress.score, progress.percent = outcome.state, outcome.score, \
        outcome.percent
    progress.updated_at = utcnow()
    db.session.flush()
    if outcome.state == COMPLETED and not was_completed:
        _record([xs.module_completed(enrollment, module)], enrollment)
    elif was_completed and outcome.state != COMPLETED:
        _void_derived(enrollment, xs.iri("module", module.id))
    _refresh_enrollment(enrollment)
    return progress


def refresh_completion(enrollment: Enrollment) -> None:
    """Re-derive whether an enrolment is completed (its program's modules changed)."""
    db.session.expire(enrollment.cohort.program, ["modules"])
    _refresh_enrollment(enrollment)


def _refresh_enrollment(enrollment: Enrollment) -> None:
    if enrollment.status == WITHDRAWN:
        return
    required = [m.id for m in enrollment.cohort.program.modules if m.required]
    done = set(db.session.scalars(select(ModuleProgress.module_id).where(
        ModuleProgress.enrollment_id == enrollment.id, ModuleProgress.state == COMPLETED)))
    if required and set(required) <= done:
        if enrollment.status != COMPLETED:
            enrollment.status, enrollment.completed_at = COMPLETED, utcnow()
            db.session.flush()
            _record([xs.program_completed(enrollment)], enrollment)
            enrollment_completed.send(enrollment)
    elif enrollment.status == COMPLETED:
        # A voided statement took a required module back: the program is no longer complete.
        enrollment.status, enrollment.completed_at = ACTIVE, None
        db.session.flush()
        _void_derived(enrollment, xs.iri("program", enrollment.cohort.program_id))


def _void_derived(enrollment: Enrollment, activity_id: str) -> None:
    """Void the completion Relais derived for an activity that is no longer complete, so the
    store (and any LRS it forwards to) says the same as the progress.
    """
    # A completion derived earlier in this batch is not stored yet: drop it instead.
    pending = _pending(enrollment.organization_id, create=False)
    if pending:
        pending[:] = [st for st in pending if not (
            st["object"]["id"] == activity_id and st["verb"]["id"] == xs.COMPLETED["id"]
            and st["context"].get("registration") == enrollment.id)]
    rows = db.session.execute(select(Statement.statement_id, Statement.data).where(
        Statement.organization_id == enrollment.organization_id,
        Statement.registration == enrollment.id, Statement.object_activity_id == activity_id,
        Statement.verb_id == xs.COMPLETED["id"], Statement.voided.is_(False)))
    ids = [row.statement_id for row in rows if xs.is_derived(json.loads(row.data))]
    if ids:
        _record([{"actor": {"objectType": "Agent", "name": "Relais",
                            "account": {"homePage": current_app.config["BASE_URL"],
                                        "name": "relais"}},
                  "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
                  "object": {"objectType": "StatementRef", "id": sid}} for sid in ids],
                enrollment)


def _record(sts: list[dict[str, Any]], enrollment: Enrollment) -> None:
    """Record derived statements: while a batch is projected, together with the others the
    batch derives, once every statement of it has been seen (an attendance sheet completes
    the module of dozens of learners: one ``record()`` call, not one per learner).
    """
    pending = _pending(enrollment.organization_id, create=True)
    if pending is None:
        _record_now(sts, enrollment.organization_id)
    else:
        pending.extend(sts)


def _pending(organization_id: int, *, create: bool) -> list[dict[str, Any]] | None:
    """The derived statements waiting for the end of the batch being projected (None outside
    a batch, or when none waits and ``create`` is false).
    """
    memo = projections.batch_memo()
    if memo is None:
        return None
    key = ("courses.derived", organization_id)
    if key not in memo and create:
        waiting: list[dict[str, Any]] = []
        memo[key] = waiting
        projections.after_batch(lambda: _record_now(waiting, organization_id))
    return memo.get(key)  # type: ignore[no-any-return]


def _record_now(sts: list[dict[str, Any]], organization_id: int) -> None:
    from lms.xapi.record import record

    if sts:
        record(sts, organization_id=organization_id)
