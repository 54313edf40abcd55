"""PDF rendering: content read back with pdftotext, the QR code, the cache, revoked marking,
and the sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from sqlalchemy import select

from lms.certificates import rendering, services
from lms.certificates.models import Certificate
from lms.extensions import db

PDFTOTEXT = shutil.which("pdftotext")


def pdf_text(data: bytes, tmp_path) -> str:
    if PDFTOTEXT is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext (poppler-utils) is required in CI")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    return subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture()
def cert(cert_world) -> Certificate:
    cert_world.learners[0].locale = "en"
    db.session.commit()
    cert_world.complete(cert_world.enrollments[0])
    return db.session.scalar(select(Certificate))


def test_pdf_states_learner_program_dates_and_hours(cert, tmp_path):
    data = rendering.pdf_bytes(cert)
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    flat = " ".join(text.split())
    s = cert.snapshot
    assert cert.language == "en"  # the learner's locale
    assert "Learner 0" in flat
    assert s["program"]["title"]["en"] in flat
    assert "Acme Formation" in flat and "Pilot group" in flat
    assert "01 Oct 2026" in flat  # the cohort's start
    # Hours as a duration ("9 h 20"), not a decimal ("9.33 hours").
    hours, minutes = divmod(round(s["hours"]["total"] * 60), 60)
    assert (f"{hours} h {minutes:02d}" if minutes else f"{hours} h") in flat
    assert f"{s['hours']['total']:g} hours" not in flat
    assert "Certificate of completion" in flat
    assert "REVOKED" not in flat


def test_french_learner_gets_a_french_certificate(cert_world, tmp_path):
    w = cert_world
    w.learners[1].locale = "fr"
    w.learners[2].locale = None  # no preference: the program's language (French)
    db.session.commit()
    w.complete(w.enrollments[2])
    assert db.session.scalar(select(Certificate)).language == "fr"
    db.session.delete(db.session.scalar(select(Certificate)))
    db.session.commit()
    w.complete(w.enrollments[1])
    cert = db.session.scalar(select(Certificate))
    assert cert.language == "fr"
    flat = " ".join(pdf_text(rendering.pdf_bytes(cert), tmp_path).split())
    assert "Attestation de fin de formation" in flat and "01/10/2026" in flat
    assert "Parcours ambassadeurs en six semaines" in flat


def test_qr_code_of_the_verification_url_is_inline_svg(cert, app):
    html = rendering.render_html(cert)
    assert "<svg" in html
    assert f"{app.config['BASE_URL']}/verify/{cert.code}" in html


def test_names_are_escaped(cert_world):
    w = cert_world
    w.learners[2].display_name = "<script>alert(1)</script>"
    db.session.commit()
    w.complete(w.enrollments[2])
    cert = db.session.scalar(select(Certificate))
    html = rendering.render_html(cert)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_pdf_is_cached_and_rerendered_when_revoked(cert, tmp_path, cert_world):
    first = rendering.pdf_bytes(cert)
    cached = rendering.cache_dir() / f"{cert.pdf_key}.pdf"
    assert cached.is_file()
    assert rendering.pdf_bytes(cert) == first  # from the cache
    services.revoke(certificate=cert, revoked_by=cert_world.hr, reason="Error")
    db.session.commit()
    revoked = rendering.pdf_bytes(cert)
    assert revoked != first
    assert (rendering.cache_dir() / f"{cert.pdf_key}.pdf").is_file()
    flat = " ".join(pdf_text(revoked, tmp_path).split())
    assert "REVOKED" in flat and "RÉVOQUÉ" in flat


def test_templates_run_sandboxed():
    from jinja2.exceptions import SecurityError

    env = rendering._ENV
    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()
