"""An external xAPI package in a real browser: the trainer uploads it, the learner launches it,
the package's own JavaScript posts "completed" to the LRS, and the module is completed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lms.courses.cohorts.models import ModuleProgress
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.extensions import db
from tests.support import PASSWORD, membership

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
ROOT = "https://content.example.com/courses/browser-package"

TINCAN = f"""<?xml version="1.0" encoding="utf-8" ?>
<tincan xmlns="http://projecttincan.com/tincan.xsd"><activities>
  <activity id="{ROOT}" type="http://adlnet.gov/expapi/activities/course">
    <name>Browser package</name><launch lang="und">story/index_lrs.html</launch>
  </activity></activities></tincan>"""
INDEX = """<!doctype html><html><head><meta charset="utf-8"><title>Package</title></head>
<body><h1 id="state">Loading</h1><button id="finish">Finish</button>
<script src="app.js"></script></body></html>"""
# The launch parameters, read the way Articulate's and Rustici's wrappers read them.
APP_JS = """
const q = new URLSearchParams(location.search);
document.getElementById("state").textContent = "Ready";
document.getElementById("finish").addEventListener("click", async () => {
  const response = await fetch(q.get("endpoint") + "statements", {
    method: "POST",
    headers: {"Authorization": q.get("auth"), "Content-Type": "application/json",
              "X-Experience-API-Version": "1.0.3"},
    body: JSON.stringify({actor: JSON.parse(q.get("actor")),
      verb: {id: "http://adlnet.gov/expapi/verbs/completed", display: {"en-US": "completed"}},
      object: {id: q.get("activity_id"), objectType: "Activity"},
      result: {completion: true}, context: {registration: q.get("registration")}})});
  document.getElementById("state").textContent = response.ok ? "Sent" : "Error " + response.status;
});
"""


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_launched_package_completes_its_module(live_server: str, page: Page,
                                                 create_org: Any, create_user: Any,
                                                 tmp_path: Path) -> None:
    load_catalogue()
    org = create_org(slug="acme")
    trainer = create_user("trainer", org=org, email="tess@acme.example")
    learner = create_user("learner", org=org, email="lea@acme.example")
    program = copy_from_catalogue(organization=org,
                                  slug="parcours-ambassadeurs-6-semaines")
    module = next(m for m in program.modules if m.key == "profil")
    module.completion = {"type": "xapi_completed"}
    cohort = create_cohort(program=program, name="Pilot", pilot=True, starts_on=None,
                           trainers=[])
    enrollment = enrol(cohort=cohort, membership=membership(learner, org))
    db.session.commit()
    program_id, module_id, enrollment_id = program.id, module.id, enrollment.id
    archive = tmp_path / "package.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("tincan.xml", TINCAN)
        zf.writestr("story/index_lrs.html", INDEX)
        zf.writestr("story/app.js", APP_JS)
    archive.write_bytes(buffer.getvalue())

    _log_in(page, trainer.email)
    page.goto(f"/o/acme/programs/{program_id}/modules/{module_id}")
    page.get_by_role("link", name="xAPI package").click()
    page.get_by_label("Package").set_input_files(str(archive))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("Browser package").first).to_be_visible()
    page.context.clear_cookies()  # log the trainer out

    _log_in(page, learner.email)
    page.goto(f"/o/acme/training/{enrollment_id}")
    page.get_by_role("button", name="Launch").click()
    expect(page.locator("#state")).to_have_text("Ready")
    assert "/story/index_lrs.html?endpoint=" in page.url
    page.get_by_role("button", name="Finish").click()
    expect(page.locator("#state")).to_have_text("Sent")

    db.session.expire_all()
    progress = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == enrollment_id, ModuleProgress.module_id == module_id))
    assert progress is not None and progress.state == "completed"
    page.goto(f"/o/acme/training/{enrollment_id}")
    expect(page.locator(f"#module-{module_id}")).to_contain_text("Completed")
