"""Benchmark of the proof-of-impact page (a cohort against colleagues not yet trained, formats
compared, ROI) on a large organization (DESIGN §6: impact with comparison groups, p95 ≤ 300 ms).

    .venv/bin/python bench/impact_comparison.py [--learners 10000] [--events 1000000]
        [--cohorts 20] [--runs 20] [--database URL]

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
from sqlalchemy import insert

from lms.accounts.models import Role
from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent
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
    chunk = 50_000
    for first in range(0, events, chunk):
        rows = []
        for i in range(first, min(events, first + chunk)):
            when = YEAR + timedelta(minutes=rnd.randrange(60 * 24 * 360))
            kind = rnd.choice(KINDS)
            rows.append({"organization_id": org.id, "user_id": rnd.choice(user_ids),
                         "network": "linkedin", "kind": kind,
                         "url": f"https://www.linkedin.com/feed/update/{i}",
                         "occurred_at": when, "source": "csv", "idem_key": f"{i:064d}",
                         "clicks": rnd.randrange(0, 40), "reactions": rnd.randrange(0, 20),
                         "comments": rnd.randrange(0, 5), "signups": int(rnd.random() < .02),
                         "leads": int(rnd.random() < .01), "hires": int(rnd.random() < .002),
                         "with_own_comment": False, "created_at": when, "updated_at": when})
        db.session.execute(insert(AdvocacyEvent), rows)
        print(f"  {min(events, first + chunk):,} events", file=sys.stderr)
    services.save_settings(organization=org, data={
        "outcome_values": {"signups": "25", "leads": "150", "hires": "4000"},
        "trainer_day_rate": "1200", "learner_hourly_cost": "45"})
    db.session.commit()
    bench.refresh_statistics(sqlite=True)
    return org, staff[Role.HR], made


def cpu_and_wall(label: str, fn, runs: int) -> None:  # noqa: ANN001  (a bench script)
    cpu = time.process_time()
    p50, p95 = bench.timed(fn, runs, warmups=1, reset=lambda: db.session.expire_all())
    per_run = (time.process_time() - cpu) / (runs + 1) * 1000
    print(f"{label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms (wall); CPU {per_run:.1f} ms per run")


def main() -> None:
    args = bench.options(learners=10_000, events=1_000_000, cohorts=20, runs=20).parse_args()
    app = bench.bench_app(args.database, wipe=True)
    with app.app_context():
        start = time.perf_counter()
        org, hr, cohorts = build(args.learners, args.events, args.cohorts)
        print(f"{db.engine.dialect.name}: {args.learners:,} learners, {args.events:,} events, "
              f"{args.cohorts} cohorts built in {time.perf_counter() - start:.0f} s")
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
