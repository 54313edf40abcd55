"""Jobs in one process: claiming, progress, resume, retries, cancel, periodic work, pages, API."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lms.accounts.models import Invitation, LoginFailure, Membership, Role, User
from lms.core.models import utcnow
from lms.extensions import db
from lms.jobs import members_import, periodic, registry, services
from lms.jobs.models import Job, JobState, PeriodicTask
from lms.jobs.runner import run_available, run_job
from tests.support import registered_job, run_member_import

CSV = (
    b"email;display_name;role;team\n"
    b"ana@example.com;Ana;learner;Sales\n"
    b"not-an-email;Bad;learner;\n"
    b"\n"
    b"bob@example.com;Bob;;Marketing\n"
    b"carl@example.com;Carl;wizard;\n"
    b"dina@example.com;Dina;trainer;\n"
)


def _fresh(job_id: int) -> Job:
    db.session.rollback()
    return db.session.execute(select(Job).where(Job.id == job_id)
                              .execution_options(populate_existing=True)).scalar_one()


def _report_rows(job: Job) -> list[list[str]]:
    path = services.result_file(job)
    assert path is not None
    return list(csv.reader(io.StringIO(path.read_text())))


@pytest.fixture()
def hr(create_user, create_org):
    org = create_org()
    return create_user(Role.HR, org=org), org


def test_import_members_job_provisions_and_reports_bad_lines_by_number(app, hr):
    user, org = hr
    app.config["JOBS_IMPORT_CHUNK"] = 2
    job = members_import.start_import(organization=org, created_by=user, data=CSV)
    db.session.commit()

    assert run_job(job.id) == "succeeded"

    job = _fresh(job.id)
    assert job.state == JobState.SUCCEEDED
    assert (job.progress_current, job.progress_total) == (5, 5)
    assert job.result == {"created": 3, "updated": 0, "errors": 2}
    emails = {m.user.email: m.role for m in db.session.scalars(
        select(Membership).where(Membership.organization_id == org.id))}
    assert emails["ana@example.com"] == Role.LEARNER
    assert emails["bob@example.com"] == Role.LEARNER  # the default role
    assert emails["dina@example.com"] == Role.TRAINER
    rows = _report_rows(job)
    assert rows[0] == ["line", "email", "error"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("3", "not-an-email"),
                                                ("6", "carl@example.com")]
    assert "role" in rows[2][2]


def test_an_import_grants_only_the_roles_its_starter_may_grant(hr):
    user, org = hr
    data = (b"email;role\n"
            b"eve@example.com;admin\n"
            b"fred@example.com;learner\n")
    job, members = run_member_import(org, user, data)

    assert job.result == {"created": 1, "updated": 0, "errors": 1}
    roles = {email: m.role for email, m in members.items()}
    assert "eve@example.com" not in roles  # HR may not make an admin
    assert roles["fred@example.com"] == Role.LEARNER
    assert [r[:2] for r in _report_rows(job)[1:]] == [["2", "eve@example.com"]]


def test_a_csv_without_an_email_column_is_refused_before_any_job(hr):
    user, org = hr
    with pytest.raises(Exception, match="email"):
        members_import.start_import(organization=org, created_by=user, data=b"name\nAna\n")
    db.session.rollback()
    assert db.session.scalar(select(Job.id)) is None


def test_a_job_resumes_from_its_committed_progress_after_its_runner_died(app, hr):
    user, org = hr
    app.config["JOBS_IMPORT_CHUNK"] = 2
    job = members_import.start_import(organization=org, created_by=user, data=CSV)
    db.session.commit()
    calls = []

    # A runner claims it, provisions the first chunk, then "dies" (stops without finishing).
    real = members_import._provision

    def dying(org_, row, default_role, granted_by):
        calls.append(row["email"])
        if len(calls) == 3:
            raise KeyboardInterrupt  # stands for SIGKILL: nothing after this point runs
        return real(org_, row, default_role, granted_by)

    members_import._provision = dying
    try:
        with pytest.raises(KeyboardInterrupt):
            run_job(job.id)
    finally:
        members_import._provision = real
    db.session.rollback()
    assert _fresh(job.id).progress_current == 2
    # Its lease is still running: nobody else may take it yet.
    assert run_job(job.id) is None
    db.session.execute(update(Job).where(Job.id == job.id)
                       .values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    assert run_job(job.id) == "succeeded"
    job = _fresh(job.id)
    assert job.attempts == 2
    assert job.result == {"created": 3, "updated": 0, "errors": 2}
    assert [r[0] for r in _report_rows(job)[1:]] == ["3", "6"]


def test_a_runner_that_lost_its_lease_cannot_write_progress(app, hr):
    user, org = hr
    job = services.enqueue(kind="jobs.selftest", organization=org, created_by=user,
                           params={"steps": 3, "seconds": 0}, total=3)
    db.session.commit()
    first = services.claim(job.id)
    db.session.execute(update(Job).where(Job.id == job.id)
                       .values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    second = services.claim(job.id)
    assert first and second and first != second
    job = _fresh(job.id)
    ours, _cancel = services.renew(job, first, current=3)
    assert not ours
    db.session.rollback()
    assert _fresh(job.id).progress_current == 0


def test_transient_failures_are_retried_then_the_job_fails_after_max_attempts(app, hr):
    user, org = hr
    app.config["JOBS_RETRY_SECONDS"] = 0
    attempts = []

    def flaky(job, report_progress):
        attempts.append(job.attempts)
        raise registry.RetryableError("LRS unreachable")

    with registered_job("tests.flaky", flaky):
        job = services.enqueue(kind="tests.flaky", organization=org, created_by=user,
                               max_attempts=3)
        db.session.commit()
        assert run_job(job.id) == "queued"
        assert "Retrying" in _fresh(job.id).message
        assert run_job(job.id) == "queued"
        assert run_job(job.id) == "failed"
    job = _fresh(job.id)
    assert attempts == [1, 2, 3]
    assert job.state == JobState.FAILED and "LRS unreachable" in job.error


def test_a_bug_fails_the_job_at_once_with_its_error(hr):
    user, org = hr

    def buggy(job, report_progress):
        report_progress(1, 2)
        raise ZeroDivisionError("division by zero")

    with registered_job("tests.buggy", buggy):
        job = services.enqueue(kind="tests.buggy", organization=org, created_by=user)
        db.session.commit()
        assert run_job(job.id) == "failed"
    job = _fresh(job.id)
    assert job.attempts == 1 and "ZeroDivisionError" in job.error
    assert job.progress_current == 1


def test_cancel_stops_a_running_job_at_its_next_progress_report(hr):
    user, org = hr

    def long(job, report_progress):
        for i in range(5):
            if i == 2:  # someone presses "Cancel" in another request
                with db.engine.begin() as conn:
                    conn.execute(update(Job).where(Job.id == job.id)
                                 .values(cancel_requested=True))
            report_progress(i + 1, 5)

    with registered_job("tests.long", long):
        job = services.enqueue(kind="tests.long", organization=org, created_by=user)
        db.session.commit()
        assert run_job(job.id) == "cancelled"
    job = _fresh(job.id)
    assert job.state == JobState.CANCELLED and job.progress_current == 3


def test_cancelling_a_queued_job_means_it_never_runs(hr):
    user, org = hr
    job = services.enqueue(kind="jobs.selftest", organization=org, created_by=user,
                           params={"steps": 1, "seconds": 0})
    db.session.commit()
    services.request_cancel(job=job)
    db.session.commit()
    assert run_available() == 0
    assert _fresh(job.id).state == JobState.CANCELLED


def test_unknown_kinds_are_refused_when_enqueued_and_failed_when_met(hr):
    user, org = hr
    with pytest.raises(Exception, match="Unknown job kind"):
        services.enqueue(kind="nope", organization=org, created_by=user)
    db.session.rollback()
    job = Job(kind="gone.kind", organization_id=org.id, params={})
    db.session.add(job)
    db.session.commit()
    assert run_job(job.id) == "failed"
    assert "gone.kind" in _fresh(job.id).error


def test_register_job_refuses_a_second_handler_for_a_kind():
    with pytest.raises(ValueError):
        registry.register_job("accounts.import_members", lambda job, rp: None)


def test_periodic_tasks_run_once_when_due_and_purge_old_data(app, create_org):
    org = create_org()
    old = utcnow() - timedelta(days=30)
    db.session.add(LoginFailure(email="x@example.com", address="1.2.3.4", at=old))
    db.session.add(Invitation(organization_id=org.id, email="y@example.com", role=Role.LEARNER,
                              token_hash="a" * 64, expires_at=old))
    db.session.add(Invitation(organization_id=org.id, email="z@example.com", role=Role.LEARNER,
                              token_hash="b" * 64, expires_at=utcnow() + timedelta(days=3)))
    db.session.commit()
    calls = []
    periodic.register_periodic("tests.counter", 3600, lambda: calls.append(1))
    try:
        ran = periodic.run_due()
        assert "tests.counter" in ran and "accounts.purge_login_failures" in ran
        assert periodic.run_due() == []  # not due again for an hour
        assert calls == [1]
        db.session.execute(update(PeriodicTask).where(PeriodicTask.name == "tests.counter")
                           .values(next_run_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert periodic.run_due() == ["tests.counter"]
    finally:
        periodic.PERIODIC.pop("tests.counter")
    assert db.session.scalar(select(LoginFailure.id)) is None
    assert [i.email for i in db.session.scalars(select(Invitation))] == ["z@example.com"]
    assert "xapi.purge_expired_credentials" in ran


def test_expired_launch_credentials_are_purged_and_lasting_ones_kept(create_org):
    from lms.xapi.models import LrsCredential
    from lms.xapi.services import create_lrs_credentials, purge_expired_credentials

    org = create_org()
    create_lrs_credentials(organization=org, label="lasting")
    create_lrs_credentials(organization=org, label="live launch",
                           expires_at=utcnow() + timedelta(hours=8))
    create_lrs_credentials(organization=org, label="old launch",
                           expires_at=utcnow() - timedelta(days=2))
    db.session.commit()

    assert purge_expired_credentials() == 1
    db.session.commit()
    assert sorted(db.session.scalars(select(LrsCredential.label))) == ["lasting", "live launch"]


def test_a_failing_periodic_task_records_its_error_and_others_still_run(create_org):
    def broken():
        raise RuntimeError("boom")

    periodic.register_periodic("tests.broken", 60, broken)
    try:
        ran = periodic.run_due()
    finally:
        periodic.PERIODIC.pop("tests.broken")
    assert "tests.broken" in ran and "jobs.purge_old" in ran
    row = db.session.get(PeriodicTask, "tests.broken")
    assert "boom" in row.last_error


# -- pages and API --------------------------------------------------------------------------


def test_hr_imports_a_csv_from_the_page_and_watches_the_job(client, login, hr):
    user, org = hr
    login(user)
    page = client.get(f"/o/{org.slug}/jobs/import-members")
    assert page.status_code == 200
    response = client.post(f"/o/{org.slug}/jobs/import-members", data={
        "file": (io.BytesIO(CSV), "people.csv"), "default_role": "learner"},
        content_type="multipart/form-data")
    assert response.status_code == 302
    job_url = response.headers["Location"]
    job_id = int(job_url.rstrip("/").rsplit("/", 1)[1])

    html = client.get(job_url).get_data(as_text=True)
    assert "queued" in html and 'http-equiv="refresh"' in html
    assert _fresh(job_id).created_by_id == user.id
    status = client.get(f"{job_url}/status").get_json()
    assert status["state"] == "queued" and status["progress"]["total"] == 5

    run_job(job_id)
    status = client.get(f"{job_url}/status").get_json()
    assert status["state"] == "succeeded"
    assert status["progress"] == {"current": 5, "total": 5, "percent": 100}
    html = client.get(job_url).get_data(as_text=True)
    assert "Download the result" in html and 'http-equiv="refresh"' not in html
    report = client.get(status["result_url"])
    assert report.status_code == 200
    assert "not-an-email" in report.get_data(as_text=True)
    report.close()
    listing = client.get(f"/o/{org.slug}/jobs").get_data(as_text=True)
    assert f"/jobs/{job_id}" in listing and "Member import" in listing


def test_import_page_shows_form_errors_for_a_bad_file(client, login, hr):
    user, org = hr
    login(user)
    response = client.post(f"/o/{org.slug}/jobs/import-members", data={
        "file": (io.BytesIO(b"\xff\xfe garbage"), "people.csv"), "default_role": "learner"},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "UTF-8" in response.get_data(as_text=True)


def test_jobs_of_another_organization_are_404_on_pages(client, login, hr, create_user,
                                                       create_org):
    user, org = hr
    job = members_import.start_import(organization=org, created_by=user, data=CSV)
    db.session.commit()
    outsider = create_user(Role.ADMIN, org=create_org())
    login(outsider)
    for suffix in ("", "/status", "/result"):
        assert client.get(f"/o/{org.slug}/jobs/{job.id}{suffix}").status_code == 404
    # Through their own organization's URL too: the job is not theirs.
    other_slug = outsider.memberships[0].organization.slug
    assert client.get(f"/o/{other_slug}/jobs/{job.id}").status_code == 404
    assert client.post(f"/o/{other_slug}/jobs/{job.id}/cancel").status_code == 404


def test_learners_cannot_list_or_import(client, login, hr, create_user):
    _user, org = hr
    learner = create_user(Role.LEARNER, org=org)
    login(learner)
    assert client.get(f"/o/{org.slug}/jobs").status_code == 403
    assert client.get(f"/o/{org.slug}/jobs/import-members").status_code == 403


def test_cancel_from_the_page(client, login, hr):
    user, org = hr
    job = members_import.start_import(organization=org, created_by=user, data=CSV)
    db.session.commit()
    login(user)
    response = client.post(f"/o/{org.slug}/jobs/{job.id}/cancel")
    assert response.status_code == 302
    assert _fresh(job.id).state == JobState.CANCELLED


def test_api_job_progress_result_and_isolation(client, hr, api_token, create_user, create_org):
    user, org = hr
    headers = api_token(user)
    response = client.post(f"/api/v1/orgs/{org.slug}/members/import", data=CSV,
                           headers={**headers, "Content-Type": "text/csv"})
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["state"] == "queued" and response.headers["Location"] == body["url"]

    run_job(body["id"])
    job = client.get(body["url"], headers=headers).get_json()
    assert job["state"] == "succeeded" and job["result"]["errors"] == 2
    assert job["organization"] == org.slug
    report = client.get(job["result_url"], headers=headers)
    assert report.status_code == 200 and b"carl@example.com" in report.data
    report.close()

    outsider = api_token(create_user(Role.ADMIN, org=create_org()))
    for url in (body["url"], job["result_url"], "/api/v1/jobs/999999"):
        denied = client.get(url, headers=outsider)
        assert denied.status_code == 404
        assert denied.get_json()["error"]["code"] == "not_found"
    assert client.get(body["url"]).status_code == 401
    learner = api_token(create_user(Role.LEARNER, org=org))
    assert client.get(body["url"], headers=learner).status_code == 404
    listing = client.get(f"/api/v1/orgs/{org.slug}/jobs", headers=headers).get_json()
    assert [j["id"] for j in listing["items"]] == [body["id"]] and listing["total"] == 1
    assert client.get(f"/api/v1/orgs/{org.slug}/jobs", headers=outsider).status_code == 404
    assert client.get(f"/api/v1/orgs/{org.slug}/jobs", headers=learner).status_code == 403
    bad = client.post(f"/api/v1/orgs/{org.slug}/members/import", data=b"name\nx\n",
                      headers={**headers, "Content-Type": "text/csv"})
    assert bad.status_code == 422 and "file" in bad.get_json()["error"]["fields"]


def test_openapi_documents_the_jobs_endpoints(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/jobs/{job_id}" in doc["paths"]
    assert "/orgs/{org_slug}/members/import" in doc["paths"]
    assert "Job" in doc["components"]["schemas"]


def test_a_job_with_no_organization_is_never_visible(client, create_user, api_token):
    user = create_user(Role.ADMIN)
    job = Job(kind="jobs.selftest", params={})
    db.session.add(job)
    db.session.commit()
    assert client.get(f"/api/v1/jobs/{job.id}", headers=api_token(user)).status_code == 404


def test_user_lookup_is_unaffected(create_user):
    # The import service's users are ordinary users (no password until invited).
    user = create_user(Role.LEARNER, password=None)
    assert db.session.get(User, user.id).password_hash is None
