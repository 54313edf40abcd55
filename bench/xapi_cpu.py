"""CPU per statement of ``POST /xapi/statements`` in one process; prints its figures.

    .venv/bin/python bench/xapi_cpu.py [--batches 60] [--singles 600] [--stored 50000]
        [--database URL]

The LRS's request path without the HTTP server: the corpus of ``bench/xapi_ingest.py`` posted
through the test client, in batches of 100 and one statement at a time, with the CPU time of
this one process (and of the PostgreSQL backend) next to the wall time. On a busy machine a
server's CPU is hard to measure and the wall time means little; run it twice, alternating with
the code it is compared with.

``--stored N`` then fills the store to N statements through ``record()`` (batches of 1,000, no
HTTP) and measures the batches again: what a statement costs as the store grows.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

import common as bench
from xapi_ingest import Corpus

from lms.extensions import db
from lms.xapi.models import Statement
from lms.xapi.record import record


def main() -> None:
    args = bench.options(batches=60, singles=600, stored=0).parse_args()
    app = bench.bench_app(args.database, wipe=bool(args.database), RATELIMIT_ENABLED=False)
    headers, org_id = bench.lrs_statement_headers(app)
    client = app.test_client()
    corpus = Corpus()

    def post(bodies: list[bytes]) -> None:
        for body in bodies:
            response = client.post("/xapi/statements", data=body, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]

    post([json.dumps(corpus.batch(100)).encode() for _ in range(5)])  # warm up
    runs = [("batches of 100", [json.dumps(corpus.batch(100)).encode()
                                for _ in range(args.batches)], 100),
            ("single POSTs", [json.dumps(corpus.statement()).encode()
                              for _ in range(args.singles)], 1)]
    with app.app_context():
        for label, bodies, size in runs:
            measure(label, lambda bodies=bodies: post(bodies), len(bodies) * size)
        if args.stored:
            have = db.session.scalar(db.select(db.func.count()).select_from(Statement))
            start = time.perf_counter()
            for _ in range(0, max(0, args.stored - have), 1000):
                record(corpus.batch(1000), organization_id=org_id)
                db.session.commit()
            have = db.session.scalar(db.select(db.func.count()).select_from(Statement))
            print(f"store filled to {have:,} statements through record() in "
                  f"{time.perf_counter() - start:,.0f} s")
            bodies = [json.dumps(corpus.batch(100)).encode() for _ in range(args.batches)]
            measure(f"batches of 100, {have:,} stored", lambda: post(bodies),
                    len(bodies) * 100)


def measure(label: str, run: Callable[[], None], count: int) -> None:
    """Run ``run`` (``count`` statements) and print its wall rate and CPU a statement."""
    timer = bench.CpuClock()
    before = os.times()
    thread = time.thread_time()
    run()
    thread = time.thread_time() - thread
    cpu = time.process_time() - timer.cpu
    after = os.times()
    backend = bench.backend_cpu()
    backend_note = "" if backend is None or timer.backend is None else \
        f" + {1e6 * (backend - timer.backend) / count:,.0f} µs of the PostgreSQL backend"
    # The kernel's part is SQLite's writes (WAL frames, checkpoints): it grows with the pages
    # a batch dirties.
    split = (f"user {1e6 * (after.user - before.user) / count:,.0f} + system "
             f"{1e6 * (after.system - before.system) / count:,.0f}")
    # The requests' own thread: SQLite's checkpoints run in a thread of their own
    # (lms/core/checkpoints.py), off the requests' path but in the process's CPU.
    print(f"{label}: {count} statements, {count / timer.elapsed():,.0f}/s wall, "
          f"{1e6 * cpu / count:,.0f} µs of CPU a statement ({split}; the requests' thread "
          f"{1e6 * thread / count:,.0f}){backend_note} ({timer.note()})")


if __name__ == "__main__":
    main()
