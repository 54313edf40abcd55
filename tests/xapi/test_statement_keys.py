"""Keys handed out before statements are written (lms.xapi.record.StatementKeys, on
PostgreSQL from the column's sequence through lms.core.database.next_ids): an import writes
its statements with COPY under keys taken up front, so every key must be new, in order, and
never given twice — neither to a later batch nor to a statement an INSERT stores meanwhile.
"""

from __future__ import annotations

from lms.core.database import run_sql
from lms.extensions import db
from lms.xapi import partitions
from lms.xapi.record import StatementKeys
from tests.xapi import test_statements_resource as resource
from tests.xapi.test_statements_resource import Lrs, statement

lrs, make_lrs = resource.lrs, resource.make_lrs


def _stored_pk(statement_id: str) -> int:
    return int(run_sql("SELECT pk FROM xapi_statements WHERE statement_id = ?",
                       (statement_id,)).scalar())


def test_keys_taken_up_front_are_new_in_order_and_never_given_twice(lrs: Lrs) -> None:
    first = lrs.post(statement()).json[0]
    keys = StatementKeys()
    batch = keys.take(1_000)
    more = keys.take(3)
    assert batch == sorted(batch) and len(set(batch)) == 1_000
    assert more == sorted(more) and min(more) > max(batch)
    assert min(batch) > _stored_pk(first)
    assert keys.take(0) == []
    if db.engine.dialect.name == "postgresql":
        # Each key carries the month it is taken in (the partition it is written into).
        month = partitions.key_floor(partitions.month_code(db.session.execute(
            db.text("SELECT now()")).scalar()))
        assert all(month <= key < month + partitions.LOW_BITS for key in batch + more)
        db.session.commit()  # an INSERT meanwhile (PostgreSQL: the same sequence)
        later = lrs.post(statement()).json[0]
        assert _stored_pk(later) > max(more)
