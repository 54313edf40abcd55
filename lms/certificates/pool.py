"""A pool of warm WeasyPrint processes for bulk rendering.

The parent renders each certificate's HTML (cheap, needs the database); workers only turn HTML
into PDF and write it into the cache. At most ``window`` PDFs are in flight, so memory stays
flat whatever the count. Workers are spawned (not forked): they share no database connection.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path


def _warm() -> None:
    import weasyprint  # noqa: F401  (0.4 s to import: once per worker)


def render_to_file(html: str, css: str, base: str, path: str) -> str:
    """Worker: render the PDF into ``path`` (atomically) unless it is there already."""
    target = Path(path)
    if not target.is_file():
        from lms.core.pdf import html_to_pdf

        data = html_to_pdf(html, css, Path(base))
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return path


class PdfPool:
    """``with PdfPool(workers) as pool: future = pool.submit(html, css, base, path)``."""

    def __init__(self, workers: int):
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_warm)

    def submit(self, html: str, css: str, base: str, path: Path) -> Future[str]:
        """Queue the rendering of one certificate's PDF to ``path``; the future gives the path."""
        return self._executor.submit(render_to_file, html, css, base, str(path))

    def __enter__(self) -> PdfPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def default_workers(configured: int | None) -> int:
    """Workers to use: the setting, else every core."""
    return max(1, int(configured) if configured else (os.cpu_count() or 1))
