"""A large export with bad rows gets a precise line-numbered report, ``--skip-invalid`` imports
exactly the valid rows (each also a statement), and the same file again changes nothing.
Through the CLI, on the test database.

20,000 rows by default (several import chunks, about 200 bad rows of each sort), so the suite
stays quick on both databases; ``RELAIS_TEST_IMPORT_ROWS=100000`` runs it at the size of a
year's export, which ``bench/advocacy_import.py`` also times."""

from __future__ import annotations

import csv
import io
import os
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms.advocacy.models import AdvocacyEvent
from lms.extensions import db
from lms.xapi.models import Statement
from tests.advocacy.helpers import consent

pytestmark = pytest.mark.slow

ROWS = int(os.environ.get("RELAIS_TEST_IMPORT_ROWS", "20000"))
LEARNERS = 20


def _export(emails: list[str]) -> tuple[str, dict[int, str]]:
    """A generic-format export in French spreadsheet style, and its bad rows by file line."""
    rnd = random.Random(2026)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    lines = ["email;network;kind;url;date;impressions;clicks;reactions;comments;signups;"
             "with_own_comment"]
    bad: dict[int, str] = {}  # line → what the report must say
    for i in range(ROWS):
        line = i + 2  # the header is line 1
        email, network = emails[i % len(emails)], rnd.choice(["linkedin", "linkedin", "x"])
        date = (start + timedelta(minutes=rnd.randrange(60 * 24 * 80))).strftime(
            "%d/%m/%Y %H:%M")
        if i % 97 == 13:  # about 1 % bad rows, of three sorts
            sort = (i // 97) % 3
            if sort == 0:
                email = f"inconnu{i}@example.com"
            elif sort == 1:
                network = "myspace"
            else:
                date = "31/02/2026"
            bad[line] = (f"inconnu{i}@example.com is not a member of this organization",
                         "network: 'myspace' is not one of",
                         "date: '31/02/2026' is not a valid date")[sort]
        impressions = rnd.randrange(50, 5000)
        lines.append(";".join([
            email, network, rnd.choice(["share", "share", "post", "comment"]),
            f"https://www.linkedin.com/feed/update/{i}", date,
            f"{impressions // 1000} {impressions % 1000:03d}" if impressions >= 1000
            else str(impressions), str(rnd.randrange(0, 80)), f"{rnd.randrange(0, 40)},0",
            str(rnd.randrange(0, 10)), str(int(rnd.random() < .02)),
            rnd.choice(["oui", "non"])]))
    return "\n".join(lines) + "\n", bad


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_large_export_imports_exactly_its_valid_rows_once(create_org, create_user,
                                                               runner, tmp_path):
    org = create_org(slug="grande")
    learners = [create_user(org=org, email=f"ambassadeur{n}@grande.example")
                for n in range(LEARNERS)]
    consent(org, *learners)
    text, bad = _export([u.email for u in learners])
    path, rejected = tmp_path / "export.csv", tmp_path / "rejected.csv"
    path.write_text(text, encoding="utf-8")
    statements_before = _count(Statement)

    # By default a file with bad rows writes nothing and says which lines are wrong.
    out = runner.invoke(args=["import-activity", str(path), "--org", "grande"])
    assert out.exit_code == 1
    first_bad = min(bad)
    assert f"line {first_bad}: " in out.output
    assert _count(AdvocacyEvent) == 0

    out = runner.invoke(args=["import-activity", str(path), "--org", "grande",
                              "--skip-invalid", "--rejected", str(rejected)])
    assert out.exit_code == 0, out.output
    valid = ROWS - len(bad)
    assert (f"{ROWS} rows read: {valid} new, 0 updated, 0 unchanged, {len(bad)} rejected."
            in out.output)
    assert _count(AdvocacyEvent) == valid
    assert _count(Statement) - statements_before == valid
    # The rejected file names every bad row by its line, with what is wrong, and the row.
    report = list(csv.DictReader(io.StringIO(rejected.read_text(encoding="utf-8"))))
    assert {int(r["line"]) for r in report} == set(bad)
    for r in report:
        assert bad[int(r["line"])] in r["error"], r
        assert r["url"].endswith(f"/{int(r['line']) - 2}")

    # The same file again: nothing created, nothing changed.
    out = runner.invoke(args=["import-activity", str(path), "--org", "grande",
                              "--skip-invalid", "--rejected", str(rejected)])
    assert out.exit_code == 0, out.output
    assert f"0 new, 0 updated, {valid} unchanged, {len(bad)} rejected." in out.output
    assert _count(AdvocacyEvent) == valid
    assert _count(Statement) - statements_before == valid
