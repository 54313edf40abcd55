"""Benchmark of forwarding to an external LRS; prints its figures.

    .venv/bin/python bench/forwarding.py [--statements 20000] [--database URL]

Measures (1) what queueing for forwarding adds to ``record()`` (batches of 100, forwarding on
vs off), and (2) delivery throughput of ``deliver_pending`` to a local LRS double over HTTP
on 127.0.0.1 (keep-alive), for a few batch sizes. The double is a small threaded
``http.server`` that parses the JSON it receives, so a real LRS's own cost is not included.
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import Any

import common as bench

from lms.extensions import db

sys.path.insert(0, str(bench.ROOT / "tests" / "xapi"))
from forwarding_double import LrsDouble  # noqa: E402


def statements(count: int) -> list[dict[str, Any]]:
    return [{"id": str(uuid.uuid4()), "actor": {"mbox": f"mailto:l{n % 500}@example.com"},
             "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
             "object": {"id": f"https://relais.test/activities/{n % 50}"}}
            for n in range(count)]


def record_interleaved(plain_id: int, fwd_id: int, count: int) -> tuple[float, float]:
    """Record ``count`` statements into each organization, alternating batches of 100 so both
    see the same store size; return the seconds spent for each."""
    from lms.xapi.record import record

    spent = {plain_id: 0.0, fwd_id: 0.0}
    for start in range(0, count, 100):
        for org_id in (plain_id, fwd_id) if start % 200 else (fwd_id, plain_id):
            batch = statements(min(100, count - start))
            started = time.perf_counter()
            record(batch, organization_id=org_id)
            db.session.commit()
            spent[org_id] += time.perf_counter() - started
    return spent[plain_id], spent[fwd_id]


def main() -> None:
    args = bench.options(__doc__.splitlines()[0], statements=20000).parse_args()
    app = bench.bench_app(args.database, wipe=True)
    n = args.statements
    double = LrsDouble().start()
    with app.app_context():
        from lms.accounts.services import create_organization
        from lms.xapi import forwarding

        plain = create_organization(slug="plain", name="No forwarding")
        fwd = create_organization(slug="fwd", name="Forwarding")
        db.session.flush()
        forwarding.configure_external_lrs(organization_id=fwd.id, endpoint=double.url,
                                          key=double.key, secret=double.secret)
        db.session.commit()
        plain_id, fwd_id = plain.id, fwd.id

        print(f"database: {db.engine.dialect.name}; {n} statements; record() in batches of 100")
        off, on = record_interleaved(plain_id, fwd_id, n)
        print(f"record() without forwarding: {n / off:9.0f} statements/s")
        print(f"record() with forwarding:    {n / on:9.0f} statements/s "
              f"(queueing adds {(on - off) / n * 1e6:.0f} µs per statement)")

        for batch in (50, 100, 500):
            app.config["XAPI_FORWARD_BATCH_SIZE"] = batch
            db.session.execute(forwarding.OutboxEntry.__table__.update().values(
                status="pending", attempts=0, next_attempt_at=forwarding.utcnow()))
            db.session.commit()
            double.reset()
            started = time.perf_counter()
            delivered = 0
            while True:
                report = forwarding.deliver_pending(limit=5000)
                delivered += report.delivered
                if report.delivered == 0:
                    break
            elapsed = time.perf_counter() - started
            assert delivered == n and len(double.received) == n, (delivered, len(double.received))
            print(f"deliver_pending, batches of {batch:3d}: {n / elapsed:9.0f} statements/s "
                  f"({len(double.statement_posts)} POSTs, {elapsed:.2f} s)")
    double.stop()


if __name__ == "__main__":
    main()
