"""Benchmark of coaching reads at dashboard scale; prints its figures.

    .venv/bin/python bench/coaching.py [--learners 10000] [--cohorts 20] [--database URL]

Builds an organization of ``--learners`` learners spread over ``--cohorts`` cohorts of the
six-week path (written in bulk), each with a held follow-up (notes, two action items) and a
scheduled one between 10 days ago and 30 days ahead, spread over two coaches; then times
``due_followups`` and ``next_followup`` (the dashboards' queries), and the coaches' list page,
its cohort filter and a learner's "My follow-ups", 30 times each after 3 warm-ups.
``--database`` must name an empty database (PostgreSQL statistics are refreshed after the
load, as autovacuum would).
"""

from __future__ import annotations

import time
from datetime import timedelta

import common as bench
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Membership, Role
from lms.coaching import queries
from lms.coaching.models import ActionItem, FollowUp
from lms.core.models import utcnow
from lms.extensions import db


def main() -> None:
    args = bench.options(learners=10_000, cohorts=20).parse_args()
    app = bench.bench_app(args.database)
    with app.app_context():
        org, _ = bench.organization()
        coaches = [bench.staff(org, f"coach{n}@bench.example", Role.TRAINER, f"Coach {n}")
                   for n in range(2)]
        program = bench.catalogue_program(org)
        module = next(m for m in program.modules if m.kind == "coaching")
        cohorts = bench.make_cohorts(program, args.cohorts)
        db.session.commit()
        start = time.perf_counter()
        member_ids = [m for m, _ in bench.bulk_learners(org, args.learners)]
        enrollments = bench.bulk_enrol(org, cohorts, member_ids, utcnow() - timedelta(days=30))
        now = utcnow()
        rows = []
        for n, e in enumerate(enrollments):
            base = {"organization_id": org.id, "enrollment_id": e["id"], "module_id": module.id,
                    "coach_id": coaches[n % 2].id, "duration_minutes": 30, "place": "Salle",
                    "created_at": now, "updated_at": now}
            rows.append({**base, "scheduled_at": now - timedelta(days=20, minutes=n),
                         "status": "held", "held_at": now - timedelta(days=20),
                         "notes": "Notes du suivi. " * 20})
            rows.append({**base, "scheduled_at": now + timedelta(days=n % 40 - 10, minutes=n),
                         "status": "scheduled"})
        bench.insert_rows(FollowUp, rows)
        held = list(db.session.scalars(select(FollowUp.id).where(FollowUp.status == "held")))
        items = [{"followup_id": fid, "text": f"Action {k}", "status": "open",
                  "created_at": now} for fid in held for k in range(2)]
        bench.insert_rows(ActionItem, items)
        learner = db.session.get(Membership, member_ids[0])
        accounts.set_password(learner.user, bench.PASSWORD)
        bench.refresh_statistics()
        print(f"built {args.learners} learners in {args.cohorts} cohorts, {len(rows)} follow-ups "
              f"and {len(items)} action items in {time.perf_counter() - start:.1f} s "
              f"({db.engine.dialect.name})")

        due = queries.due_followups(org.id)
        print(f"due_followups: {len(due)} rows, {sum(d.overdue for d in due)} overdue")
        for label, call in (
                ("due_followups(org)", lambda: queries.due_followups(org.id)),
                ("due_followups(org, coach)", lambda: queries.due_followups(org.id,
                                                                            coach=coaches[0])),
                ("due_followups(org, limit=10)", lambda: queries.due_followups(org.id,
                                                                               limit=10)),
                ("due_counts(org)", lambda: queries.due_counts(org.id)),
                ("next_followup(learner)", lambda: queries.next_followup(learner))):
            median, p95 = bench.timed(call)
            print(f"{label:32}: median {median:6.1f} ms, p95 {p95:6.1f} ms")
            db.session.expire_all()

        client = app.test_client()
        bench.login(client, "coach0@bench.example")
        for label, url in (("coaches' list page", "/o/bench/coaching"),
                           ("list, one cohort, page 3", f"/o/bench/coaching?cohort="
                                                        f"{cohorts[1].id}&page=3"),
                           ("list, mine, all states", "/o/bench/coaching?coach=me&show=all")):
            median, p95 = bench.timed(bench.get_ok(client, url))
            print(f"{label:32}: median {median:6.1f} ms, p95 {p95:6.1f} ms")
        client = app.test_client()
        bench.login(client, learner.user.email)
        median, p95 = bench.timed(bench.get_ok(client, "/o/bench/my/followups"))
        print(f"{'learner: My follow-ups':32}: median {median:6.1f} ms, p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
