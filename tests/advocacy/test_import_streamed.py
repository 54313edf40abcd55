"""A file of several chunks: on PostgreSQL the first chunks are written while the rest is
checked. The import must still be all or nothing — a bad row anywhere writes nothing, even when
the caller commits afterwards (the background job does) — report every bad line, and let the
last occurrence of an event win, in the place of the first, whatever chunk it is in. The same
tests run on SQLite, which checks the whole file first."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from lms.advocacy import csvimport, jobs
from lms.advocacy.models import AdvocacyDailyFigure, AdvocacyEvent
from lms.core.database import Writes
from lms.extensions import db
from lms.jobs.models import Job
from lms.jobs.runner import run_job
from lms.xapi.models import Statement
from tests.advocacy.helpers import consent

ROWS = 5000  # five chunks of 1,000 events
HEADER = "email;network;kind;url;date;clicks\n"


def count(model: type = AdvocacyEvent) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def row(n: int, clicks: int = 3) -> str:
    email = ("alice@acme.example", "bob@acme.example")[n % 2]
    return (f"{email};linkedin;share;https://acme.example/p/{n};"
            f"{1 + n % 28:02d}/10/2026 09:{n % 60:02d};{clicks}\n")


@pytest.fixture()
def org(create_org, create_user, monkeypatch):
    # The file checked no further ahead than the writes need (two chunks; while the writer is
    # busy the check may run further): chunks 0 and 1 are written before the last rows are
    # checked.
    monkeypatch.setattr(Writes, "busy", lambda self: False)
    org = create_org(slug="acme")
    alice = create_user(org=org, email="alice@acme.example", name="Alice Martin")
    bob = create_user(org=org, email="bob@acme.example", name="Bob Durand")
    consent(org, alice, bob)
    return org


def test_bad_rows_after_the_first_chunks_write_nothing_and_are_all_reported(org):
    rows = [row(n) for n in range(ROWS)]
    rows[4300] = rows[4300].replace("linkedin", "myspace")  # line 4302
    rows[4950] = rows[4950].replace("alice@", "nobody@")  # line 4952
    with pytest.raises(csvimport.ImportRejected) as info:
        csvimport.import_activity(organization=org, data=(HEADER + "".join(rows)).encode())
    assert [line for line, _ in info.value.errors] == [4302, 4952]
    assert info.value.read == ROWS
    db.session.commit()  # as the background job does after a rejected file
    assert count() == 0 and count(Statement) == 0 and count(AdvocacyDailyFigure) == 0


def test_a_rejected_background_import_writes_nothing(org):
    rows = [row(n) for n in range(ROWS)]
    rows[-1] = rows[-1].replace("/10/2026", "/13/2026")
    job = jobs.start_import(organization=org, created_by=None,
                            data=(HEADER + "".join(rows)).encode())
    db.session.commit()
    run_job(job.id)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.result["written"] is False and job.result["rejected"] == 1, job.error
    assert count() == 0 and count(Statement) == 0


def test_a_background_import_reports_every_event_once(org):
    job = jobs.start_import(organization=org, created_by=None,
                            data=(HEADER + "".join(row(n) for n in range(ROWS))).encode())
    db.session.commit()
    run_job(job.id)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.result["created"] == ROWS, job.error
    assert job.progress_current == ROWS
    assert count() == ROWS and count(Statement) == ROWS


def test_an_event_repeated_in_a_later_chunk_is_stored_once_with_its_last_values(org):
    rows = [row(n) for n in range(ROWS)]
    rows[4400] = row(10, clicks=77)  # the event of line 12 again, in the fifth chunk
    result = csvimport.import_activity(organization=org,
                                       data=(HEADER + "".join(rows)).encode())
    db.session.commit()
    assert (result.created, result.updated, result.unchanged) == (ROWS - 1, 0, 0)
    assert count() == ROWS - 1 and count(Statement) == ROWS - 1
    events = db.session.scalars(select(AdvocacyEvent).order_by(AdvocacyEvent.id)).all()
    # In the place of its first occurrence, with the values of its last.
    assert events[10].url == "https://acme.example/p/10" and events[10].clicks == 77
    statement = db.session.scalar(select(Statement).where(
        Statement.statement_id == events[10].statement_id))
    extensions = json.loads(statement.data)["result"]["extensions"]
    assert extensions["http://relais.test/xapi/extensions/clicks"] == 77
