"""Benchmark of the LRS document resources (State, Activity/Agent Profile) as the store grows.

It serves Relais with ``relais serve`` (the production server) on a free port, then:

1. on an empty store, measures over HTTP (keep-alive, ``--clients`` threads): State PUTs of
   a ~1 KB JSON document, POST merges into them, GETs of one document and GETs of a
   context's ids (p50/p95 latencies for the GETs);
2. preloads ``--documents`` State documents directly in the database (spread over 10,000
   learners and 200 activities), with the same hashes the service computes;
3. measures the same requests again on the full store: the figures should stay flat, since
   every request is one lookup in a unique index (or one index range for the ids).

Run::

    .venv/bin/python bench/xapi_documents.py --documents 1000000
    .venv/bin/python bench/xapi_documents.py --documents 200000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/relais_bench
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import common as bench

LEARNERS, ACTIVITIES = 10_000, 200


def agent(n: int) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": "https://bench.relais.test",
                                                "name": f"learner-{n}"}}


def activity(n: int) -> str:
    return f"https://bench.relais.test/xapi/activities/module/{n}"


def document(n: int) -> bytes:
    data = {"bookmark": f"slide-{n % 40}", "suspend_data": "x" * 900, "score": n % 100}
    return json.dumps(data).encode()


def preload(env: dict[str, str], count: int) -> float:
    """Insert ``count`` State documents through SQLAlchemy; return documents per second."""
    os.environ.update(env)
    from sqlalchemy import insert

    from lms import create_app
    from lms.accounts.models import Organization
    from lms.core.models import utcnow
    from lms.extensions import db
    from lms.xapi.agents import agent_key
    from lms.xapi.document_models import Document
    from lms.xapi.documents import STATE, Scope, etag_of

    app = create_app()
    start = time.perf_counter()
    with app.app_context():
        org_id = db.session.scalar(db.select(Organization.id).where(Organization.slug == "bench"))
        keys = [agent_key(agent(n)) for n in range(LEARNERS)]
        content = document(0)
        rows = []
        now = utcnow()
        for i in range(count):
            scope = Scope(STATE, activity_id=activity(i % ACTIVITIES),
                          agent_key=keys[(i // ACTIVITIES) % LEARNERS])
            doc_id = f"preloaded-{i}"
            rows.append({"organization_id": org_id, "kind": STATE,
                         "activity_id": scope.activity_id, "agent_key": scope.agent_key,
                         "registration": "", "document_id": doc_id,
                         "scope_hash": scope.scope_hash, "key_hash": scope.key_hash(doc_id),
                         "content_type": "application/json", "content": content,
                         "etag": etag_of(content), "updated_at": now})
            if len(rows) == 10_000:
                db.session.execute(insert(Document), rows)
                db.session.commit()
                rows = []
        if rows:
            db.session.execute(insert(Document), rows)
            db.session.commit()
    return count / (time.perf_counter() - start)


class Client:
    """One keep-alive connection to the LRS."""

    def __init__(self, port: int, auth: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": auth, "X-Experience-API-Version": "1.0.3"}

    def call(self, method: str, params: dict[str, Any], body: bytes | None = None) -> float:
        query = urlencode({k: json.dumps(v) if isinstance(v, dict) else v
                           for k, v in params.items()})
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        start = time.perf_counter()
        self.conn.request(method, f"/xapi/activities/state?{query}", body=body,
                          headers=headers)
        response = self.conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
        if response.status not in (200, 204):
            raise SystemExit(f"{method} {params}: HTTP {response.status}")
        return elapsed


def measure(label: str, port: int, auth: str, clients: int, requests: int,
            offset: int) -> None:
    """Run each kind of request ``requests`` times over ``clients`` threads; print figures."""

    def params(i: int, with_id: bool = True) -> dict[str, Any]:
        p: dict[str, Any] = {"activityId": activity(i % ACTIVITIES),
                             "agent": agent((offset + i) % LEARNERS)}
        if with_id:
            p["stateId"] = f"bench-{offset + i}"
        return p

    kinds: list[tuple[str, Callable[[Client, int], float]]] = [
        ("PUT one document", lambda c, i: c.call("PUT", params(i), document(i))),
        ("POST merge", lambda c, i: c.call("POST", params(i), b'{"progress": 0.5}')),
        ("GET one document", lambda c, i: c.call("GET", params(i))),
        ("GET the ids", lambda c, i: c.call("GET", params(i, with_id=False))),
    ]
    def worker(action: Callable[[Client, int], float], indexes: range,
               latencies: list[float], lock: threading.Lock) -> None:
        client = Client(port, auth)
        mine = [action(client, i) for i in indexes]
        with lock:
            latencies.extend(mine)

    print(f"\n{label}")
    for name, action in kinds:
        latencies: list[float] = []
        lock = threading.Lock()
        per = requests // clients
        threads = [threading.Thread(target=worker, args=(
            action, range(t * per, (t + 1) * per), latencies, lock)) for t in range(clients)]
        wall = bench.run_threads(threads)
        print(f"  {name:<18} {len(latencies) / wall:8,.0f} req/s   "
              f"p50 {statistics.median(latencies) * 1000:6.1f} ms   "
              f"p95 {bench.percentile(latencies, 0.95) * 1000:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="relais-bench-docs-")
    env = {**os.environ, "RELAIS_INSTANCE_PATH": instance}
    if args.database_url:
        env["RELAIS_DATABASE_URL"] = args.database_url
    bench.relais(env, "init")
    bench.relais(env, "create-org", "--slug", "bench", "--name", "Bench")
    auth = bench.lrs_auth(env, "bench")

    server = bench.Server(env)
    try:
        database = args.database_url or "SQLite"
        print(f"Relais LRS documents, {database}, {args.clients} clients, "
              f"{args.requests} requests of each kind")
        measure("empty store", server.port, auth, args.clients, args.requests, offset=0)
        rate = preload(env, args.documents)
        print(f"\npreloaded {args.documents:,} documents ({rate:,.0f}/s, direct inserts)")
        measure(f"{args.documents:,} documents stored", server.port, auth, args.clients,
                args.requests, offset=args.requests)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
