"""Benchmark of Relais' LRS: ingestion over HTTP and filtered GET latency as the store grows.

It serves Relais with ``relais serve`` (the production server) on a free port, then:

1. measures HTTP ingestion on an empty store: batches of 100 statements, and single POSTs;
2. preloads the store to ``--statements`` directly through ``record()`` (same code path, no
   HTTP, for speed) and reports that rate too;
3. measures HTTP ingestion again on the full store (the target: within 20 % of step 1);
4. measures filtered GETs (agent, verb, activity, registration; limit=100): p50 and p95.

``--preload-sql`` does step 2 with the rows ``record()`` would write, in bulk (see
:func:`preload_sql`: about 12 minutes for 1,000,000 on a busy 2-core machine instead of 35);
``--reuse INSTANCE`` measures the store an earlier run left (steps 3 and 4, the GETs twice).
On PostgreSQL the CPU of the database's backends is printed next to the server's.

Run::

    .venv/bin/python bench/xapi_ingest.py --statements 1000000 --preload-sql
    .venv/bin/python bench/xapi_ingest.py --statements 100000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/relais_bench

Targets (issue #18, SQLite and PostgreSQL): ≥ 10,000 statements/s in batches of 100, within
20 % from empty to 1,000,000 stored; ≥ 800/s single POSTs; filtered GET p95 ≤ 10 ms at
1,000,000 stored. Each rate is also given per CPU-second of the server's processes, and each
GET kind with its server CPU: on a busy machine those are the figures to compare.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import common as bench

VERBS = ["http://adlnet.gov/expapi/verbs/" + v for v in (
    "registered", "launched", "initialized", "attempted", "answered", "experienced",
    "completed", "passed", "failed", "attended", "commented", "shared", "progressed",
    "terminated", "scored", "interacted", "asked", "responded", "mastered", "suspended")]


class Corpus:
    """Deterministic, realistic statements: learners, modules, programs, registrations."""

    def __init__(self, seed: int = 7, learners: int = 10_000, activities: int = 2_000,
                 registrations: int = 5_000) -> None:
        self.random = random.Random(seed)
        self.base = "https://bench.relais.test"
        self.learners = learners
        self.activities = activities
        self.registrations = [str(uuid.UUID(int=self.random.getrandbits(128), version=4))
                              for _ in range(registrations)]

    def agent(self, n: int) -> dict[str, Any]:
        return {"objectType": "Agent", "name": f"Learner {n}",
                "account": {"homePage": self.base, "name": str(n)}}

    def activity_id(self, n: int) -> str:
        return f"{self.base}/activities/module/{n}"

    def statement(self) -> dict[str, Any]:
        r = self.random
        module = r.randrange(self.activities)
        program = module // 20
        st: dict[str, Any] = {
            "id": str(uuid.UUID(int=r.getrandbits(128), version=4)),
            "actor": self.agent(r.randrange(self.learners)),
            "verb": {"id": r.choice(VERBS), "display": {"en-US": "did"}},
            "object": {"objectType": "Activity", "id": self.activity_id(module),
                       "definition": {
                           "name": {"en-US": f"Module {module}", "fr-FR": f"Module {module}"},
                           "type": "http://adlnet.gov/expapi/activities/module"}},
            "context": {
                "registration": r.choice(self.registrations),
                "platform": "Relais",
                "contextActivities": {
                    "parent": [{"id": f"{self.base}/activities/program/{program}"}],
                    "grouping": [{"id": f"{self.base}/activities/cohort/{program % 50}"}]}},
            "timestamp": "2026-11-23T10:00:00.000Z",
        }
        if r.random() < 0.3:
            st["result"] = {"score": {"scaled": round(r.random(), 2)}, "success": True,
                            "completion": True, "duration": "PT12M30S"}
        return st

    def batch(self, size: int) -> list[dict[str, Any]]:
        return [self.statement() for _ in range(size)]


def post_bodies(port: int, headers: dict[str, str], bodies: list[bytes],
                threads: int) -> float:
    """POST every body (spread over ``threads`` keep-alive connections); seconds taken."""
    chunks = [bodies[i::threads] for i in range(threads)]
    errors: list[str] = []

    def worker(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body in chunk:
            conn.request("POST", "/xapi/statements", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                errors.append(f"{response.status} {data[:200]!r}")
        conn.close()

    elapsed = bench.run_threads([threading.Thread(target=worker, args=(chunk,))
                                 for chunk in chunks])
    if errors:
        raise SystemExit(f"{len(errors)} failed POSTs, first: {errors[0]}")
    return elapsed


def measure_ingest(label: str, server: bench.Server, headers: dict[str, str], corpus: Corpus,
                   batches: int, singles: int, threads: int, url: str) -> dict[str, float]:
    """Wall-clock rates, and statements per CPU-second of the server (which does not depend
    on what else the machine runs)."""
    # A few requests first: the server's workers open their connections and warm caches.
    warm = [json.dumps(corpus.batch(100)).encode() for _ in range(2 * threads)]
    post_bodies(server.port, headers, warm, threads)
    bodies = [json.dumps(corpus.batch(100)).encode() for _ in range(batches)]
    cpu, backend = server.cpu_seconds(), bench.database_backends_cpu(url)
    batch_rate = batches * 100 / post_bodies(server.port, headers, bodies, threads)
    batch_cpu = batches * 100 / max(server.cpu_seconds() - cpu, 1e-6)
    backend_after = bench.database_backends_cpu(url)
    batch_note = ""
    if backend is not None and backend_after is not None:
        # The server's processes and its PostgreSQL backends together: the database's work
        # is part of a statement's cost.
        both = batches * 100 / max(server.cpu_seconds() - cpu + backend_after - backend, 1e-6)
        batch_note = (f"; PostgreSQL backends {1e6 * (backend_after - backend) / batches / 100:.0f}"
                      f" µs of CPU a statement, {both:,.0f} per CPU-second with them")
    single_bodies = [json.dumps(corpus.statement()).encode() for _ in range(singles)]
    cpu, backend = server.cpu_seconds(), bench.database_backends_cpu(url)
    single_rate = singles / post_bodies(server.port, headers, single_bodies, threads)
    single_cpu = singles / max(server.cpu_seconds() - cpu, 1e-6)
    backend_after = bench.database_backends_cpu(url)
    backend_note = ""
    if backend is not None and backend_after is not None:
        backend_note = (f"; PostgreSQL backends {1e3 * (backend_after - backend) / singles:.2f} "
                        f"ms of CPU a request")
    print(f"  [{label}] batches of 100: {batch_rate:,.0f} statements/s wall, "
          f"{batch_cpu:,.0f} per server CPU-second ({batches} requests, {threads} clients"
          f"{batch_note})")
    print(f"  [{label}] single POSTs:   {single_rate:,.0f} statements/s wall, "
          f"{single_cpu:,.0f} per server CPU-second ({singles} requests, {threads} clients"
          f"{backend_note})")
    return {"batch": batch_rate, "single": single_rate, "batch_cpu": batch_cpu,
            "single_cpu": single_cpu}


def get_kinds(corpus: Corpus) -> dict[str, Callable[[], dict[str, str]]]:
    """The filter kinds the GETs measure, each drawing its next parameters: the same keys on
    every call (a new ``Random(11)``), so that runs compare."""
    r = random.Random(11)
    return {
        "agent": lambda: {"agent": json.dumps(corpus.agent(r.randrange(corpus.learners)))},
        "verb": lambda: {"verb": r.choice(VERBS)},
        "activity": lambda: {"activity": corpus.activity_id(r.randrange(corpus.activities))},
        "registration": lambda: {"registration": r.choice(corpus.registrations)},
        "agent+verb": lambda: {"agent": json.dumps(corpus.agent(r.randrange(corpus.learners))),
                               "verb": r.choice(VERBS)},
        "related activity": lambda: {
            "activity": f"{corpus.base}/activities/program/{r.randrange(100)}",
            "related_activities": "true"},
    }


def measure_gets(server: bench.Server, headers: dict[str, str], corpus: Corpus, count: int,
                 url: str) -> dict[str, tuple[float, float]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    results = {}
    for name, params in get_kinds(corpus).items():
        timings = []
        returned = 0
        cpu, backend = server.cpu_seconds(), bench.database_backends_cpu(url)
        for _ in range(count):
            query = urlencode({**params(), "limit": 100})
            start = time.perf_counter()
            conn.request("GET", f"/xapi/statements?{query}", headers=headers)
            response = conn.getresponse()
            body = response.read()
            timings.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                raise SystemExit(f"GET failed: {response.status} {body[:200]!r}")
            returned += len(json.loads(body)["statements"])
        cpu_ms = 1000 * (server.cpu_seconds() - cpu) / count
        backend_after = bench.database_backends_cpu(url)
        backend_note = "" if backend is None or backend_after is None else (
            f" + {1000 * (backend_after - backend) / count:4.1f} ms PostgreSQL")
        p50, p95 = bench.percentile(timings, 0.50), bench.percentile(timings, 0.95)
        results[name] = (p50, p95)
        print(f"  GET {name:<17} limit=100: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
              f"server CPU {cpu_ms:5.1f} ms{backend_note} a GET (avg {returned / count:.0f} "
              "statements returned)")
    conn.close()
    return results


def preload(database_url: str, instance: str, org_id: int, corpus: Corpus, total: int,
            chunk: int = 1000) -> tuple[int, int, float]:
    """Fill the store to ``total`` statements through record(): (statements stored before,
    statements added, seconds taken). The empty-store measure has already stored a few
    thousand: a ``total`` below that adds nothing.
    """
    os.environ["RELAIS_INSTANCE_PATH"] = instance
    from lms import create_app
    from lms.extensions import db
    from lms.xapi.record import record

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        from sqlalchemy import func, select

        from lms.xapi.models import Statement

        have = db.session.scalar(select(func.count()).select_from(Statement)) or 0
        todo = max(0, total - have)
        start = time.perf_counter()
        done = 0
        last_report = start
        while done < todo:
            size = min(chunk, todo - done)
            record(corpus.batch(size), organization_id=org_id)
            db.session.commit()
            done += size
            if time.perf_counter() - last_report > 15:
                last_report = time.perf_counter()
                print(f"    … {have + done:,} stored "
                      f"({done / (last_report - start):,.0f}/s)", flush=True)
        elapsed = time.perf_counter() - start
        db.session.remove()
        db.engine.dispose()
    return have, todo, elapsed


def preload_sql(database_url: str, instance: str, org_id: int, corpus: Corpus, total: int,
                chunk: int = 20_000) -> tuple[int, int, float]:
    """Fill the store to ``total`` statements fast, rows as ``record()`` writes them: each
    statement is completed and turned into its row and index keys by ``record()``'s own steps
    (``_prepare``, ``_rows``: same JSON, columns and index rows, the corpus being valid), the
    statements appended in pk order, the index rows staged in an unindexed table and moved
    into ``xapi_statement_index`` at the end in one statement, in pk order as requests would
    have written them (so its pages split and scatter as a store grown by requests does;
    in key order it would come out packed, 20–30 % smaller, its keys' pages adjacent), with
    a page cache large enough for the whole index on SQLite; then ``ANALYZE`` (``VACUUM
    ANALYZE`` on PostgreSQL). Not checked against the store (ids are new UUIDs), no
    projection, no forwarding (the bench organization forwards nothing, its activities are
    no course's). About 12 minutes for 1,000,000 on this 2-core machine under load, where
    :func:`preload` took 35. (returns as :func:`preload`)
    """
    os.environ["RELAIS_INSTANCE_PATH"] = instance
    from lms import create_app
    from lms.core.database import copy_rows
    from lms.core.models import utcnow
    from lms.extensions import db
    from lms.xapi import partitions
    from lms.xapi import record as store

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    postgres = database_url.startswith("postgresql")
    with app.app_context():
        connection = db.session.connection()
        have = connection.exec_driver_sql("SELECT count(*) FROM xapi_statements").scalar() or 0
        todo = max(0, total - have)
        if postgres:
            connection.exec_driver_sql(
                "CREATE UNLOGGED TABLE _preload_index (organization_id int, key_hash bigint, "
                "statement_pk bigint)")
        else:
            connection.exec_driver_sql(
                "CREATE TEMP TABLE _preload_index (organization_id int, key_hash int, "
                "statement_pk int)")
        db.session.commit()
        authority = store.system_authority(org_id)
        start = last_report = time.perf_counter()
        done = 0
        while done < todo:
            size = min(chunk, todo - done)
            now = utcnow()
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            prepared = store._prepare(corpus.batch(size), stored_text=store.format_timestamp(now),
                                      authority=authority, validated=True)
            computed = store._rows(org_id, prepared, now)
            if postgres:
                # Monthly partitions (migration 0040): the key carries the month of stored.
                pks = store.StatementKeys().take(size)
            else:
                last = db.session.connection().exec_driver_sql(
                    "SELECT max(pk) FROM xapi_statements").scalar() or 0
                pks = list(range(last + 1, last + 1 + size))
            rows = [found.row for found in computed.values()]
            copy_rows("xapi_statements", ("pk", *store._STATEMENT_COLUMNS),
                      [(pk, *values) for pk, values in
                       zip(pks, store._statement_values(rows), strict=True)])
            if partitions.partitioned():  # the ids' table, as record() fills it
                copy_rows("xapi_statement_ids", ("organization_id", "statement_id", "pk"),
                          [(org_id, row["statement_id"], pk)
                           for pk, row in zip(pks, rows, strict=True)])
            copy_rows("_preload_index", store._INDEX_COLUMNS,
                      [(org_id, key, pk) for pk, found in
                       zip(pks, computed.values(), strict=True) for key in found.index])
            activities = [a for found in computed.values() for a in found.activities]
            store._update_activities(org_id, activities)
            db.session.commit()
            done += size
            if time.perf_counter() - last_report > 15:
                last_report = time.perf_counter()
                print(f"    … {have + done:,} stored, index rows staged "
                      f"({done / (last_report - start):,.0f}/s)", flush=True)
        connection = db.session.connection()
        moved = time.perf_counter()
        if not postgres:  # about 450 MB of index at 1,000,000: all of it in the cache
            connection.exec_driver_sql("PRAGMA cache_size=-2000000")
        connection.exec_driver_sql(
            "INSERT INTO xapi_statement_index (organization_id, key_hash, statement_pk) "
            "SELECT organization_id, key_hash, statement_pk FROM _preload_index "
            f"ORDER BY {'statement_pk' if postgres else 'rowid'}")
        connection.exec_driver_sql("DROP TABLE _preload_index")
        if not postgres:
            connection.exec_driver_sql("PRAGMA cache_size=-65536")
        db.session.commit()
        print(f"    index rows moved in pk order in {time.perf_counter() - moved:,.1f} s",
              flush=True)
        db.session.remove()
        engine = db.engine
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE" if postgres else "ANALYZE")
            if not postgres:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        elapsed = time.perf_counter() - start
    return have, todo, elapsed


def _count(database_url: str, instance: str) -> int:
    """How many statements the store holds."""
    os.environ["RELAIS_INSTANCE_PATH"] = instance
    from lms import create_app
    from lms.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        count = db.session.connection().exec_driver_sql(
            "SELECT count(*) FROM xapi_statements").scalar() or 0
        db.session.remove()
        db.engine.dispose()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp dir")
    parser.add_argument("--statements", type=int, default=1_000_000,
                        help="size of the store for the second measure (default 1,000,000)")
    parser.add_argument("--batches", type=int, default=200,
                        help="HTTP batches of 100 per measure (default 200)")
    parser.add_argument("--singles", type=int, default=2000,
                        help="single-statement POSTs per measure (default 2000)")
    parser.add_argument("--threads", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--queries", type=int, default=200, help="GETs per filter kind")
    parser.add_argument("--preload-sql", action="store_true",
                        help="preload with the rows record() would write, in bulk (minutes "
                        "for 1,000,000 instead of about an hour; see preload_sql)")
    parser.add_argument("--reuse", metavar="INSTANCE",
                        help="the instance folder of an earlier run (its SQLite store, or the "
                        "--database-url it used): steps 1 and 2 skipped, the store measured "
                        "as it is")
    args = parser.parse_args()

    instance = args.reuse or tempfile.mkdtemp(prefix="relais-bench-")
    url = args.database_url or f"sqlite:///{instance}/bench.db"
    env = {**os.environ, "RELAIS_INSTANCE_PATH": instance, "RELAIS_DATABASE_URL": url,
           "RELAIS_LOG_LEVEL": "WARNING"}
    print(f"Relais LRS benchmark — database {url.split('@')[-1]}, target store "
          f"{args.statements:,} statements, {os.cpu_count()} CPUs, instance {instance}")

    slug = "bench" + uuid.uuid4().hex[:6]
    if not args.reuse:
        bench.relais(env, "init")
        bench.relais(env, "create-org", "--slug", slug, "--name", "Bench")
    os.environ["RELAIS_INSTANCE_PATH"] = instance
    from lms import create_app
    from lms.accounts.models import Organization
    from lms.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if args.reuse:  # the earlier run's organization
            slug = db.session.scalar(db.select(Organization.slug).where(
                Organization.slug.like("bench%")).order_by(Organization.id))
        org_id = db.session.scalar(db.select(Organization.id).where(Organization.slug == slug))
        db.session.remove()
        db.engine.dispose()
    headers = {"Authorization": bench.lrs_auth(env, slug), "X-Experience-API-Version": "1.0.3",
               "Content-Type": "application/json"}
    corpus = Corpus()
    if args.reuse:  # the same learners, activities and registrations, new statements
        corpus.random.seed(time.time())
    if args.reuse:
        stored = _count(url, instance)
        server = bench.Server(env)
        try:
            print(f"3. HTTP ingestion, {stored:,} stored")
            measure_ingest("full", server, headers, corpus, args.batches, args.singles,
                           args.threads, url)
            print(f"4. Filtered GETs, {stored:,} stored (and those step 3 added)")
            measure_gets(server, headers, corpus, args.queries, url)
            print("   again (the same server, its caches warm)")
            measure_gets(server, headers, corpus, args.queries, url)
        finally:
            server.stop()
        return

    server = bench.Server(env)
    try:
        print("1. HTTP ingestion, empty store")
        empty = measure_ingest("empty", server, headers, corpus, args.batches,
                               args.singles, args.threads, url)
        measure_gets(server, headers, corpus, max(20, args.queries // 5), url)
    finally:
        server.stop()

    how = "record()'s rows in bulk" if args.preload_sql else "record()"
    print(f"2. Preloading to {args.statements:,} statements through {how} (no HTTP)")
    fill = preload_sql if args.preload_sql else preload
    have, added, seconds = fill(url, instance, org_id, corpus, args.statements)
    if added:
        print(f"  {how}: {added:,} statements added to {have:,} in "
              f"{seconds:,.1f} s, {added / seconds:,.0f} statements/s")
    else:
        print(f"  nothing to add: the first measure already stored {have:,} statements")
    stored = have + added

    server = bench.Server(env)
    try:
        print(f"3. HTTP ingestion, {stored:,} stored")
        full = measure_ingest("full", server, headers, corpus, args.batches,
                              args.singles, args.threads, url)
        print(f"4. Filtered GETs, {stored:,} stored (and those step 3 added)")
        gets = measure_gets(server, headers, corpus, args.queries, url)
    finally:
        server.stop()

    print("Summary")
    change = (full["batch"] - empty["batch"]) / empty["batch"] * 100
    print(f"  batches of 100: {empty['batch']:,.0f}/s empty → {full['batch']:,.0f}/s at "
          f"{stored:,} ({change:+.0f} %)   target ≥ 10,000/s, within 20 %")
    print(f"  single POSTs:   {empty['single']:,.0f}/s empty → {full['single']:,.0f}/s   "
          "target ≥ 800/s")
    cpu_change = (full["batch_cpu"] - empty["batch_cpu"]) / empty["batch_cpu"] * 100
    print(f"  per server CPU-second: batches {empty['batch_cpu']:,.0f} → "
          f"{full['batch_cpu']:,.0f} ({cpu_change:+.0f} %), singles {empty['single_cpu']:,.0f} → "
          f"{full['single_cpu']:,.0f}; load average now {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs (wall figures need an otherwise idle machine)")
    worst = max(p95 for _p50, p95 in gets.values())
    print(f"  filtered GET p95 (worst filter): {worst:.1f} ms   target ≤ 10 ms")


if __name__ == "__main__":
    main()
