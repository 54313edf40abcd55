"""QR-code sign-in: the rotating code, the trainer's screen, the scan (before or after logging
in), the confirmation, and every refusal a learner can meet."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.core.models import utcnow
from lms.courses.sessions import sign_in
from lms.courses.sessions.models import PRESENT, QR, Attendance, TrainingSession
from lms.courses.sessions.services import (
    half_days,
    local_zone,
    record_attendance,
    register,
    schedule_session,
)
from lms.extensions import db
from lms.xapi.models import Statement
from tests.courses.races import mark_written_meanwhile

SCAN_RE = re.compile(r"http://relais\.test(/sign-in/\d+/\d+\.[0-9a-f]{16})")


def _session(world, *, starts_in: timedelta = timedelta(minutes=-30),
             hours: int = 3, capacity: int | None = None, place: str = "Lyon — salle A"
             ) -> TrainingSession:
    now = utcnow()
    s = schedule_session(cohort=world.cohort, module=world.module("lancement"),
                         starts_at=now + starts_in,
                         ends_at=now + starts_in + timedelta(hours=hours),
                         place=place, capacity=capacity,
                         trainer=world.member(world.trainer))
    db.session.commit()
    return s


def _seat(s: TrainingSession, enrollment) -> None:
    register(session=s, enrollment=enrollment)
    db.session.commit()


def _attended() -> list[dict]:
    rows = db.session.scalars(select(Statement.data).where(
        Statement.verb_id == "http://adlnet.gov/expapi/verbs/attended"))
    return [json.loads(r) for r in rows]


def _scan_path(client, login, world, s) -> str:
    login(world.trainer)
    page = client.get(f"/o/acme/sessions/{s.id}/sign-in-code")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and 'http-equiv="refresh"' in html
    client.post("/logout")
    return SCAN_RE.search(html).group(1)


def test_the_code_turns_every_minute_and_the_previous_one_still_works(enrolled):
    s = _session(enrolled)
    now = utcnow()
    current = sign_in.token_for(s, now)
    previous = sign_in.token_for(s, now - timedelta(seconds=sign_in.WINDOW_SECONDS))
    older = sign_in.token_for(s, now - timedelta(seconds=2 * sign_in.WINDOW_SECONDS))
    assert current != previous
    assert sign_in.check_token(s.id, current, now) == sign_in.window_at(now)
    assert sign_in.check_token(s.id, previous, now) == sign_in.window_at(now) - 1
    with pytest.raises(sign_in.SignInRefused) as expired:
        sign_in.check_token(s.id, older, now)
    assert expired.value.code == "expired_code"
    window, mac = current.split(".")
    for forged in (f"{window}.{'0' * 16}", f"{int(window) + 5}.{mac}", "hello", ""):
        with pytest.raises(sign_in.SignInRefused) as bad:
            sign_in.check_token(s.id, forged, now)
        assert bad.value.code == "invalid_code"
    with pytest.raises(sign_in.SignInRefused):  # another session's code
        sign_in.check_token(s.id + 1, current, now)


def test_a_learner_scans_logs_in_and_confirms_and_attended_is_recorded(client, login, enrolled):
    s = _session(enrolled)
    learner = enrolled.learners[0]
    _seat(s, enrolled.enrollments[0])
    path = _scan_path(client, login, enrolled, s)

    scanned = client.get(path)  # not logged in on the phone yet
    assert scanned.status_code == 302
    confirm = scanned.headers["Location"]
    assert confirm == f"/o/acme/sessions/{s.id}/sign-in"
    assert client.get(confirm).headers["Location"].startswith("/login?next=")
    login(learner)
    page = client.get(confirm)
    assert page.status_code == 200
    assert "I am here: sign me in" in page.get_data(as_text=True)
    assert db.session.scalar(select(Attendance)) is None  # nothing before the confirmation

    done = client.post(confirm)
    assert done.status_code == 302
    mark = db.session.scalar(select(Attendance))
    day, half = sign_in.half_day_at(s, utcnow())
    assert (mark.status, mark.source, mark.day, mark.half) == (PRESENT, QR, day, half)
    assert mark.signed_at is not None and mark.recorded_by_id == learner.id
    (st,) = _attended()
    assert st["context"]["registration"] == enrolled.enrollments[0].id
    assert st["object"]["id"].endswith(f"/xapi/activities/session/{s.id}")
    assert mark.statement_id == st["id"]
    after = client.get(confirm).get_data(as_text=True)
    assert "You are signed in at" in after and "You are signed in for this half-day" in after
    client.post("/logout")
    login(enrolled.trainer)  # the trainer's sheet shows who scanned, and when
    sheet = client.get(f"/o/acme/sessions/{s.id}/attendance").get_data(as_text=True)
    when = mark.signed_at.astimezone(local_zone()).strftime("%H:%M")
    assert f"Signed in by QR code at {when}" in sheet
    client.post("/logout")
    login(learner)

    again = client.get(path)  # scanning once more: already signed, nothing new recorded
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "You are signed in for this half-day" in page
    client.post(confirm)
    assert len(_attended()) == 1


def test_an_expired_or_forged_code_says_so(client, enrolled):
    s = _session(enrolled)
    old = sign_in.token_for(s, utcnow() - timedelta(minutes=5))
    expired = client.get(f"/sign-in/{s.id}/{old}")
    assert expired.status_code == 410
    assert "This code has expired" in expired.get_data(as_text=True)
    forged = client.get(f"/sign-in/{s.id}/{sign_in.window_at(utcnow())}.{'a' * 16}")
    assert forged.status_code == 404
    assert "not a valid sign-in code" in forged.get_data(as_text=True)
    with client.session_transaction() as cookie:
        assert "sign_in_ticket" not in cookie


def test_without_a_scan_the_confirmation_page_records_nothing(client, login, enrolled):
    s = _session(enrolled)
    _seat(s, enrolled.enrollments[0])
    login(enrolled.learners[0])
    page = client.get(f"/o/acme/sessions/{s.id}/sign-in").get_data(as_text=True)
    assert "Scan the code shown by the trainer" in page
    client.post(f"/o/acme/sessions/{s.id}/sign-in")
    assert db.session.scalar(select(Attendance)) is None


def test_a_scan_older_than_the_ticket_is_refused(client, login, enrolled):
    s = _session(enrolled)
    _seat(s, enrolled.enrollments[0])
    login(enrolled.learners[0])
    with client.session_transaction() as cookie:
        cookie["sign_in_ticket"] = {"session": s.id,
                                    "at": utcnow().timestamp() - sign_in.TICKET_SECONDS - 5}
    client.post(f"/o/acme/sessions/{s.id}/sign-in")
    assert db.session.scalar(select(Attendance)) is None


@pytest.mark.parametrize(("state", "message"), [
    ("none", "You are not registered for this session"),
    ("waitlisted", "You are on the waiting list of this session"),
])
def test_a_learner_without_a_seat_is_told_so(client, login, enrolled, state, message):
    s = _session(enrolled, capacity=1)
    _seat(s, enrolled.enrollments[1])
    if state == "waitlisted":
        _seat(s, enrolled.enrollments[0])
    path = _scan_path(client, login, enrolled, s)
    login(enrolled.learners[0])
    page = client.get(client.get(path).headers["Location"])
    assert page.status_code == 403
    assert message in page.get_data(as_text=True)
    client.post(f"/o/acme/sessions/{s.id}/sign-in")
    assert db.session.scalar(select(Attendance)) is None


def test_a_learner_at_the_wrong_session_is_shown_theirs(client, login, enrolled):
    here = _session(enrolled)
    theirs = _session(enrolled, starts_in=timedelta(days=2), place="Paris — salle B")
    _seat(theirs, enrolled.enrollments[0])
    path = _scan_path(client, login, enrolled, here)
    login(enrolled.learners[0])
    page = client.get(client.get(path).headers["Location"]).get_data(as_text=True)
    assert "Wrong session" in page and "Paris — salle B" in page
    with pytest.raises(sign_in.SignInRefused) as refused:
        sign_in.sign_in(session=here, membership=enrolled.member(enrolled.learners[0]))
    assert refused.value.code == "wrong_session" and refused.value.session.id == theirs.id


def test_sign_in_opens_15_minutes_before_the_start_and_closes_at_the_end(client, login,
                                                                          enrolled):
    s = _session(enrolled, starts_in=timedelta(hours=2))
    _seat(s, enrolled.enrollments[0])
    member = enrolled.member(enrolled.learners[0])
    login(enrolled.trainer)
    page = client.get(f"/o/acme/sessions/{s.id}/sign-in-code").get_data(as_text=True)
    assert "The sign-in code appears at" in page and "<svg" not in page
    for when in (s.starts_at - timedelta(minutes=16), s.ends_at + timedelta(seconds=1)):
        with pytest.raises(sign_in.SignInRefused) as refused:
            sign_in.sign_in(session=s, membership=member, when=when)
        assert refused.value.code == "not_open"
    early = s.starts_at - timedelta(minutes=14)
    mark = sign_in.sign_in(session=s, membership=member, when=early)
    assert (mark.day, mark.half) == half_days(s)[0]
    assert mark.signed_at == early


def test_a_full_day_session_records_the_morning_and_the_afternoon(enrolled):
    zone = local_zone()
    from datetime import datetime, time
    day = (utcnow() + timedelta(days=3)).astimezone(zone).date()
    s = schedule_session(
        cohort=enrolled.cohort, module=enrolled.module("lancement"),
        starts_at=datetime.combine(day, time(9), tzinfo=zone),
        ends_at=datetime.combine(day, time(17), tzinfo=zone), place="Lyon")
    _seat(s, enrolled.enrollments[0])
    member = enrolled.member(enrolled.learners[0])
    morning = sign_in.sign_in(session=s, membership=member,
                              when=datetime.combine(day, time(8, 50), tzinfo=zone))
    with pytest.raises(sign_in.SignInRefused) as twice:
        sign_in.sign_in(session=s, membership=member,
                        when=datetime.combine(day, time(11), tzinfo=zone))
    assert twice.value.code == "already_signed"
    afternoon = sign_in.sign_in(session=s, membership=member,
                                when=datetime.combine(day, time(13, 55), tzinfo=zone))
    assert [(m.day, m.half) for m in (morning, afternoon)] == [(day, "am"), (day, "pm")]
    assert len(_attended()) == 2


def test_a_learner_marked_absent_by_the_trainer_can_still_sign_in(enrolled):
    s = _session(enrolled)
    _seat(s, enrolled.enrollments[0])
    day, half = sign_in.half_day_at(s, utcnow())
    record_attendance(session=s, enrollment=enrolled.enrollments[0], day=day,
                      half=half, status="absent", recorded_by=enrolled.trainer)
    mark = sign_in.sign_in(session=s, membership=enrolled.member(enrolled.learners[0]))
    assert (mark.status, mark.source) == (PRESENT, QR)
    assert len(_attended()) == 1


def test_the_trainer_screen_counts_who_signed_in(client, login, enrolled):
    s = _session(enrolled)
    for enrollment in enrolled.enrollments[:3]:
        _seat(s, enrollment)
    sign_in.sign_in(session=s, membership=enrolled.member(enrolled.learners[0]))
    db.session.commit()
    login(enrolled.trainer)
    page = client.get(f"/o/acme/sessions/{s.id}/sign-in-code").get_data(as_text=True)
    assert "1 of 3 signed in" in page


def test_only_learners_confirm_and_only_staff_show_the_code(client, login, create_user,
                                                            enrolled):
    s = _session(enrolled)
    hr = create_user(Role.HR, org=enrolled.org)
    login(hr)
    assert client.get(f"/o/acme/sessions/{s.id}/sign-in-code").status_code == 403
    assert client.get(f"/o/acme/sessions/{s.id}/sign-in").status_code == 403
    client.post("/logout")
    login(enrolled.learners[0])
    assert client.get(f"/o/acme/sessions/{s.id}/sign-in-code").status_code == 403


def test_a_member_of_another_organization_cannot_sign_in_here(client, login, create_user,
                                                             create_org, enrolled):
    s = _session(enrolled)
    outsider = create_user(Role.LEARNER, org=create_org(slug="elsewhere"))
    login(outsider)
    scanned = client.get(f"/sign-in/{s.id}/{sign_in.token_for(s)}")
    assert client.get(scanned.headers["Location"]).status_code == 404


def test_a_double_tap_on_confirm_records_one_presence(client, login, enrolled):
    s = _session(enrolled)
    _seat(s, enrolled.enrollments[0])
    login(enrolled.learners[0])
    client.get(f"/sign-in/{s.id}/{sign_in.token_for(s)}")
    with mark_written_meanwhile() as other_tap:  # the other tap inserts the half-day first
        response = client.post(f"/o/acme/sessions/{s.id}/sign-in")
    assert other_tap, "the race did not happen"
    assert response.status_code == 302  # not a 500: back to the page, which tells the state
    rows = db.session.scalars(select(Attendance).where(Attendance.session_id == s.id)).all()
    assert [(r.enrollment_id, r.status, r.source) for r in rows] == [
        (enrolled.enrollments[0].id, PRESENT, QR)]
    assert _attended() == []  # the losing tap recorded nothing, not even its statement
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are signed in for this half-day" in page
