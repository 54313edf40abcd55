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

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from lms import create_app  # noqa: E402
from lms.accounts import services as accounts  # noqa: E402
from lms.accounts.models import Membership, Role, User  # noqa: E402
from lms.core.models import utcnow  # noqa: E402
from lms.courses import exercises, services  # noqa: E402
from lms.courses.exercise_models import ExerciseSubmission  # noqa: E402
from lms.courses.models import CohortTrainer, Enrollment, new_uuid  # noqa: E402
from lms.extensions import db  # noqa: E402


def _time(run: Callable[[], Any], n: int = 30) -> tuple[float, float]:
    for _ in range(3):
        run()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    times.sort()
    return 1000 * statistics.median(times), 1000 * times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--cohorts", type=int, default=20)
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
        people = {}
        for role in (Role.ADMIN, Role.TRAINER):
            made = accounts.provision_member(organization=org, email=f"{role}@bench.example",
                                             role=role, display_name=str(role))
            accounts.set_password(made.membership.user, "bench-password")
            people[role] = made.membership
        program = services.copy_from_catalogue(organization=org,
                                               slug="parcours-ambassadeurs-6-semaines")
        today = utcnow().date()
        cohorts = [services.create_cohort(program=program, name=f"Vague {n + 1}",
                                          starts_on=today - timedelta(days=20))
                   for n in range(args.cohorts)]
        db.session.add(CohortTrainer(cohort_id=cohorts[0].id,
                                     membership_id=people[Role.TRAINER].id))
        db.session.commit()
        start = time.perf_counter()
        db.session.execute(insert(User), [
            {"email": f"l{n}@bench.example", "display_name": f"Learner {n}", "active": True,
             "created_at": utcnow()} for n in range(args.learners)])
        user_ids = list(db.session.scalars(select(User.id).where(
            User.email.like("l%@bench.example")).order_by(User.id)))
        db.session.execute(insert(Membership), [
            {"organization_id": org.id, "user_id": uid, "role": Role.LEARNER,
             "created_at": utcnow()} for uid in user_ids])
        member_ids = list(db.session.scalars(select(Membership.id).where(
            Membership.organization_id == org.id, Membership.role == Role.LEARNER)
            .order_by(Membership.id)))
        enrollments = [{"id": new_uuid(), "organization_id": org.id,
                        "cohort_id": cohorts[n % len(cohorts)].id, "membership_id": mid,
                        "status": "active", "enrolled_at": utcnow() - timedelta(days=20)}
                       for n, mid in enumerate(member_ids)]
        db.session.execute(insert(Enrollment), enrollments)
        profile = next(m for m in program.modules if m.key == "exercice-profil")
        statuses = ("submitted", "approved", "changes_requested")
        rows = [{"organization_id": org.id, "enrollment_id": e["id"], "module_id": profile.id,
                 "attempt": 1, "status": statuses[n % 3],
                 "post_url": f"https://www.linkedin.com/in/learner-{n}",
                 "reflection": "Titre et résumé revus pour mes clients.",
                 "submitted_at": utcnow() - timedelta(minutes=n)}
                for n, e in enumerate(enrollments)]
        for chunk in range(0, len(rows), 5000):
            db.session.execute(insert(ExerciseSubmission), rows[chunk:chunk + 5000])
        learner = db.session.get(Membership, member_ids[0])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # as autovacuum would after a bulk load
            with db.engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        print(f"built {args.learners} learners in {args.cohorts} cohorts, {len(rows)} hand-ins "
              f"in {time.perf_counter() - start:.1f} s ({db.engine.dialect.name})")

        for who, email in (("administrator (every cohort)", "admin@bench.example"),
                           ("trainer (one cohort)", "trainer@bench.example")):
            client = app.test_client()
            client.post("/login", data={"email": email, "password": "bench-password"})

            def page(client: Any = client) -> None:
                assert client.get("/o/bench/exercises/review").status_code == 200

            median, p95 = _time(page)
            print(f"review queue page, {who:30}: median {median:6.1f} ms, p95 {p95:6.1f} ms")
        trainer = people[Role.TRAINER]
        for who, scope in (("organization", None), ("trainer", trainer)):
            median, p95 = _time(lambda scope=scope: (
                exercises.to_review(org.id, scope, limit=8),
                exercises.count_to_review(org.id, scope)))
            print(f"to_review (8) + count, {who:25}: median {median:6.1f} ms, p95 {p95:6.1f} ms")
        median, p95 = _time(lambda: exercises.due_for(learner))
        print(f"due_for, one learner{'':28}: median {median:6.1f} ms, p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
