"""Benchmark of the dashboards (the first page after login); prints its figures.

    .venv/bin/python bench/dashboards.py [--learners 10000] [--cohorts 20] [--database URL]

Builds an organization of ``--learners`` learners spread over ``--cohorts`` cohorts of the
six-week path (written in bulk, not through the services: the page reads, it does not care how
the rows came), each learner with progress rows in half of the modules, sessions started
yesterday with part of the attendance taken; then times the dashboard of the administrator
(every cohort), of a trainer (one cohort) and of a learner, 30 requests each after 3 warm-ups.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import common as bench
from sqlalchemy import insert

from lms.accounts import services as accounts
from lms.accounts.models import Membership, Role
from lms.core.models import utcnow
from lms.courses.cohorts.models import CohortTrainer, ModuleProgress
from lms.courses.sessions.models import Attendance, SessionRegistration
from lms.courses.sessions.services import half_days, schedule_session
from lms.extensions import db


def main() -> None:
    args = bench.options(learners=10_000, cohorts=20).parse_args()
    app = bench.bench_app(args.database)
    with app.app_context():
        org, people = bench.organization(Role.ADMIN, Role.TRAINER)
        program = bench.catalogue_program(org)
        today = utcnow().date()
        cohorts = bench.make_cohorts(program, args.cohorts, starts_on=today - timedelta(days=20),
                                     ends_on=today + timedelta(days=20))
        db.session.add(CohortTrainer(cohort_id=cohorts[0].id,
                                     membership_id=people[Role.TRAINER].id))
        db.session.commit()
        start = time.perf_counter()
        member_ids = [m for m, _ in bench.bulk_learners(org, args.learners)]
        enrollments = bench.bulk_enrol(org, cohorts, member_ids, utcnow() - timedelta(days=20))
        modules = list(program.modules)
        rows = []
        for n, e in enumerate(enrollments):
            for i, module in enumerate(modules[: 1 + n % (len(modules) // 2)]):
                done = i < n % 3
                rows.append({"enrollment_id": e["id"], "module_id": module.id,
                             "state": "completed" if done else "in_progress",
                             "percent": 100 if done else 50,
                             "updated_at": utcnow() - timedelta(days=n % 30)})
        bench.insert_rows(ModuleProgress, rows)
        workshop = modules[0]
        for cohort in cohorts:
            session = schedule_session(
                cohort=cohort, module=workshop, starts_at=utcnow() - timedelta(days=1),
                ends_at=utcnow() - timedelta(days=1) + timedelta(hours=3), place="Salle A")
            seated = [e for e in enrollments if e["cohort_id"] == cohort.id][:30]
            db.session.execute(insert(SessionRegistration), [
                {"session_id": session.id, "enrollment_id": e["id"], "status": "registered",
                 "created_at": utcnow()} for e in seated])
            day, half = half_days(session)[0]
            db.session.execute(insert(Attendance), [
                {"session_id": session.id, "enrollment_id": e["id"], "day": day, "half": half,
                 "status": "present", "source": "sheet"} for e in seated[:20]])
        learner = db.session.get(Membership, member_ids[0]).user
        accounts.set_password(learner, bench.PASSWORD)
        db.session.commit()
        print(f"built {args.learners} learners in {args.cohorts} cohorts, {len(rows)} progress "
              f"rows in {time.perf_counter() - start:.1f} s "
              f"({db.engine.dialect.name})")

        print(f"load average before timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              "(figures scale with it)")
        for who, email in (("administrator (every cohort)", "admin@bench.example"),
                           ("trainer (one cohort)", "trainer@bench.example"),
                           ("learner", learner.email)):
            client = app.test_client()
            bench.login(client, email)
            median, p95 = bench.timed(bench.get_ok(client, "/o/bench/"))
            print(f"dashboard, {who:30}: median {median:6.1f} ms, p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
