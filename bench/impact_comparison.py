"""Benchmark of the proof-of-impact page (a cohort against colleagues not yet trained, formats
compared, ROI) on a large organization (DESIGN §6: impact with comparison groups, p95 ≤ 300 ms).

    .venv/bin/python bench/impact_comparison.py [--learners 10000] [--events 1000000]
        [--cohorts 20] [--runs 20] [--database URL] [--reuse]

``--reuse`` measures again the organization a previous run left in ``--database`` (building a
million events takes minutes) instead of wiping it.

Builds one organization: learners, 80 % consenting; cohorts of a staggered roll-out (a wave
every two weeks, each with a kick-off session) holding 80 % of the learners, the others never
enrolled; a year of events inserted in bulk (this measures reading). Then prints p50/p95 wall
time and the CPU time per run of the comparison of one cohort in the middle of the roll-out
(its not-yet-trained colleagues are the later waves and the never-enrolled), and of the whole
page as HR gets it (comparison, event study, coached against not coached, ROI).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta

import common as bench
from sqlalchemy import func, insert, select, text

from lms.accounts.models import Membership, Organization, Role
from lms.advocacy import figures
from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent
from lms.courses.cohorts.models import Cohort
from lms.courses.cohorts.services import create_cohort
from lms.courses.programs.services import add_module, create_blank_program
from lms.courses.sessions.models import TrainingSession
from lms.extensions import db
from lms.impact import comparison, services

YEAR = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = ["share"] * 6 + ["post", "post", "comment", "reaction"]


def build(learners: int, events: int, cohorts: int):  # noqa: ANN201  (a bench script)
    rnd = random.Random(11)
    org, staff = bench.organization(Role.HR)
    program = create_blank_program(organization=org, title="Parcours", language="fr")
    workshop = add_module(program=program, kind="workshop", title="Atelier")
    db.session.flush()
    members = bench.bulk_learners(org, learners, created_at=YEAR)
    user_ids = [u for _m, u in members]
    db.session.execute(insert(AdvocacyConsent), [
        {"organization_id": org.id, "user_id": u, "opted_in_at": YEAR,
         "leaderboard_opt_out": False} for u in user_ids if rnd.random() < 0.8])
    size = max(1, int(learners * 0.8) // cohorts)
    made = []
    for c in range(cohorts):
        kickoff = YEAR + timedelta(days=60 + 14 * c, hours=9)
        cohort = create_cohort(program=program, name=f"Vague {c + 1}",
                               starts_on=kickoff.date())
        db.session.add(TrainingSession(organization_id=org.id, module=workshop, cohort=cohort,
                                       starts_at=kickoff, ends_at=kickoff + timedelta(hours=7),
                                       place="Lyon"))
        db.session.flush()
        bench.bulk_enrol(org, [cohort], [m for m, _u in members[c * size:(c + 1) * size]], YEAR)
        made.append(cohort)
    load_events(org.id, user_ids, events, rnd)
    services.save_settings(organization=org, data={
        "outcome_values": {"signups": "25", "leads": "150", "hires": "4000"},
        "trainer_day_rate": "1200", "learner_hourly_cost": "45"})
    db.session.commit()
    return org, staff[Role.HR], made


EVENT_COLUMNS = ("organization_id", "user_id", "network", "kind", "url", "occurred_at", "source",
                 "idem_key", "impressions", "clicks", "reactions", "comments", "reshares",
                 "signups", "leads", "hires", "with_own_comment", "created_at", "updated_at")


def load_events(org_id: int, user_ids: list[int], events: int, rnd: random.Random) -> None:
    """A year of events, straight into the table: COPY on PostgreSQL, the driver's
    ``executemany`` on SQLite (an ORM insert of a million dictionaries takes minutes).
    """
    sqlite = db.engine.dialect.name == "sqlite"
    raw = db.session.connection().connection.driver_connection
    minutes = 60 * 24 * 360
    randrange, choice, rand = rnd.randrange, rnd.choice, rnd.random
    start = time.perf_counter()
    chunk = 100_000
    for first in range(0, events, chunk):
        rows = []
        for i in range(first, min(events, first + chunk)):
            when = YEAR + timedelta(minutes=randrange(minutes))
            kind = choice(KINDS)
            # SQLite keeps naive UTC text, as the UTCDateTime column type writes it.
            at = when.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else when
            rows.append((org_id, choice(user_ids), "linkedin", kind,
                         f"https://www.linkedin.com/feed/update/{i}", at, "csv", f"{i:064d}",
                         0, randrange(40), randrange(20), randrange(5), 0,
                         int(rand() < .02), int(rand() < .01), int(rand() < .002), False,
                         at, at))
        if sqlite:
            marks = ", ".join("?" * len(EVENT_COLUMNS))
            raw.executemany(f"INSERT INTO advocacy_events ({', '.join(EVENT_COLUMNS)}) "
                            f"VALUES ({marks})", rows)
        else:
            with raw.cursor() as cursor, cursor.copy(
                    f"COPY advocacy_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        print(f"  {first + len(rows):,} events ({time.perf_counter() - start:.0f} s)",
              file=sys.stderr)


def settle(org_id: int) -> None:
    """The daily figures rebuilt from the events loaded straight into the table (a reused
    database may predate them), then statistics as after a night of autovacuum: ANALYZE
    (SQLite too: a reused database may have gained an index since), and VACUUM on
    PostgreSQL, whose index-only scans need the visibility map a bulk load leaves empty.
    """
    started = time.perf_counter()
    rows = figures.rebuild(org_id)
    db.session.commit()
    print(f"  {rows:,} rows of daily figures rebuilt in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    bench.refresh_statistics(sqlite=True)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) advocacy_events"))
            conn.execute(text("VACUUM (ANALYZE) advocacy_daily_figures"))


def cpu_and_wall(label: str, fn, runs: int) -> None:  # noqa: ANN001
    """p50/p95 wall time and this process's CPU per run; on PostgreSQL, its backends' CPU per
    run too (every connection to the database, the test client's included).
    """
    cpu, server = time.process_time(), bench.database_cpu()
    p50, p95 = bench.timed(fn, runs, warmups=1, reset=lambda: db.session.expire_all())
    per_run = (time.process_time() - cpu) / (runs + 1) * 1000
    note = ""
    if server:
        spent = bench.database_cpu_since(server)
        note = f" + PostgreSQL backends {spent / (runs + 1) * 1000:.1f} ms"
    print(f"{label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms (wall); CPU {per_run:.1f} ms per "
          f"run{note}")


def main() -> None:
    parser = bench.options(learners=10_000, events=1_000_000, cohorts=20, runs=20)
    parser.add_argument("--reuse", action="store_true",
                        help="measure the organization a previous run built in --database")
    args = parser.parse_args()
    app = bench.bench_app(args.database, wipe=not args.reuse)
    with app.app_context():
        start = time.perf_counter()
        org = db.session.scalar(select(Organization).where(Organization.slug == "bench")) \
            if args.reuse else None
        if org is None:
            org, hr, cohorts = build(args.learners, args.events, args.cohorts)
        else:
            hr = db.session.scalar(select(Membership).where(
                Membership.organization_id == org.id, Membership.role == Role.HR))
            cohorts = list(db.session.scalars(select(Cohort).where(
                Cohort.organization_id == org.id).order_by(Cohort.id)))
        settle(org.id)
        members = db.session.scalar(select(func.count(Membership.id)))
        events = db.session.scalar(select(func.count(AdvocacyEvent.id)))
        print(f"{db.engine.dialect.name}: {members:,} members, {events:,} events, "
              f"{len(cohorts)} cohorts ready in {time.perf_counter() - start:.0f} s")
        one = cohorts[len(cohorts) // 2]
        now = YEAR + timedelta(days=360)
        result = comparison.compare_cohort(one, weeks=4, now=now)
        print(f"cohort {one.name}: {len(result.treated)} trained, {len(result.control)} not yet "
              f"trained; shares {result.estimates['shares']}")
        cpu_and_wall("comparison of one cohort", lambda: comparison.compare_cohort(
            one, weeks=4, now=now), args.runs)
        client = app.test_client()
        bench.login(client, hr.user.email)
        url = f"/o/{org.slug}/impact/cohorts/{one.id}?weeks=4"
        cpu_and_wall("the impact page of one cohort (HTTP, rendered)",
                     bench.get_ok(client, url), args.runs)


if __name__ == "__main__":
    main()
