"""Benchmark of the member import job (a CSV of people → memberships); prints rows/s.

    .venv/bin/python bench/members_import.py [--rows 5000] [--database URL]

An HR member starts the import of a CSV of ``--rows`` people (e-mail, name, role, team, job
family, a manager for most, ~1 % bad rows), the job runs in this process (``run_job``: chunks,
progress, error report) and the rows/s are printed with the CPU time; then the same file again
(every person already there: updates only).
"""

from __future__ import annotations

import common as bench

from lms.accounts.models import Role
from lms.extensions import db
from lms.jobs import members_import
from lms.jobs.runner import run_job

TEAMS = ["Ventes", "Marketing", "RH", "Produit", "Support"]


def generate(rows: int) -> bytes:
    lines = ["email;display_name;role;team;job_family;manager_email"]
    for i in range(rows):
        role = "trainer" if i % 50 == 0 else "learner"
        email = f"personne{i}@bench.example" if i % 100 != 37 else f"pas-un-courriel-{i}"
        manager = f"personne{i - i % 50}@bench.example" if i % 50 else ""
        lines.append(f"{email};Personne {i:05d};{role};{TEAMS[i % 5]};vente;{manager}")
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    args = bench.options(rows=5000).parse_args()
    app = bench.bench_app(args.database, wipe=True)
    data = generate(args.rows)
    with app.app_context():
        org, staff = bench.organization(Role.HR)
        hr = staff[Role.HR].user
        db.session.commit()
        print(f"database: {db.engine.dialect.name}; file: {args.rows} rows")
        for label in ("first import", "same file again"):
            job = members_import.start_import(organization=org, created_by=hr, data=data)
            db.session.commit()
            clock = bench.CpuClock()
            state = run_job(job.id)
            elapsed = clock.elapsed()
            db.session.refresh(job)
            print(f"{label}: {state} {job.result} in {elapsed:.2f} s "
                  f"({args.rows / elapsed:,.0f} rows/s; {clock.note()})")


if __name__ == "__main__":
    main()
