"""The shortcuts the bulk intake takes give what the general code gives: statement ids as
``uuid.uuid4()`` writes them, and the factory's own index rows those ``built()`` reads back
from the statement."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from lms.advocacy import services
from lms.advocacy.statements import StatementFactory
from lms.xapi.record import built

# A recent moment in whole seconds (no fraction to write), whatever the day the suite runs.
WHEN = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)


def test_statement_ids_are_random_version_4_uuids():
    ids = services.uuid4_texts(per_read=16)
    made = [next(ids) for _ in range(200)]  # several reads of the random source
    assert len(set(made)) == 200
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_factory_index_rows_are_those_built_reads(app):
    with app.test_request_context():
        factory = StatementFactory("bulk", services.METRICS)
        for extra in ({}, {"campaign_id": 4, "clicks": 3, "with_own_comment": True},
                      {"url": None, "external_id": "platform:1"}):
            raw = {"network": "linkedin", "kind": "share", "occurred_at": WHEN,
                   "url": "https://example.com/p/1", **extra}
            event = services.normalize_event(raw, user_id=7, source="csv", now=WHEN)
            fast = factory.build_for_store(event, "Zoé", "0b7e2bd2-5f5e-4c55-9d7c-3c3f2d0b8b1e")
            read = built(fast.statement, timestamp=WHEN)
            assert (fast.keys, fast.actor_key, fast.timestamp) == (
                read.keys, read.actor_key, read.timestamp)
            # The same statement as one built alone (the shared parts change nothing).
            alone = StatementFactory("bulk", services.METRICS).build(event, "Zoé")
            assert {**alone, "id": fast.statement["id"]} == fast.statement
