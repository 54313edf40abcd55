"""Certificates to HTML (sandboxed Jinja) and PDF (WeasyPrint), with a PDF cache on disk.

Templates are data that trainers may edit, so they run in a ``SandboxedEnvironment`` with
autoescaping: a template cannot reach Python internals, and names typed by people are escaped.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import date
from pathlib import Path
from typing import Any

import segno
from flask import current_app
from flask_babel import force_locale
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from lms.certificates import definitions
from lms.certificates.models import Certificate, CertificateSettings
from lms.core import formatting, pdf
from lms.core.web import absolute_url
from lms.extensions import db

_ENV = SandboxedEnvironment(autoescape=True)
_COMPILED: dict[str, Any] = {}


def verify_url(code: str) -> str:
    """The public verification address printed on the certificate."""
    return absolute_url(f"/verify/{code}")


def cache_key(template: definitions.TemplateDef, snapshot: dict[str, Any], code: str,
              revoked: bool, branding: dict[str, Any] | None = None) -> str:
    """sha256 of everything the PDF shows: the template files, the snapshot, the code,
    whether it is revoked (a revoked certificate's PDF is marked) and the program's branding
    and validity date.
    """
    body = json.dumps([template.digest, snapshot, code, revoked, branding or {}],
                      sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def branding(certificate: Certificate,
             settings: CertificateSettings | None = None) -> dict[str, Any]:
    """What the PDF shows beyond the snapshot: the program's colour and logo (read now, so a
    new logo reaches every PDF of the program) and the end of validity.
    """
    if settings is None and certificate.program_id is not None:
        settings = db.session.get(CertificateSettings, certificate.program_id)
    out: dict[str, Any] = {}
    if settings is not None and settings.accent_color:
        out["accent"] = settings.accent_color
    if settings is not None and settings.logo:
        out["logo"] = hashlib.sha256(settings.logo.encode()).hexdigest()
    if certificate.valid_until is not None:
        out["valid_until"] = certificate.valid_until.date().isoformat()
    return out


def key_for(certificate: Certificate, settings: CertificateSettings | None = None) -> str:
    """The cache key the certificate's PDF has now."""
    return cache_key(definitions.load(certificate.template_key), certificate.snapshot,
                     certificate.code, certificate.revoked, branding(certificate, settings))


def _fmt_date(value: str | None, lang: str) -> str:
    if not value:
        return "–"
    day = date.fromisoformat(value[:10])
    return day.strftime("%d/%m/%Y") if lang == "fr" else day.strftime("%d %b %Y")


def _fmt_hours(value: float | int | None, lang: str) -> str:
    if value is None:
        return "–"
    # "9 h 20", not "9.33" hours: the shared duration format, in the certificate's language.
    with force_locale(lang):
        return formatting.duration(hours=value)


def render_html(certificate: Certificate) -> str:
    """The certificate as HTML, in its language, with the QR code of its verification URL."""
    template = definitions.load(certificate.template_key)
    lang = certificate.language if certificate.language in template.languages \
        else template.languages[0]
    compiled = _COMPILED.get(template.digest)
    if compiled is None:
        compiled = _COMPILED[template.digest] = _ENV.from_string(template.html)
    url = verify_url(certificate.code)
    qr = Markup(segno.make(url, error="m").svg_inline(scale=3, dark="#1d2733"))  # noqa: S704

    def text(value: Any) -> str:
        if isinstance(value, dict):
            return str(value.get(lang) or next(iter(value.values()), ""))
        return "" if value is None else str(value)

    settings = db.session.get(CertificateSettings, certificate.program_id) \
        if certificate.program_id is not None else None
    accent = (settings.accent_color if settings is not None else None) or template.accent
    logo = settings.logo if settings is not None and settings.logo else None
    valid_until = certificate.valid_until.date().isoformat() if certificate.valid_until \
        else None
    return compiled.render(
        s=certificate.snapshot, t=template.labels[lang], lang=lang, qr=qr, verify_url=url,
        code=certificate.code, revoked=certificate.revoked, text=text,
        date=lambda v: _fmt_date(v, lang), hours=lambda v: _fmt_hours(v, lang),
        # The colour is checked (#RRGGBB) before it is stored; the logo is a data: URI.
        accent=accent, logo=logo, valid_until=valid_until)


def html_to_pdf(html: str, css: str, base: Path) -> bytes:
    """Render HTML and the theme's CSS with WeasyPrint (nothing fetched outside ``base``)."""
    return pdf.html_to_pdf(html, css, base)


def cache_dir() -> Path:
    """Where rendered PDFs are kept (``<instance>/certificates``)."""
    path = Path(current_app.instance_path) / "certificates"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pdf_bytes(certificate: Certificate) -> bytes:
    """The certificate's PDF, from the cache when its template and content are unchanged."""
    key = key_for(certificate)
    path = cache_dir() / f"{key}.pdf"
    if path.is_file():
        return path.read_bytes()
    template = definitions.load(certificate.template_key)
    data = html_to_pdf(render_html(certificate), template.css, template.folder)
    # Written to a temporary name then renamed: a reader never sees half a file.
    tmp = path.with_name(f".{key}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return data


def clean_cache(*, dry_run: bool = False, grace_seconds: int = 3600) -> tuple[int, int]:
    """Delete cached PDFs no certificate points to any more (an older template, a revoked
    certificate's unmarked copy, a deleted certificate) and abandoned temporary files.

    Files younger than ``grace_seconds`` stay: a renderer may be writing them now.
    Returns (files deleted, bytes freed); with ``dry_run`` nothing is deleted.
    """
    import time

    from sqlalchemy import select

    folder = cache_dir()
    wanted: set[str] = set()
    settings: dict[int | None, CertificateSettings | None] = {}
    for certificate in db.session.scalars(select(Certificate).execution_options(
            yield_per=500)):
        if certificate.program_id not in settings:
            settings[certificate.program_id] = db.session.get(
                CertificateSettings, certificate.program_id) \
                if certificate.program_id is not None else None
        try:
            wanted.add(key_for(certificate, settings[certificate.program_id]))
        except definitions.ContentError:
            wanted.add(certificate.pdf_key)  # a broken template: keep what exists
    cutoff = time.time() - grace_seconds
    count = freed = 0
    for path in folder.iterdir():
        if not path.is_file() or path.stat().st_mtime > cutoff:
            continue
        stale_tmp = path.name.startswith(".") and path.name.endswith(".tmp")
        if stale_tmp or (path.suffix == ".pdf" and path.stem not in wanted):
            count += 1
            freed += path.stat().st_size
            if not dry_run:
                path.unlink(missing_ok=True)
    return count, freed
