"""CPU of ingestion and of filtered GETs as the PostgreSQL statement store grows, on main's
plain tables or on the monthly partitions (migration 0040); prints its figures.

    .venv/bin/python bench/xapi_partitions.py --database postgresql+psycopg://…/NAME
        [--schema partitioned|plain] [--stored 1000000,5000000,10000000]
        [--per-month 344828] [--batches 30] [--gets 40]

The database is emptied, migrated (``plain``: up to 0037, main's schema before the partitions,
from a checkout before migration 0044; ``partitioned``: to head), then filled to each
``--stored`` count in turn and measured there. Rows are generated inside PostgreSQL (``INSERT …
SELECT`` from ``generate_series``: statements like ``bench/xapi_ingest.py``'s corpus — 10,000
learners, 2,000 modules, 5,000 registrations, 20 verbs — with their seven index rows and,
partitioned, their ids), ``VACUUM ANALYZE`` after each fill. The store grows at a steady
``--per-month`` statements (10,000,000 over 29 months by default) and always ends now: growing
from N to M adds the older months, so each checkpoint looks like a store of that size that has
been running that long.

At each checkpoint: ``record()`` of batches of 100 statements of the same corpus (CPU a
statement of this process and of its PostgreSQL backend, after warm-up batches), then GETs
through the test client with ``limit=100`` and varying keys (agent, verb, activity,
registration, agent + verb, related activity, agent since 30 days, agent ascending): CPU
milliseconds a GET, this process + the database backends. On a shared machine the wall time
means little; compare the CPU.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import common as bench
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select
from xapi_ingest import VERBS, Corpus

from lms import create_app
from lms.accounts import services as accounts
from lms.accounts.models import Organization
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi import partitions
from lms.xapi.index_keys import index_key
from lms.xapi.models import Statement
from lms.xapi.record import record
from lms.xapi.services import create_lrs_credentials

MAIN_HEAD = "0039_running_figures"
BASE = "https://bench.relais.test"
# Preloaded keys count down from here (newest first); the sequence restarts above it.
SEQUENCE_TOP = 1_000_000_000
CHUNK = 250_000
MONTH = timedelta(days=30.44)


def _migrate(url: str, schema: str, reuse: bool) -> Any:
    # Not bench.bench_app: it always migrates to head.
    if not reuse:
        bench.wipe_database(url)
    os.environ["RELAIS_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="relais-bench-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "BASE_URL": "http://relais.bench",
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        if reuse:
            return app
        upgrade(directory=app.extensions["migrate"].directory,
                revision=MAIN_HEAD if schema == "plain" else "head")
    return app


def _fill(url: str, org_id: int, authority_key: str, have: int, want: int,
          per_month: int, schema: str) -> None:
    """Add the statements ``have`` … ``want`` − 1 (numbered from the newest), older ones."""
    step = MONTH.total_seconds() / per_month
    engine = create_engine(url)
    if schema == "partitioned":
        oldest = partitions.month_code(utcnow() - timedelta(seconds=step * want)) - 1
        with engine.begin() as conn:
            conn.exec_driver_sql("SET client_min_messages = warning")
        # create_month runs in the app's session (see main); months are made there.
        _make_months(oldest)
    month_of = ("(extract(year from stored AT TIME ZONE 'UTC')::bigint * 12 "
                "+ extract(month from stored AT TIME ZONE 'UTC')::bigint - 1)")
    pk = (f"({month_of} << 40) + ({SEQUENCE_TOP} - i)" if schema == "partitioned"
          else f"{SEQUENCE_TOP} - i")
    ids = ("INSERT INTO xapi_statement_ids (organization_id, statement_id, pk) "
           "SELECT organization_id, statement_id::uuid, pk FROM new"
           if schema == "partitioned" else "SELECT 1")
    verbs = "ARRAY[" + ",".join(f"'{v}'" for v in VERBS) + "]"
    if schema == "partitioned":
        _key_table(engine, verbs, authority_key)
        # The index keys are hashes (migration 0044): each (kind, key) the rows can name has
        # its hash in _bench_keys, computed in Python (lms.xapi.index_keys).
        index_rows = ("INSERT INTO xapi_statement_index (organization_id, key_hash, "
                      "statement_pk) SELECT organization_id, m.key_hash, pk FROM new, LATERAL "
                      "(VALUES {keys}) AS k(kind, key) JOIN _bench_keys m "
                      "ON m.kind = k.kind AND m.key = k.key")
    else:  # main's schema before 0044: text keys
        index_rows = ("INSERT INTO xapi_statement_index (organization_id, kind, key, "
                      "statement_pk) SELECT organization_id, kind, key, pk FROM new, LATERAL "
                      "(VALUES {keys}) AS k(kind, key)")
    index_rows = index_rows.format(keys=f"""
                ('a', actor_key), ('v', verb_id), ('o', object_activity_id),
                ('r', registration),
                ('O', '{BASE}/activities/program/'
                      || (split_part(object_activity_id, '/', 6)::int / 20)),
                ('O', '{BASE}/activities/cohort/'
                      || (split_part(object_activity_id, '/', 6)::int / 20 % 50)),
                ('A', '{authority_key}')""")
    for start in range(have, want, CHUNK):
        end = min(want, start + CHUNK) - 1
        sql = f"""
        WITH gen AS (
            SELECT g.i AS i, now() - make_interval(secs => {step} * i + 60) AS stored,
                   (random() * 9999)::int AS learner, (random() * 1999)::int AS module,
                   ({verbs})[1 + (random() * 19)::int] AS verb,
                   (SELECT format('%s-%s-4%s-8%s-%s', substr(h, 1, 8), substr(h, 9, 4),
                                  substr(h, 14, 3), substr(h, 18, 3), substr(h, 21, 12))
                    FROM md5('registration' || (random() * 4999)::int + 0 * g.i) AS h)
                       AS registration,
                   gen_random_uuid()::text AS sid, random() < 0.3 AS scored
            FROM generate_series({start}, {end}) AS g(i)
        ), rows AS (
            SELECT {pk} AS pk, * FROM gen
        ), new AS (
            INSERT INTO xapi_statements (pk, organization_id, statement_id, actor_key, verb_id,
                object_type, object_activity_id, registration, timestamp, stored, voided, data)
            SELECT pk, {org_id}, sid, 'account:{BASE}|' || learner, verb, 'Activity',
                '{BASE}/activities/module/' || module, registration, stored, stored, false,
                json_build_object(
                    'id', sid,
                    'actor', json_build_object('objectType', 'Agent',
                        'name', 'Learner ' || learner,
                        'account', json_build_object('homePage', '{BASE}', 'name',
                                                     learner::text)),
                    'verb', json_build_object('id', verb, 'display',
                                              json_build_object('en-US', 'did')),
                    'object', json_build_object('objectType', 'Activity',
                        'id', '{BASE}/activities/module/' || module,
                        'definition', json_build_object(
                            'name', json_build_object('en-US', 'Module ' || module,
                                                      'fr-FR', 'Module ' || module),
                            'type', 'http://adlnet.gov/expapi/activities/module')),
                    'context', json_build_object('registration', registration,
                        'platform', 'Relais',
                        'contextActivities', json_build_object(
                            'parent', json_build_array(json_build_object(
                                'id', '{BASE}/activities/program/' || (module / 20))),
                            'grouping', json_build_array(json_build_object(
                                'id', '{BASE}/activities/cohort/' || (module / 20 % 50))))),
                    'result', CASE WHEN scored THEN json_build_object(
                        'score', json_build_object('scaled', round(random()::numeric, 2)),
                        'success', true, 'completion', true, 'duration', 'PT12M30S') END,
                    'timestamp', to_char(stored AT TIME ZONE 'UTC',
                                         'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                    'stored', to_char(stored AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                    'authority', json_build_object('objectType', 'Agent', 'name', 'bench',
                        'account', json_build_object('homePage', 'http://relais.bench',
                                                     'name', 'bench')),
                    'version', '1.0.0')::text
            FROM rows
            RETURNING pk, organization_id, statement_id, actor_key, verb_id,
                      object_activity_id, registration
        ), idx AS (
            {index_rows}
        )
        {ids}
        """
        with engine.begin() as conn:
            conn.exec_driver_sql(sql.replace("%", "%%"))
        print(f"    filled {end + 1:,}", flush=True)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"SELECT setval('xapi_statements_pk_seq', {SEQUENCE_TOP + 1}, "
                             f"true) WHERE (SELECT last_value FROM xapi_statements_pk_seq) "
                             f"< {SEQUENCE_TOP}")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def _key_table(engine: Any, verbs: str, authority_key: str) -> None:
    """``_bench_keys``: every (kind, key) :func:`_fill`'s rows can name, with its index key
    (hashed in Python: PostgreSQL has no BLAKE2b)."""
    registration = ("format('%s-%s-4%s-8%s-%s', substr(h, 1, 8), substr(h, 9, 4), "
                    "substr(h, 14, 3), substr(h, 18, 3), substr(h, 21, 12))")
    with engine.begin() as conn:
        keys = conn.exec_driver_sql(f"""
            SELECT 'a', 'account:{BASE}|' || n FROM generate_series(0, 9999) AS n
            UNION SELECT 'v', unnest({verbs})
            UNION SELECT 'o', '{BASE}/activities/module/' || n FROM generate_series(0, 1999) AS n
            UNION SELECT 'r', {registration} FROM generate_series(0, 4999) AS n,
                md5('registration' || n) AS h
            UNION SELECT 'O', '{BASE}/activities/program/' || (n / 20)
                FROM generate_series(0, 1999) AS n
            UNION SELECT 'O', '{BASE}/activities/cohort/' || (n / 20 % 50)
                FROM generate_series(0, 1999) AS n
            UNION SELECT 'A', '{authority_key}'""".replace("%", "%%")).all()
        conn.exec_driver_sql("DROP TABLE IF EXISTS _bench_keys")
        conn.exec_driver_sql("CREATE TABLE _bench_keys (kind text, key text, key_hash bigint, "
                             "PRIMARY KEY (kind, key))")
        conn.exec_driver_sql(
            "INSERT INTO _bench_keys SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[])",
            ([k for k, _v in keys], [v for _k, v in keys], [index_key(k, v) for k, v in keys]))


_make_months: Callable[[int], None] = lambda oldest: None  # noqa: E731 - set in main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--schema", choices=("partitioned", "plain"), default="partitioned")
    parser.add_argument("--stored", default="1000000,5000000,10000000")
    parser.add_argument("--per-month", type=int, default=344_828)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--gets", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the filled database")
    parser.add_argument("--reuse", action="store_true",
                        help="measure a database a --keep run filled (filling it further "
                             "if --stored asks for more)")
    args = parser.parse_args()
    if args.schema == "plain":
        # 0037's index rows hold the key's text; since migration 0044 record() writes hashes
        # (lms.xapi.index_keys): the plain schema is measured from a checkout before 0044.
        parser.error("--schema plain needs a checkout before migration 0044 (the hashed index "
                     "keys), e.g. a git worktree at 116bc93")
    global _make_months
    started = time.perf_counter()
    app = _migrate(args.database, args.schema, args.reuse)
    client = app.test_client()
    have = 0
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.slug == "bench")) \
            if args.reuse else None
        if org is None:
            org = accounts.create_organization(slug="bench", name="Bench")
        else:
            have = db.session.scalar(select(func.count()).select_from(Statement))
        credential, secret = create_lrs_credentials(organization=org, label="bench")
        org_id, key = org.id, credential.key
        db.session.commit()

        def make_months(oldest: int) -> None:
            for month in range(oldest, partitions.month_code(utcnow()) + 3):
                partitions.create_month(month)
            db.session.commit()

        _make_months = make_months
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}
    corpus = Corpus(seed=int(time.time()))  # new ids on each run over a kept store
    print(f"schema {args.schema}, {args.per_month:,} statements a month", flush=True)
    for want in (int(n) for n in args.stored.split(",")):
        fill_start = time.perf_counter()
        if want > have:
            with app.app_context():
                _fill(args.database, org_id, "account:http://relais.bench|bench", have, want,
                      args.per_month, args.schema)
        have = max(have, want)
        print(f"{want:,} stored (filled in {time.perf_counter() - fill_start:,.0f} s, "
              f"{time.perf_counter() - started:,.0f} s since the start)", flush=True)
        with app.app_context():
            _measure_record(org_id, corpus, args.batches)
            _measure_gets(client, headers, corpus, args.gets)
    if not args.keep:
        bench.wipe_database(args.database)


def _measure_record(org_id: int, corpus: Corpus, batches: int) -> None:
    for _ in range(5):  # warm up: plans, caches
        record(corpus.batch(100), organization_id=org_id)
        db.session.commit()
    work = [corpus.batch(100) for _ in range(batches)]
    timer = bench.CpuClock()
    for batch in work:
        record(batch, organization_id=org_id)
        db.session.commit()
    cpu = time.process_time() - timer.cpu
    backend = (bench.backend_cpu() or 0.0) - (timer.backend or 0.0)
    count = 100 * batches
    print(f"  record() batches of 100: {1e6 * (cpu + backend) / count:,.0f} µs a statement "
          f"({1e6 * cpu / count:,.0f} process + {1e6 * backend / count:,.0f} backend), "
          f"wall {count / timer.elapsed():,.0f}/s", flush=True)


def _measure_gets(client: Any, headers: dict[str, str], corpus: Corpus, runs: int) -> None:
    rng = random.Random(5)
    since = (utcnow() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def agent() -> str:
        return json.dumps(corpus.agent(rng.randrange(corpus.learners)))

    def activity() -> str:
        return corpus.activity_id(rng.randrange(corpus.activities))

    def reg_uuid() -> str:  # as _fill makes them: a version 4 UUID from an MD5
        h = hashlib.md5(f"registration{rng.randrange(5000)}".encode()).hexdigest()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:]}"

    kinds: dict[str, Callable[[], dict[str, str]]] = {
        "agent": lambda: {"agent": agent()},
        "verb": lambda: {"verb": rng.choice(VERBS)},
        "activity": lambda: {"activity": activity()},
        "registration": lambda: {"registration": reg_uuid()},
        "agent+verb": lambda: {"agent": agent(), "verb": rng.choice(VERBS)},
        "related": lambda: {"activity": f"{BASE}/activities/program/{rng.randrange(100)}",
                            "related_activities": "true"},
        "agent since": lambda: {"agent": agent(), "since": since},
        "agent ascending": lambda: {"agent": agent(), "ascending": "true"},
    }
    figures = []
    for name, params in kinds.items():
        urls = [f"/xapi/statements?{urlencode({**params(), 'limit': 100})}"
                for _ in range(runs + 3)]
        for url in urls[:3]:  # warm up
            assert client.get(url, headers=headers).status_code == 200
        before = bench.database_cpu()
        cpu, wall = time.process_time(), time.perf_counter()
        returned = 0
        for url in urls[3:]:
            response = client.get(url, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            returned += len(response.get_json()["statements"])
        process = time.process_time() - cpu
        backend = bench.database_cpu_since(before)
        figures.append(f"{name} {1e3 * (process + backend) / runs:.1f}")
        wall_ms = 1e3 * (time.perf_counter() - wall) / runs
        print(f"  GET {name:<16} {1e3 * (process + backend) / runs:6.1f} ms CPU "
              f"({1e3 * process / runs:.1f} process + {1e3 * backend / runs:.1f} backend), "
              f"{returned / runs:.0f} statements, wall {wall_ms:.1f} ms", flush=True)
    print("  summary: " + " | ".join(figures), flush=True)


if __name__ == "__main__":
    main()
