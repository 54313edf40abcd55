"""record() as a service: storing, idempotence, conflicts, voiding and projection handlers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from lms.core.errors import BadRequest, Conflict
from lms.extensions import db
from lms.xapi import projections
from lms.xapi.models import Activity, Statement
from lms.xapi.record import record

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def make(verb: str = COMPLETED, **extra: Any) -> dict[str, Any]:
    st = {"actor": {"mbox": "mailto:ana@example.com", "name": "Ana"},
          "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
          "object": {"id": "http://relais.test/activities/module/1",
                     "definition": {"name": {"en": "Module 1"},
                                    "type": "http://adlnet.gov/expapi/activities/module"}}}
    st.update(extra)
    return st


@pytest.fixture()
def org(create_org: Callable[..., Any]) -> Any:
    return create_org()


@pytest.fixture()
def seen() -> Iterator[list[tuple[str, str, bool]]]:
    calls: list[tuple[str, str, bool]] = []

    def handler(statement: dict[str, Any], *, organization_id: int, voided: bool) -> None:
        calls.append((statement["id"], statement["verb"]["id"], voided))

    projections.register(handler, verbs={COMPLETED})
    yield calls
    projections.unregister(handler)


def test_record_assigns_id_stored_authority_and_stores(org: Any) -> None:
    ids = record([make()], organization_id=org.id)
    db.session.commit()
    row = db.session.scalar(select(Statement))
    assert row is not None and row.statement_id == ids[0]
    data = json.loads(row.data)
    assert data["id"] == ids[0]
    assert data["stored"].endswith("Z") and data["timestamp"] == data["stored"]
    assert data["authority"]["objectType"] == "Agent"
    assert data["version"] == "1.0.0"
    activity = db.session.scalar(select(Activity))
    assert activity is not None and json.loads(activity.definition)["name"] == {"en": "Module 1"}


def test_record_same_id_same_content_is_idempotent(org: Any) -> None:
    sid = str(uuid.uuid4())
    record([make(id=sid)], organization_id=org.id)
    assert record([make(id=sid)], organization_id=org.id) == [sid]
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 1


def test_record_same_id_different_content_conflicts(org: Any) -> None:
    sid = str(uuid.uuid4())
    record([make(id=sid)], organization_id=org.id)
    with pytest.raises(Conflict):
        record([make(id=sid, result={"success": True})], organization_id=org.id)


def test_record_batch_is_all_or_nothing(org: Any) -> None:
    bad = make()
    del bad["verb"]
    with pytest.raises(BadRequest) as info:
        record([make(), bad], organization_id=org.id)
    assert "statements[1].verb" in info.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 0


def test_handlers_observe_statements_and_voiding(org: Any, seen: list[Any]) -> None:
    [sid] = record([make()], organization_id=org.id)
    record([make(verb="http://adlnet.gov/expapi/verbs/attempted")], organization_id=org.id)
    assert seen == [(sid, COMPLETED, False)]
    record([make(verb=VOIDED, object={"objectType": "StatementRef", "id": sid})],
           organization_id=org.id)
    assert seen[-1] == (sid, COMPLETED, True)
    assert db.session.scalar(select(Statement.voided).where(Statement.statement_id == sid))


def test_voiding_before_target_stores_target_voided_without_handlers(
        org: Any, seen: list[Any]) -> None:
    sid = str(uuid.uuid4())
    record([make(verb=VOIDED, object={"objectType": "StatementRef", "id": sid})],
           organization_id=org.id)
    record([make(id=sid)], organization_id=org.id)
    assert seen == []
    assert db.session.scalar(select(Statement.voided).where(Statement.statement_id == sid))


def test_voiding_a_voiding_statement_is_refused(org: Any) -> None:
    [target] = record([make()], organization_id=org.id)
    [voiding] = record([make(verb=VOIDED, object={"objectType": "StatementRef", "id": target})],
                       organization_id=org.id)
    with pytest.raises(BadRequest):
        record([make(verb=VOIDED, object={"objectType": "StatementRef", "id": voiding})],
               organization_id=org.id)


def test_handler_error_aborts_everything(org: Any) -> None:
    def broken(statement: dict[str, Any], *, organization_id: int, voided: bool) -> None:
        raise RuntimeError("projection failed")

    projections.register(broken)
    try:
        with pytest.raises(RuntimeError):
            record([make()], organization_id=org.id)
    finally:
        projections.unregister(broken)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 0


def test_builders_make_statements_the_lrs_accepts(create_user: Callable[..., Any]) -> None:
    from lms.accounts.models import Organization
    from lms.xapi import builders

    user = create_user()
    org = db.session.scalar(select(Organization))
    assert org is not None
    module = builders.activity("module", 7, {"en-US": "Writing posts", "fr-FR": "Écrire"})
    st = builders.statement(
        builders.agent_for_user(user), "completed", module, result={"success": True},
        context=builders.context(registration=str(uuid.uuid4()),
                                 parent=[builders.activity_iri("program", 1)],
                                 grouping=[builders.activity_iri("cohort", 3)],
                                 organization=org.slug))
    [sid] = record([st], organization_id=org.id)
    stored = json.loads(db.session.scalar(select(Statement.data).where(
        Statement.statement_id == sid)) or "{}")
    assert stored["verb"] == {"id": "http://adlnet.gov/expapi/verbs/completed",
                              "display": {"en-US": "completed", "fr-FR": "a terminé"}}
    assert stored["object"]["id"] == "http://relais.test/xapi/activities/module/7"
    assert stored["actor"]["account"] == {"homePage": "http://relais.test", "name": str(user.id)}
    assert stored["context"]["extensions"] == {
        "http://relais.test/xapi/extensions/organization": org.slug}


def test_after_batch_runs_once_every_statement_of_the_batch_was_projected(org: Any) -> None:
    # A handler deriving statements records them together once the batch has been seen.
    events: list[str] = []

    def handler(statement: dict[str, Any], *, organization_id: int, voided: bool) -> None:
        events.append(statement["id"])
        memo = projections.batch_memo()
        assert memo is not None
        if "derived" not in memo:
            memo["derived"] = True
            projections.after_batch(lambda: events.append("after"))

    projections.register(handler, verbs={COMPLETED})
    try:
        ids = record([make(), make(), make()], organization_id=org.id)
    finally:
        projections.unregister(handler)
    assert events == [*ids, "after"]
    # Outside a dispatch, nothing waits.
    projections.after_batch(lambda: events.append("now"))
    assert events[-1] == "now"
