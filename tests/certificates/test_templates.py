"""Templates per program: two shipped designs (French and English, colour, logo, QR), the
trainer's choice per program, re-rendering when a template changes, stale PDF cleanup."""

from __future__ import annotations

import base64
import os
import shutil
import time

import pytest
from sqlalchemy import select

from lms.certificates import definitions, rendering, services
from lms.certificates.models import Certificate
from lms.core.errors import ValidationFailed
from lms.extensions import db

from .test_rendering import pdf_text

# A 1×1 PNG: enough for WeasyPrint to draw a logo.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def certificates() -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).order_by(Certificate.id)))


def choose(w, template="modern", **kw):
    args = dict(validity_months=None, renewal_lead_days=30, refresher_cohort=None,
                accent_color=None)
    args.update(kw)
    services.update_settings(program=w.program, template_key=template, **args)
    db.session.commit()


def test_two_distinct_templates_ship_in_french_and_english():
    shipped = {t.key: t for t in definitions.available()}
    assert {"default", "modern"} <= set(shipped)
    default, modern = shipped["default"], shipped["modern"]
    assert default.digest != modern.digest and default.css != modern.css
    for template in (default, modern):
        assert set(template.languages) == {"fr", "en"}
        assert "A4 landscape" in template.css
        assert "{{ qr }}" in template.html and "logo" in template.html
        assert definitions.COLOR.match(template.accent)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_modern_template_renders_with_colour_logo_and_qr(cert_world, tmp_path, locale):
    w = cert_world
    choose(w, accent_color="#AA3366", logo=PNG, validity_months=24)
    w.learners[0].locale = locale
    db.session.commit()
    w.complete(w.enrollments[0])
    (cert,) = certificates()
    assert cert.template_key == "modern"
    html = rendering.render_html(cert)
    assert "#aa3366" in html and 'src="data:image/png;base64,' in html and "<svg" in html
    text = pdf_text(rendering.pdf_bytes(cert), tmp_path)
    assert text.count("\f") == 1  # one A4 landscape page
    flat = " ".join(text.split())
    assert "Learner 0" in flat
    if locale == "fr":
        assert "Attestation de fin de formation" in flat and "Valable jusqu'au" in flat
    else:
        assert "Certificate of completion" in flat and "Valid until" in flat


def test_changing_the_programs_template_rerenders_only_when_asked(cert_world):
    w = cert_world
    w.complete(w.enrollments[0])
    (first,) = certificates()
    assert first.template_key == "default"
    old_pdf = rendering.pdf_bytes(first)
    old_key = rendering.key_for(first)
    choose(w, "modern")
    # New certificates use the program's template; the issued one keeps its own.
    w.complete(w.enrollments[1])
    second = certificates()[-1]
    assert second.template_key == "modern"
    db.session.refresh(first)
    assert first.template_key == "default" and rendering.key_for(first) == old_key
    # Applied to the issued certificates: a new cache key, a new PDF.
    choose(w, "modern", apply_to_issued=True)
    db.session.refresh(first)
    assert first.template_key == "modern" and rendering.key_for(first) != old_key
    assert first.pdf_key == rendering.key_for(first)
    assert rendering.pdf_bytes(first) != old_pdf
    # A new colour changes the key too (the PDF shows it).
    key = rendering.key_for(first)
    choose(w, "modern", accent_color="#123456")
    assert rendering.key_for(first) != key


def test_cache_key_follows_the_template_files(cert_world, tmp_path, monkeypatch):
    root = tmp_path / "templates"
    shutil.copytree(definitions.templates_root(), root)
    monkeypatch.setattr(definitions, "templates_root", lambda: root)
    w = cert_world
    w.complete(w.enrollments[0])
    (cert,) = certificates()
    key = rendering.key_for(cert)
    css = root / "default" / "theme.css"
    css.write_text(css.read_text() + "\nh1 { letter-spacing: 0.02em; }\n")
    os.utime(css, (time.time() + 5, time.time() + 5))  # a new mtime: the template is re-read
    assert rendering.key_for(cert) != key


def test_stale_pdfs_are_cleaned(cert_world, runner):
    w = cert_world
    w.complete(w.enrollments[0])
    (cert,) = certificates()
    rendering.pdf_bytes(cert)
    old = rendering.cache_dir() / f"{rendering.key_for(cert)}.pdf"
    services.revoke(certificate=cert, revoked_by=w.hr, reason="Error")
    db.session.commit()
    rendering.pdf_bytes(cert)
    current = rendering.cache_dir() / f"{rendering.key_for(cert)}.pdf"
    leftover = rendering.cache_dir() / ".abc.pdf.1234.tmp"
    leftover.write_bytes(b"half")
    assert old.is_file() and current.is_file() and old != current
    # Young files stay (a renderer may be writing them).
    assert rendering.clean_cache() == (0, 0)
    past = time.time() - 7200
    for path in (old, current, leftover):
        os.utime(path, (past, past))
    result = runner.invoke(args=["clean-certificate-cache", "--dry-run"])
    assert result.exit_code == 0 and "2 stale PDF(s) would be deleted" in result.output
    assert old.is_file()
    result = runner.invoke(args=["clean-certificate-cache"])
    assert result.exit_code == 0 and "2 stale PDF(s) deleted" in result.output
    assert not old.exists() and not leftover.exists() and current.is_file()


def test_logo_must_be_a_small_png_or_jpeg(cert_world):
    w = cert_world
    for data in (b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a....",
                 PNG + b"\0" * (services.MAX_LOGO_BYTES + 1)):
        with pytest.raises(ValidationFailed) as err:
            choose(w, logo=data)
        assert "logo" in err.value.fields
        db.session.rollback()
    with pytest.raises(ValidationFailed) as err:
        choose(w, "no-such-template")
    assert "template" in err.value.fields


def test_trainer_uploads_a_logo_and_picks_the_template(cert_world, client, login):
    import io

    w = cert_world
    login(w.trainer)
    url = f"/o/acme/certificates/programs/{w.program.id}/settings"
    # The program page leads to its certificate settings.
    assert url in client.get(f"/o/acme/programs/{w.program.id}").get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert 'value="modern"' in page and 'enctype="multipart/form-data"' in page
    response = client.post(url, data={
        "template": "modern", "accent_color": "#0F766E", "renewal_lead_days": "30",
        "logo": (io.BytesIO(PNG), "logo.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    settings = services.settings_for(w.program.id)
    assert settings.template_key == "modern" and settings.accent_color == "#0f766e"
    assert settings.logo.startswith("data:image/png;base64,")
    bad = client.post(url, data={"template": "modern", "renewal_lead_days": "30",
                                 "logo": (io.BytesIO(b"<svg/>"), "logo.svg")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "PNG or JPEG" in bad.get_data(as_text=True)
