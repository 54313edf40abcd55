"""Single LRS POSTs on SQLite in one process: one connection, or two taking turns (each
write then drops the other connection's page cache, as the four connections of two gunicorn
processes × two threads do), as the store grows and after a checkpoint.

CPU of the process a POST (the test client, rate limits off, 20 warm-up POSTs a measure), so
the figures do not depend on what else the machine runs as much as wall rates do. Run::

    .venv/bin/python bench/xapi_sqlite_connections.py [--singles 600] [--sizes 2000,5000]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid

import common as bench
from xapi_ingest import Corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--singles", type=int, default=600, help="POSTs a measure")
    parser.add_argument("--sizes", default="2000,5000", help="store sizes (batches of 100)")
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="relais-bench-")
    url = f"sqlite:///{instance}/bench.db"
    env = {**os.environ, "RELAIS_INSTANCE_PATH": instance, "RELAIS_DATABASE_URL": url,
           "RELAIS_LOG_LEVEL": "WARNING"}
    slug = "bench" + uuid.uuid4().hex[:6]
    bench.relais(env, "init")
    bench.relais(env, "create-org", "--slug", slug, "--name", "Bench")
    headers = {"Authorization": bench.lrs_auth(env, slug), "X-Experience-API-Version": "1.0.3",
               "Content-Type": "application/json"}
    os.environ["RELAIS_INSTANCE_PATH"] = instance
    from lms import create_app
    from lms.extensions import db

    # Two applications, two engines: two connections to the same file.
    apps = [create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
            for _ in range(2)]
    clients = [app.test_client() for app in apps]
    corpus = Corpus()

    def post(which: int, body: str) -> None:
        response = clients[which].post("/xapi/statements", data=body, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{response.status_code} {response.data[:200]!r}")

    def measure(label: str, turns: bool) -> int:
        """Measure; the number of statements it added."""
        bodies = [json.dumps(corpus.statement()) for _ in range(args.singles + 20)]
        for body in bodies[:20]:
            post(0, body)
        start = time.process_time()
        for n, body in enumerate(bodies[20:]):
            post(n % 2 if turns else 0, body)
        cpu = (time.process_time() - start) / args.singles * 1e6
        print(f"  {label:30s} {'two connections' if turns else 'one connection ':15s} "
              f"{cpu:6.0f} µs of CPU a POST", flush=True)
        return len(bodies)

    stored = 0
    for size in (int(s) for s in args.sizes.split(",")):
        while stored < size:
            post(0, json.dumps(corpus.batch(100)))
            stored += 100
        for _ in range(2):
            stored += measure(f"{stored:,} stored", False)
            stored += measure(f"{stored:,} stored", True)
    with apps[0].app_context():
        db.session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.session.remove()
    for _ in range(2):
        stored += measure(f"{stored:,} stored, checkpointed", False)
        stored += measure(f"{stored:,} stored, checkpointed", True)
    print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
