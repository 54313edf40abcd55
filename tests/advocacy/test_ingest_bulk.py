"""The bulk ingestion path (large imports): statements built without the per-statement
validator are still valid xAPI, the store's fast path for them (record_built) writes what
record() writes, rows written as driver values read back exactly as the ORM writes them, a
large import (several batches) is idempotent, and short or long CSV rows."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lms.advocacy import csvimport, services
from lms.advocacy.models import KINDS, AdvocacyEvent
from lms.advocacy.statements import StatementFactory
from lms.core.database import background_writes, time_processor
from lms.core.models import UTCDateTime
from lms.extensions import db
from lms.xapi import projections, validation
from lms.xapi.models import Activity, Statement, StatementIndex
from lms.xapi.record import built, index_rows, loads, record, record_built
from tests.advocacy.helpers import consent
from tests.support import hashed, index_keys_of

WHEN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # whole seconds: no fraction to write


def count(model=AdvocacyEvent) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture()
def org_and_people(create_org, create_user):
    org = create_org(slug="bulk")
    people = [create_user(org=org, email=f"p{n}@bulk.example", name=f"Personne {n}")
              for n in range(3)]
    consent(org, *people)
    return org, people


@pytest.mark.parametrize("kind", KINDS)
def test_factory_statements_pass_the_validator(app, kind):
    """ingest() records them with validated=True: the factory must never build an invalid
    statement, whatever the event (every kind, zero or all metrics, campaign, no URL)."""
    with app.test_request_context():
        factory = StatementFactory("bulk", services.METRICS)
        for extra in ({}, {"with_own_comment": True, "campaign_id": 4, "clicks": 3,
                           "impressions": 10, "hires": 1}):
            event = services.normalize_event(
                {"network": "linkedin", "kind": kind, "occurred_at": WHEN,
                 "url": None if kind == "summary" else "https://example.com/p/1",
                 **extra}, user_id=7, source="csv", now=WHEN)
            statement = factory.build(event, "Zoé Lefèvre")
            validation.statement(statement, "statement")  # raises if not valid


def test_event_times_compare_with_bound_values_at_the_boundary(org_and_people):
    """Rows inserted as driver values store times as the ORM does: an event at exactly
    `since` is found by `>= since` and not by `< since`, on SQLite and PostgreSQL."""
    org, (alice, *_rest) = org_and_people
    event = services.normalize_event({"network": "x", "kind": "post", "occurred_at": WHEN,
                                      "url": "https://x.com/a/1"},
                                     user_id=alice.id, source="api", now=WHEN)
    services.ingest(organization=org, events=[event], names={alice.id: "Alice"})
    db.session.commit()
    at = AdvocacyEvent.occurred_at
    assert db.session.scalar(select(func.count()).where(at >= WHEN)) == 1
    assert db.session.scalar(select(func.count()).where(at < WHEN)) == 0
    stored = db.session.scalar(select(AdvocacyEvent))
    assert stored.occurred_at == WHEN and stored.with_own_comment is False
    assert (stored.clicks, stored.campaign_id, stored.source) == (0, None, "api")
    st = db.session.scalar(select(Statement))
    assert st.timestamp == WHEN and st.statement_id == stored.statement_id
    assert loads(st.data)["timestamp"] == WHEN.isoformat()


def test_a_file_of_several_batches_imports_once_and_updates_in_place(org_and_people):
    org, people = org_and_people
    header = "email;network;kind;url;date;clicks;with_own_comment\n"
    rows = [f"{people[n % 3].email};linkedin;share;https://example.com/p/{n};"
            f"0{1 + n % 9}/10/2026 10:{n % 60:02d};{n % 7};{'oui' if n % 5 == 0 else 'non'}\n"
            for n in range(2500)]
    data = (header + "".join(rows)).encode()
    first = csvimport.import_activity(organization=org, data=data)
    db.session.commit()
    assert (first.created, count(), count(Statement)) == (2500, 2500, 2500)
    again = csvimport.import_activity(organization=org, data=data)
    db.session.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2500)
    assert (count(), count(Statement)) == (2500, 2500)
    # A later export with a metric changed on one row overwrites it (one new statement).
    line = rows[1234]
    changed = data.replace(line.encode(), line.rsplit(";", 2)[0].encode() + b";99;non\n")
    third = csvimport.import_activity(organization=org, data=changed)
    db.session.commit()
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2499)
    assert db.session.scalar(select(AdvocacyEvent.clicks).where(
        AdvocacyEvent.url == "https://example.com/p/1234")) == 99
    assert count(Statement) == 2501


def test_short_rows_read_as_empty_cells_and_extra_cells_are_ignored(org_and_people):
    org, (alice, *_rest) = org_and_people
    data = ("email,network,kind,url,date,clicks\n"
            f"{alice.email},linkedin,share,https://example.com/a,2026-11-02\n"
            f"{alice.email},x,post,https://x.com/a/2,2026-11-03,4,extra,cells\n"
            ",,,,,\n").encode()
    result = csvimport.import_activity(organization=org, data=data)
    db.session.commit()
    assert result.summary() == {"read": 2, "created": 2, "updated": 0, "unchanged": 0,
                                "rejected": 0}
    assert sorted(db.session.scalars(select(AdvocacyEvent.clicks))) == [0, 4]


# Events of every shape the factory meets: each kind, with and without URL, metrics,
# campaign, own comment, a time with microseconds.
SHAPES = [
    {"network": "linkedin", "kind": "share", "url": "https://example.com/p/1", "clicks": 3},
    {"network": "x", "kind": "post", "url": "https://x.com/a/2", "impressions": "1 234",
     "campaign_id": 4, "with_own_comment": "oui", "signups": 1},
    {"network": "facebook", "kind": "comment", "url": None, "external_id": "ext-9"},
    {"network": "instagram", "kind": "reaction", "url": "https://i.com/r/3"},
    {"network": "linkedin", "kind": "summary", "url": None, "reshares": 12},
]


def _shaped_events(user_id: int) -> list[dict]:
    return [services.normalize_event(
        {**shape, "occurred_at": WHEN - timedelta(days=n, microseconds=1500 * n)},
        user_id=user_id, source="csv", now=WHEN) for n, shape in enumerate(SHAPES)]


def test_the_fast_path_finds_a_statement_by_the_rows_index_rows_gives(app):
    """built() reads the index rows from the few places they can be: they must be those of
    index_rows() (the authority's aside), whatever the event."""
    with app.test_request_context():
        factory = StatementFactory("bulk", services.METRICS)
        for event in _shaped_events(7):
            item = factory.build_for_store(event, "Zoé", str(uuid.uuid4()))
            assert item.keys == index_rows(item.statement)
            assert item.actor_key == f"account:{factory.home}|7"
            assert validation.parse_timestamp(item.statement["timestamp"], "t") == item.timestamp
        with_context = {"actor": {"objectType": "Agent", "account": {"homePage": "https://h",
                                                                     "name": "1"}},
                        "verb": {"id": "https://v"}, "object": {"id": "https://o"},
                        "context": {"registration": "0E5B7B4C-8E2E-4C3A-9E4C-3F6A1D2B9C10",
                                    "contextActivities": {"parent": [{"id": "https://o"}],
                                                          "grouping": [{"id": "https://g"}]}}}
        assert built(with_context, timestamp=WHEN).keys == index_rows(with_context)


def _stored(statement_id: str) -> tuple[dict, dict, set]:
    row = db.session.scalar(select(Statement).where(Statement.statement_id == statement_id))
    columns = {c: getattr(row, c) for c in ("organization_id", "actor_key", "verb_id",
                                            "object_type", "object_activity_id",
                                            "object_agent_key", "object_statement_id",
                                            "registration", "timestamp", "voided")}
    data = loads(row.data)
    assert data.pop("id") == statement_id
    data.pop("stored")
    keys = index_keys_of(row.pk)
    # The rows index_rows() gives the statement as stored (with its id, stored, authority).
    assert keys == hashed(index_rows(loads(row.data)))
    return columns, data, keys


def _definitions() -> dict[str, str]:
    return {row.activity_id: row.definition for row in db.session.execute(
        select(Activity.activity_id, Activity.definition))}


def test_record_built_stores_what_record_stores(org_and_people):
    """The same statements through record() and through the fast path: the same JSON (key
    order included), columns, index rows and activity definitions; the handlers see them."""
    org, (alice, *_rest) = org_and_people
    factory = StatementFactory(org.slug, services.METRICS)
    events = _shaped_events(alice.id)
    slow_ids = record([factory.build(e, "Alice") for e in events], organization_id=org.id,
                      validated=True)
    db.session.commit()
    slow = {}
    for statement_id in slow_ids:
        columns, data, keys = _stored(statement_id)
        slow[data["object"]["id"]] = (columns, data, keys)
    definitions = _definitions()
    db.session.execute(Activity.__table__.delete())
    seen: list[str] = []

    def handler(statement, *, organization_id, voided):
        seen.append(statement["id"])
        assert organization_id == org.id and not voided and "stored" in statement

    projections.register(handler)
    try:
        items = [factory.build_for_store(e, "Alice", str(uuid.uuid4())) for e in events]
        pks = record_built(items, organization_id=org.id)
    finally:
        projections.unregister(handler)
    db.session.commit()
    assert seen == [item.statement["id"] for item in items]
    assert len(set(pks)) == len(events) and min(pks) > max(
        db.session.scalars(select(Statement.pk).where(Statement.statement_id.in_(slow_ids))))
    for item in items:
        columns, data, keys = _stored(item.statement["id"])
        assert (columns, data, keys) == slow[data["object"]["id"]]
        assert list(data) == list(slow[data["object"]["id"]][1])  # the same text, in order
    assert _definitions() == definitions


def test_times_are_written_as_sqlalchemy_writes_them(app):
    """time_processor()'s shortcut on SQLite gives the type's own bound value."""
    with app.app_context():
        dialect = db.session.connection().dialect
        reference = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        fast = time_processor()
        paris = timezone(timedelta(hours=2))
        for value in (WHEN, datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC),
                      datetime(2026, 7, 14, 1, 30, 0, 5, tzinfo=paris),
                      datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)):
            assert fast(value) == (reference(value) if reference else value)
        with pytest.raises(ValueError):
            fast(datetime(2026, 1, 1))  # naive: refused, as the type refuses it


def test_a_write_failing_in_a_later_batch_reaches_the_caller_and_nothing_stays(
        org_and_people, monkeypatch):
    """On PostgreSQL each batch's writes run in a writer thread while the next batch is
    built: an error there is raised to the caller, after the earlier batches were written
    in the same transaction, and the rollback leaves nothing (all or nothing, as before)."""
    org, people = org_and_people
    events = [services.normalize_event(
        {"network": "linkedin", "kind": "share", "url": f"https://example.com/w/{n}",
         "occurred_at": WHEN - timedelta(minutes=n)},
        user_id=people[n % 3].id, source="csv", now=WHEN) for n in range(25)]
    stored = []
    real = services.store_prepared

    def failing_third_batch(prepared):
        if len(stored) == 2:
            raise RuntimeError("the server went away")
        real(prepared)
        stored.append(len(prepared.pks))

    monkeypatch.setattr(services, "store_prepared", failing_third_batch)
    interval = sys.getswitchinterval()
    with pytest.raises(RuntimeError, match="went away"):
        services.ingest(organization=org, events=events,
                        names={p.id: p.display_name for p in people}, batch=10)
    assert stored == [10, 10] and sys.getswitchinterval() == interval
    assert count() == 25  # the third batch's events were copied before its statements failed
    db.session.rollback()
    assert (count(), count(Statement), count(StatementIndex)) == (0, 0, 0)


def test_background_writes_run_in_order_and_raise_what_a_write_raised(app):
    with app.app_context():
        done = []
        with background_writes() as writes:
            for n in range(3):
                writes.wait()
                writes.submit(lambda n=n: done.append(n))
        assert done == [0, 1, 2]
        with pytest.raises(ValueError), background_writes() as writes:
            writes.submit(lambda: int("not a number"))
            writes.wait()
