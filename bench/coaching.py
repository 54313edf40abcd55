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

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import g, request_started  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from lms import create_app  # noqa: E402
from lms.accounts import services as accounts  # noqa: E402
from lms.accounts.models import Membership, Role, User  # noqa: E402
from lms.coaching import queries  # noqa: E402
from lms.coaching.models import ActionItem, FollowUp  # noqa: E402
from lms.core.models import utcnow  # noqa: E402
from lms.courses import services  # noqa: E402
from lms.courses.models import Enrollment, new_uuid  # noqa: E402
from lms.extensions import db  # noqa: E402


def _fresh_g(sender, **_extra) -> None:  # type: ignore[no-untyped-def]
    """Each request gets an empty ``g`` (requests here share one app context, like tests)."""
    for name in list(vars(g)):
        delattr(g, name)


def _time(call: Callable[[], object], n: int = 30) -> tuple[float, float]:
    for _ in range(3):
        call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    times.sort()
    return 1000 * statistics.median(times), 1000 * times[int(0.95 * (len(times) - 1))]


def _page(client, url: str) -> Callable[[], object]:  # type: ignore[no-untyped-def]
    def get() -> object:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response

    return get


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
        coaches = []
        for n in range(2):
            made = accounts.provision_member(organization=org, email=f"coach{n}@bench.example",
                                             role=Role.TRAINER, display_name=f"Coach {n}")
            accounts.set_password(made.membership.user, "bench-password")
            coaches.append(made.membership)
        program = services.copy_from_catalogue(organization=org,
                                               slug="parcours-ambassadeurs-6-semaines")
        module = next(m for m in program.modules if m.kind == "coaching")
        cohorts = [services.create_cohort(program=program, name=f"Vague {n + 1}")
                   for n in range(args.cohorts)]
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
                        "status": "active", "enrolled_at": utcnow() - timedelta(days=30)}
                       for n, mid in enumerate(member_ids)]
        db.session.execute(insert(Enrollment), enrollments)
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
        for chunk in range(0, len(rows), 5000):
            db.session.execute(insert(FollowUp), rows[chunk:chunk + 5000])
        held = list(db.session.scalars(select(FollowUp.id).where(FollowUp.status == "held")))
        items = [{"followup_id": fid, "text": f"Action {k}", "status": "open",
                  "created_at": now} for fid in held for k in range(2)]
        for chunk in range(0, len(items), 5000):
            db.session.execute(insert(ActionItem), items[chunk:chunk + 5000])
        learner = db.session.get(Membership, member_ids[0])
        accounts.set_password(learner.user, "bench-password")
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # Statistics as autovacuum would have them after a real load.
            with db.engine.connect() as conn:
                conn.execute(text("ANALYZE")).close()
                conn.commit()
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
            median, p95 = _time(call)
            print(f"{label:32}: median {median:6.1f} ms, p95 {p95:6.1f} ms")
            db.session.expire_all()

        client = app.test_client()
        client.post("/login", data={"email": "coach0@bench.example",
                                    "password": "bench-password"})
        for label, url in (("coaches' list page", "/o/bench/coaching"),
                           ("list, one cohort, page 3", f"/o/bench/coaching?cohort="
                                                        f"{cohorts[1].id}&page=3"),
                           ("list, mine, all states", "/o/bench/coaching?coach=me&show=all")):
            median, p95 = _time(_page(client, url))
            print(f"{label:32}: median {median:6.1f} ms, p95 {p95:6.1f} ms")
        client = app.test_client()
        client.post("/login", data={"email": learner.user.email, "password": "bench-password"})
        median, p95 = _time(_page(client, "/o/bench/my/followups"))
        print(f"{'learner: My follow-ups':32}: median {median:6.1f} ms, p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
