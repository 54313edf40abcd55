"""Benchmark of the impact report, the learner timeline and exercise verification on a large
organization (DESIGN §6: dashboards with 10,000 learners and 1,000,000 advocacy events,
p95 ≤ 150 ms).

    .venv/bin/python bench/advocacy_impact.py [--learners 10000] [--events 1000000]
        [--cohorts 20] [--database URL]

Builds one organization (learners, cohorts of equal size each with a kick-off session in the
middle of the year, 80 % consent, one exercise module with a verification rule) and a year of
events inserted in bulk (not through ingestion: this measures reading). Then prints p50/p95
of: one cohort's report, the impact page's data for every cohort, one learner's timeline page,
and the verification run after an ingestion touching 500 learners (rolled back after each
run, so every run verifies the same exercises again, statements included).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import common as bench
from sqlalchemy import insert, select

from lms.accounts import services as accounts
from lms.accounts.models import Membership
from lms.advocacy import figures, impact, timeline, verification
from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent
from lms.courses.cohorts.models import Cohort
from lms.courses.cohorts.services import create_cohort
from lms.courses.programs.services import add_module, create_blank_program
from lms.courses.sessions.models import TrainingSession
from lms.extensions import db

YEAR = datetime(2026, 1, 1, tzinfo=UTC)
NETWORKS = ["linkedin"] * 6 + ["x", "facebook", "instagram"]
KINDS = ["share"] * 6 + ["post", "post", "comment", "reaction"]


def fresh_session() -> None:
    """Before each run: the previous run rolled back (verification writes), nothing cached."""
    db.session.rollback()
    db.session.expire_all()


def build(learners: int, events: int, cohorts: int) -> tuple[Any, list[Cohort], list[int]]:
    rnd = random.Random(11)
    org = accounts.create_organization(slug="bench", name="Bench")
    program = create_blank_program(organization=org, title="Parcours", language="fr")
    workshop = add_module(program=program, kind="workshop", title="Atelier")
    exercise = add_module(program=program, kind="exercise", title="Deux posts")
    exercise.exercise = {"instructions": {}, "evidence": {"reflection": "required"},
                         "rubric": [], "afest": False,
                         "verification": {"network": "linkedin", "kinds": ["post"],
                                          "count": 2, "own_comment": True,
                                          "within_days": 14}}
    db.session.flush()
    members = bench.bulk_learners(org, learners, created_at=YEAR)
    user_ids = [u for _m, u in members]
    db.session.execute(insert(AdvocacyConsent), [
        {"organization_id": org.id, "user_id": u, "opted_in_at": YEAR,
         "leaderboard_opt_out": False} for u in user_ids if rnd.random() < 0.8])
    size = max(1, learners // cohorts)
    made = []
    for c in range(cohorts):
        cohort = create_cohort(program=program, name=f"Vague {c + 1}",
                               starts_on=(YEAR + timedelta(days=150 + c)).date())
        kickoff = YEAR + timedelta(days=160 + c, hours=9)
        db.session.add(TrainingSession(organization_id=org.id, module=workshop, cohort=cohort,
                                       starts_at=kickoff, ends_at=kickoff + timedelta(hours=3),
                                       place="Lyon"))
        db.session.flush()
        bench.bulk_enrol(org, [cohort], [m for m, _u in members[c * size:(c + 1) * size]], YEAR)
        made.append(cohort)
    chunk = 50_000
    for first in range(0, events, chunk):
        rows = []
        for i in range(first, min(events, first + chunk)):
            when = YEAR + timedelta(minutes=rnd.randrange(60 * 24 * 330))
            kind = rnd.choice(KINDS)
            rows.append({"organization_id": org.id, "user_id": rnd.choice(user_ids),
                         "network": rnd.choice(NETWORKS), "kind": kind,
                         "url": f"https://www.linkedin.com/feed/update/{i}",
                         "occurred_at": when, "source": "csv", "idem_key": f"{i:064d}",
                         "clicks": rnd.randrange(0, 40), "reactions": rnd.randrange(0, 20),
                         "comments": rnd.randrange(0, 5), "signups": int(rnd.random() < .02),
                         "hires": int(rnd.random() < .002),
                         "with_own_comment": kind in ("post", "share") and rnd.random() < .3,
                         "created_at": when, "updated_at": when})
        db.session.execute(insert(AdvocacyEvent), rows)
        print(f"  {min(events, first + chunk):,} events", file=sys.stderr)
    figures.rebuild(org.id)  # the events went straight into the table
    bench.refresh_statistics(sqlite=True)
    return org, made, user_ids


def main() -> None:
    args = bench.options(learners=10_000, events=1_000_000, cohorts=20, runs=20).parse_args()
    app = bench.bench_app(args.database, wipe=True, BASE_URL="http://bench.test")
    with app.app_context():
        start = time.perf_counter()
        org, cohorts, user_ids = build(args.learners, args.events, args.cohorts)
        print(f"{db.engine.dialect.name}: {args.learners:,} learners, {args.events:,} events, "
              f"{args.cohorts} cohorts built in {time.perf_counter() - start:.0f} s")
        now = YEAR + timedelta(days=330)
        one = cohorts[0]
        p50, p95 = bench.timed(lambda: impact.cohort_impact(one, weeks=4, now=now), args.runs,
                         warmups=0, reset=fresh_session)
        print(f"impact report, one cohort ({args.learners // args.cohorts} learners): "
              f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        p50, p95 = bench.timed(lambda: impact.organization_impact(cohorts, weeks=4, now=now),
                         max(3, args.runs // 4), warmups=0, reset=fresh_session)
        print(f"impact page data, all {len(cohorts)} cohorts: p50 {p50:.1f} ms, "
              f"p95 {p95:.1f} ms")
        member = db.session.scalar(select(Membership).where(
            Membership.user_id == user_ids[0]))
        p50, p95 = bench.timed(lambda: timeline.learner_timeline(org.id, member), args.runs,
                         warmups=0, reset=fresh_session)
        print(f"learner timeline, first page: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        touched = set(user_ids[:500])
        count = verification.verify_for_users(org.id, touched)
        db.session.rollback()
        p50, p95 = bench.timed(lambda: verification.verify_for_users(org.id, touched),
                         max(3, args.runs // 4), warmups=0, reset=fresh_session)
        print(f"verification after an ingestion touching 500 learners ({count} exercises "
              f"verified, statements included): p50 {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
