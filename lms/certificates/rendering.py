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
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from lms.certificates import definitions
from lms.certificates.models import Certificate

_ENV = SandboxedEnvironment(autoescape=True)
_COMPILED: dict[str, Any] = {}


def verify_url(code: str) -> str:
    """The public verification address printed on the certificate."""
    return f"{str(current_app.config['BASE_URL']).rstrip('/')}/verify/{code}"


def cache_key(template: definitions.TemplateDef, snapshot: dict[str, Any], code: str,
              revoked: bool) -> str:
    """sha256 of everything the PDF shows: the template files, the snapshot, the code and
    whether it is revoked (a revoked certificate's PDF is marked)."""
    body = json.dumps([template.digest, snapshot, code, revoked], sort_keys=True,
                      ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def key_for(certificate: Certificate) -> str:
    """The cache key the certificate's PDF has now."""
    return cache_key(definitions.load(certificate.template_key), certificate.snapshot,
                     certificate.code, certificate.revoked)


def _fmt_date(value: str | None, lang: str) -> str:
    if not value:
        return "–"
    day = date.fromisoformat(value[:10])
    return day.strftime("%d/%m/%Y") if lang == "fr" else day.strftime("%d %b %Y")


def _fmt_hours(value: float | int | None, lang: str) -> str:
    if value is None:
        return "–"
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "fr" else text


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

    return compiled.render(
        s=certificate.snapshot, t=template.labels[lang], lang=lang, qr=qr, verify_url=url,
        code=certificate.code, revoked=certificate.revoked, text=text,
        date=lambda v: _fmt_date(v, lang), hours=lambda v: _fmt_hours(v, lang))


def html_to_pdf(html: str, css: str, base: Path) -> bytes:
    """Render HTML and the theme's CSS with WeasyPrint."""
    from weasyprint import CSS, HTML  # heavy import: only where PDFs are made

    return HTML(string=html, base_url=str(base)).write_pdf(  # type: ignore[no-any-return]
        stylesheets=[CSS(string=css)])


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
