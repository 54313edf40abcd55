"""The one CSV writer: every CSV Relais produces goes through it.

Spreadsheets run a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula, so a learner named ``=HYPERLINK(...)`` could make HR's spreadsheet send data away
("CSV injection"). Following OWASP, such text cells get a leading single quote, which shows the
text as typed and runs nothing. Numbers stay numbers: only text is touched, and text that is
exactly a number (``-12.5``) is left alone, since a spreadsheet reads it as that number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from flask import Response, stream_with_context

# Rows a streamed download writes at a time: few round trips, little memory.
STREAM_BATCH = 200
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number, which no spreadsheet runs as a formula.
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
# Excel guesses a legacy code page without it, which garbles accented names.
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """Return ``value`` neutralised for spreadsheets (text only; numbers pass unchanged)."""
    if isinstance(value, str) and value[:1] in FORMULA_START and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """A :func:`csv.writer` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, stream: IO[str]) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row."""
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write many rows."""
        for row in rows:
            self.writerow(row)


def writer(stream: IO[str]) -> SafeWriter:
    """A safe CSV writer on ``stream`` (opened with ``newline=""`` when it is a file)."""
    return SafeWriter(stream)


def to_text(header: Iterable[Any] | None, rows: Iterable[Iterable[Any]]) -> str:
    """The CSV text of ``header`` (when given) and ``rows``, without a BOM."""
    out = io.StringIO()
    w = SafeWriter(out)
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def to_bytes(header: Iterable[Any] | None, rows: Iterable[Iterable[Any]], *,
             bom: bool = True) -> bytes:
    """The CSV as UTF-8 bytes, with a BOM unless ``bom`` is false (files re-read by Relais)."""
    return ((BOM if bom else "") + to_text(header, rows)).encode("utf-8")


def download(filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Response:
    """A CSV download response: UTF-8 with a BOM (Excel reads accents right), as attachment."""
    return Response(to_bytes(header, rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


def stream(filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Response:
    """Like :func:`download`, but written while ``rows`` are read (a lazy iterable, e.g. a
    query run with ``yield_per``): a long export never sits whole in memory.

    The request context stays open while the body is sent, so ``rows`` may use the database
    session and the reader's language.
    """
    def generate() -> Iterator[str]:
        out = io.StringIO()
        w = SafeWriter(out)
        out.write(BOM)
        w.writerow(header)
        for count, row in enumerate(rows, start=1):
            w.writerow(row)
            if count % STREAM_BATCH == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return Response(stream_with_context(generate()), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
