"""HTML to PDF with WeasyPrint, safely: nothing is fetched from the network.

The HTML given may hold text people typed (names, places, template edits), so a stray
``<img src="https://…">`` or ``url(http://…)`` must not make the server call out: only
``data:`` URLs and files under the document's own folder are read. Fonts come from the system
(name real families in CSS: ``"DejaVu Sans", "Liberation Sans", sans-serif``).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

SANS = '"DejaVu Sans", "Liberation Sans", sans-serif'
SERIF = '"DejaVu Serif", "Liberation Serif", serif'


def url_fetcher(base: Path | None) -> Any:
    """A WeasyPrint URL fetcher that reads ``data:`` URLs and files under ``base`` only.

    Anything else (http, https, ftp, files elsewhere) is refused: WeasyPrint then leaves that
    resource out and renders the rest.
    """
    from weasyprint.urls import URLFetcher  # heavy import: only where PDFs are made

    root = base.resolve() if base is not None else None

    class LocalOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file" and root is not None:
                path = Path(unquote(urlsplit(url).path)).resolve()
                if path == root or root in path.parents:
                    return super().fetch(url, headers)
            raise ValueError(f"Relais does not fetch {url[:80]!r} while rendering a PDF")

    return LocalOnly(timeout=5, allow_redirects=False)


_WARM = threading.local()


def _warm(css: str, base: Path | None) -> tuple[Any, list[Any]]:
    """This thread's font configuration and parsed stylesheet, kept between documents.

    WeasyPrint otherwise builds a new font configuration for every document (a third of a
    one-page certificate's time) and parses the same stylesheet again. Per thread, since
    WeasyPrint objects are not meant to be shared between threads; a handful of stylesheets
    at most, so memory stays flat.
    """
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    state = getattr(_WARM, "state", None)
    if state is None:
        state = _WARM.state = {"fonts": FontConfiguration(), "sheets": {}}
    if not css:
        return state["fonts"], []
    key = (hashlib.sha256(css.encode()).hexdigest(), str(base))
    sheet = state["sheets"].get(key)
    if sheet is None:
        if len(state["sheets"]) >= 16:
            state["sheets"].clear()
        sheet = state["sheets"][key] = CSS(string=css, url_fetcher=url_fetcher(base),
                                           font_config=state["fonts"])
    return state["fonts"], [sheet]


def html_to_pdf(html: str, css: str = "", base: Path | None = None) -> bytes:
    """Render HTML (and a stylesheet) to PDF bytes; relative links resolve under ``base``."""
    from weasyprint import HTML  # heavy import: only where PDFs are made

    fonts, stylesheets = _warm(css, base)
    document = HTML(string=html, base_url=str(base) if base is not None else None,
                    url_fetcher=url_fetcher(base))
    return document.write_pdf(  # type: ignore[no-any-return]
        stylesheets=stylesheets, font_config=fonts)
