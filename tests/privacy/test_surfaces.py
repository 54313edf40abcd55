"""The export ZIP holds every kind of data; the page, API and CLI erase and export; the audit
log records both and the admin page lists them."""

from __future__ import annotations

import io
import json
import re
import zipfile

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import AuditEvent, Membership, Role
from lms.extensions import db
from lms.jobs.models import Job
from lms.jobs.runner import run_job
from lms.jobs.services import result_file
from lms.privacy import services
from tests.privacy.conftest import COACHING_NOTE, EMAIL, NAME

ADMIN = "admin@maison-lumiere.example"


def _admin(demo):
    admin = db.session.scalar(select(Membership).where(
        Membership.organization_id == demo.org.id, Membership.role == Role.ADMIN))
    return admin.user


def test_export_zip_holds_every_kind_and_an_index_in_her_language(demo, client, tmp_path,
                                                                    runner):
    out = tmp_path / "camille.zip"
    result = runner.invoke(args=["personal-data", "export", "--org", "demo", "--email", EMAIL,
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    archive = zipfile.ZipFile(out)
    names = set(archive.namelist())
    data = {n[:-5]: json.loads(archive.read(n)) for n in names if n.endswith(".json")}
    assert data["account"]["user"]["email"] == EMAIL
    assert "password_hash" not in data["account"]["user"]
    assert data["account"]["memberships"]
    skills = data["skill_attempts"]
    assert skills["attempts"] and skills["attempts"][0]["answers"] and skills["levels"]
    assert data["enrollments"]["enrollments"] and data["enrollments"]["module_progress"]
    assert data["enrollments"]["quiz_attempts"]
    assert "attendance" in data  # the demo has no sign-in for her; the file is there
    assert data["hand_ins"]["hand_ins"]
    assert data["journal"]["plans"]
    assert any(COACHING_NOTE in (f["notes"] or "") for f in data["coaching"]["followups"])
    assert data["coaching"]["action_items"]
    assert data["advocacy"]["events"] and data["advocacy"]["consents"]
    assert data["certificates"]
    # The demo has her accept both versions of the charter and ask for a daily digest.
    assert [a["version"] for a in data["charter"]["acceptances"]] == [1, 2]
    assert all(a["accepted_at"] and a["statement_id"] for a in data["charter"]["acceptances"])
    assert data["charter"]["digest_preference"]["frequency"] == "daily"
    assert any(n.startswith("certificates/") and n.endswith(".pdf") for n in names)
    lines = archive.read("statements.jsonl").decode().splitlines()
    assert lines and all(json.loads(line)["id"] for line in lines)
    index = archive.read("index.html").decode()
    assert "Vos données personnelles" in index and NAME in index
    assert "personal_data.export" in db.session.scalars(select(AuditEvent.action))


def _csrf(page) -> dict[str, str]:
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      page.get_data(as_text=True))
    return {"csrf_token": token.group(1)} if token else {}


def test_my_data_page_runs_a_private_job_and_downloads_my_zip(demo, client):
    client.post("/login", data={"email": EMAIL, "password": demo.password})
    page = client.get("/account/my-data")
    assert page.status_code == 200
    response = client.post("/account/my-data", data=_csrf(page))
    assert response.status_code == 302 and "/o/demo/jobs/" in response.headers["Location"]
    job = db.session.scalar(select(Job))
    assert job.kind == "personal_data.export" and job.organization_id is None
    assert run_job(job.id) == "succeeded"
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.progress_current == job.progress_total == 11  # one step per kind of data
    assert client.get(f"/o/demo/jobs/{job.id}").status_code == 200
    download = client.get(f"/o/demo/jobs/{job.id}/result")
    assert download.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    download.close()
    assert "statements.jsonl" in names
    # The admin, a manager of the organization, does not see someone else's export.
    client.post("/logout")
    client.post("/login", data={"email": ADMIN, "password": demo.password})
    assert client.get(f"/o/demo/jobs/{job.id}/result").status_code == 404


def test_member_export_page_starts_a_job_for_hr(demo, client):
    client.post("/login", data={"email": ADMIN, "password": demo.password})
    url = f"/o/demo/members/{demo.membership.id}/erase"
    response = client.post(f"/o/demo/members/{demo.membership.id}/personal-data",
                           data=_csrf(client.get(url)))
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    job = db.session.scalar(select(Job))
    assert job.organization_id == demo.org.id and job.params == {"user_id": demo.user.id}
    assert run_job(job.id) == "succeeded"
    download = client.get(f"/o/demo/jobs/{job.id}/result")
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    download.close()
    assert "coaching.json" in names and "index.html" in names
    assert db.session.scalar(select(AuditEvent.target).where(
        AuditEvent.action == "personal_data.export")) == f"membership:{demo.membership.id}"
    # Erasing her deletes the exports made of her data.
    path = result_file(db.session.get(Job, job.id))
    assert path is not None and path.is_file()
    erased = services.erase_member(membership=demo.membership, by=None)
    db.session.commit()
    services.remove_files(erased.files)
    assert not path.exists() and erased.counts["exports"] == 1


def test_erase_page_confirms_then_erases_and_the_audit_page_lists_it(demo, client):
    client.post("/login", data={"email": ADMIN, "password": demo.password})
    url = f"/o/demo/members/{demo.membership.id}/erase"
    page = client.get(url, headers={"Accept-Language": "fr"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and NAME in text
    assert "LRS externe" in text  # forwarded copies: their owner must erase them
    response = client.post(url, data=_csrf(page))
    assert response.status_code == 302
    db.session.expire_all()
    assert accounts.find_user(EMAIL) is None
    audit_page = client.get("/o/demo/audit?action=personal_data.erase").get_data(as_text=True)
    assert "personal_data.erase" in audit_page and f"membership:{demo.membership.id}" in audit_page
    assert NAME not in audit_page


def test_api_erase_and_export(demo, client, api_token):
    headers = api_token(_admin(demo))
    base = f"/api/v1/orgs/demo/members/{demo.membership.id}"
    exported = client.get(f"{base}/personal-data", headers=headers)
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    erased = client.delete(f"{base}/erase", headers=headers)
    assert erased.status_code == 200, erased.get_json()
    body = erased.get_json()
    assert body["pseudonym"].startswith("anonymous-") and body["counts"]["api_tokens"] == 1
    missing = client.post("/api/v1/orgs/demo/members/999999/erase", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "post" in spec["paths"]["/orgs/{org_slug}/members/{member_id}/erase"]


def test_cli_erase_without_yes_asks_and_with_yes_erases(demo, runner):
    refused = runner.invoke(args=["personal-data", "erase", "--org", "demo", "--email", EMAIL],
                            input="n\n")
    assert refused.exit_code != 0
    assert accounts.find_user(EMAIL) is not None
    done = runner.invoke(args=["personal-data", "erase", "--org", "demo", "--email", EMAIL,
                               "--yes"])
    assert done.exit_code == 0, done.output
    assert "anonymous-" in done.output
    db.session.expire_all()
    assert accounts.find_user(EMAIL) is None
