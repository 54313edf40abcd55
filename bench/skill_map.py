"""Skill mapping figures: scoring cost per attempt and the team skill map with many learners.

    .venv/bin/python bench/skill_map.py [--learners 2000] [--database URL] [--requests 20]

Builds a throw-away SQLite database (or wipes and migrates ``--database``: point it at a
throw-away one), loads the built-in framework and questionnaire, then prints:

* how long replaying the adaptive ladder takes for a whole attempt (the work done on each
  screen), and how long answering and submitting one attempt through the services takes;
* the team skill map page, its CSV export and the API map with ``--learners`` learners who
  each have a submitted attempt (p50 / p95 over ``--requests`` requests, test client, no
  network).
"""

from __future__ import annotations

import random
import time
import uuid

import common as bench

from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.assessments import queries, scoring, services
from lms.assessments.demo import answers_for
from lms.assessments.models import SUBMITTED, Attempt, SkillLevel
from lms.core.models import utcnow
from lms.extensions import db


def main() -> None:
    args = bench.options(__doc__.splitlines()[0], learners=2000, requests=20).parse_args()

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
        db.session.commit()

    client = app.test_client()
    bench.login(client, "trainer@bench.example")
    with app.app_context():
        _token, raw = accounts.issue_api_token(
            user=db.session.scalar(db.select(User).where(User.email == "trainer@bench.example")),
            name="bench")
        db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    for label, path, hdrs in (("map page", "/o/bench/skills/map", {}),
                              ("map CSV", "/o/bench/skills/map.csv", {}),
                              ("map API", "/api/v1/orgs/bench/skill-map", headers),
                              ("map page, one team", "/o/bench/skills/map?team=Team+3", {})):
        p50, p95 = bench.timed(bench.get_ok(client, path, headers=hdrs), args.requests, warmups=0)
        print(f"{label} with {args.learners} learners ({url.split(':')[0]}): "
              f"p50 {p50:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
