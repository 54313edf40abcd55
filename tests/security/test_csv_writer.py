"""The one CSV writer: OWASP's formula rule, numbers left alone, the download response."""

from __future__ import annotations

import csv
import io

from lms.core import csvexport


def test_formula_starts_are_quoted_and_numbers_are_not():
    for text in ("=1+1", "+33 6", "-cmd", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("a")'):
        assert csvexport.safe_cell(text) == "'" + text
    for value in ("Ana", "", "1=1", "-12.5", "+3", "-4", "1e5", -7, 3.5, None):
        assert csvexport.safe_cell(value) == value


def test_download_is_utf8_with_bom_and_quoted_cells():
    response = csvexport.download("x.csv", ["name", "n"], [["=1+1", -3], ["Chloé", 2]])
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="x.csv"'
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert parsed == [["name", "n"], ["'=1+1", "-3"], ["Chloé", "2"]]


def test_members_import_error_report_goes_through_the_writer():
    # The job's chunks are written by this call; no BOM, since they are concatenated.
    text = csvexport.to_bytes(None, [[3, "=evil@x", "bad"]], bom=False).decode()
    assert text == "3,'=evil@x,bad\r\n"
