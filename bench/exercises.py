"""Benchmark of on-the-job exercise reads; prints its figures.

    .venv/bin/python bench/exercises.py [--learners 10000] [--cohorts 20] [--database URL]

Builds an organization of ``--learners`` learners over ``--cohorts`` cohorts of the six-week
path, each with a hand-in for the profile exercise (a third awaiting review, a third approved,
a third sent back) — written in bulk: the reads do not care how the rows came. Then times the
review queue page (administrator: every cohort; trainer: one cohort), ``to_review`` as a
dashboard calls it (first 8 and the count) and ``due_for`` of one learner, 30 runs each after
3 warm-ups.
"""

from __future__ import annotations

import time
from datetime import timedelta

import common as bench

from lms.accounts.models import Membership, Role
from lms.core.models import utcnow
from lms.courses.cohorts.models import CohortTrainer
from lms.courses.exercises.models import ExerciseSubmission
from lms.courses.exercises.queries import count_to_review, due_for, to_review
from lms.extensions import db


def main() -> None:
    args = bench.options(learners=10_000, cohorts=20).parse_args()
    app = bench.bench_app(args.database)
    with app.app_context():
        org, people = bench.organization(Role.ADMIN, Role.TRAINER)
        program = bench.catalogue_program(org)
        today = utcnow().date()
        cohorts = bench.make_cohorts(program, args.cohorts, starts_on=today - timedelta(days=20))
        db.session.add(CohortTrainer(cohort_id=cohorts[0].id,
                                     membership_id=people[Role.TRAINER].id))
        db.session.commit()
        start = time.perf_counter()
        member_ids = [m for m, _ in bench.bulk_learners(org, args.learners)]
        enrollments = bench.bulk_enrol(org, cohorts, member_ids, utcnow() - timedelta(days=20))
        profile = next(m for m in program.modules if m.key == "exercice-profil")
        statuses = ("submitted", "approved", "changes_requested")
        rows = [{"organization_id": org.id, "enrollment_id": e["id"], "module_id": profile.id,
                 "attempt": 1, "status": statuses[n % 3],
                 "post_url": f"https://www.linkedin.com/in/learner-{n}",
                 "reflection": "Titre et résumé revus pour mes clients.",
                 "submitted_at": utcnow() - timedelta(minutes=n)}
                for n, e in enumerate(enrollments)]
        bench.insert_rows(ExerciseSubmission, rows)
        learner = db.session.get(Membership, member_ids[0])
        bench.refresh_statistics()
        print(f"built {args.learners} learners in {args.cohorts} cohorts, {len(rows)} hand-ins "
              f"in {time.perf_counter() - start:.1f} s ({db.engine.dialect.name})")

        for who, email in (("administrator (every cohort)", "admin@bench.example"),
                           ("trainer (one cohort)", "trainer@bench.example")):
            client = app.test_client()
            bench.login(client, email)
            median, p95 = bench.timed(bench.get_ok(client, "/o/bench/exercises/review"))
            print(f"review queue page, {who:30}: median {median:6.1f} ms, p95 {p95:6.1f} ms")
        trainer = people[Role.TRAINER]
        for who, scope in (("organization", None), ("trainer", trainer)):
            median, p95 = bench.timed(lambda scope=scope: (
                to_review(org.id, scope, limit=8),
                count_to_review(org.id, scope)))
            print(f"to_review (8) + count, {who:25}: median {median:6.1f} ms, p95 {p95:6.1f} ms")
        median, p95 = bench.timed(lambda: due_for(learner))
        print(f"due_for, one learner{'':28}: median {median:6.1f} ms, p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
