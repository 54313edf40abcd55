"""Skill mapping figures: scoring cost per attempt and the team skill map with many learners.

    .venv/bin/python bench/skill_map.py [--learners 10000] [--database URL] [--requests 20]

Builds a throw-away SQLite database (or wipes and migrates ``--database``: point it at a
throw-away one), loads the built-in framework and questionnaire, then prints:

* how long replaying the adaptive ladder takes for a whole attempt (the work done on each
  screen), and how long answering and submitting one attempt through the services takes;
* the team skill map page (first, a deep one, one team), its CSV export (streamed: the whole
  body read) and pages of the API map with ``--learners`` learners who each have a submitted
  attempt: wall and CPU p50 / p95 over ``--requests`` requests (test client, no network), the
  PostgreSQL backends' CPU per request, the body's size and the Python memory a request peaks
  at (tracemalloc, one more request). On a busy machine judge by the CPU figures.
"""

from __future__ import annotations

import os
import random
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path

import common as bench
from flask import Flask

from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.assessments import queries, scoring, services
from lms.assessments.demo import answers_for
from lms.assessments.models import SUBMITTED, Attempt, SkillLevel
from lms.core.models import utcnow
from lms.extensions import db


def backends_cpu(app: Flask) -> float | None:
    """CPU seconds used so far by every PostgreSQL backend of this database (the test client's
    requests may take any connection of the pool); None on SQLite or a remote server."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return None
        pids = db.session.scalars(db.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def fetch_all(client: object, path: str, headers: dict[str, str]) -> Callable[[], int]:
    """A GET of ``path`` that must answer 200, its whole body read (a streamed one too);
    returns the body's size."""
    def get() -> int:
        response = client.get(path, headers=headers)  # type: ignore[attr-defined]
        assert response.status_code == 200, (path, response.status_code)
        size = sum(len(chunk) for chunk in response.response)
        response.close()
        return size

    return get


def measure(app: Flask, label: str, fn: Callable[[], int], runs: int) -> None:
    """Wall p50/p95 and this process's CPU p50/p95 per request, the PostgreSQL backends' CPU
    per request, then one more request under tracemalloc for its peak memory."""
    fn()  # warm-up: templates compiled, caches filled
    walls, cpus = [], []
    server = backends_cpu(app)
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        size = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    after = backends_cpu(app)
    p50, p95 = bench.median_p95(walls)
    c50, c95 = bench.median_p95(cpus)
    note = "" if server is None or after is None else \
        f" + PostgreSQL {(after - server) / runs * 1000:.0f} ms"
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{label}: wall p50 {p50:.0f} ms, p95 {p95:.0f} ms; CPU p50 {c50:.0f} ms, "
          f"p95 {c95:.0f} ms{note}; {size / 1024:.0f} KiB, peak Python memory "
          f"{peak / 2**20:.1f} MiB")


def main() -> None:
    args = bench.options(__doc__.splitlines()[0], learners=10_000, requests=20).parse_args()

    app = bench.bench_app(args.database, wipe=True)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        services.load_builtin_content()
        db.session.commit()
        q = queries.builtin_questionnaires()[0]
        items = services.items_of(q)
        order = [c.code for c in q.framework.competencies]

        # 1. Pure scoring: replay a full attempt's answers (what each screen costs).
        org, _ = bench.organization(Role.TRAINER)
        one = accounts.provision_member(organization=org, email="one@bench.example",
                                        role=Role.LEARNER, job_family="sales").membership
        db.session.commit()
        attempt, _ = services.start_attempt(membership=one, questionnaire=q)
        started = time.perf_counter()
        answers_for(attempt, {c: 3 for c in order}, set())
        services.submit_attempt(attempt=attempt)
        db.session.commit()
        whole = time.perf_counter() - started
        screens = len(attempt.answers)
        runs = 200
        started = time.perf_counter()
        for _ in range(runs):
            scoring.progress(items, attempt.answers, order)
        replay = (time.perf_counter() - started) / runs
        print(f"scoring: replaying a whole attempt ({screens} answers) takes "
              f"{replay * 1000:.2f} ms")
        print(f"services: answering screen by screen and submitting one attempt "
              f"(statements recorded) takes {whole * 1000:.0f} ms")

        # 2. Many learners with a submitted attempt each (inserted directly: fast set-up).
        rng = random.Random(42)
        families = ["sales", "hr", "marketing", "management", "other"]
        members = bench.bulk_learners(org, args.learners, "learner", name="Learner {n:05d}",
                                fields=lambda i: {"team": f"Team {i % 12}",
                                                  "job_family": families[i % 5]})
        now = utcnow()
        db.session.execute(db.insert(Attempt), [
            {"uuid": str(uuid.uuid4()), "organization_id": org.id, "membership_id": mid,
             "user_id": uid, "questionnaire_id": q.id, "status": SUBMITTED, "answers": {},
             "levels": {c: rng.randint(0, 5) for c in order},
             "declared": {c: 0 for c in order}, "started_at": now, "updated_at": now,
             "submitted_at": now} for mid, uid in members])
        # What submitting maintains: each learner's current level per competency.
        db.session.execute(db.insert(SkillLevel), [
            {"organization_id": org.id, "membership_id": mid, "attempt_id": aid,
             "competency": code, "measured": level,
             "shown": scoring.reported_level(level), "pending": scoring.pending_validation(level)}
            for aid, mid, levels in db.session.execute(db.select(
                Attempt.id, Attempt.membership_id, Attempt.levels).where(
                Attempt.organization_id == org.id, Attempt.membership_id != one.id))
            for code, level in levels.items()])
        bench.refresh_statistics()

    client = app.test_client()
    bench.login(client, "trainer@bench.example")
    with app.app_context():
        _token, raw = accounts.issue_api_token(
            user=db.session.scalar(db.select(User).where(User.email == "trainer@bench.example")),
            name="bench")
        db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    print(f"{args.learners} learners on {url.split(':')[0]}, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (judge by CPU on a busy machine)")
    api = "/api/v1/orgs/bench/skill-map"
    for label, path, hdrs in (("map page", "/o/bench/skills/map", {}),
                              ("map page 100", "/o/bench/skills/map?page=100", {}),
                              ("map page, one team", "/o/bench/skills/map?team=Team+3", {}),
                              ("map CSV (streamed, every learner)", "/o/bench/skills/map.csv", {}),
                              ("map API (first page)", api, headers),
                              ("map API, page 100", f"{api}?page=100", headers),
                              ("map API, 200 a page", f"{api}?per_page=200", headers)):
        measure(app, label, fetch_all(client, path, hdrs), args.requests)


if __name__ == "__main__":
    main()
