"""Pages: learner's "My activity" (consent, manual entry), the dashboard (roles, isolation,
CSV exports, leaderboard switch), the background import."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.advocacy import services
from lms.advocacy.models import AdvocacyEvent
from lms.extensions import db
from lms.jobs.models import Job
from tests.advocacy.helpers import consent


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(AdvocacyEvent))


FORM = {"url": "https://www.linkedin.com/feed/update/1", "network": "linkedin",
        "kind": "share", "occurred_at": "2026-11-20", "clicks": "12",
        "with_own_comment": "yes"}


def test_manual_entry_requires_consent_and_is_idempotent(client, create_org, create_user,
                                                         login):
    org = create_org(slug="mine")
    learner = create_user(org=org, email="lea@mine.example")
    login(learner)
    client.post("/o/mine/advocacy/me/events", data=FORM)
    assert count() == 0
    assert client.post("/o/mine/advocacy/me/consent", data={"action": "opt_in"}
                       ).status_code == 302
    client.post("/o/mine/advocacy/me/events", data=FORM)
    client.post("/o/mine/advocacy/me/events", data={**FORM, "clicks": "20"})
    assert count() == 1
    event = db.session.scalar(select(AdvocacyEvent))
    assert (event.clicks, event.with_own_comment, event.source) == (20, True, "manual")
    page = client.get("/o/mine/advocacy/me").get_data(as_text=True)
    assert "linkedin.com/feed/update/1" in page
    client.post("/o/mine/advocacy/me/consent", data={"action": "revoke"})
    client.post("/o/mine/advocacy/me/events", data={**FORM, "url": "https://x.com/2"})
    assert count() == 1


def test_bad_manual_entry_shows_a_message(client, create_org, create_user, login):
    org = create_org(slug="mine2")
    learner = create_user(org=org)
    consent(org, learner)
    login(learner)
    page = client.post("/o/mine2/advocacy/me/events", data={**FORM, "url": "pas une url"},
                       follow_redirects=True).get_data(as_text=True)
    assert "not a web address (http or https)" in page
    assert count() == 0


def seed(org, *learners):
    consent(org, *learners)
    for i, user in enumerate(learners):
        services.record_event(organization=org, user=user, source="api", data={
            "network": "linkedin" if i else "x", "kind": "share",
            "url": f"https://acme.example/{i}", "occurred_at": services.utcnow(),
            "clicks": 10 * (i + 1), "impressions": 100})
    db.session.commit()


def test_dashboard_roles_isolation_and_exports(client, create_org, create_user, login):
    org = create_org(slug="dash")
    hr = create_user(Role.HR, org=org)
    a = create_user(org=org, name="Ana")
    b = create_user(org=org, name="Bruno")
    seed(org, a, b)
    login(a)
    assert client.get("/o/dash/advocacy").status_code == 403
    client.post("/logout")
    login(hr)
    page = client.get("/o/dash/advocacy").get_data(as_text=True)
    assert "Bruno" in page and "100%" in page  # both learners active (English: no space)
    csv_text = client.get("/o/dash/advocacy?export=networks").get_data().decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("network,events,impressions,clicks")
    assert "linkedin,1,100,20" in csv_text
    board = client.get("/o/dash/advocacy?export=leaderboard").get_data(as_text=True)
    assert board.splitlines()[1].startswith("1,Bruno,21")
    other = create_org(slug="other")
    outsider = create_user(Role.HR, org=other)
    client.post("/logout")
    login(outsider)
    assert client.get("/o/dash/advocacy").status_code == 404


def test_leaderboard_opt_out_and_org_switch(client, create_org, create_user, login):
    org = create_org(slug="lb")
    admin = create_user(Role.ADMIN, org=org)
    a = create_user(org=org, name="Ana")
    b = create_user(org=org, name="Bruno")
    seed(org, a, b)
    services.set_leaderboard_opt_out(organization=org, user=b, opt_out=True)
    db.session.commit()
    login(admin)
    board = client.get("/o/lb/advocacy?export=leaderboard").get_data(as_text=True)
    assert "Ana" in board and "Bruno" not in board
    client.post("/o/lb/advocacy/settings", data={})
    page = client.get("/o/lb/advocacy").get_data(as_text=True)
    assert "switched off" in page
    assert client.get("/o/lb/advocacy?export=leaderboard").get_data(as_text=True
                                                                     ).count("\n") == 1


def test_upload_starts_a_background_job(client, create_org, create_user, login, app):
    org = create_org(slug="up")
    trainer = create_user(Role.TRAINER, org=org)
    learner = create_user(org=org, email="lea@up.example")
    consent(org, learner)
    login(trainer)
    data = ("email,network,kind,url,date,clicks\n"
            "lea@up.example,linkedin,share,https://acme.example/1,2026-11-01,3\n"
            "nobody@up.example,linkedin,share,https://acme.example/2,2026-11-01,3\n")
    r = client.post("/o/up/advocacy/import", data={
        "file": (io.BytesIO(data.encode()), "a.csv"), "preset": "generic",
        "skip_invalid": "on"}, content_type="multipart/form-data")
    assert r.status_code == 302
    job = db.session.scalar(select(Job))
    assert job.kind == "advocacy.import_activity"
    from lms.jobs.runner import run_job

    run_job(job.id)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.result["created"] == 1 and job.result["rejected"] == 1, job.error
    assert count() == 1


def test_background_import_without_skip_writes_nothing_and_keeps_the_report(
        client, create_org, create_user, login):
    org = create_org(slug="up2")
    hr = create_user(Role.HR, org=org)
    learner = create_user(org=org, email="lea@up2.example")
    consent(org, learner)
    login(hr)
    data = ("email,network,kind,url,date,clicks\n"
            "lea@up2.example,linkedin,share,https://acme.example/1,2026-11-01,3\n"
            "lea@up2.example,linkedin,share,https://acme.example/2,2026-13-01,3\n")
    client.post("/o/up2/advocacy/import", data={
        "file": (io.BytesIO(data.encode()), "a.csv"), "preset": "generic"},
        content_type="multipart/form-data")
    job = db.session.scalar(select(Job))
    from lms.jobs import services as job_services
    from lms.jobs.runner import run_job

    run_job(job.id)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.result["written"] is False and job.result["rejected"] == 1
    assert count() == 0
    report = job_services.result_file(job).read_text()
    assert report.splitlines()[1].startswith("3,date:")


def test_dashboard_filters_by_cohort(client, create_org, create_user, login):
    from lms.courses.cohorts.services import create_cohort, enrol
    from lms.courses.programs.services import create_blank_program

    org = create_org(slug="dash")
    hr = create_user(Role.HR, org=org)
    a = create_user(org=org, name="Ana")
    b = create_user(org=org, name="Bruno")
    seed(org, a, b)
    program = create_blank_program(organization=org, title="Parcours", language="fr")
    cohort = create_cohort(program=program, name="Pilote")
    enrol(cohort=cohort, membership=b.memberships[0])
    db.session.commit()
    login(hr)
    page = client.get(f"/o/dash/advocacy?cohort={cohort.id}").get_data(as_text=True)
    assert "Pilote" in page
    csv_text = client.get(f"/o/dash/advocacy?export=networks&cohort={cohort.id}"
                          ).get_data(as_text=True)
    # Only Bruno (LinkedIn) is in the cohort; Ana's share on X is left out.
    assert "linkedin,1,100,20" in csv_text and "\nx," not in csv_text
    everyone = client.get("/o/dash/advocacy?export=networks").get_data(as_text=True)
    assert "\nx," in everyone
    # Another organization's cohort id filters nothing rather than leaking or failing.
    assert "\nx," in client.get("/o/dash/advocacy?export=networks&cohort=999999"
                                ).get_data(as_text=True)
