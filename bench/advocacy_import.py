"""Benchmark of the advocacy CSV import (DESIGN §6: 100,000 rows, statements included, ≤ 10 s).

    .venv/bin/python bench/advocacy_import.py [--rows 100000] [--learners 500] [--database URL]
        [--steps]

Generates a realistic generic-format file (French spreadsheet style: semicolons, day-first
dates, decimal commas, ~1 % bad rows), imports it through the service with skip-invalid (each
event also recorded as an xAPI statement), commits, and prints rows/s; then imports the same
file again (everything unchanged) and prints that time too. ``--steps`` also prints, after
each import, each database step's calls, wall time and (PostgreSQL) the backend's CPU
time: the writes of the events, statements, index rows, ids and activities, the look-ups,
the statement keys and the figures' upsert.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common as bench  # noqa: E402

from lms import create_app  # noqa: E402
from lms.accounts import services as accounts  # noqa: E402
from lms.advocacy import csvimport, figures, services  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.xapi import record  # noqa: E402

NETWORKS = ["linkedin"] * 6 + ["x", "x", "facebook", "instagram"]
KINDS = ["share"] * 6 + ["post", "post", "comment", "reaction"]


def generate(rows: int, emails: list[str], seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    lines = ["email;network;kind;url;date;impressions;clicks;reactions;comments;reshares;"
             "signups;leads;hires;with_own_comment"]
    for i in range(rows):
        when = start + timedelta(minutes=rnd.randrange(60 * 24 * 80))
        impressions = rnd.randrange(50, 5000)
        email = rnd.choice(emails)
        network = rnd.choice(NETWORKS)
        date = when.strftime("%d/%m/%Y %H:%M")
        if i % 100 == 37:  # ~1 % bad rows of several sorts
            email, network, date = rnd.choice([("inconnu@example.com", network, date),
                                                (email, "myspace", date),
                                                (email, network, "31/02/2026")])
        lines.append(";".join([
            email, network, rnd.choice(KINDS), f"https://www.linkedin.com/feed/update/{i}",
            date, f"{impressions // 1000} {impressions % 1000:03d}" if impressions >= 1000
            else str(impressions), str(rnd.randrange(0, 80)), f"{rnd.randrange(0, 40)},0",
            str(rnd.randrange(0, 10)), str(rnd.randrange(0, 5)), str(int(rnd.random() < .02)),
            str(int(rnd.random() < .01)), "0", rnd.choice(["oui", "non", "non"])]))
    return ("\n".join(lines) + "\n").encode()


def cpu_note(cpu: float, server: float | None) -> str:
    note = f"this process's CPU: {time.process_time() - cpu:.2f} s"
    if server is not None:
        now = bench.backend_cpu()
        note += f", the PostgreSQL backend's: {now - server:.2f} s" if now is not None else ""
    return note


# The steps --steps times: (module, function); those taking a table first are told by it.
# Tally.count: the figures' counting before it was split in two.
STEPS = [(services, "copy_rows"), (services, "select_matching"), (record, "copy_rows"),
         (record, "insert_rows"), (record, "select_matching"), (record, "next_ids"),
         (figures.Tally, "count_new"), (figures.Tally, "count_changed"),
         (figures.Tally, "count"), (figures.Tally, "apply")]
BY_TABLE = {"copy_rows", "insert_rows", "select_matching"}


def time_steps() -> dict[str, list[float]]:
    """Wrap the import's database steps (module attributes, as the import finds them) to
    add up each one's calls, wall time and backend CPU time, by step (and table)."""
    backend = db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar() \
        if db.engine.dialect.name == "postgresql" else None
    totals: dict[str, list[float]] = {}

    def cpu() -> float:
        return (bench.process_cpu(backend) or 0.0) if backend is not None else 0.0

    def timed(name: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def step(*args: Any, **kwargs: Any) -> Any:
            label = f"{name} {args[0]}" if name in BY_TABLE else name
            server, began = cpu(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                total = totals.setdefault(label, [0, 0.0, 0.0])
                total[0] += 1
                total[1] += time.perf_counter() - began
                total[2] += cpu() - server
        return step

    for owner, name in STEPS:
        if hasattr(owner, name):  # the same script times an older version (a base run)
            setattr(owner, name, timed(name, getattr(owner, name)))
    return totals


def print_steps(totals: dict[str, list[float]]) -> None:
    for label, (calls, wall, server) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
        print(f"  {label:38s} {int(calls):5d} calls, wall {wall:6.2f} s, backend {server:5.2f} s")
    totals.clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--database", default=None)
    parser.add_argument("--steps", action="store_true",
                        help="time each database step of the first import")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    os.environ["RELAIS_INSTANCE_PATH"] = tmp
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database or f"sqlite:///{tmp}/b.db",
                      "SECRET_KEY": "bench", "BASE_URL": "http://relais.bench"})
    with app.app_context():
        from lms.cli import upgrade_database

        upgrade_database()
        org = accounts.create_organization(slug="bench-adv", name="Bench")
        emails = []
        for n in range(args.learners):
            user = accounts.create_user(email=f"learner{n}@example.com",
                                        display_name=f"Apprenant {n}")
            accounts.add_member(organization=org, user=user, role="learner")
            services.give_consent(organization=org, user=user)
            emails.append(user.email)
        db.session.commit()
        data = generate(args.rows, emails)
        print(f"database: {db.engine.dialect.name}; file: {args.rows} rows, "
              f"{len(data) / 1e6:.1f} MB")
        began, cpu = time.perf_counter(), time.process_time()
        csvimport.check_file(organization=org, data=data)
        print(f"checking the whole file alone (no write): {time.perf_counter() - began:.2f} s "
              f"({cpu_note(cpu, None)})")
        db.session.rollback()
        steps = time_steps() if args.steps else None
        for label in ("first import", "same file again"):
            # CPU times tell the work done on a busy machine, where wall time mostly measures
            # the other processes (the pool keeps one connection: the backend is the same).
            server = bench.backend_cpu()
            began, cpu = time.perf_counter(), time.process_time()
            result = csvimport.import_activity(organization=org, data=data, skip_invalid=True)
            db.session.commit()
            elapsed = time.perf_counter() - began
            print(f"{label}: {result.summary()} in {elapsed:.2f} s "
                  f"({args.rows / elapsed:,.0f} rows/s; {cpu_note(cpu, server)})")
            if steps is not None:
                print_steps(steps)


if __name__ == "__main__":
    main()
