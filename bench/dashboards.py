"""Benchmark of the dashboards (the first page after login); prints its figures.

    .venv/bin/python bench/dashboards.py [--learners 10000] [--cohorts 20] [--database URL]

Builds an organization of ``--learners`` learners spread over ``--cohorts`` cohorts of the
six-week path (written in bulk, not through the services: the page reads, it does not care how
the rows came), each learner with progress rows in half of the modules, sessions started
yesterday with part of the attendance taken; then times the dashboard of the administrator
(every cohort), of a trainer (one cohort) and of a learner, 30 requests each after 3 warm-ups.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import g, request_started  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from lms import create_app  # noqa: E402
from lms.accounts import services as accounts  # noqa: E402
from lms.accounts.models import Membership, Role, User  # noqa: E402
from lms.core.models import utcnow  # noqa: E402
from lms.courses import services  # noqa: E402
from lms.courses.models import (  # noqa: E402
    Attendance,
    CohortTrainer,
    Enrollment,
    ModuleProgress,
    SessionRegistration,
    new_uuid,
)
from lms.extensions import db  # noqa: E402


def _fresh_g(sender, **_extra) -> None:  # type: ignore[no-untyped-def]
    """Each request gets an empty ``g`` (requests here share one app context, like tests)."""
    for name in list(vars(g)):
        delattr(g, name)


def _time(client, url: str, n: int = 30) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    for _ in range(3):
        assert client.get(url).status_code == 200
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
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
    request_started.connect(_fresh_g, app)
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
                                          starts_on=today - timedelta(days=20),
                                          ends_on=today + timedelta(days=20))
                   for n in range(args.cohorts)]
        db.session.add(CohortTrainer(cohort_id=cohorts[0].id,
                                     membership_id=people[Role.TRAINER].id))
        db.session.commit()
        start = time.perf_counter()
        users = [{"email": f"l{n}@bench.example", "display_name": f"Learner {n}",
                  "active": True, "created_at": utcnow()} for n in range(args.learners)]
        db.session.execute(insert(User), users)
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
        modules = list(program.modules)
        rows = []
        for n, e in enumerate(enrollments):
            for i, module in enumerate(modules[: 1 + n % (len(modules) // 2)]):
                done = i < n % 3
                rows.append({"enrollment_id": e["id"], "module_id": module.id,
                             "state": "completed" if done else "in_progress",
                             "percent": 100 if done else 50,
                             "updated_at": utcnow() - timedelta(days=n % 30)})
        for chunk in range(0, len(rows), 5000):
            db.session.execute(insert(ModuleProgress), rows[chunk:chunk + 5000])
        workshop = modules[0]
        for cohort in cohorts:
            session = services.schedule_session(
                cohort=cohort, module=workshop, starts_at=utcnow() - timedelta(days=1),
                ends_at=utcnow() - timedelta(days=1) + timedelta(hours=3), place="Salle A")
            seated = [e for e in enrollments if e["cohort_id"] == cohort.id][:30]
            db.session.execute(insert(SessionRegistration), [
                {"session_id": session.id, "enrollment_id": e["id"], "status": "registered",
                 "created_at": utcnow()} for e in seated])
            day, half = services.half_days(session)[0]
            db.session.execute(insert(Attendance), [
                {"session_id": session.id, "enrollment_id": e["id"], "day": day, "half": half,
                 "status": "present", "source": "sheet"} for e in seated[:20]])
        learner = db.session.get(Membership, member_ids[0]).user
        accounts.set_password(learner, "bench-password")
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
            client.post("/login", data={"email": email, "password": "bench-password"})
            median, p95 = _time(client, "/o/bench/")
            print(f"dashboard, {who:30}: median {median:6.1f} ms, p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
