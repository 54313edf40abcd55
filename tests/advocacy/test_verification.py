"""On-the-job exercises verified automatically from matching advocacy activity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.advocacy import csvimport, services, verification
from lms.core.models import utcnow
from lms.courses.cohorts.models import ModuleProgress
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.exercises import queries as exercise_queries
from lms.courses.exercises import services as exercise_services
from lms.courses.programs.services import add_module, create_blank_program
from lms.extensions import db
from tests.advocacy.helpers import consent

RULE = {"network": "linkedin", "kinds": ["post"], "count": 2, "own_comment": True,
        "within_days": 14}


@pytest.fixture()
def world(create_org, create_user):
    org = create_org(slug="lumiere")
    learner = create_user(Role.LEARNER, org=org, name="Camille")
    other = create_user(Role.LEARNER, org=org, name="Hugo")
    program = create_blank_program(organization=org, title="Parcours", language="fr")
    exercise = add_module(program=program, kind="exercise", title="Deux publications")
    exercise.exercise = {**exercise_queries.settings_of(exercise), "verification": dict(RULE)}
    # The cohort started 30 days ago; the learners were enrolled before that: the exercise opened
    # at the cohort's start.
    start = (utcnow() - timedelta(days=30)).date()
    cohort = create_cohort(program=program, name="Pilote", starts_on=start)
    enrollments = [enrol(cohort=cohort, membership=u.memberships[0])
                   for u in (learner, other)]
    for enrollment in enrollments:
        enrollment.enrolled_at = utcnow() - timedelta(days=40)
    db.session.commit()
    consent(org, learner, other)
    opened = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    return {"org": org, "learner": learner, "other": other, "module": exercise,
            "enrollment": enrollments[0], "other_enrollment": enrollments[1],
            "opened": opened}


def _post(org, user, when, *, network="linkedin", kind="post", own=True, n=[0]):  # noqa: B006
    n[0] += 1
    event, _ = services.record_event(organization=org, user=user, source="api", data={
        "network": network, "kind": kind, "occurred_at": when.isoformat(),
        "url": f"https://www.linkedin.com/feed/update/urn:li:activity:{n[0]}",
        "with_own_comment": own})
    db.session.commit()
    return event


def _state(enrollment, module):
    latest = exercise_queries.latest_submission(enrollment.id, module.id)
    progress = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == enrollment.id, ModuleProgress.module_id == module.id))
    return (latest.status if latest else None, progress.state if progress else None)


def test_two_posts_with_own_comment_verify_the_exercise(world):
    org, learner, opened = world["org"], world["learner"], world["opened"]
    # Not counted: before the exercise opened, on X, without a comment of her own, a share.
    _post(org, learner, opened - timedelta(days=1))
    _post(org, learner, opened + timedelta(days=1), network="x")
    _post(org, learner, opened + timedelta(days=1, hours=1), own=False)
    _post(org, learner, opened + timedelta(days=1, hours=2), kind="share")
    first = _post(org, learner, opened + timedelta(days=2))
    assert _state(world["enrollment"], world["module"]) == (None, None)
    second = _post(org, learner, opened + timedelta(days=3))
    status, progress = _state(world["enrollment"], world["module"])
    assert (status, progress) == ("verified", "completed")
    evidence = exercise_queries.latest_submission(world["enrollment"].id, world["module"].id)
    assert [e["id"] for e in evidence.verification["events"]] == [first.id, second.id]
    assert evidence.verification["rule"]["count"] == 2
    # Hugo's exercise is untouched.
    assert _state(world["other_enrollment"], world["module"]) == (None, None)


def test_activity_after_the_period_does_not_count(world):
    org, learner, opened = world["org"], world["learner"], world["opened"]
    _post(org, learner, opened + timedelta(days=1))
    _post(org, learner, opened + timedelta(days=14))  # the period is [opened, opened + 14 d)
    assert _state(world["enrollment"], world["module"]) == (None, None)


def test_verification_is_idempotent(world):
    org, learner, opened = world["org"], world["learner"], world["opened"]
    for day in (1, 2, 3):
        _post(org, learner, opened + timedelta(days=day))
    assert verification.verify_for_users(org.id, {learner.id}) == 0  # already verified
    assert verification.verify_all() == 0
    db.session.commit()
    from lms.courses.exercises.models import ExerciseSubmission

    assert db.session.scalar(select(db.func.count()).select_from(ExerciseSubmission)) == 1


def test_csv_import_and_the_periodic_job_verify_too(world):
    org, learner, other, opened = world["org"], world["learner"], world["other"], world["opened"]
    rows = "\n".join(
        f"{learner.email},linkedin,post,https://www.linkedin.com/feed/update/csv{d},"
        f"{(opened + timedelta(days=d)).date().isoformat()},yes" for d in (1, 2))
    data = ("email,network,kind,url,occurred_at,with_own_comment\n" + rows + "\n").encode()
    csvimport.import_activity(organization=org, data=data)
    db.session.commit()
    assert _state(world["enrollment"], world["module"])[0] == "verified"
    # Hugo's posts were recorded before the rule asked for two: the periodic job catches up.
    world["module"].exercise = {**world["module"].exercise,
                                "verification": {**RULE, "count": 3}}
    db.session.commit()
    for day in (1, 2):
        _post(org, other, opened + timedelta(days=day))
    assert _state(world["other_enrollment"], world["module"])[0] is None
    world["module"].exercise = {**world["module"].exercise, "verification": dict(RULE)}
    db.session.commit()
    assert verification.verify_all() == 1
    db.session.commit()
    assert _state(world["other_enrollment"], world["module"])[0] == "verified"


def test_a_learner_who_revoked_consent_is_not_verified(world):
    org, learner, opened = world["org"], world["learner"], world["opened"]
    world["module"].exercise = {**world["module"].exercise,
                                "verification": {**RULE, "count": 3}}
    db.session.commit()
    for day in (1, 2):
        _post(org, learner, opened + timedelta(days=day))
    services.revoke_consent(organization=org, user=learner)
    world["module"].exercise = {**world["module"].exercise, "verification": dict(RULE)}
    db.session.commit()
    assert verification.verify_all() == 0
    assert _state(world["enrollment"], world["module"]) == (None, None)


def test_the_webhook_and_manual_entry_paths_verify(world, client, login):
    import json
    import time

    from lms.advocacy.webhook import sign

    org, learner, opened = world["org"], world["learner"], world["opened"]
    secret = services.rotate_webhook_secret(organization=org)
    db.session.commit()
    body = json.dumps({"email": learner.email, "network": "linkedin", "kind": "post",
                       "occurred_at": (opened + timedelta(days=1)).isoformat(),
                       "url": "https://www.linkedin.com/feed/update/hook1",
                       "with_own_comment": True}).encode()
    ts = str(int(time.time()))
    response = client.post(f"/hooks/advocacy/{org.slug}", data=body, headers={
        "X-Relais-Timestamp": ts, "X-Relais-Signature": sign(secret, ts, body),
        "Content-Type": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _state(world["enrollment"], world["module"])[0] is None
    login(learner)
    response = client.post(f"/o/{org.slug}/advocacy/me/events", data={
        "network": "linkedin", "kind": "post", "with_own_comment": "yes",
        "occurred_at": (opened + timedelta(days=2)).date().isoformat(),
        "url": "https://www.linkedin.com/feed/update/manual1"})
    assert response.status_code == 302
    assert _state(world["enrollment"], world["module"])[0] == "verified"


def test_opening_date_is_the_later_of_enrolment_and_cohort_start(world):
    enrollment = world["enrollment"]
    assert verification.opened_at(enrollment) == world["opened"]
    enrollment.cohort.starts_on = date(2020, 1, 1)
    assert verification.opened_at(enrollment) == enrollment.enrolled_at


def test_a_failing_verification_does_not_undo_the_ingestion(world, monkeypatch):
    from lms.core.errors import ValidationFailed

    def refuse(*_args, **_kwargs):
        raise ValidationFailed("This enrolment was withdrawn.")

    monkeypatch.setattr(exercise_services, "verify_exercise", refuse)
    org, learner, opened = world["org"], world["learner"], world["opened"]
    for day in (1, 2):
        _post(org, learner, opened + timedelta(days=day))
    assert db.session.scalar(select(db.func.count()).select_from(
        services.AdvocacyEvent)) == 2
    assert _state(world["enrollment"], world["module"]) == (None, None)


def test_the_timeline_says_the_exercise_was_verified_from_activity(world, client, login):
    org, learner, opened = world["org"], world["learner"], world["opened"]
    for day in (1, 2):
        _post(org, learner, opened + timedelta(days=day))
    login(learner)
    html = client.get(f"/o/{org.slug}/timeline").get_data(as_text=True)
    assert "Module completed: Deux publications" in html
    assert "verified from your advocacy activity" in html
