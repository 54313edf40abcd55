"""The sign-in sheet, written by the page and the API through one service
(:func:`lms.courses.sessions.services.record_sheet`): every mark checked first, the sheet read
once, and a sheet racing another write answered with a clean conflict, nothing half-written."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.core.models import utcnow
from lms.courses.sessions.models import PRESENT, QR, Attendance, TrainingSession
from lms.courses.sessions.services import half_days, register, schedule_session
from lms.extensions import db
from lms.xapi.models import Statement
from tests.courses.races import mark_written_meanwhile


@pytest.fixture()
def sheet(enrolled) -> TrainingSession:
    """A full-day session (two half-days) tomorrow with three learners seated."""
    w = enrolled
    starts = (utcnow() + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    s = schedule_session(cohort=w.cohort, module=w.module("lancement"),
                         starts_at=starts, ends_at=starts + timedelta(hours=8),
                         place="Lyon", capacity=None, trainer=w.member(w.trainer))
    for e in w.enrollments[:3]:
        register(session=s, enrollment=e)
    db.session.commit()
    return s


def _form(s: TrainingSession, enrollments, status: str) -> dict[str, str]:
    return {f"mark-{e.id}-{day.isoformat()}-{half}": status
            for e in enrollments for day, half in half_days(s)}


def _rows(s: TrainingSession) -> list[tuple[str, str, str]]:
    db.session.expire_all()
    return sorted((a.enrollment_id, a.half, a.status) for a in db.session.scalars(
        select(Attendance).where(Attendance.session_id == s.id)))


def _attended() -> int:
    return db.session.scalar(select(func.count()).select_from(Statement).where(
        Statement.verb_id == "http://adlnet.gov/expapi/verbs/attended")) or 0


def _attendance_reads(statements: list[str]) -> list[str]:
    """The reads of the attendance sheet among ``statements``."""
    return [q for q in statements
            if re.match(r"\s*SELECT", q) and "FROM attendances" in q]


def test_the_page_writes_the_sheet_reading_it_once(enrolled, sheet, client, login,
                                                    count_queries):
    w, s = enrolled, sheet
    login(w.trainer)
    url = f"/o/acme/sessions/{s.id}/attendance"
    with count_queries() as one_learner:
        response = client.post(url, data=_form(s, w.enrollments[:1], "present"))
    assert response.status_code == 302
    assert _rows(s) == [(w.enrollments[0].id, "am", "present"),
                        (w.enrollments[0].id, "pm", "present")]
    with count_queries() as three_learners:
        client.post(url, data=_form(s, w.enrollments[:3], "absent"))
    assert [status for _e, _h, status in _rows(s)] == ["absent"] * 6
    # Six marks cost the same reads of the sheet as two.
    assert len(_attendance_reads(three_learners)) == len(_attendance_reads(one_learner))


def test_page_and_api_record_the_same_marks(enrolled, sheet, client, login, api_token):
    w, s = enrolled, sheet
    (day, _half), _ = half_days(s)
    learner = w.enrollments[1]
    login(w.trainer)
    page = client.post(f"/o/acme/sessions/{s.id}/attendance",
                       data={f"mark-{learner.id}-{day.isoformat()}-am": "present"},
                       follow_redirects=True)
    assert "Attendance saved (1 change)." in page.get_data(as_text=True)
    api = client.put(f"/api/v1/orgs/acme/sessions/{s.id}/attendance",
                     headers=api_token(w.trainer),
                     json={"marks": [{"enrollment_id": learner.id, "day": day.isoformat(),
                                      "half": "pm", "status": "present"},
                                     {"enrollment_id": learner.id, "day": day.isoformat(),
                                      "half": "am", "status": "present"}]})
    assert api.status_code == 200 and api.get_json()["changed"] == 1
    assert _rows(s) == [(learner.id, "am", "present"), (learner.id, "pm", "present")]
    assert _attended() == 2


def test_a_sheet_racing_a_sign_in_is_a_conflict_on_the_page(enrolled, sheet, client, login):
    w, s = enrolled, sheet
    login(w.trainer)
    with mark_written_meanwhile() as other:
        response = client.post(f"/o/acme/sessions/{s.id}/attendance",
                               data=_form(s, w.enrollments[:3], "present"),
                               headers={"Accept-Language": "fr"})
    assert other and response.status_code == 302
    # Only the other request's mark is there: none of the sheet's six, nor their statements.
    key = other[0]
    assert _rows(s) == [(key["enrollment_id"], key["half"], PRESENT)]
    assert _attended() == 0
    page = client.get(response.headers["Location"], headers={"Accept-Language": "fr"})
    assert "rien n’a été enregistré" in page.get_data(as_text=True)


def test_a_sheet_racing_a_sign_in_is_a_409_on_the_api(enrolled, sheet, client, api_token):
    w, s = enrolled, sheet
    (day, _half), _ = half_days(s)
    marks = [{"enrollment_id": e.id, "day": day.isoformat(), "half": half, "status": "present"}
             for e in w.enrollments[:3] for half in ("am", "pm")]
    with mark_written_meanwhile() as other:
        response = client.put(f"/api/v1/orgs/acme/sessions/{s.id}/attendance",
                              headers=api_token(w.trainer),
                              json={"marks": marks})
    assert other and response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert [(e, h, st) for e, h, st in _rows(s)] == [
        (other[0]["enrollment_id"], other[0]["half"], PRESENT)]
    assert db.session.scalar(select(Attendance.source)) == QR
    assert _attended() == 0
    # Sent again, the sheet goes through and leaves the signed-in half-day as it is.
    again = client.put(f"/api/v1/orgs/acme/sessions/{s.id}/attendance",
                       headers=api_token(w.trainer),
                       json={"marks": marks})
    assert again.status_code == 200 and again.get_json()["changed"] == 5


def test_the_completions_a_sheet_derives_are_recorded_together(enrolled, sheet, client, login,
                                                               monkeypatch):
    # Every learner marked present completes the module: one record() call for all of their
    # derived completions (after the sheet's own statements), not one per learner.
    from lms.courses import statements as xs
    from lms.xapi import record as store

    w, s = enrolled, sheet
    calls: list[int] = []
    original = store.record

    def counting(statements, **kwargs):
        statements = list(statements)
        if any(xs.is_derived(st) for st in statements):
            calls.append(len(statements))
        return original(statements, **kwargs)

    monkeypatch.setattr(store, "record", counting)
    login(w.trainer)
    response = client.post(f"/o/acme/sessions/{s.id}/attendance",
                           data=_form(s, w.enrollments[:3], "present"))
    assert response.status_code == 302
    assert calls == [3]
    module_iri = xs.iri("module", w.module("lancement").id)
    completed = db.session.scalars(select(Statement.registration).where(
        Statement.verb_id == xs.COMPLETED["id"], Statement.object_activity_id == module_iri,
        Statement.voided.is_(False)))
    assert sorted(completed) == sorted(e.id for e in w.enrollments[:3])
