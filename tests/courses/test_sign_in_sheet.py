"""The printable sign-in sheet: a PDF whose text (read back with pdftotext) names the
organization, program, module, dates, place and trainer, and each learner's half-days."""

from __future__ import annotations

import subprocess
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.core import pdf
from lms.core.models import utcnow
from lms.courses.sessions import sign_in, sign_in_sheet
from lms.courses.sessions.models import Attendance
from lms.courses.sessions.services import local_zone, record_attendance, register, schedule_session
from lms.extensions import db


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         check=True, text=True)
    return out.stdout


@pytest.fixture()
def day_session(enrolled):
    """A full-day session next week, with three seats taken and one learner waitlisted."""
    zone = local_zone()
    day = (utcnow() + timedelta(days=7)).astimezone(zone).date()
    s = schedule_session(
        cohort=enrolled.cohort, module=enrolled.module("lancement"),
        starts_at=datetime.combine(day, time(9), tzinfo=zone),
        ends_at=datetime.combine(day, time(17), tzinfo=zone), place="Lyon — salle Confluence",
        capacity=3, trainer=enrolled.member(enrolled.trainer))
    for enrollment in enrolled.enrollments:
        register(session=s, enrollment=enrollment)
    db.session.commit()
    return s, day, zone


def test_the_sheet_lists_the_session_and_each_learners_half_days(enrolled, day_session,
                                                                 tmp_path):
    s, day, zone = day_session
    learners = enrolled.learners
    qr = sign_in.sign_in(session=s, membership=enrolled.member(learners[0]),
                         when=datetime.combine(day, time(8, 52), tzinfo=zone))
    record_attendance(session=s, enrollment=enrolled.enrollments[1], day=day,
                      half="am", status="absent", recorded_by=enrolled.trainer)
    record_attendance(session=s, enrollment=enrolled.enrollments[1], day=day,
                      half="pm", status="present", recorded_by=enrolled.trainer)
    db.session.commit()

    text = pdf_text(sign_in_sheet.render_pdf(s), tmp_path)
    for expected in ("Sign-in sheet", enrolled.org.name, "Six-week ambassador path",
                     "Lyon — salle Confluence", "Tess Trainer", day.strftime("%d/%m/%Y"),
                     "09:00", "17:00", "morning", "afternoon", "Trainer's signature"):
        assert expected in text, expected
    assert "Learner 0" in text and "Learner 1" in text and "Learner 2" in text
    assert "Learner 3" not in text  # waiting list: no seat, no row
    assert "Present" in text and "Absent" in text
    assert qr.signed_at.astimezone(zone).strftime("%H:%M") == "08:52"
    assert "08:52" in text and "QR code" in text and "Signed electronically at 08:52" in text
    # A mark ticked on the trainer's sheet has no sign-in time: the learner signs on paper.
    ticked = db.session.scalar(select(Attendance).where(
        Attendance.enrollment_id == enrolled.enrollments[1].id, Attendance.half == "pm"))
    body = "\n".join(line for line in text.splitlines() if "Generated on" not in line)
    assert ticked.signed_at.astimezone(zone).strftime("%H:%M") not in body.replace("08:52", "")


def test_the_sheet_downloads_for_staff_and_hr_in_their_language(client, login, create_user,
                                                                enrolled, day_session,
                                                                tmp_path):
    s, _day, _zone = day_session
    hr = create_user(Role.HR, org=enrolled.org)
    login(hr)
    response = client.get(f"/o/acme/sessions/{s.id}/sign-in-sheet.pdf",
                          headers={"Accept-Language": "fr"})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="emargement-')
    text = pdf_text(response.data, tmp_path)
    assert "Feuille d'émargement" in text or "Feuille d’émargement" in text
    assert "Parcours ambassadeurs" in text
    client.post("/logout")
    login(enrolled.learners[0])
    assert client.get(f"/o/acme/sessions/{s.id}/sign-in-sheet.pdf").status_code == 403


def test_an_empty_session_still_prints_a_sheet(enrolled, tmp_path):
    now = utcnow() + timedelta(days=3)
    s = schedule_session(cohort=enrolled.cohort, module=enrolled.module("lancement"),
                         starts_at=now, ends_at=now + timedelta(hours=2),
                         virtual_link="https://visio.example/relais")
    text = pdf_text(sign_in_sheet.render_pdf(s), tmp_path)
    assert "Nobody has a seat in this session yet." in text
    assert "https://visio.example/relais" in text


def test_names_people_typed_are_text_and_nothing_is_fetched_from_the_network(
        enrolled, day_session, tmp_path, monkeypatch):
    s, _day, _zone = day_session
    s.place = '<img src="https://attacker.example/x.png"> Salle <b>B</b>'
    db.session.commit()
    html = sign_in_sheet.html(s)
    assert "&lt;img" in html and "<img" not in html
    fetched: list[str] = []
    fetcher = pdf.url_fetcher(None)
    with pytest.raises(ValueError):
        fetcher.fetch("https://attacker.example/x.png")
    with pytest.raises(ValueError):
        fetcher.fetch("file:///etc/passwd")
    original = pdf.url_fetcher

    def spy(base):
        inner = original(base)
        real = inner.fetch

        def fetch(url, headers=None):
            fetched.append(url)
            return real(url, headers)

        inner.fetch = fetch
        return inner

    monkeypatch.setattr(pdf, "url_fetcher", spy)
    data = pdf.html_to_pdf('<p>x</p><img src="https://attacker.example/y.png">'
                           '<div style="background: url(http://attacker.example/z)">z</div>')
    assert data.startswith(b"%PDF")
    # Both went through the fetcher, which refused them (the PDF rendered without them).
    assert sorted(fetched) == ["http://attacker.example/z", "https://attacker.example/y.png"]
