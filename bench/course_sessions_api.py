"""Benchmark of the sessions API (attendance sheets, session lists); prints its figures.

    .venv/bin/python bench/course_sessions_api.py [--learners 60] [--days 3] [--sessions 50]
        [--database URL]

A cohort with ``--learners`` learners, all seated in a session of ``--days`` full days, and
``--sessions`` more sessions with a few registrations each. Through HTTP with a bearer token:
``PUT …/attendance`` of the whole sheet (learners × half-days marks: checks, attendance rows,
xAPI ``attended`` and progress), the same sheet again (nothing changes), a sheet with one bad
mark (422, nothing written), ``GET …/attendance`` and ``GET …/cohorts/<id>/sessions``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock

import common as bench

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.sessions.services import half_days, local_zone, register, schedule_session
from lms.extensions import db


def main() -> None:
    args = bench.options(learners=60, days=3, sessions=50).parse_args()
    app = bench.bench_app(args.database, wipe=True)
    with app.app_context():
        org = accounts.create_organization(slug="bench", name="Banc d'essai")
        trainer_user = accounts.create_user(email="t@bench.example", display_name="Formatrice")
        trainer = accounts.add_member(organization=org, user=trainer_user, role=Role.TRAINER)
        program = bench.catalogue_program(org, "formation-ambassadeurs-1-jour")
        cohort = create_cohort(program=program, name="Banc", trainers=[trainer])
        zone = local_zone()
        first = (utcnow() + timedelta(days=1)).astimezone(zone).date()
        session = schedule_session(
            cohort=cohort, module=program.modules[0],
            starts_at=datetime.combine(first, clock(9), tzinfo=zone),
            ends_at=datetime.combine(first + timedelta(days=args.days - 1), clock(17),
                                     tzinfo=zone), place="Lyon — salle Confluence")
        enrollments = []
        for i in range(args.learners):
            member = accounts.add_member(organization=org, user=accounts.create_user(
                email=f"l{i}@bench.example", display_name=f"Apprenant·e {i:03d}"),
                role=Role.LEARNER)
            enrollment = enrol(cohort=cohort, membership=member)
            register(session=session, enrollment=enrollment)
            enrollments.append(enrollment)
        for n in range(args.sessions):
            day = first + timedelta(days=7 + n)
            other = schedule_session(
                cohort=cohort, module=program.modules[0], capacity=3, place="Lyon",
                starts_at=datetime.combine(day, clock(9), tzinfo=zone),
                ends_at=datetime.combine(day, clock(12), tzinfo=zone))
            for enrollment in enrollments[n % args.learners:][:5]:
                register(session=other, enrollment=enrollment)
        _token, raw = accounts.issue_api_token(user=trainer_user, name="bench")
        db.session.commit()
        ids = [e.id for e in enrollments]
        halves = half_days(session)
        session_id, cohort_id = session.id, cohort.id

    client = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    base = "/api/v1/orgs/bench"
    sheet = [{"enrollment_id": eid, "day": day.isoformat(), "half": half,
              "status": "present" if (i + j) % 7 else "absent"}
             for i, eid in enumerate(ids) for j, (day, half) in enumerate(halves)]
    url = f"{base}/sessions/{session_id}/attendance"

    def put(marks: list[dict[str, str]], status: int) -> dict:
        response = client.put(url, headers=headers, json={"marks": marks})
        assert response.status_code == status, response.get_data(as_text=True)[:300]
        return response.get_json()

    with app.app_context():
        timer = bench.CpuClock()
        put(sheet, 200)
        first_write, first_cpu = timer.elapsed(), timer.note()
        again = bench.samples(lambda: put(sheet, 200), 5)
        bad = [*sheet[:-1], {**sheet[-1], "status": "late"}]
        refused = bench.samples(lambda: put(bad, 422), 5)
        read = bench.samples(lambda: client.get(url, headers=headers), 10, warmups=1)
        listed = bench.samples(lambda: client.get(
            f"{base}/cohorts/{cohort_id}/sessions?per_page=200", headers=headers), 10, warmups=1)
    print(f"PUT attendance, first write: {len(sheet)} marks ({args.learners} learners × "
          f"{len(halves)} half-days) in {1000 * first_write:.0f} ms "
          f"({1000 * first_write / len(sheet):.1f} ms a mark: checks, row, xAPI, progress; "
          f"{first_cpu})")
    print(f"PUT attendance, the same sheet again (0 changes): median "
          f"{bench.median_p95(again)[0]:.0f} ms")
    print(f"PUT attendance with one bad mark (422, nothing written): median "
          f"{bench.median_p95(refused)[0]:.0f} ms")
    print(f"GET attendance ({len(sheet)} rows): median {bench.median_p95(read)[0]:.0f} ms")
    print(f"GET cohort sessions ({args.sessions + 1} sessions with counts): median "
          f"{bench.median_p95(listed)[0]:.0f} ms")


if __name__ == "__main__":
    main()
