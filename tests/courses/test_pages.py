"""Trainer and learner pages through HTTP: roles, isolation, CSRF, and the journeys."""

from __future__ import annotations

import io
import re
import zipfile

from sqlalchemy import func, select

from lms.courses.cohorts.models import Enrollment
from lms.courses.elearning.models import QuizAttempt
from lms.courses.programs import definitions as defs
from lms.courses.programs.models import Program
from lms.courses.programs.services import definition_of
from lms.courses.sessions.models import Attendance, SessionRegistration
from lms.courses.sessions.services import schedule_session
from lms.extensions import db
from tests.conftest import csrf_token

from .conftest import at


def test_learner_gets_403_on_trainer_pages_and_other_orgs_404(world, client, login,
                                                                create_user, create_org):
    w = world
    login(w.learners[0])
    for url in ("/o/acme/programs", f"/o/acme/programs/{w.program.id}", "/o/acme/cohorts",
                f"/o/acme/cohorts/{w.cohort.id}"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/o/acme/cohorts/{w.cohort.id}/enrol",
                       data={"how": "team", "team": "Sales"}).status_code == 403
    # A trainer of another organization sees nothing of this one, even by id.
    other = create_org(slug="other")
    stranger = create_user("trainer", org=other)
    client.post("/logout")
    login(stranger)
    assert client.get("/o/acme/programs").status_code == 404
    assert client.get(f"/o/other/programs/{w.program.id}").status_code == 404
    assert client.get(f"/o/other/cohorts/{w.cohort.id}").status_code == 404
    assert client.post(f"/o/other/cohorts/{w.cohort.id}/enrol",
                       data={"how": "team", "team": "Sales"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0


def test_trainer_copies_reorders_edits_and_exports(world, client, login):
    w = world
    login(w.trainer)
    page = client.get("/o/acme/programs").get_data(as_text=True)
    assert "Parcours ambassadeurs en six semaines" in page or "Six-week ambassador path" in page
    response = client.post("/o/acme/programs/copy",
                           data={"slug": "sensibilisation-reseaux-sociaux"})
    assert response.status_code == 302
    copied = db.session.scalar(select(Program).where(
        Program.organization_id == w.org.id,
        Program.source_slug == "sensibilisation-reseaux-sociaux"))
    assert copied is not None
    keys = lambda: [m.key for m in db.session.get(Program, w.program.id).modules]  # noqa: E731
    second = w.program.modules[1]
    client.post(f"/o/acme/programs/{w.program.id}/modules/{second.id}/move",
                data={"direction": "up"})
    db.session.expire_all()
    assert keys()[:2] == ["profil", "lancement"]
    # Edit a module; an unknown competency is refused with a message.
    url = f"/o/acme/programs/{w.program.id}/modules/{second.id}"
    bad = client.post(url, data={"title": "Profil", "competencies": ["C1", "C12"]})
    assert bad.status_code == 422 and "C12" in bad.get_data(as_text=True)
    client.post(url, data={"title": "Votre profil", "description": "", "required": "on",
                           "duration_minutes": "25", "competencies": ["C1", "C4"]},
                headers={"Accept-Language": "fr"})
    db.session.expire_all()
    module = db.session.get(type(second), second.id)
    assert module.title["fr"] == "Votre profil" and module.competencies == ["C1", "C4"]
    # The export is a zip that parses back to the same program.
    export = client.get(f"/o/acme/programs/{w.program.id}/export.zip")
    assert export.mimetype == "application/zip"
    assert defs.read_zip(export.data).modules[0].key == "profil"


def test_lesson_preview_is_rendered_safely(world, client, login):
    w = world
    login(w.trainer)
    lesson = w.module("profil").lessons[0]
    url = f"/o/acme/programs/{w.program.id}/lessons/{lesson.id}"
    body = "## Titre\n\n<script>alert('x')</script> [lien](javascript:alert(1)) **gras**"
    page = client.post(url, data={"action": "preview", "title": "T", "body": body,
                                  "video_url": ""}).get_data(as_text=True)
    assert "<h2>Titre</h2>" in page and "<strong>gras</strong>" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page
    db.session.expire_all()
    assert "<script>" not in str(db.session.get(type(lesson), lesson.id).body)  # not saved
    saved = client.post(url, data={"action": "save", "title": "Nouveau titre", "body": body,
                                   "video_url": "http://insecure.example"})
    assert saved.status_code == 422


def test_csrf_is_required_on_course_forms(world, client, login, app):
    w = world
    login(w.trainer)
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/o/acme/programs/{w.program.id}/modules/{w.program.modules[1].id}/move"
    assert client.post(url, data={"direction": "up"}).status_code == 400
    page = client.get(f"/o/acme/programs/{w.program.id}").get_data(as_text=True)
    assert client.post(url, data={"direction": "up",
                                  "csrf_token": csrf_token(page)}).status_code == 302


def test_cohort_enrolment_csv_report_and_withdraw_confirmation(world, client, login):
    w = world
    login(w.trainer)
    response = client.post("/o/acme/cohorts/new", data={
        "program_id": w.program.id, "name": "Vague 1", "pilot": "on",
        "trainers": [w.member(w.trainer).id]})
    assert response.status_code == 302
    cohort_url = response.headers["Location"]
    cohort_id = int(cohort_url.rsplit("/", 1)[1])
    csv_bad = f"email\n{w.learners[0].email}\nnobody@example.com\n".encode()
    response = client.post(f"/o/acme/cohorts/{cohort_id}/enrol", data={
        "how": "csv", "file": (io.BytesIO(csv_bad), "learners.csv")})
    assert response.status_code == 422
    assert "line 3: nobody@example.com is not a member" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0
    csv_good = f"email\n{w.learners[0].email}\n{w.learners[1].email}\n".encode()
    client.post(f"/o/acme/cohorts/{cohort_id}/enrol", data={
        "how": "csv", "file": (io.BytesIO(csv_good), "learners.csv")})
    client.post(f"/o/acme/cohorts/{cohort_id}/enrol",
                data={"how": "one", "membership_id": w.member(w.learners[2]).id})
    enrollments = list(db.session.scalars(select(Enrollment).where(
        Enrollment.cohort_id == cohort_id)))
    assert len(enrollments) == 3
    page = client.get(cohort_url).get_data(as_text=True)
    assert w.learners[2].display_name in page
    target = enrollments[0]
    confirm = client.get(f"/o/acme/cohorts/{cohort_id}/enrolments/{target.id}/withdraw")
    assert confirm.status_code == 200 and "Withdraw" in confirm.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Enrollment, target.id).status == "active"  # GET changed nothing
    client.post(f"/o/acme/cohorts/{cohort_id}/enrolments/{target.id}/withdraw")
    db.session.expire_all()
    assert db.session.get(Enrollment, target.id).status == "withdrawn"


def test_sessions_waitlist_ics_and_sign_in_sheet(enrolled, client, login):
    w = enrolled
    login(w.trainer)
    workshop = w.module("lancement")
    response = client.post(f"/o/acme/cohorts/{w.cohort.id}/sessions", data={
        "module_id": workshop.id, "day": "2026-12-01", "start": "09:00", "end": "17:00",
        "place": "Lyon, salle Rhône", "capacity": "1", "trainer_id": w.member(w.trainer).id})
    assert response.status_code == 302
    session_id = int(response.headers["Location"].rsplit("/", 1)[1])
    for e in w.enrollments[:2]:
        client.post(f"/o/acme/sessions/{session_id}/register", data={"enrollment_id": e.id})
    regs = {r.enrollment_id: r for r in db.session.scalars(select(SessionRegistration))}
    assert regs[w.enrollments[0].id].status == "registered"
    assert regs[w.enrollments[1].id].status == "waitlisted"
    first = regs[w.enrollments[0].id]
    ics = client.get(f"/o/acme/sessions/{session_id}/registrations/{first.id}/calendar.ics")
    text = ics.data.decode()
    assert ics.mimetype == "text/calendar"
    assert "DTSTART:20261201T080000Z" in text and "DTEND:20261201T160000Z" in text
    assert "LOCATION:Lyon\\, salle Rhône" in text and text.endswith("END:VCALENDAR\r\n")
    # Cancelling the seat promotes the waiting list.
    client.post(f"/o/acme/sessions/{session_id}/registrations/{first.id}/cancel")
    db.session.expire_all()
    assert db.session.get(SessionRegistration, regs[w.enrollments[1].id].id).status \
        == "registered"
    sheet = client.get(f"/o/acme/sessions/{session_id}/attendance").get_data(as_text=True)
    e = w.enrollments[1]
    assert f'name="mark-{e.id}-2026-12-01-am"' in sheet
    assert f'name="mark-{e.id}-2026-12-01-pm"' in sheet
    client.post(f"/o/acme/sessions/{session_id}/attendance", data={
        f"mark-{e.id}-2026-12-01-am": "present", f"mark-{e.id}-2026-12-01-pm": "excused"})
    marks = {(a.half, a.status) for a in db.session.scalars(select(Attendance))}
    assert marks == {("am", "present"), ("pm", "excused")}
    db.session.expire_all()
    assert {p.module.key: p.state for p in db.session.get(Enrollment, e.id).progress}[
        "lancement"] == "completed"
    # The learner sees the session and downloads their own calendar file only.
    client.post("/logout")
    login(w.learners[1])
    reg = db.session.get(SessionRegistration, regs[w.enrollments[1].id].id)
    assert client.get(f"/o/acme/sessions/{session_id}/registrations/{reg.id}/calendar.ics") \
        .status_code == 200
    client.post("/logout")
    login(w.learners[2])
    assert client.get(f"/o/acme/sessions/{session_id}/registrations/{reg.id}/calendar.ics") \
        .status_code == 404


def test_learner_follows_lessons_and_quiz_and_sees_progress(enrolled, client, login):
    w = enrolled
    e = w.enrollments[0]
    login(w.learners[0])
    response = client.get("/o/acme/training")
    assert response.status_code == 302 and e.id in response.headers["Location"]
    page = client.get(f"/o/acme/training/{e.id}").get_data(as_text=True)
    assert "0 of 10 modules completed" in page
    module = w.module("profil")
    first, second = module.lessons
    lesson_page = client.get(f"/o/acme/training/{e.id}/lessons/{first.id}")
    assert "<h1>" in lesson_page.get_data(as_text=True)
    response = client.post(f"/o/acme/training/{e.id}/lessons/{first.id}")
    assert response.headers["Location"].endswith(f"/lessons/{second.id}")
    response = client.post(f"/o/acme/training/{e.id}/lessons/{second.id}")
    quiz = module.quizzes[0]
    assert response.headers["Location"].endswith(f"/quizzes/{quiz.id}")
    # Missing answers: nothing recorded, the form says which.
    response = client.post(f"/o/acme/training/{e.id}/quizzes/{quiz.id}", data={})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 0
    data = {f"q-{q.key}": [o["key"] for o in q.options if o.get("correct")]
            for q in quiz.questions}
    result = client.post(f"/o/acme/training/{e.id}/quizzes/{quiz.id}", data=data)
    text = result.get_data(as_text=True)
    assert result.status_code == 200 and "100" in text
    page = client.get(f"/o/acme/training/{e.id}").get_data(as_text=True)
    assert "1 of 10 modules completed" in page
    # The trainer's grid shows it.
    client.post("/logout")
    login(w.trainer)
    grid = client.get(f"/o/acme/cohorts/{w.cohort.id}").get_data(as_text=True)
    assert re.search(r'class="state-completed" title="[^"]*"', grid)
    # The footer gives each module's completion rate among active learners: 1 of 4 here.
    footer = grid[grid.index("<tfoot>"):grid.index("</tfoot>")]
    assert "25%" in footer and "0/4" in footer


def test_a_learner_cannot_open_someone_elses_enrolment(enrolled, client, login):
    w = enrolled
    login(w.learners[0])
    other = w.enrollments[1]
    assert client.get(f"/o/acme/training/{other.id}").status_code == 404
    lesson = w.module("profil").lessons[0]
    assert client.post(f"/o/acme/training/{other.id}/lessons/{lesson.id}").status_code == 404
    assert client.get("/o/acme/training/not-an-id").status_code == 404


def test_import_page_reports_line_errors(world, client, login):
    w = world
    login(w.trainer)
    files = defs.to_files(definition_of(w.program))
    files["program.yaml"] = files["program.yaml"].replace(b"pass_mark: 80", b"pass_mark: 180",
                                                          1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    response = client.post("/o/acme/programs/import",
                           data={"file": (io.BytesIO(buffer.getvalue()), "p.zip")})
    assert response.status_code == 422
    assert re.search(r"program\.yaml line \d+: pass_mark must be an integer from 0 to 100",
                     response.get_data(as_text=True))


def test_nav_links_by_role(enrolled, client, login):
    w = enrolled
    login(w.learners[0])
    page = client.get("/o/acme/training", follow_redirects=True).get_data(as_text=True)
    assert "My training" in page and ">Cohorts<" not in page
    client.post("/logout")
    login(w.trainer)
    page = client.get("/o/acme/cohorts").get_data(as_text=True)
    assert ">Programs<" in page and 'aria-current="page">Cohorts<' in page


def test_learners_register_themselves_and_join_the_waiting_list(enrolled, client, login):
    w = enrolled
    future = schedule_session(cohort=w.cohort, module=w.module("lancement"),
                              starts_at=at(28, 13), ends_at=at(28, 16),
                              virtual_link="https://visio.example/r", capacity=1)
    past = schedule_session(cohort=w.cohort, module=w.module("lancement"),
                            starts_at=at(1, 8).replace(year=2025),
                            ends_at=at(1, 11).replace(year=2025), place="Lyon")
    db.session.commit()
    statuses = []
    for i in (0, 1):
        client.post("/logout")
        login(w.learners[i])
        e = w.enrollments[i]
        response = client.post(f"/o/acme/training/{e.id}/sessions/{future.id}/register")
        assert response.status_code == 302
        client.post(f"/o/acme/training/{e.id}/sessions/{past.id}/register")
        statuses.append({r.session_id: r.status for r in db.session.scalars(
            select(SessionRegistration).where(SessionRegistration.enrollment_id == e.id))})
    assert statuses == [{future.id: "registered"}, {future.id: "waitlisted"}]
    # The first learner gives up the seat: the second one gets it.
    client.post("/logout")
    login(w.learners[0])
    client.post(f"/o/acme/training/{w.enrollments[0].id}/sessions/{future.id}/cancel")
    db.session.expire_all()
    (reg,) = db.session.scalars(select(SessionRegistration))
    assert (reg.enrollment_id, reg.status) == (w.enrollments[1].id, "registered")
    # Nobody can register a learner of their own accord into someone else's enrolment.
    assert client.post(f"/o/acme/training/{w.enrollments[2].id}/sessions/{future.id}/register"
                       ).status_code == 404


def test_trainer_changes_a_completion_rule_and_prerequisites(world, client, login):
    w = world
    login(w.trainer)
    module = w.module("profil")
    url = f"/o/acme/programs/{w.program.id}/modules/{module.id}"
    base = {"title": "Profil", "required": "on", "competencies": ["C1"]}
    refused = client.post(url, data={**base, "completion": "attended"})
    assert refused.status_code == 422
    assert "completed by attendance" in refused.get_data(as_text=True)
    later = w.module("suivi-2")
    refused = client.post(url, data={**base, "completion": "lessons_viewed",
                                     "prerequisites": [later.key]})
    assert refused.status_code == 422
    done = client.post(url, data={**base, "completion": "quiz_passed", "pass_mark": "90",
                                  "prerequisites": ["lancement"]})
    assert done.status_code == 302
    db.session.expire_all()
    module = w.module("profil")
    assert module.completion == {"type": "quiz_passed", "pass_mark": 90}
    assert module.prerequisites == ["lancement"]


def test_a_program_from_scratch_gets_modules_and_lessons(world, client, login):
    w = world
    login(w.trainer)
    response = client.post("/o/acme/programs/new", data={"title": "Prise de parole en ligne",
                                                         "language": "fr"})
    assert response.status_code == 302
    program_id = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/o/acme/programs/{program_id}/modules",
                data={"kind": "workshop", "title": "Atelier d'écriture"})
    program = db.session.get(Program, program_id)
    assert [m.kind for m in program.modules] == ["elearning", "workshop"]
    assert program.modules[1].completion == {"type": "attended"}
    elearning, workshop = program.modules
    response = client.post(f"/o/acme/programs/{program_id}/modules/{elearning.id}/lessons",
                           data={"title": "Trouver son sujet"})
    assert "/lessons/" in response.headers["Location"]
    refused = client.post(f"/o/acme/programs/{program_id}/modules/{workshop.id}/lessons",
                          data={"title": "Non"})
    assert refused.status_code == 302
    db.session.expire_all()
    program = db.session.get(Program, program_id)
    assert [lesson.title["fr"] for lesson in program.modules[0].lessons] == [
        "Leçon 1", "Trouver son sujet"]
    assert program.modules[1].lessons == []
    # The program from scratch exports and parses back.
    export = client.get(f"/o/acme/programs/{program_id}/export.zip")
    assert len(defs.read_zip(export.data).modules) == 2
