"""The trainer's cohort page at company scale; prints its figures.

    .venv/bin/python bench/cohort_page.py [--enrolled 600] [--others 10000] [--database URL]

A catalogue program (10 modules), one cohort of ``--enrolled`` learners, each with a progress
row on most modules, in an organization of ``--enrolled + --others`` learners. Prints the
median and p95 of the cohort page (wall time and this process's CPU), its size in bytes,
and the same for its second page and a name search.
"""

from __future__ import annotations

import random

import common as bench
from sqlalchemy import insert

from lms.accounts.models import Role
from lms.core.models import utcnow
from lms.courses.cohorts.models import Enrollment, ModuleProgress
from lms.courses.cohorts.services import create_cohort
from lms.extensions import db


def main() -> None:
    args = bench.options(enrolled=600, others=10000).parse_args()
    app = bench.bench_app(args.database, wipe=bool(args.database))
    rng = random.Random(7)
    with app.app_context():
        org, _ = bench.organization()
        bench.staff(org, "t@bench.example", Role.TRAINER, "Trainer")
        program = bench.catalogue_program(org)
        cohort = create_cohort(program=program, name="Vague 1")
        learners = bench.bulk_learners(org, args.enrolled + args.others,
                                       fields=lambda i: {"team": f"Équipe {i % 40}"})
        now = utcnow()
        enrollment_ids = db.session.scalars(
            insert(Enrollment).returning(Enrollment.id, sort_by_parameter_order=True),
            [{"organization_id": org.id, "cohort_id": cohort.id, "status": "active",
              "membership_id": learner.membership_id, "enrolled_at": now}
             for learner in learners[:args.enrolled]]).all()
        states = ("completed", "completed", "in_progress", "failed")
        db.session.execute(insert(ModuleProgress), [
            {"enrollment_id": e, "module_id": m.id, "state": rng.choice(states),
             "updated_at": now}
            for e in enrollment_ids for m in program.modules if rng.random() < 0.7])
        db.session.commit()
        cohort_id = cohort.id
        client = app.test_client()
        bench.login(client, "t@bench.example")
        for label, url in (("cohort page", f"/o/bench/cohorts/{cohort_id}"),
                           ("its second page", f"/o/bench/cohorts/{cohort_id}?page=2"),
                           ("a name search", f"/o/bench/cohorts/{cohort_id}?q=Learner+12")):
            page = bench.get_ok(client, url)
            size = len(page().get_data())  # type: ignore[attr-defined]
            clock = bench.CpuClock()
            median, p95 = bench.timed(page, 15, warmups=2)
            print(f"{label}, {args.enrolled} enrolled of {args.enrolled + args.others} learners: "
                  f"median {median:.0f} ms, p95 {p95:.0f} ms, {size / 1024:,.0f} KiB "
                  f"({clock.note()})")


if __name__ == "__main__":
    main()
