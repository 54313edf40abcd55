"""Benchmark of the course progress projection; prints its figures.

    .venv/bin/python bench/courses_progress.py [--learners 300] [--database URL]

Measures (1) what the progress projection adds to ``record()``: lesson statements (with the
enrolment as registration and the module as parent) recorded in batches of 100, projection
on vs off, interleaved; (2) an external "completed" per learner and module posted one at a
time (each re-derives one module); (3) the trainer's cohort page (learners × modules grid).
"""

from __future__ import annotations

import time

import common as bench

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.courses import statements as xs
from lms.courses.cohorts import progress
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.statements import PROGRESS_VERBS
from lms.extensions import db
from lms.xapi import projections
from lms.xapi.record import record


def main() -> None:
    args = bench.options(learners=300).parse_args()
    app = bench.bench_app(args.database)
    with app.app_context():
        org, _ = bench.organization()
        bench.staff(org, "t@bench.example", Role.TRAINER, "Trainer")
        program = bench.catalogue_program(org)
        cohort = create_cohort(program=program, name="Bench")
        enrollments = []
        for n in range(args.learners):
            member = accounts.provision_member(organization=org, email=f"l{n}@bench.example",
                                               role=Role.LEARNER, display_name=f"L {n}")
            enrollments.append(enrol(cohort=cohort, membership=member.membership))
        db.session.commit()
        lessons = [lesson for m in program.modules for lesson in m.lessons]

        # (1) batches of 100 lesson statements, projection on vs off, interleaved.
        timings: dict[bool, list[float]] = {True: [], False: []}
        batches = [[xs.lesson_event(enrollments[(b * 100 + i) % len(enrollments)],
                                    lessons[(b * 7 + i) % len(lessons)], xs.EXPERIENCED)
                    for i in range(100)] for b in range(20)]
        for b, batch in enumerate(batches):
            on = b % 2 == 0
            if not on:
                projections.unregister(progress.on_statement)
            start = time.perf_counter()
            record(batch, organization_id=org.id)
            db.session.commit()
            timings[on].append(time.perf_counter() - start)
            projections.register(progress.on_statement, verbs=PROGRESS_VERBS)
        for on in (False, True):
            rate = 100 * len(timings[on]) / sum(timings[on])
            print(f"record(), batches of 100 lesson statements, projection "
                  f"{'on ' if on else 'off'}: {rate:8.0f} statements/s")

        # (2) one external module completion at a time.
        module = next(m for m in program.modules if m.kind == "exercise")
        start = time.perf_counter()
        for e in enrollments[:200]:
            st = xs.module_completed(e, module)
            st["context"].pop("extensions")
            record([st], organization_id=org.id)
            db.session.commit()
        elapsed = time.perf_counter() - start
        print(f"module completion statements one by one (re-derive + program check): "
              f"{min(200, len(enrollments)) / elapsed:8.0f} statements/s")

        # (3) the cohort page.
        client = app.test_client()
        bench.login(client, "t@bench.example")
        page = bench.get_ok(client, f"/o/bench/cohorts/{cohort.id}")
        median, p95 = bench.timed(page, 15, warmups=0)
        print(f"cohort page, {len(enrollments)} learners × {len(program.modules)} modules: "
              f"median {median:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
