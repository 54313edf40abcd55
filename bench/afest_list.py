"""The AFEST records list at company scale; prints its figures.

    .venv/bin/python bench/afest_list.py [--learners 3000] [--cohorts 6] [--database URL]

``--learners`` learners dealt over ``--cohorts`` cohorts of the six-week path (one exercise run
as AFEST), a third of them with a record and a tutor (one of 30 colleagues), each record with
two journal entries. Prints the median and p95 of the list's pages (wall time, and the CPU of
this process and of the PostgreSQL backend over the runs), and each page's size: the first
page for an administrator, the last page, one cohort, a name search, the learners without a
tutor yet, and the first page of a tutor's own list.
"""

from __future__ import annotations

from datetime import timedelta

import common as bench
from sqlalchemy import insert

from lms.accounts.models import Role
from lms.core.models import utcnow
from lms.courses.exercises.models import AfestEntry, AfestPlan
from lms.extensions import db

RUNS = 15


def main() -> None:
    args = bench.options(learners=3000, cohorts=6).parse_args()
    app = bench.bench_app(args.database, wipe=bool(args.database))
    with app.app_context():
        org, _ = bench.organization(Role.ADMIN)
        program = bench.catalogue_program(org)
        module = next(m for m in program.modules if (m.exercise or {}).get("afest"))
        cohorts = bench.make_cohorts(program, args.cohorts)
        # The tutor who logs in, and 29 colleagues.
        tutors = [bench.staff(org, "tutor@bench.example", Role.LEARNER, "Tutor").id] + [
            m for m, _ in bench.bulk_learners(org, 29, "tutor", name="Tutor {n}")]
        learners = bench.bulk_learners(org, args.learners)
        now = utcnow()
        enrollments = bench.bulk_enrol(org, cohorts, [m for m, _ in learners], now)
        tutored = enrollments[::3]
        plan_ids = db.session.scalars(
            insert(AfestPlan).returning(AfestPlan.id, sort_by_parameter_order=True),
            [{"organization_id": org.id, "enrollment_id": e["id"], "module_id": module.id,
              "tutor_id": tutors[n % len(tutors)], "analysis": "Situation.",
              "created_at": now} for n, e in enumerate(tutored)]).all()
        bench.insert_rows(AfestEntry, [
            {"plan_id": p, "kind": kind, "day": now.date() - timedelta(days=3),
             "duration_minutes": 45, "notes": "Observé.", "created_at": now}
            for p in plan_ids for kind in ("work_situation", "reflective_phase")])
        bench.refresh_statistics()
        cohort_id = cohorts[1].id
        print(f"{args.learners} learners in {args.cohorts} cohorts, {len(plan_ids)} records "
              f"({db.engine.dialect.name})")
        pages = -(-args.learners // 25)
        for who, label, url in (
                ("admin", "first page", "/o/bench/exercises/afest"),
                ("admin", "last page", f"/o/bench/exercises/afest?page={pages}"),
                ("admin", "one cohort", f"/o/bench/exercises/afest?cohort={cohort_id}"),
                ("admin", "a name search", "/o/bench/exercises/afest?q=Learner+12"),
                ("admin", "without a tutor", "/o/bench/exercises/afest?untutored=1"),
                ("tutor", "a tutor's list", "/o/bench/exercises/afest")):
            client = app.test_client()
            bench.login(client, f"{who}@bench.example")
            page = bench.get_ok(client, url)
            size = len(page().get_data())  # type: ignore[attr-defined]
            clock = bench.CpuClock()
            median, p95 = bench.timed(page, RUNS, warmups=2)
            print(f"{label:16}: median {median:7.0f} ms, p95 {p95:7.0f} ms, "
                  f"{size / 1024:5,.0f} KiB ({clock.note()} over {RUNS + 2} requests)")


if __name__ == "__main__":
    main()
