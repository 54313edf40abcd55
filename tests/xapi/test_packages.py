"""Uploaded xAPI (Tin Can) packages: upload, serving, launch, and completion through the LRS."""

from __future__ import annotations

import base64
import io
import json
import os
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, func, select

from lms.core.models import utcnow
from lms.courses.cohorts.models import Enrollment, ModuleProgress
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.models import Module, Program
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.extensions import db
from lms.packages.models import XapiPackage
from lms.xapi.models import LrsCredential, Statement
from tests.support import membership

ROOT = "https://content.example.com/courses/rise-abc123"
VERSION = {"X-Experience-API-Version": "1.0.3"}

TINCAN = f"""<?xml version="1.0" encoding="utf-8" ?>
<tincan xmlns="http://projecttincan.com/tincan.xsd">
  <activities>
    <activity id="{ROOT}" type="http://adlnet.gov/expapi/activities/course">
      <name>Writing a good post</name>
      <description lang="und">A Rise course</description>
      <launch lang="und">index_lrs.html</launch>
    </activity>
    <activity id="{ROOT}/lesson-1" type="http://adlnet.gov/expapi/activities/lesson">
      <name>Lesson 1</name>
    </activity>
  </activities>
</tincan>
"""

# What Rise's and Storyline's index_lrs.html do, reduced: read the launch parameters and send
# "completed" about the root activity with the registration.
INDEX = """<!doctype html><html><head><meta charset="utf-8"><title>Package</title></head>
<body><h1 id="state">Loading</h1><button id="finish">Finish</button>
<script src="scripts/app.js"></script></body></html>"""

APP_JS = """
const q = new URLSearchParams(location.search);
document.getElementById("finish").addEventListener("click", async () => {
  const response = await fetch(q.get("endpoint") + "statements", {
    method: "POST",
    headers: {"Authorization": q.get("auth"), "Content-Type": "application/json",
              "X-Experience-API-Version": "1.0.3"},
    body: JSON.stringify({actor: JSON.parse(q.get("actor")),
      verb: {id: "http://adlnet.gov/expapi/verbs/completed", display: {"en-US": "completed"}},
      object: {id: q.get("activity_id"), objectType: "Activity"},
      result: {completion: true},
      context: {registration: q.get("registration")}})});
  document.getElementById("state").textContent = response.ok ? "Sent" : "Error " + response.status;
});
"""


def make_zip(files: dict[str, str | bytes] | None = None, *, symlink: str | None = None) -> bytes:
    """A package zip: by default a working Tin Can package."""
    if files is None:
        files = {"tincan.xml": TINCAN, "index_lrs.html": INDEX, "scripts/app.js": APP_JS}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


class World:
    def __init__(self, create_org: Any, create_user: Any) -> None:
        load_catalogue()
        self.org = create_org(slug="acme")
        self.trainer = create_user("trainer", org=self.org, email="tess@acme.example")
        self.learner = create_user("learner", org=self.org, email="lea@acme.example")
        self.program = copy_from_catalogue(organization=self.org,
                                           slug="parcours-ambassadeurs-6-semaines")
        self.module = next(m for m in self.program.modules if m.key == "profil")
        self.module.completion = {"type": "xapi_completed"}
        cohort = create_cohort(program=self.program, name="Pilot", pilot=True,
                               starts_on=None, trainers=[])
        self.enrollment = enrol(cohort=cohort,
                                membership=membership(self.learner, self.org))
        db.session.commit()
        self.enrollment_id = self.enrollment.id

    @property
    def upload_url(self) -> str:
        return f"/o/acme/programs/{self.program.id}/modules/{self.module.id}/package"

    @property
    def launch_url(self) -> str:
        return f"/o/acme/training/{self.enrollment_id}/modules/{self.module.id}/launch"


@pytest.fixture()
def world(create_org: Any, create_user: Any) -> World:
    return World(create_org, create_user)


def upload(client: Any, world: World, data: bytes, name: str = "rise.zip") -> Any:
    return client.post(world.upload_url, data={"package": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def launched(client: Any, login: Any, world: World) -> tuple[str, dict[str, str]]:
    """Upload as the trainer, launch as the learner: the launch path and its parameters."""
    login(world.trainer)
    assert upload(client, world, make_zip()).status_code == 302
    client.post("/logout")
    login(world.learner)
    response = client.post(world.launch_url)
    assert response.status_code == 302
    url = urlsplit(response.headers["Location"])
    return url.path, {k: v[0] for k, v in parse_qs(url.query).items()}


def get_file(client: Any, url: str) -> Any:
    """GET a package file, closing the file the response streams."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def progress_state(world: World) -> str | None:
    db.session.expire_all()
    row = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == world.enrollment_id,
        ModuleProgress.module_id == world.module.id))
    return row.state if row else None


def completed(actor: dict[str, Any], registration: str, activity: str = ROOT) -> dict[str, Any]:
    return {"actor": actor,
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
                     "display": {"en-US": "completed"}},
            "object": {"objectType": "Activity", "id": activity},
            "result": {"completion": True}, "context": {"registration": registration}}


def test_upload_stores_the_package_and_its_root_activity(client, login, world, app):
    login(world.trainer)
    response = upload(client, world, make_zip())
    assert response.status_code == 302
    package = db.session.scalars(select(XapiPackage)).one()
    assert (package.activity_id, package.title, package.launch_path) == (
        ROOT, "Writing a good post", "index_lrs.html")
    assert package.module_id == world.module.id and package.uploaded_by_id == world.trainer.id
    assert package.size == len(TINCAN) + len(INDEX) + len(APP_JS)
    page = client.get(world.upload_url).get_data(as_text=True)
    assert "Writing a good post" in page and ROOT in page
    # Staff preview the files.
    js = get_file(client, f"/o/acme/packages/{package.id}/scripts/app.js")
    assert js.status_code == 200 and b"fetch(" in js.data
    assert "javascript" in js.headers["Content-Type"]


@pytest.mark.parametrize(("files", "symlink", "message"), [
    ({"index_lrs.html": INDEX}, None, "no tincan.xml"),
    ({"tincan.xml": TINCAN, "index_lrs.html": INDEX, "../evil.html": "x"}, None, "unsafe entry"),
    ({"tincan.xml": TINCAN, "index_lrs.html": INDEX, "/etc/evil": "x"}, None, "unsafe entry"),
    ({"tincan.xml": TINCAN, "index_lrs.html": INDEX}, "link", "unsafe entry"),
    ({"tincan.xml": "<tincan><activities>", "index_lrs.html": INDEX}, None, "not valid XML"),
    ({"tincan.xml": TINCAN}, None, "is not in the zip"),
    ({"tincan.xml": TINCAN.replace("<launch lang=\"und\">index_lrs.html</launch>", ""),
      "index_lrs.html": INDEX}, None, "no activity with a launch file"),
])
def test_bad_packages_are_refused_with_a_form_error(client, login, world, app, files, symlink,
                                                     message):
    login(world.trainer)
    response = upload(client, world, make_zip(files, symlink=symlink))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(XapiPackage)).all() == []
    assert not any(p.name.startswith("evil") for p in Path(app.instance_path).rglob("*"))


def test_not_a_zip_and_too_big_are_refused(client, login, world, app):
    login(world.trainer)
    response = upload(client, world, b"PK not really a zip")
    assert response.status_code == 422 and "not a zip archive" in response.get_data(as_text=True)
    # Under the test client's 500 KB spooling threshold (no temporary file left open).
    app.config["PACKAGE_MAX_BYTES"] = 100 * 1024
    try:
        big = make_zip({"tincan.xml": TINCAN, "index_lrs.html": INDEX,
                        "video.mp4": os.urandom(100 * 1024 + 10)})
        response = upload(client, world, big)
        # Far too big: refused from its Content-Length, unread.
        huge = upload(client, world, make_zip({"tincan.xml": TINCAN, "index_lrs.html": INDEX,
                                               "video.mp4": os.urandom(300 * 1024)}))
    finally:
        app.config["PACKAGE_MAX_BYTES"] = 200 * 1024 * 1024
    assert response.status_code == 422
    assert "too big (at most 100 KB)" in response.get_data(as_text=True)
    assert huge.status_code == 422 and "too big" in huge.get_data(as_text=True)
    assert db.session.scalars(select(XapiPackage)).all() == []


def test_learners_cannot_upload(client, login, world):
    login(world.learner)
    assert upload(client, world, make_zip()).status_code == 403


def test_launch_completes_the_module_through_the_lrs(client, login, world, app):
    path, params = launched(client, login, world)
    package = db.session.scalars(select(XapiPackage)).one()
    assert path == f"/o/acme/packages/{package.id}/index_lrs.html"
    assert params["endpoint"] == f"{app.config['BASE_URL']}/xapi/"
    actor = json.loads(params["actor"])
    assert actor["account"] == {"homePage": app.config["BASE_URL"],
                                "name": str(world.learner.id)}
    assert params["registration"] == world.enrollment_id
    assert params["activity_id"] == ROOT
    assert params["auth"].startswith("Basic ")
    key = base64.b64decode(params["auth"][6:]).decode().partition(":")[0]
    credential = db.session.scalar(select(LrsCredential).where(LrsCredential.key == key))
    assert credential.scope_registration == world.enrollment_id
    assert json.loads(credential.scope_agent) == actor
    remaining = credential.expires_at - utcnow()
    assert timedelta(hours=7) < remaining <= timedelta(hours=8)
    # The launch is recorded and the module is under way.
    assert db.session.scalar(select(Statement.verb_id).where(
        Statement.object_activity_id == ROOT)) == "http://adlnet.gov/expapi/verbs/launched"
    assert progress_state(world) == "in_progress"
    # The page and the files it loads are served to the learner.
    page = get_file(client, path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert get_file(client, f"/o/acme/packages/{package.id}/scripts/app.js").status_code == 200
    # What the package's script does: POST "completed" with the launch credentials.
    headers = {**VERSION, "Authorization": params["auth"]}
    response = client.post("/xapi/statements", headers=headers,
                           json=completed(actor, params["registration"]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert progress_state(world) == "completed"
    my_page = client.get(f"/o/acme/training/{world.enrollment_id}").get_data(as_text=True)
    assert "1 of" in my_page
    # The launch credentials read back only their learner's statements.
    listed = client.get("/xapi/statements", headers=headers).get_json()["statements"]
    assert listed and all(s["actor"]["account"]["name"] == str(world.learner.id)
                          for s in listed)


def test_launch_credentials_are_limited_to_the_learner(client, login, world, create_user):
    _path, params = launched(client, login, world)
    other = create_user("learner", org=world.org, email="bob@acme.example")
    stranger = {"objectType": "Agent", "account": {
        "homePage": client.application.config["BASE_URL"], "name": str(other.id)}}
    headers = {**VERSION, "Authorization": params["auth"]}
    response = client.post("/xapi/statements", headers=headers,
                           json=completed(stranger, params["registration"]))
    assert response.status_code == 403
    assert client.get("/xapi/statements", headers=headers,
                      query_string={"agent": json.dumps(stranger)}).status_code == 403
    assert progress_state(world) == "in_progress"


def test_launch_credentials_are_limited_to_the_enrolment(client, login, world):
    _path, params = launched(client, login, world)
    actor = json.loads(params["actor"])
    # The same learner in another cohort of the program: another registration.
    program = db.session.get(Program, world.program.id)
    cohort = create_cohort(program=program, name="Wave 1", pilot=False,
                                   starts_on=None, trainers=[])
    other = enrol(cohort=cohort, membership=membership(world.learner, world.org))
    db.session.commit()
    other_id = other.id
    headers = {**VERSION, "Authorization": params["auth"]}
    before = db.session.scalar(select(func.count()).select_from(Statement))
    for registration in (other_id, str(uuid.uuid4())):
        response = client.post("/xapi/statements", headers=headers,
                               json=[completed(actor, params["registration"], f"{ROOT}/x"),
                                     completed(actor, registration)])
        assert response.status_code == 403, response.get_data(as_text=True)
        message = response.get_json()["error"]["message"]
        assert params["registration"] in message and registration in message
        assert client.put("/xapi/statements", headers=headers,
                          query_string={"statementId": str(uuid.uuid4())},
                          json=completed(actor, registration.upper())).status_code == 403
    # Nothing was stored, and neither enrolment moved.
    assert db.session.scalar(select(func.count()).select_from(Statement)) == before
    assert progress_state(world) == "in_progress"
    assert db.session.scalar(select(ModuleProgress.state).where(
        ModuleProgress.enrollment_id == other_id)) is None
    # The launch's own registration (in any case) is accepted; so is a statement without
    # one (content that does not pass the registration on).
    no_registration = {k: v for k, v in completed(actor, "", f"{ROOT}/lesson-1").items()
                       if k != "context"}
    assert client.post("/xapi/statements", headers=headers,
                       json=no_registration).status_code == 200
    assert client.post("/xapi/statements", headers=headers, json=completed(
        actor, params["registration"].upper())).status_code == 200
    assert progress_state(world) == "completed"


def failed(actor: dict[str, Any], registration: str, score: float) -> dict[str, Any]:
    return {"actor": actor,
            "verb": {"id": "http://adlnet.gov/expapi/verbs/failed",
                     "display": {"en-US": "failed"}},
            "object": {"objectType": "Activity", "id": ROOT},
            "result": {"completion": True, "success": False, "score": {"scaled": score}},
            "context": {"registration": registration}}


def test_a_failed_package_attempt_shows_failed_until_it_is_passed(client, login, world):
    # The module's rule is the quiz (as in the catalogue): the package completes it anyway.
    module = db.session.get(Module, world.module.id)
    module.completion = {"type": "quiz_passed"}
    db.session.commit()
    _path, params = launched(client, login, world)
    actor = json.loads(params["actor"])
    headers = {**VERSION, "Authorization": params["auth"]}
    assert client.post("/xapi/statements", headers=headers,
                       json=failed(actor, params["registration"], 0.4)).status_code == 200
    assert progress_state(world) == "failed"
    page = client.get(f"/o/acme/training/{world.enrollment_id}").get_data(as_text=True)
    card = page.split(f'id="module-{world.module.id}"')[1].split("</li>")[0]
    assert card.startswith(' class="card state-failed"')
    assert "Not passed yet" in card and "In progress" not in card
    assert "best score 40" in card  # the package's own score
    assert "To complete it" in card
    # Passed on a second attempt: completed, and the card no longer says how to complete it.
    passed = {**failed(actor, params["registration"], 0.9),
              "verb": {"id": "http://adlnet.gov/expapi/verbs/passed",
                       "display": {"en-US": "passed"}},
              "result": {"completion": True, "success": True, "score": {"scaled": 0.9}}}
    assert client.post("/xapi/statements", headers=headers, json=passed).status_code == 200
    assert progress_state(world) == "completed"
    page = client.get(f"/o/acme/training/{world.enrollment_id}").get_data(as_text=True)
    card = page.split(f'id="module-{world.module.id}"')[1].split("</li>")[0]
    assert "Completed" in card and "To complete it" not in card


def test_expired_launch_credentials_are_refused(client, login, world):
    _path, params = launched(client, login, world)
    key = base64.b64decode(params["auth"][6:]).decode().partition(":")[0]
    credential = db.session.scalar(select(LrsCredential).where(LrsCredential.key == key))
    credential.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post("/xapi/statements",
                           headers={**VERSION, "Authorization": params["auth"]},
                           json=completed(json.loads(params["actor"]), params["registration"]))
    assert response.status_code == 401
    assert progress_state(world) == "in_progress"


def test_each_launch_has_its_own_credentials(client, login, world):
    _path, first = launched(client, login, world)
    second = urlsplit(client.post(world.launch_url).headers["Location"])
    assert parse_qs(second.query)["auth"][0] != first["auth"]


def test_package_files_are_private_to_the_program(client, login, world, create_org,
                                                  create_user):
    launched(client, login, world)
    package = db.session.scalars(select(XapiPackage)).one()
    url = f"/o/acme/packages/{package.id}/index_lrs.html"
    client.post("/logout")
    assert client.get(url).status_code == 302  # to the login page
    other_org = create_org(slug="globex")
    outsider = create_user("learner", org=other_org, email="olga@globex.example")
    login(outsider)
    assert get_file(client, url).status_code == 404
    assert client.get(f"/o/globex/packages/{package.id}/index_lrs.html").status_code == 404
    client.post("/logout")
    # A learner of the organization who is not enrolled in the program.
    login(create_user("learner", org=world.org, email="nina@acme.example"))
    assert get_file(client, url).status_code == 404


@pytest.mark.parametrize("path", ["../../secret_key", "..%2F..%2Fsecret_key",
                                  "scripts/../../1/tincan.xml", "%2e%2e/%2e%2e/secret_key"])
def test_no_directory_traversal(client, login, world, path):
    launched(client, login, world)
    package = db.session.scalars(select(XapiPackage)).one()
    response = get_file(client, f"/o/acme/packages/{package.id}/{path}")
    assert response.status_code == 404
    assert b"test-secret" not in response.data


def test_a_replaced_package_keeps_earlier_statements_counting(client, login, world):
    _path, params = launched(client, login, world)
    actor = json.loads(params["actor"])
    headers = {**VERSION, "Authorization": params["auth"]}
    assert client.post("/xapi/statements", headers=headers,
                       json=completed(actor, params["registration"])).status_code == 200
    client.post("/logout")
    login(world.trainer)
    v2 = TINCAN.replace(ROOT, ROOT + "-v2")
    assert upload(client, world, make_zip({"tincan.xml": v2, "index_lrs.html": INDEX})
                  ).status_code == 302
    packages = db.session.scalars(select(XapiPackage).order_by(XapiPackage.id)).all()
    assert [p.activity_id for p in packages] == [ROOT, ROOT + "-v2"]
    # Re-deriving the module (as a voiding or any new statement does) still counts v1.
    from lms.courses.cohorts import progress

    enrollment = db.session.get(Enrollment, world.enrollment_id)
    module = db.session.get(Module, world.module.id)
    assert progress.refresh(enrollment, module).state == "completed"
    # And learners now launch v2.
    client.post("/logout")
    login(world.learner)
    location = client.post(world.launch_url).headers["Location"]
    assert parse_qs(urlsplit(location).query)["activity_id"] == [ROOT + "-v2"]
    assert f"/packages/{packages[1].id}/" in location


def test_only_elearning_modules_take_packages(client, login, world):
    program = db.session.get(Program, world.program.id)
    workshop = next(m for m in program.modules if m.kind != "elearning")
    login(world.trainer)
    response = client.post(f"/o/acme/programs/{program.id}/modules/{workshop.id}/package",
                           data={"package": (io.BytesIO(make_zip()), "p.zip")},
                           content_type="multipart/form-data")
    assert response.status_code == 422


def test_the_learner_page_offers_the_launch(client, login, world):
    login(world.trainer)
    upload(client, world, make_zip())
    client.post("/logout")
    login(world.learner)
    page = client.get(f"/o/acme/training/{world.enrollment_id}").get_data(as_text=True)
    assert f"/training/{world.enrollment_id}/modules/{world.module.id}/launch" in page


def test_a_batch_looks_package_activities_up_once(client, login, world):
    # The progress projection maps outside activities to modules (a package's root): one
    # query for the whole batch, not one per statement.
    _path, params = launched(client, login, world)
    actor = json.loads(params["actor"])
    batch = [completed(actor, params["registration"], f"https://other.example.com/a/{i}")
             for i in range(30)] + [completed(actor, params["registration"])]
    queries: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "xapi_packages" in statement:
            queries.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.post("/xapi/statements", json=batch,
                               headers={**VERSION, "Authorization": params["auth"]})
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(queries) == 1, queries
    assert progress_state(world) == "completed"
