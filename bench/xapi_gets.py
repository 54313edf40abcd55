"""Filtered GETs of the LRS in one process, on a store ``bench/xapi_ingest.py`` built; prints
p50/p95 and the CPU of a GET (this process + the PostgreSQL backends) for each filter kind.

    .venv/bin/python bench/xapi_gets.py --reuse INSTANCE [--database-url URL]
        [--queries 40] [--rounds 3] [--unprepared]

The same GETs as ``xapi_ingest.py``'s step 4 (the same keys: agent, verb, activity,
registration, agent + verb, related activity; limit=100), through the test client — the whole
request: credentials, query, body — without the HTTP server, whose CPU is hard to tell apart
on a busy machine. Round 1 runs on new connections; later rounds reuse them (psycopg prepares
a query text after five runs, PostgreSQL then may keep a generic plan). ``--unprepared``: no
query is ever prepared, so every run is planned with its own keys (what the first runs of
every connection get). Run it alternated with the code it is compared with.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any
from urllib.parse import urlencode

import common as bench
from xapi_ingest import Corpus, get_kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reuse", metavar="INSTANCE", required=True,
                        help="the instance folder of a xapi_ingest.py run")
    parser.add_argument("--database-url", help="its --database-url (default: its SQLite file)")
    parser.add_argument("--queries", type=int, default=40, help="GETs per kind and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--unprepared", action="store_true",
                        help="never prepare a query (PostgreSQL plans each run for its keys)")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{args.reuse}/bench.db"
    os.environ["RELAIS_INSTANCE_PATH"] = args.reuse
    env = {**os.environ, "RELAIS_INSTANCE_PATH": args.reuse, "RELAIS_DATABASE_URL": url}

    from sqlalchemy import event

    from lms import create_app
    from lms.accounts.models import Organization
    from lms.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        if args.unprepared and url.startswith("postgresql"):
            @event.listens_for(db.engine, "connect")
            def _never_prepare(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.prepare_threshold = None
        slug = db.session.scalar(db.select(Organization.slug).where(
            Organization.slug.like("bench%")).order_by(Organization.id))
    headers = {"Authorization": bench.lrs_auth(env, slug), "X-Experience-API-Version": "1.0.3"}
    client = app.test_client()
    corpus = Corpus()
    print(f"LRS GETs in one process — {url.split('@')[-1]}, {args.queries} GETs a kind, "
          + ("" if not url.startswith("postgresql") else
             "never prepared, " if args.unprepared else "prepared after 5 runs, ")
          + f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with app.app_context():
        for round_ in range(1, args.rounds + 1):
            print(f"  round {round_}")
            for name, params in get_kinds(corpus).items():
                timings, bodies = [], []
                backends, cpu = bench.database_cpu(), time.process_time()
                for _ in range(args.queries):
                    query = urlencode({**params(), "limit": 100})
                    start = time.perf_counter()
                    response = client.get(f"/xapi/statements?{query}", headers=headers)
                    timings.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, response.get_data(as_text=True)[:300]
                    bodies.append(response.get_data())
                cpu_ms = 1000 * (time.process_time() - cpu) / args.queries
                backend = 1000 * bench.database_cpu_since(backends) / args.queries
                returned = sum(len(json.loads(body)["statements"]) for body in bodies)
                db.session.remove()
                print(f"    GET {name:<17} p50 {bench.percentile(timings, 0.5):6.1f} ms  "
                      f"p95 {bench.percentile(timings, 0.95):6.1f} ms  CPU {cpu_ms:4.1f} ms"
                      + (f" + {backend:4.1f} ms PostgreSQL" if url.startswith("postgresql")
                         else "")
                      + f" a GET ({returned / args.queries:.0f} statements)")


if __name__ == "__main__":
    main()
