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
    assert any(n.startswith("certificates/") and n.endswith(".pdf") for n in names)
    lines = archive.read("statements.jsonl").decode().splitlines()
    assert lines and all(json.loads(line)["id"] for line in lines)
    index = archive.read("index.html").decode()
    assert "Vos données personnelles" in index and NAME in index
    assert db.session.scalar(select(AuditEvent.action)) == "personal_data.export"


def test_my_data_page_downloads_my_zip(demo, client):
    client.post("/login", data={"email": EMAIL, "password": demo.password})
    page = client.get("/account/my-data")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      page.get_data(as_text=True))
    data = {"csrf_token": token.group(1)} if token else {}
    response = client.post("/account/my-data", data=data)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "statements.jsonl" in zipfile.ZipFile(io.BytesIO(response.data)).namelist()


def test_erase_page_confirms_then_erases_and_the_audit_page_lists_it(demo, client):
    admin = _admin(demo)
    accounts.set_password(admin, "a long admin password 1")
    db.session.commit()
    client.post("/login", data={"email": admin.email, "password": "a long admin password 1"})
    url = f"/o/demo/members/{demo.membership.id}/erase"
    page = client.get(url, headers={"Accept-Language": "fr"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and NAME in text
    assert "LRS externe" in text  # forwarded copies: their owner must erase them
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text)
    data = {"csrf_token": token.group(1)} if token else {}
    response = client.post(url, data=data)
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
