"""Benchmark of the course progress projection; prints its figures.

    .venv/bin/python bench/courses_progress.py [--learners 300] [--database URL]

Measures (1) what the progress projection adds to ``record()``: lesson statements (with the
enrolment as registration and the module as parent) recorded in batches of 100, projection
on vs off, interleaved (the batches recorded with it off are about other learners: on a
server it is always on, and a learner's statements it never saw would have it re-derive
their modules at every batch); (1b) the same for statements from an uploaded xAPI package (its own
activities, the package's root activity as parent: the projection maps it to the module);
(2) an external "completed" per learner and module posted one at a time (each re-derives one
module); (3) the trainer's cohort page (learners × modules grid). Rates are given per second
of wall time and per CPU-second of this process (and of the PostgreSQL backend): on a busy
machine the CPU figure is the one to compare. On PostgreSQL the tables are vacuumed and
analysed after the set-up and before the package statements, as autovacuum would be (see
``settle``).

Target (issue #18): the projection on course and package activities ≥ 5,000 statements/s.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import common as bench
from sqlalchemy import text

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.courses import statements as xs
from lms.courses.cohorts import progress
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.statements import PROGRESS_VERBS
from lms.extensions import db
from lms.packages.models import XapiPackage
from lms.xapi import projections
from lms.xapi.builders import agent_for_user
from lms.xapi.record import record

PACKAGE_ROOT = "https://content.example/courses/social-selling"


def projection_rates(label: str, org_id: int, on_batches: list[list[dict[str, Any]]],
                     off_batches: list[list[dict[str, Any]]]) -> None:
    """Record the batches, projection on and off (other learners), interleaved; print the
    rates.
    """
    wall: dict[bool, float] = {True: 0.0, False: 0.0}
    cpu: dict[bool, float] = {True: 0.0, False: 0.0}
    backend: dict[bool, float] = {True: 0.0, False: 0.0}
    batches = [b for pair in zip(on_batches, off_batches, strict=True) for b in pair]
    for b, batch in enumerate(batches):
        on = b % 2 == 0
        if not on:
            projections.unregister(progress.on_statement)
        backend_start = bench.backend_cpu() or 0.0
        start, cpu_start = time.perf_counter(), time.process_time()
        record(batch, organization_id=org_id)
        db.session.commit()
        wall[on] += time.perf_counter() - start
        cpu[on] += time.process_time() - cpu_start
        backend[on] += (bench.backend_cpu() or 0.0) - backend_start
        projections.register(progress.on_statement, verbs=PROGRESS_VERBS)
    count = 100 * len(batches) / 2
    for on in (False, True):
        pg = f", {1e6 * backend[on] / count:.0f} µs PostgreSQL" if backend[on] else ""
        print(f"record(), batches of 100 {label}, projection {'on ' if on else 'off'}: "
              f"{count / wall[on]:8.0f} statements/s wall, {count / cpu[on]:8.0f} per CPU-second "
              f"({1e6 * cpu[on] / count:.0f} µs CPU a statement{pg})")
    added = (cpu[True] - cpu[False] + backend[True] - backend[False]) / count
    print(f"  the projection itself: {1e6 * added:.0f} µs CPU a statement "
          f"({1 / added if added > 0 else float('inf'):,.0f} statements per CPU-second)")


def main() -> None:
    args = bench.options(learners=300).parse_args()
    app = bench.bench_app(args.database)
    with app.app_context():
        org, _ = bench.organization()
        bench.staff(org, "t@bench.example", Role.TRAINER, "Trainer")
        program = bench.catalogue_program(org)
        cohort = create_cohort(program=program, name="Bench")
        enrollments = []
        # As many learners again for the batches recorded with the projection off.
        for n in range(2 * args.learners):
            member = accounts.provision_member(organization=org, email=f"l{n}@bench.example",
                                               role=Role.LEARNER, display_name=f"L {n}")
            enrollments.append(enrol(cohort=cohort, membership=member.membership))
        settle()
        lessons = [lesson for m in program.modules for lesson in m.lessons]
        learners, others = enrollments[:args.learners], enrollments[args.learners:]

        # (1) batches of 100 lesson statements, projection on vs off, interleaved.
        batches = [[[xs.lesson_event(group[(b * 100 + i) % len(group)],
                                     lessons[(b * 7 + i) % len(lessons)], xs.EXPERIENCED)
                     for i in range(100)] for b in range(20)] for group in (learners, others)]
        projection_rates("lesson statements", org.id, *batches)

        # (1b) statements of an uploaded package: its activities, its root as parent.
        packaged = next(m for m in program.modules if m.kind == "elearning")
        db.session.add(XapiPackage(organization_id=org.id, module_id=packaged.id,
                                   folder="packages/bench", launch_path="index.html",
                                   activity_id=PACKAGE_ROOT, title="Social selling", size=1))
        settle()
        batches = [[[package_statement(group[(b * 100 + i) % len(group)], b * 100 + i)
                     for i in range(100)] for b in range(20)] for group in (learners, others)]
        projection_rates("package statements", org.id, *batches)

        # (2) one external module completion at a time.
        module = next(m for m in program.modules if m.kind == "exercise")
        timer = bench.CpuClock()
        for e in learners[:200]:
            st = xs.module_completed(e, module)
            st["context"].pop("extensions")
            record([st], organization_id=org.id)
            db.session.commit()
        print(f"module completion statements one by one (re-derive + program check): "
              f"{min(200, len(learners)) / timer.elapsed():8.0f} statements/s "
              f"({timer.note()})")

        # (3) the cohort page.
        client = app.test_client()
        bench.login(client, "t@bench.example")
        page = bench.get_ok(client, f"/o/bench/cohorts/{cohort.id}")
        median, p95 = bench.timed(page, 15, warmups=0)
        print(f"cohort page, {len(enrollments)} learners × {len(program.modules)} modules: "
              f"median {median:.0f} ms, p95 {p95:.0f} ms")


def settle() -> None:
    """Commit, then on PostgreSQL VACUUM ANALYZE as autovacuum would (after a load, and after
    the 1,000 statements its insert threshold waits for): without it the visibility map
    stays empty and every index-only lookup of the projection fetches its heap rows, which
    a production server (autovacuum on) does not. This machine's server runs without it.
    """
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def package_statement(enrollment: Any, n: int) -> dict[str, Any]:
    """What an uploaded package sends: a slide of its own, its root activity as parent."""
    return {"id": str(uuid.uuid4()), "actor": agent_for_user(enrollment.membership.user),
            "verb": xs.EXPERIENCED,
            "object": {"objectType": "Activity", "id": f"{PACKAGE_ROOT}/slides/{n % 40}",
                       "definition": {"name": {"en-US": f"Slide {n % 40}"},
                                      "type": "http://adlnet.gov/expapi/activities/lesson"}},
            "context": {"registration": enrollment.id,
                        "contextActivities": {"parent": [{"id": PACKAGE_ROOT}]}}}


if __name__ == "__main__":
    main()
