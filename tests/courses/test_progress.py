"""Progress is a projection of xAPI statements: quizzes, lessons, external packages posting to
the LRS, voiding, and the enrolment's completion."""

from __future__ import annotations

import base64
import json
import uuid

from sqlalchemy import event, select

from lms.core.database import time_processor
from lms.core.models import utcnow
from lms.courses import statements as xs
from lms.courses.cohorts import progress
from lms.courses.cohorts.models import COMPLETED, ModuleProgress
from lms.courses.cohorts.services import withdraw
from lms.courses.elearning.services import submit_quiz, view_lesson
from lms.courses.programs.services import add_lesson
from lms.extensions import db
from lms.xapi.builders import agent_for_user
from lms.xapi.models import Statement
from lms.xapi.record import record
from lms.xapi.services import create_lrs_credentials


def state(enrollment, module) -> str:
    progress = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == enrollment.id, ModuleProgress.module_id == module.id))
    return progress.state if progress else "not_started"


def right_answers(quiz) -> dict[str, list[str]]:
    return {q.key: [o["key"] for o in q.options if o.get("correct")] for q in quiz.questions}


def lrs_headers(org) -> dict[str, str]:
    credential, secret = create_lrs_credentials(organization=org)
    db.session.commit()
    token = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}


def test_lessons_then_a_failed_then_a_passed_quiz(enrolled):
    w = enrolled
    e, module = w.enrollments[0], w.module("profil")
    view_lesson(enrollment=e, lesson=module.lessons[0])
    assert state(e, module) == "in_progress"
    view_lesson(enrollment=e, lesson=module.lessons[0])  # once only
    quiz = module.quizzes[0]
    wrong = {q.key: [q.options[-1]["key"]] for q in quiz.questions}
    attempt = submit_quiz(enrollment=e, quiz=quiz, answers=wrong)
    assert not attempt.passed and attempt.score < 80
    assert state(e, module) == "failed"
    attempt = submit_quiz(enrollment=e, quiz=quiz, answers=right_answers(quiz))
    db.session.commit()
    assert attempt.passed and attempt.score == 100
    progress = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == e.id, ModuleProgress.module_id == module.id))
    assert (progress.state, progress.score, progress.percent) == (COMPLETED, 100.0, 100)
    # The derived "completed" statement for the module exists, once.
    completed = [json.loads(d) for d in db.session.scalars(select(Statement.data).where(
        Statement.object_activity_id == xs.iri("module", module.id)))]
    assert len(completed) == 1 and completed[0]["verb"]["id"].endswith("/completed")
    # Other learners are untouched.
    assert state(w.enrollments[1], module) == "not_started"


def test_an_external_package_completes_a_module_through_the_lrs(enrolled, client):
    w = enrolled
    e, module = w.enrollments[1], w.module("exercice-profil")
    statement = {"actor": agent_for_user(w.learners[1]),
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                 "object": {"id": xs.iri("module", module.id)},
                 "context": {"registration": e.id}}
    response = client.post("/xapi/statements", json=statement, headers=lrs_headers(w.org))
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    assert state(e, module) == COMPLETED
    # Without a registration, by e-mail: the learner's enrolment in that program counts it.
    other = w.module("exercice-campagne")
    statement = {"actor": {"mbox": f"mailto:{w.learners[1].email}"},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
                 "object": {"id": "https://content.example/pkg/campaign"},
                 "context": {"contextActivities": {"parent": [
                     {"id": xs.iri("module", other.id)}]}}}
    response = client.post("/xapi/statements", json=statement, headers=lrs_headers(w.org))
    assert response.status_code == 200
    db.session.expire_all()
    # "passed" on a child activity is not the module's own completion: in progress only.
    assert state(e, other) == "in_progress"


def test_another_organizations_lrs_cannot_touch_progress(enrolled, client, create_org):
    w = enrolled
    e, module = w.enrollments[0], w.module("exercice-profil")
    statement = {"actor": agent_for_user(w.learners[0]),
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                 "object": {"id": xs.iri("module", module.id)},
                 "context": {"registration": e.id}}
    response = client.post("/xapi/statements", json=statement,
                           headers=lrs_headers(create_org()))
    assert response.status_code == 200
    db.session.expire_all()
    assert state(e, module) == "not_started"


def test_voiding_re_derives_module_and_program_completion(enrolled, client):
    w = enrolled
    e = w.enrollments[2]
    headers = lrs_headers(w.org)
    ids = {}
    for module in w.program.modules:
        sid = str(uuid.uuid4())
        ids[module.key] = sid
        response = client.post("/xapi/statements", headers=headers, json={
            "id": sid, "actor": agent_for_user(w.learners[2]),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": xs.iri("module", module.id)}, "context": {"registration": e.id}})
        assert response.status_code == 200
    db.session.expire_all()
    assert e.status == COMPLETED and e.completed_at is not None
    program_done = db.session.scalars(select(Statement.data).where(
        Statement.object_activity_id == xs.iri("program", w.program.id),
        Statement.verb_id == "http://adlnet.gov/expapi/verbs/completed"))
    assert len(list(program_done)) == 1
    # Void the statement that completed the kick-off workshop.
    response = client.post("/xapi/statements", headers=headers, json={
        "actor": {"mbox": "mailto:lrs-admin@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": ids["lancement"]}})
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    assert state(e, w.module("lancement")) == "not_started"
    assert e.status == "active" and e.completed_at is None
    # The completions Relais had derived are voided too, so the store agrees with progress.
    derived = {}
    for row in db.session.execute(select(Statement.object_activity_id, Statement.voided,
                                         Statement.data).where(Statement.registration == e.id)):
        if xs.is_derived(json.loads(row.data)):
            derived[row.object_activity_id] = row.voided
    assert derived[xs.iri("program", w.program.id)] is True
    assert derived[xs.iri("module", w.module("lancement").id)] is True
    assert derived[xs.iri("module", w.module("profil").id)] is False
    assert state(e, w.module("profil")) == COMPLETED


def test_a_withdrawn_learner_keeps_history_but_is_never_completed(enrolled):
    w = enrolled
    e = w.enrollments[3]
    withdraw(enrollment=e)
    for module in w.program.modules:
        st = xs.module_completed(e, module)
        st["context"].pop("extensions")
        record([st], organization_id=w.org.id)
    db.session.commit()
    assert {state(e, m) for m in w.program.modules} == {COMPLETED}
    assert e.status == "withdrawn" and e.completed_at is None


def slide(learner, enrollment, module, n: int = 1, **extra) -> dict:
    """What an uploaded package sends: an activity of its own, the module as parent."""
    return {"id": str(uuid.uuid4()), "actor": agent_for_user(learner),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": f"https://content.example/pkg/slides/{n}"},
            "context": {"registration": enrollment.id,
                        "contextActivities": {"parent": [{"id": xs.iri("module", module.id)}]}},
            **extra}


def progress_row(enrollment, module) -> ModuleProgress:
    db.session.expire_all()
    row = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == enrollment.id, ModuleProgress.module_id == module.id))
    assert row is not None
    return row


def learner_reads(fn) -> bool:
    """Whether ``fn`` reads learners' statements (re-deriving a module)."""
    reads = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if "NOT s.voided" in statement:
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return bool(reads)


def test_a_statement_that_changes_nothing_keeps_the_row_without_re_deriving(enrolled):
    w = enrolled
    e, learner, module = w.enrollments[0], w.learners[0], w.module("profil")
    view_lesson(enrollment=e, lesson=module.lessons[0])
    db.session.commit()
    before = progress_row(e, module)
    assert (before.state, before.seen) == ("in_progress", db.session.scalar(
        select(Statement.pk).order_by(Statement.pk.desc()).limit(1)))
    state_before = (before.state, before.score, before.percent, before.updated_at)
    seen, basis = before.seen, before.basis
    # Slides of a package: nothing a rule counts; the row stays, its time moves (the
    # learner's last activity), the learner's statements are not read again.
    assert learner_reads(lambda: (record([slide(learner, e, module, n) for n in range(3)],
                                         organization_id=w.org.id), db.session.commit())) is False
    after = progress_row(e, module)
    assert (after.state, after.score, after.percent) == state_before[:3]
    assert after.updated_at > state_before[3]
    assert after.seen > seen and after.basis == basis
    # A lesson viewed is counted: re-derived.
    assert learner_reads(lambda: (view_lesson(enrollment=e, lesson=module.lessons[1]),
                                  db.session.commit())) is True
    assert progress_row(e, module).percent > state_before[2]


def test_what_the_projection_did_not_see_is_counted_at_the_next_statement(enrolled):
    w = enrolled
    e, learner, module = w.enrollments[0], w.learners[0], w.module("profil")
    record([slide(learner, e, module)], organization_id=w.org.id)
    db.session.commit()
    assert state(e, module) == "in_progress"
    # A verb the projection does not listen to, saying the learner failed the module: kept
    # in the store, not projected yet.
    answered = {**slide(learner, e, module), "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
                "object": {"id": xs.iri("module", module.id)}, "result": {"success": False}}
    record([answered], organization_id=w.org.id)
    db.session.commit()
    assert state(e, module) == "in_progress"
    # The next slide finds a statement of the learner's it did not see: the module is
    # re-derived from all of them, as it always was.
    assert learner_reads(lambda: (record([slide(learner, e, module, 2)],
                                         organization_id=w.org.id), db.session.commit())) is True
    assert state(e, module) == "failed"


def test_a_changed_module_is_re_derived_at_the_next_statement(enrolled):
    w = enrolled
    e, learner, module = w.enrollments[0], w.learners[0], w.module("profil")
    module.completion = {"type": "lessons_viewed"}
    db.session.commit()
    for lesson in module.lessons:
        view_lesson(enrollment=e, lesson=lesson)
    db.session.commit()
    assert state(e, module) == COMPLETED
    # (The first slide finds the completion Relais derived, stored after the row: re-derived.)
    for n in (1, 2):
        record([slide(learner, e, module, n)], organization_id=w.org.id)
        db.session.commit()
    assert learner_reads(lambda: (record([slide(learner, e, module, 3)], organization_id=w.org.id),
                                  db.session.commit())) is False
    # A lesson more: the module's shape changed, the row was derived with the old one.
    add_lesson(module=module, title="Encore une")
    db.session.commit()
    assert state(e, module) == COMPLETED
    assert learner_reads(lambda: (record([slide(learner, e, module)], organization_id=w.org.id),
                                  db.session.commit())) is True
    row = progress_row(e, module)
    assert row.state == "in_progress" and row.percent < 100


def test_a_progress_row_written_in_between_is_re_derived_next_time(enrolled):
    w = enrolled
    e, learner, module = w.enrollments[0], w.learners[0], w.module("profil")
    record([slide(learner, e, module)], organization_id=w.org.id)
    db.session.commit()
    row = progress_row(e, module)
    # Another request wrote the row after this one read it (its ``seen`` is not the one
    # read): the row keeps no ``seen``, so the next statement re-derives it.
    was = row.seen - 1
    progress._write_progress([(e.id, module.id, row.state, row.score, row.percent,
                               time_processor()(utcnow()), row.basis, row.seen + 5, was),
                              (e.id, w.module("exercice-profil").id, "in_progress", None, 0,
                               time_processor()(utcnow()), "x", 7, -1)])
    db.session.commit()
    assert progress_row(e, module).seen is None
    assert progress_row(e, w.module("exercice-profil")).seen == 7
    assert learner_reads(lambda: (record([slide(learner, e, module, 2)],
                                         organization_id=w.org.id), db.session.commit())) is True
    assert progress_row(e, module).seen is not None
