"""Bulk export: the command's ZIP (PDFs and CSV register) and the background job."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta

from sqlalchemy import select

from lms.certificates import services
from lms.certificates.models import Certificate
from lms.courses.cohorts.services import create_cohort, enrol
from lms.extensions import db
from lms.jobs.models import Job
from lms.jobs.runner import run_job
from tests.support import load_demo_once

# A period starting a year from now: no certificate issued in it yet.
_NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


def read_zip(path) -> tuple[list[str], list[dict[str, str]]]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        register = archive.read("register.csv").decode("utf-8-sig")
        for name in names:
            if name.endswith(".pdf"):
                assert archive.read(name).startswith(b"%PDF")
    return names, list(csv.DictReader(io.StringIO(register)))


def test_cli_exports_pdfs_and_register(cert_world, runner, tmp_path):
    w = cert_world
    w.complete(w.enrollments[0])
    w.complete(w.enrollments[1])
    first = db.session.scalars(select(Certificate).order_by(Certificate.id)).first()
    services.revoke(certificate=first, revoked_by=w.hr, reason="Error")
    # Another cohort's certificate, left out by --cohort.
    other = create_cohort(program=w.program, name="Wave 2")
    extra = enrol(cohort=other, membership=w.member(w.learners[2]))
    db.session.commit()
    w.complete(extra)
    out = tmp_path / "export.zip"
    result = runner.invoke(args=["export-certificates", "--org", "acme", "--out", str(out),
                                 "--cohort", str(w.cohort.id), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "2 certificates" in result.output
    names, rows = read_zip(out)
    assert sorted(n for n in names if n.endswith(".pdf")) == sorted(r["file"] for r in rows)
    assert len(rows) == 2
    by_name = {r["learner"]: r for r in rows}
    assert by_name["Learner 0"]["status"] == "revoked"
    assert by_name["Learner 0"]["file"].endswith("-revoked.pdf")
    assert by_name["Learner 1"]["status"] == "valid"
    assert by_name["Learner 1"]["cohort"] == "Pilot group"
    assert by_name["Learner 1"]["start"] == "2026-10-01"
    assert float(by_name["Learner 1"]["hours"]) > 0
    # Without --cohort, all three.
    result = runner.invoke(args=["export-certificates", "--org", "acme", "--out", str(out),
                                 "--workers", "1"])
    assert result.exit_code == 0 and len(read_zip(out)[1]) == 3


def test_cli_errors_exit_non_zero(cert_world, runner, tmp_path):
    out = tmp_path / "x.zip"
    result = runner.invoke(args=["export-certificates", "--org", "nope", "--out", str(out)])
    assert result.exit_code == 1 and "no organization" in result.output
    result = runner.invoke(args=["export-certificates", "--org", "acme", "--out", str(out),
                                 "--cohort", "99999"])
    assert result.exit_code == 1 and not out.exists()


def test_export_job_from_the_register_page(cert_world, client, login):
    w = cert_world
    w.complete(w.enrollments[0])
    w.complete(w.enrollments[2])
    login(w.hr)
    response = client.post("/o/acme/certificates/export",
                           data={"cohort": str(w.cohort.id), "program": "", "since": "",
                                 "until": ""})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    job = db.session.scalar(select(Job))
    assert job.kind == "certificates.export" and job.progress_total == 2
    assert run_job(job.id) == "succeeded"
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert (job.progress_current, job.result) == (2, {"certificates": 2})
    download = client.get(f"/o/acme/jobs/{job.id}/result")
    assert download.status_code == 200
    data = download.data
    download.close()
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == 2
    # Nothing to export: a message, no job.
    response = client.post("/o/acme/certificates/export",
                           data={"since": _NEXT_YEAR, "cohort": "", "program": "",
                                 "until": ""})
    assert response.status_code == 302
    assert len(db.session.scalars(select(Job)).all()) == 1


def test_nothing_to_export_is_said_in_the_reader_s_language(cert_world, client, login):
    w = cert_world
    w.hr.locale = "fr"
    db.session.commit()
    login(w.hr)
    response = client.post("/o/acme/certificates/export",
                           data={"since": _NEXT_YEAR, "cohort": "", "program": "",
                                 "until": ""}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Aucune attestation ne correspond à ces filtres." in page
    assert "No certificate matches" not in page
    assert db.session.scalars(select(Job)).all() == []


def test_demo_has_certificates_for_the_finishers():
    load_demo_once()
    names = sorted(c.snapshot["learner"]["name"] for c in db.session.scalars(
        select(Certificate)))
    # Léa's was renewed through the refresher cohort: her first certificate and its renewal.
    assert names == ["Camille Martin", "Léa Dubois", "Léa Dubois"]
