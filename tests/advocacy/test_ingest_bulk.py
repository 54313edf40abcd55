"""The bulk ingestion path (large imports): statements built without the per-statement
validator are still valid xAPI, rows written as driver values read back exactly as the ORM
writes them, a large import (several batches) is idempotent, and short or long CSV rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from lms.advocacy import csvimport, services
from lms.advocacy.models import KINDS, AdvocacyEvent
from lms.advocacy.statements import StatementFactory
from lms.extensions import db
from lms.xapi import validation
from lms.xapi.models import Statement
from lms.xapi.record import loads
from tests.advocacy.helpers import consent

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
