"""Disk quota per organization (packages and hand-ins) with replaced packages' files removed;
zips whose entries do not match their headers refused with 422 wherever Relais unzips."""

from __future__ import annotations

import base64
import io
import struct
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.core import quota
from lms.core.errors import ValidationFailed
from lms.courses.cohorts.models import Enrollment
from lms.courses.cohorts.services import enrol
from lms.courses.exercises.queries import settings_of
from lms.courses.exercises.services import submit_evidence
from lms.courses.programs import definitions as defs
from lms.courses.programs.models import Module
from lms.courses.programs.services import definition_of, import_program
from lms.extensions import db
from lms.packages.models import XapiPackage
from tests.support import membership
from tests.xapi.test_packages import INDEX, TINCAN, World, make_zip, upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture()
def world(create_org, create_user) -> World:
    return World(create_org, create_user)


def lie(data: bytes, name: str, size: int) -> bytes:
    """``data`` (a zip) with ``name`` announcing ``size`` bytes in both its headers."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    forged = bytearray(data)
    struct.pack_into("<I", forged, info.header_offset + 22, size)  # local header
    at = forged.find(b"PK\x01\x02")
    while at != -1:  # the central directory entry of that name
        length = struct.unpack_from("<H", forged, at + 28)[0]
        if forged[at + 46:at + 46 + length] == name.encode():
            struct.pack_into("<I", forged, at + 24, size)
        at = forged.find(b"PK\x01\x02", at + 4)
    return bytes(forged)


def deflated(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def own_instance_folder(app, tmp_path, monkeypatch):
    # Packages and hand-in files are kept under the instance folder, which the whole test session
    # shares: earlier tests' files (whose organization and package ids come back after each
    # database reset) would count here. Each test gets its own.
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


PAGE = INDEX + "<!--" + "x" * 200_000 + "-->"


@pytest.mark.parametrize("name, size", [
    ("index_lrs.html", 1000),          # far more data than announced (a zip bomb's trick)
    ("index_lrs.html", 10_000_000),    # less data than announced
    ("tincan.xml", 20),                # the manifest itself lies
])
def test_a_lying_package_is_refused_with_422_and_leaves_no_file(client, login, world, app,
                                                               name, size):
    login(world.trainer)
    folder = Path(app.instance_path) / "packages"
    earlier = set(folder.iterdir()) if folder.exists() else set()  # other tests' packages
    data = lie(deflated({"tincan.xml": TINCAN, "index_lrs.html": PAGE}), name, size)
    response = upload(client, world, data)
    assert response.status_code == 422
    assert "does not match its header" in response.get_data(as_text=True)
    assert db.session.scalar(select(XapiPackage.id)) is None
    assert (set(folder.iterdir()) if folder.exists() else set()) == earlier


def test_a_corrupt_stream_is_refused_with_422(client, login, world):
    login(world.trainer)
    data = bytearray(deflated({"tincan.xml": TINCAN, "index_lrs.html": PAGE}))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("index_lrs.html")
    start = info.header_offset + 30 + len("index_lrs.html")
    data[start + 50:start + 60] = b"\xff" * 10
    assert upload(client, world, bytes(data)).status_code == 422


def test_a_lying_program_zip_is_refused(world, create_org, runner, tmp_path):
    exported = defs.to_zip(definition_of(world.program))
    program_file = next(n for n in zipfile.ZipFile(io.BytesIO(exported)).namelist()
                        if n.endswith("program.yaml"))
    forged = lie(exported, program_file, 10)
    with pytest.raises(ValidationFailed) as exc:
        import_program(organization=create_org(), data=forged)
    assert "does not match the zip's header" in exc.value.fields["file"]
    path = tmp_path / "forged.zip"
    path.write_bytes(forged)
    result = runner.invoke(args=["program-import", str(path), "--org", world.org.slug])
    assert result.exit_code == 1 and "header" in result.output


def test_a_replaced_package_frees_its_folder_and_its_room(client, login, world, app):
    login(world.trainer)
    assert upload(client, world, make_zip()).status_code == 302
    first = db.session.scalar(select(XapiPackage))
    first_folder = Path(app.instance_path) / first.folder
    assert first_folder.is_dir()
    app.config["ORGANIZATION_QUOTA_BYTES"] = first.size + 500
    v2 = TINCAN.replace("Writing a good post", "Writing a good post, v2")
    assert upload(client, world, make_zip({"tincan.xml": v2, "index_lrs.html": INDEX})
                  ).status_code == 302  # the replaced package's room is given back
    assert not first_folder.exists()
    current = db.session.scalars(select(XapiPackage).order_by(XapiPackage.id.desc())).first()
    assert (Path(app.instance_path) / current.folder / "index_lrs.html").is_file()
    assert quota.usage(world.org.id)["packages"] == current.size


def test_over_quota_uploads_are_refused_with_a_clear_message(client, login, world, app):
    login(world.trainer)
    app.config["ORGANIZATION_QUOTA_BYTES"] = 1000
    response = upload(client, world, make_zip())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "storage is full" in page and 'id="package-error"' in page
    french = client.post(world.upload_url, data={"package": (io.BytesIO(make_zip()), "p.zip")},
                         content_type="multipart/form-data", headers={"Accept-Language": "fr"})
    assert french.status_code == 422
    assert db.session.scalar(select(XapiPackage.id)) is None


def test_the_package_page_shows_the_storage_used(client, login, world, app):
    login(world.trainer)
    assert upload(client, world, make_zip()).status_code == 302
    page = client.get(world.upload_url).get_data(as_text=True)
    assert "Your organization's storage: 1.5 kB of 2 GB used (packages 1.5 kB" in page


def test_hand_ins_count_and_are_refused_over_quota(world, app, client, api_token, create_user):
    enrollment = db.session.get(Enrollment, world.enrollment_id)
    module = db.session.scalar(select(Module).where(Module.program_id == world.program.id,
                                                    Module.key == "exercice-profil"))
    asked = settings_of(module)["evidence"]
    given = {"post_url": "https://www.linkedin.com/posts/lea-1"} if "url" in asked else {}
    if "reflection" in asked:
        given["reflection"] = "J'ai réécrit mon titre."
    submit_evidence(enrollment=enrollment, module=module, screenshot=PNG, **given)
    db.session.commit()
    assert quota.usage(world.org.id)["handins"] == len(PNG)
    # A second learner hands in through the API once the organization's storage is full.
    app.config["ORGANIZATION_QUOTA_BYTES"] = len(PNG) + 10
    other = create_user("learner", org=world.org)
    second = enrol(cohort=enrollment.cohort, membership=membership(other, world.org))
    db.session.commit()
    response = client.post(f"/api/v1/orgs/{world.org.slug}/exercises/submissions",
                           headers=api_token(other),
                           json={"enrollment_id": second.id, "module_id": module.id,
                                 "screenshot": base64.b64encode(PNG).decode(), **given})
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "quota_exceeded" and "storage is full" in error["fields"]["screenshot"]
    assert quota.usage(world.org.id)["handins"] == len(PNG)
