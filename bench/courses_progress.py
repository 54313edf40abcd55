"""Benchmark of the course progress projection; prints its figures.

    .venv/bin/python bench/courses_progress.py [--learners 300] [--database URL]

Measures (1) what the progress projection adds to ``record()``: lesson statements (with the
enrolment as registration and the module as parent) recorded in batches of 100, projection
on vs off, interleaved; (2) an external "completed" per learner and module posted one at a
time (each re-derives one module); (3) the trainer's cohort page (learners × modules grid).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lms import create_app  # noqa: E402
from lms.accounts import services as accounts  # noqa: E402
from lms.accounts.models import Role  # noqa: E402
from lms.courses import progress, services  # noqa: E402
from lms.courses import statements as xs  # noqa: E402
from lms.courses.statements import PROGRESS_VERBS  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.xapi import projections  # noqa: E402
from lms.xapi.record import record  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    os.environ["RELAIS_INSTANCE_PATH"] = tmp
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database or f"sqlite:///{tmp}/b.db",
                      "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "BASE_URL": "http://relais.bench"})
    with app.app_context():
        from lms.cli import upgrade_database

        upgrade_database()
        services.load_catalogue()
        org = accounts.create_organization(slug="bench", name="Bench")
        trainer = accounts.provision_member(organization=org, email="t@bench.example",
                                            role=Role.TRAINER, display_name="Trainer")
        accounts.set_password(trainer.membership.user, "bench-password")
        program = services.copy_from_catalogue(organization=org,
                                               slug="parcours-ambassadeurs-6-semaines")
        cohort = services.create_cohort(program=program, name="Bench")
        enrollments = []
        for n in range(args.learners):
            member = accounts.provision_member(organization=org, email=f"l{n}@bench.example",
                                               role=Role.LEARNER, display_name=f"L {n}")
            enrollments.append(services.enrol(cohort=cohort, membership=member.membership))
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
        client.post("/login", data={"email": "t@bench.example", "password": "bench-password"})
        times = []
        for _ in range(15):
            start = time.perf_counter()
            response = client.get(f"/o/bench/cohorts/{cohort.id}")
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
        times.sort()
        print(f"cohort page, {len(enrollments)} learners × {len(program.modules)} modules: "
              f"median {1000 * statistics.median(times):.0f} ms, "
              f"p95 {1000 * times[int(0.95 * (len(times) - 1))]:.0f} ms")


if __name__ == "__main__":
    main()
