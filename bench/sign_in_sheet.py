"""Benchmark of QR sign-in and the PDF sign-in sheet; prints its figures.

    .venv/bin/python bench/sign_in_sheet.py [--learners 40] [--days 3] [--database URL]

A session of ``--days`` full days (two half-days each) with ``--learners`` seats: every learner
signs in by QR code for every half-day (``sign_in.sign_in``: checks, attendance row, xAPI
``attended`` statement and progress projection), then the sheet is rendered to PDF a few times
(``sign_in_sheet.render_pdf``: template + WeasyPrint through ``lms.core.pdf``).
"""

from __future__ import annotations

import subprocess
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

import common as bench

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.sessions import sign_in, sign_in_sheet
from lms.courses.sessions.services import local_zone, register, schedule_session
from lms.extensions import db


def main() -> None:
    args = bench.options(learners=40, days=3).parse_args()
    app = bench.bench_app(args.database)
    with app.app_context():
        org = accounts.create_organization(slug="bench", name="Banc d'essai")
        trainer = accounts.add_member(organization=org, user=accounts.create_user(
            email="t@bench.example", display_name="Formatrice"), role=Role.TRAINER)
        program = bench.catalogue_program(org, "formation-ambassadeurs-1-jour")
        cohort = create_cohort(program=program, name="Banc", trainers=[trainer])
        zone = local_zone()
        first = (utcnow() + timedelta(days=1)).astimezone(zone).date()
        session = schedule_session(
            cohort=cohort, module=program.modules[0],
            starts_at=datetime.combine(first, clock(9), tzinfo=zone),
            ends_at=datetime.combine(first + timedelta(days=args.days - 1), clock(17),
                                     tzinfo=zone), place="Lyon — salle Confluence",
            trainer=trainer)
        members = []
        for i in range(args.learners):
            member = accounts.add_member(organization=org, user=accounts.create_user(
                email=f"l{i}@bench.example", display_name=f"Apprenant·e {i:03d}"),
                role=Role.LEARNER)
            register(session=session, enrollment=enrol(cohort=cohort,
                                                       membership=member))
            members.append(member)
        db.session.commit()

        timings = []
        for day_offset in range(args.days):
            day = first + timedelta(days=day_offset)
            for hour in (8, 13):
                for i, member in enumerate(members):
                    when = datetime.combine(day, clock(hour, 50), tzinfo=zone) + \
                        timedelta(seconds=i)
                    start = time.perf_counter()
                    sign_in.sign_in(session=session, membership=member, when=when)
                    db.session.commit()
                    timings.append(time.perf_counter() - start)
        median, p95 = bench.median_p95(timings)
        print(f"QR sign-ins: {len(timings)} ({args.learners} learners × {2 * args.days} "
              f"half-days), median {median:.1f} ms, p95 {p95:.1f} ms each "
              f"(checks, attendance, statement, projection, commit)")

        data = sign_in_sheet.render_pdf(session)  # warm: imports, fonts
        renders = bench.samples(lambda: sign_in_sheet.render_pdf(session), 5)
        path = Path(app.instance_path) / "sheet.pdf"
        path.write_bytes(data)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
        pages = next((line.split()[-1] for line in info.splitlines()
                      if line.startswith("Pages:")), "?")
        print(f"Sign-in sheet PDF: {len(data) // 1024} KiB, {pages} pages, render median "
              f"{bench.median_p95(renders)[0]:.0f} ms (min {1000 * min(renders):.0f} ms)")


if __name__ == "__main__":
    main()
