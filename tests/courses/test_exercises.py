"""On-the-job exercises: settings in YAML and the builder, evidence, reviews against the rubric,
automatic verification, AFEST records, the statements they record, progress, pages and API."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import func, select

from lms.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lms.core.models import utcnow
from lms.courses.cohorts.models import ModuleProgress
from lms.courses.cohorts.services import create_cohort, enrol, withdraw
from lms.courses.exercises.models import AfestEntry, AfestPlan, ExerciseReview, ExerciseSubmission
from lms.courses.exercises.queries import (
    TUTOR_SUGGESTIONS,
    count_to_review,
    due_for,
    may_keep_journal,
    screenshot_file,
    to_review,
)
from lms.courses.exercises.services import (
    add_journal_entry,
    review_submission,
    save_analysis,
    set_tutor,
    submit_evidence,
    update_settings,
    verify_exercise,
)
from lms.courses.programs import definitions as defs
from lms.courses.programs.services import CATALOGUE_DIR, definition_of, import_program
from lms.extensions import db
from lms.xapi.models import Statement
from tests.support import load_demo_once, membership

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
POST = "https://www.linkedin.com/posts/camille-martin_relais-activity-1"
RUBRIC_OK = {"titre": "met", "resume": "met", "charte": "met"}


def statements(verb_id: str) -> list[dict]:
    rows = db.session.scalars(select(Statement.data).where(
        Statement.verb_id == verb_id, Statement.voided.is_(False)).order_by(Statement.pk))
    return [json.loads(r) for r in rows]


def state(enrollment, module) -> str:
    progress = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == enrollment.id, ModuleProgress.module_id == module.id))
    return progress.state if progress else "not_started"


# --- YAML -----------------------------------------------------------------------------------


def test_the_six_week_path_has_three_exercises_one_verified_one_afest():
    program = defs.read_folder(CATALOGUE_DIR / "parcours-ambassadeurs-6-semaines")
    found = {m.key: m.exercise for m in program.modules if m.kind == "exercise"}
    assert set(found) == {"exercice-profil", "exercice-premier-post", "exercice-campagne"}
    for settings in found.values():
        assert set(settings["instructions"]) == {"fr", "en"}
        assert "required" in settings["evidence"].values()
        assert settings["due_days"] and settings["rubric"]
        assert all(set(c["label"]) == {"fr", "en"} for c in settings["rubric"])
    assert [k for k, s in found.items() if s["afest"]] == ["exercice-premier-post"]
    assert found["exercice-campagne"]["verification"] == {
        "network": "linkedin", "kinds": ["post"], "count": 2, "own_comment": True,
        "within_days": 14}


EXERCISE = """\
format_version: 1
slug: essai
language: fr
title:
  fr: Essai
modules:
- key: pratique
  kind: exercise
  title:
    fr: Pratique
  completion:
    type: exercise_approved
  exercise:
    instructions:
      fr: Publiez.
    evidence:
      url: required
    due_days: 7
    rubric:
    - key: clair
      label:
        fr: Clair
    afest: true
    verification:
      network: linkedin
      kinds: [post]
      count: 2
"""


def test_an_exercise_block_round_trips_with_its_defaults():
    program = defs.parse_program(EXERCISE, {})
    assert program.modules[0].exercise == {
        "instructions": {"fr": "Publiez."}, "evidence": {"url": "required"}, "due_days": 7,
        "rubric": [{"key": "clair", "label": {"fr": "Clair"}}], "afest": True,
        "verification": {"network": "linkedin", "kinds": ["post"], "count": 2,
                         "own_comment": False}}
    files = defs.to_files(program)
    assert defs.read_files(files) == program
    assert defs.to_files(defs.read_files(files)) == files


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("url: required", "url: maybe", "program.yaml line 17: evidence url must be one of"),
    ("url: required", "url: optional", "program.yaml line 17: evidence needs at least one item"),
    ("url: required", "video: required", "program.yaml line 17: unknown key 'video' in evidence"),
    ("due_days: 7", "due_days: 0", "program.yaml line 18: due_days must be an integer from 1"),
    ("network: linkedin", "network: myspace", "program.yaml line 25: network must be one of"),
    ("kinds: [post]", "kinds: [post, like]", "program.yaml line 26: kind must be one of"),
    ("count: 2", "count: many", "program.yaml line 27: count must be an integer"),
    ("afest: true", "afest: sometimes", "program.yaml line 23: afest must be true or false"),
    ("    - key: clair\n", "    - key: clair\n      weight: 2\n",
     "program.yaml line 21: unknown key 'weight' in rubric criterion"),
    ("kind: exercise", "kind: conference",
     "program.yaml line 14: only exercise modules have an exercise block"),
])
def test_exercise_errors_name_the_line(old, new, expected):
    assert old in EXERCISE
    with pytest.raises(defs.ContentError) as exc:
        defs.parse_program(EXERCISE.replace(old, new, 1), {})
    assert any(e.startswith(expected) for e in exc.value.errors), exc.value.errors


def test_exercise_settings_survive_the_database_round_trip(world, create_org):
    first = defs.to_zip(definition_of(world.program))
    copy = import_program(organization=create_org(), data=first)
    db.session.commit()
    db.session.expire_all()
    assert defs.to_zip(definition_of(copy)) == first
    assert next(m for m in copy.modules if m.key == "exercice-campagne").exercise[
        "verification"]["count"] == 2


# --- hand-ins, reviews, progress ------------------------------------------------------------


def test_hand_in_review_with_changes_then_approval_completes_the_module(enrolled):
    w = enrolled
    learner, module = w.enrollments[0], w.module("exercice-profil")
    trainer = w.member(w.trainer)
    first = submit_evidence(enrollment=learner, module=module, post_url=POST,
                            reflection="J'ai réécrit mon titre.", screenshot=PNG)
    db.session.commit()
    assert first.attempt == 1 and first.status == "submitted"
    assert screenshot_file(first).read_bytes() == PNG
    assert state(learner, module) == "in_progress"
    [sent] = statements("http://activitystrea.ms/schema/1.0/submit")
    assert sent["context"]["registration"] == learner.id
    assert sent["object"]["id"].endswith(f"/module/{module.id}")
    # A second hand-in while the first awaits review is refused.
    with pytest.raises(Conflict):
        submit_evidence(enrollment=learner, module=module, post_url=POST,
                        reflection="encore")
    db.session.rollback()

    with pytest.raises(ValidationFailed) as exc:
        review_submission(submission=first, reviewer=trainer,
                          decision="changes_requested", rubric=RUBRIC_OK)
    assert "comment" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        review_submission(submission=first, reviewer=trainer, decision="approved",
                          rubric={"titre": "met"})
    assert set(exc.value.fields) == {"rubric-resume", "rubric-charte"}
    review_submission(submission=first, reviewer=trainer,
                      decision="changes_requested",
                      comment="Le résumé parle encore de vous, pas de vos clients.",
                      rubric={"titre": "met", "resume": "not_met", "charte": "met"})
    db.session.commit()
    assert first.status == "changes_requested" and state(learner, module) == "in_progress"
    [reviewed] = statements("http://id.tincanapi.com/verb/reviewed")
    assert reviewed["object"] == {"objectType": "StatementRef", "id": first.statement_id}
    assert reviewed["result"]["success"] is False
    assert reviewed["actor"]["account"]["name"] == str(w.trainer.id)
    with pytest.raises(Conflict):  # reviewed already
        review_submission(submission=first, reviewer=trainer, decision="approved",
                          rubric=RUBRIC_OK)
    db.session.rollback()

    second = submit_evidence(enrollment=learner, module=module, post_url=POST,
                             reflection="Résumé réécrit pour mes clients.")
    assert second.attempt == 2
    review_submission(submission=second, reviewer=trainer, decision="approved",
                      comment="Bravo", rubric=RUBRIC_OK)
    db.session.commit()
    assert second.status == "approved" and state(learner, module) == "completed"
    done = [s for s in statements("http://adlnet.gov/expapi/verbs/completed")
            if s["object"]["id"].endswith(f"/module/{module.id}")]
    assert any(s["context"].get("instructor") for s in done)
    assert db.session.scalar(select(func.count()).select_from(ExerciseReview)) == 2
    with pytest.raises(Conflict):
        submit_evidence(enrollment=learner, module=module, post_url=POST,
                        reflection="encore")


def test_evidence_is_checked_against_the_settings(enrolled, app):
    w = enrolled
    learner, module = w.enrollments[1], w.module("exercice-profil")
    with pytest.raises(ValidationFailed) as exc:
        submit_evidence(enrollment=learner, module=module)
    assert set(exc.value.fields) == {"url", "reflection"}
    with pytest.raises(ValidationFailed) as exc:
        submit_evidence(enrollment=learner, module=module, post_url="javascript:x",
                        reflection="ok", screenshot=b"GIF-but-not-really")
    assert set(exc.value.fields) == {"url", "screenshot"}
    saved = app.config["EXERCISE_SCREENSHOT_MAX_BYTES"]
    app.config["EXERCISE_SCREENSHOT_MAX_BYTES"] = 32
    try:
        with pytest.raises(ValidationFailed) as exc:
            submit_evidence(enrollment=learner, module=module, post_url=POST,
                            reflection="ok", screenshot=PNG)
        assert "larger" in exc.value.fields["screenshot"]
    finally:
        app.config["EXERCISE_SCREENSHOT_MAX_BYTES"] = saved
    # A module of another program, or not an exercise, is not found.
    with pytest.raises(NotFound):
        submit_evidence(enrollment=learner, module=w.module("profil"),
                        reflection="x")
    assert db.session.scalar(select(func.count()).select_from(ExerciseSubmission)) == 0


def test_only_staff_of_the_organization_review(enrolled, create_user, create_org):
    w = enrolled
    sub = submit_evidence(enrollment=w.enrollments[0], module=w.module(
        "exercice-profil"), post_url=POST, reflection="ok")
    other = create_org()
    for member in (w.member(w.learners[1]),
                   membership(create_user("trainer", org=other), other)):
        with pytest.raises(Forbidden):
            review_submission(submission=sub, reviewer=member, decision="approved",
                              rubric=RUBRIC_OK)


def test_verification_is_idempotent_and_completes_the_module(enrolled):
    w = enrolled
    learner, module = w.enrollments[2], w.module("exercice-campagne")
    evidence = {"events": [11, 12], "url": "https://www.linkedin.com/feed/update/urn:li:1"}
    first = verify_exercise(learner, module, evidence=evidence)
    again = verify_exercise(learner, module, evidence={"events": [13]})
    db.session.commit()
    assert again.id == first.id and first.status == "verified"
    assert first.verification == evidence and first.post_url == evidence["url"]
    assert state(learner, module) == "completed"
    [confirmed] = statements("http://activitystrea.ms/schema/1.0/confirm")
    assert confirmed["result"]["extensions"][
        "http://relais.test/xapi/extensions/exercise-evidence"] == evidence
    # A hand-in awaiting review is verified in place.
    other = w.enrollments[3]
    sub = submit_evidence(enrollment=other, module=module, post_url=POST,
                          reflection="Deux relais, deux angles.")
    assert verify_exercise(other, module, evidence={"events": [1]}).id == sub.id
    assert sub.status == "verified" and to_review(w.org.id) == []
    with pytest.raises(NotFound):
        verify_exercise(other, w.module("lancement"), evidence={})


def test_due_for_and_to_review(enrolled):
    w = enrolled
    learner = w.enrollments[0]
    me = learner.membership
    # The cohort starts ten days after the enrolment: the exercise is due 14 days after the start.
    w.cohort.starts_on = utcnow().date() + timedelta(days=10)
    db.session.commit()
    due = due_for(me)
    assert [d.module.key for d in due] == ["exercice-profil", "exercice-premier-post",
                                           "exercice-campagne"]
    assert due[0].due_on == w.cohort.starts_on + timedelta(days=14)
    assert due[0].status == "not_submitted"
    assert not due[0].overdue
    w.cohort.starts_on = utcnow().date() - timedelta(days=30)
    learner.enrolled_at = utcnow() - timedelta(days=40)
    sub = submit_evidence(enrollment=learner, module=w.module("exercice-profil"),
                          post_url=POST, reflection="ok")
    db.session.commit()
    due = {d.module.key: d for d in due_for(me)}
    assert due["exercice-profil"].status == "submitted" and not due["exercice-profil"].overdue
    assert due["exercice-premier-post"].overdue
    assert to_review(w.org.id) == [sub]
    assert to_review(w.org.id, trainer=w.member(w.trainer)) == [sub]
    assert to_review(w.org.id, limit=0) == []
    assert count_to_review(w.org.id, w.member(w.trainer)) == 1
    other_trainer = create_cohort(program=w.program, name="Vague 2").organization_id
    assert other_trainer == w.org.id
    review_submission(submission=sub, reviewer=w.member(w.trainer),
                      decision="approved", rubric=RUBRIC_OK)
    assert "exercice-profil" not in {d.module.key for d in due_for(me)}
    assert to_review(w.org.id) == []


def test_a_trainer_sees_only_the_cohorts_they_train(enrolled, create_user):
    w = enrolled
    submit_evidence(enrollment=w.enrollments[0], module=w.module("exercice-profil"),
                    post_url=POST, reflection="ok")
    colleague = create_user("trainer", org=w.org)
    assert to_review(w.org.id, trainer=w.member(colleague)) == []
    assert len(to_review(w.org.id)) == 1
    withdraw(enrollment=w.enrollments[0])
    assert to_review(w.org.id) == [] and count_to_review(w.org.id) == 0


# --- AFEST -------------------------------------------------------------------------------------


def test_afest_tutor_analysis_and_journal(enrolled, create_user):
    w = enrolled
    learner, module = w.enrollments[0], w.module("exercice-premier-post")
    tutor = w.member(create_user("learner", org=w.org, name="Tina Tutrice",
                                 email="tina@example.com"))
    with pytest.raises(ValidationFailed):
        set_tutor(enrollment=learner, module=w.module("exercice-profil"), email=tutor.user.email)
    plan = set_tutor(enrollment=learner, module=module, email=tutor.user.email)
    save_analysis(enrollment=learner, module=module,
                  analysis="Situation : publier un retour d'expérience client.")
    add_journal_entry(enrollment=learner, module=module, kind="work_situation",
                      day=utcnow().date() - timedelta(days=2), duration_minutes=45,
                      notes="Rédaction et publication observées.",
                      recorded_by=tutor.user)
    add_journal_entry(enrollment=learner, module=module, kind="reflective_phase",
                      day=utcnow().date(), duration_minutes=20,
                      notes="Ce qui a marché : l'accroche.",
                      recorded_by=learner.membership.user)
    db.session.commit()
    assert plan.tutor_id == tutor.id and [e.kind for e in plan.entries] == [
        "work_situation", "reflective_phase"]
    assert may_keep_journal(tutor, plan, learner)
    assert not may_keep_journal(w.member(w.learners[1]), plan, learner)
    journal = statements("http://adlnet.gov/expapi/verbs/experienced")
    assert {s["result"]["duration"] for s in journal} == {"PT45M", "PT20M"}
    assert journal[0]["context"]["instructor"]["name"] == "Tina Tutrice"
    assert state(learner, module) == "in_progress"
    with pytest.raises(ValidationFailed) as exc:
        add_journal_entry(enrollment=learner, module=module, kind="coffee",
                          day=utcnow().date() + timedelta(days=5),
                          duration_minutes=2, notes="", recorded_by=tutor.user)
    assert set(exc.value.fields) == {"kind", "day", "duration_minutes", "notes"}
    assert db.session.scalar(select(func.count()).select_from(AfestEntry)) == 2


def test_the_tutor_is_named_by_e_mail_within_the_organization(enrolled, create_user,
                                                               create_org):
    w = enrolled
    learner, module = w.enrollments[0], w.module("exercice-premier-post")
    tina = create_user("learner", org=w.org, name="Tina Tutrice", email="tina@example.com")
    create_user("learner", org=create_org(slug="other"), email="out@example.com")  # elsewhere
    gone = create_user("learner", org=w.org, name="Gaston Parti", email="gone@example.com")
    w.member(gone).active = False
    db.session.commit()
    refused = {"  nobody@example.com ": "nobody@example.com is not a member of the "
                                       "organization.",
               "OUT@example.com": "OUT@example.com is not a member of the organization.",
               "not an address": "not an address is not a member of the organization.",
               "gone@example.com": "Gaston Parti no longer has access to the organization.",
               f" {w.learners[0].email.upper()}": "A learner cannot be their own tutor."}
    for email, message in refused.items():
        with pytest.raises(ValidationFailed) as exc:
            set_tutor(enrollment=learner, module=module, email=email)
        assert {k: str(v) for k, v in exc.value.fields.items()} == {"tutor_email": message}
    # Nothing was written: no record opened by a refused tutor.
    assert db.session.scalar(select(func.count()).select_from(AfestPlan)) == 0
    plan = set_tutor(enrollment=learner, module=module, email="\t Tina@EXAMPLE.com  ")
    assert plan.tutor_id == w.member(tina).id
    assert set_tutor(enrollment=learner, module=module, email="  ").tutor_id is None


def test_the_tutor_field_suggests_a_few_members_not_the_whole_organization(
        enrolled, client, login, create_user):
    w = enrolled
    learner, module = w.enrollments[0], w.module("exercice-premier-post")
    crowd = [create_user("learner", org=w.org, name=f"Crowd {i:02}", password=None)
             for i in range(40)]
    boss = create_user("learner", org=w.org, name="Bea Boss", email="bea@example.com")
    w.member(w.learners[0]).manager = w.member(boss)
    # The tutors already named for other learners are suggested too, the latest eight (the
    # learner themself never is).
    others = [enrol(cohort=w.cohort, membership=w.member(u)) for u in crowd[20:32]]
    for i, other in enumerate(others):
        set_tutor(enrollment=other, module=module, email=crowd[i].email)
    set_tutor(enrollment=w.enrollments[1], module=module, email=w.learners[0].email)
    db.session.commit()
    login(w.trainer)
    page = client.get(f"/o/acme/exercises/afest/{learner.id}/{module.id}").get_data(
        as_text=True)
    assert 'type="email"' in page and 'list="tutor-suggestions"' in page
    suggested = page[page.index('<datalist id="tutor-suggestions">'):]
    suggested = suggested[:suggested.index("</datalist>")]
    assert suggested.count("<option") == 1 + TUTOR_SUGGESTIONS - 1  # the manager, 7 tutors
    assert page.count("<option") == TUTOR_SUGGESTIONS + 2  # and the journal's two kinds
    assert 'value="bea@example.com"' in suggested and "Crowd 11" in suggested
    assert "Crowd 00" not in page and "Crowd 39" not in page
    assert w.learners[0].email not in suggested
    assert len(page) < 40_000


def test_builder_settings_are_validated_and_exported(world):
    module = world.module("exercice-profil")
    with pytest.raises(ValidationFailed) as exc:
        update_settings(module=module, language="fr", instructions="",
                        evidence={"url": "optional"}, due_days=0, afest=False,
                        rubric=[], verification={"network": "myspace"})
    assert set(exc.value.fields) == {"instructions", "evidence", "due_days", "verification"}
    update_settings(
        module=module, language="fr", instructions="Mettez à jour **votre** profil.",
        evidence={"url": "required", "screenshot": "", "reflection": "optional"},
        due_days=10, afest=True, rubric=[("titre", "Titre clair"), ("", "Photo récente"),
                               ("", "")],
        verification={"network": "linkedin", "kinds": ["post", "share"], "count": 1,
                      "own_comment": False, "within_days": None})
    db.session.commit()
    settings = module.exercise
    assert settings["evidence"] == {"url": "required", "reflection": "optional"}
    assert [c["key"] for c in settings["rubric"]] == ["titre", "photo-recente"]
    assert settings["rubric"][0]["label"] == {"fr": "Titre clair",
                                              "en": "The headline says whom the person helps "
                                                    "and how"}
    files = defs.to_files(definition_of(world.program))
    exported = {m.key: m for m in defs.read_files(files).modules}
    assert exported["exercice-profil"].exercise == settings


# --- pages ------------------------------------------------------------------------------------


def test_learner_hands_in_through_the_page_and_the_trainer_reviews(enrolled, client, login):
    w = enrolled
    learner, module = w.enrollments[0], w.module("exercice-profil")
    w.cohort.starts_on = utcnow().date() + timedelta(days=10)
    db.session.commit()
    # Shown in the reader's language, one date format on every page (English here).
    due_on = format_date(w.cohort.starts_on + timedelta(days=14), "medium", locale="en")
    login(w.learners[0])
    url = f"/o/acme/training/{learner.id}/exercises/{module.id}"
    page = client.get(url).get_data(as_text=True)
    assert due_on in page and 'name="reflection"' in page
    program_page = client.get(f"/o/acme/training/{learner.id}").get_data(as_text=True)
    assert url in program_page and f"Due on {due_on}" in program_page
    bad = client.post(url, data={"url": "pas une adresse", "reflection": ""})
    assert bad.status_code == 422 and "https://" in bad.get_data(as_text=True)
    sent = client.post(url, data={"url": POST, "reflection": "Nouveau titre.",
                                  "screenshot": (io.BytesIO(PNG), "capture.png")},
                       content_type="multipart/form-data")
    assert sent.status_code == 302
    sub = db.session.scalar(select(ExerciseSubmission))
    shot = client.get(f"/o/acme/exercises/submissions/{sub.id}/screenshot")
    assert shot.status_code == 200 and shot.mimetype == "image/png"
    assert shot.get_data() == PNG
    shot.close()
    # Another learner neither sees the page nor the screenshot.
    client.post("/logout")
    login(w.learners[1])
    assert client.get(url).status_code == 404
    assert client.get(f"/o/acme/exercises/submissions/{sub.id}/screenshot").status_code == 404
    assert client.get("/o/acme/exercises/review").status_code == 403
    client.post("/logout")
    login(w.trainer)
    queue = client.get("/o/acme/exercises/review").get_data(as_text=True)
    assert "Learner 0" in queue and f"/exercises/submissions/{sub.id}" in queue
    assert "Learner 0" in client.get(
        f"/o/acme/exercises/review?cohort={w.cohort.id}").get_data(as_text=True)
    assert f"/o/acme/exercises/review?cohort={w.cohort.id}" in client.get(
        f"/o/acme/cohorts/{w.cohort.id}").get_data(as_text=True)
    review_url = f"/o/acme/exercises/submissions/{sub.id}"
    assert client.post(review_url, data={"decision": "changes_requested"}).status_code == 422
    done = client.post(review_url, data={"decision": "approved", "comment": "Très bien",
                                         **{f"rubric-{k}": v for k, v in RUBRIC_OK.items()}})
    assert done.status_code == 302
    assert "Nothing to review" in client.get("/o/acme/exercises/review").get_data(as_text=True)
    assert state(learner, module) == "completed"
    client.post("/logout")
    login(w.learners[0])
    assert "Très bien" in client.get(url).get_data(as_text=True)


def test_afest_pages_for_staff_and_tutor(enrolled, client, login, create_user):
    w = enrolled
    learner, module = w.enrollments[0], w.module("exercice-premier-post")
    tutor = create_user("learner", org=w.org, name="Tina Tutrice", email="tina@example.com")
    login(w.trainer)
    assert "Learner 0" in client.get("/o/acme/exercises/afest").get_data(as_text=True)
    url = f"/o/acme/exercises/afest/{learner.id}/{module.id}"
    assert "No tutor named yet." in client.get(url).get_data(as_text=True)
    # An unknown address, or the learner's own: the message next to the field, what was typed
    # kept, nothing written.
    for typed, message in (("nobody@example.com",
                            "nobody@example.com is not a member of the organization."),
                           (w.learners[0].email, "A learner cannot be their own tutor.")):
        response = client.post(url, data={"action": "tutor", "tutor_email": typed})
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        field = page[page.index('<div class="field has-error">'):]
        field = field[:field.index("</div>")]
        assert f'value="{typed}"' in field and 'aria-invalid="true"' in field
        assert f'<p class="error" id="tutor_email-error">{message}</p>' in field
    assert db.session.scalar(select(func.count()).select_from(AfestPlan)) == 0
    response = client.post(url, data={"action": "tutor", "tutor_email": " TINA@Example.com "})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Tina Tutrice" in page and 'value="tina@example.com"' in page
    client.post("/logout")
    login(tutor)
    tutoring = client.get("/o/acme/exercises/afest").get_data(as_text=True)
    assert "Learner 0" in tutoring and "Tutoring" in tutoring  # and the link in the menu
    assert client.post(url, data={"action": "tutor", "tutor_email": ""}).status_code == 403
    response = client.post(url, data={"kind": "work_situation", "day": str(utcnow().date()),
                                      "duration_minutes": "40", "notes": "Observé."})
    assert response.status_code == 302
    client.post("/logout")
    login(w.learners[1])  # neither tutor nor staff
    assert client.get(url).status_code == 404
    client.post("/logout")
    login(w.learners[0])
    page = client.get(f"/o/acme/training/{learner.id}/exercises/{module.id}").get_data(
        as_text=True)
    assert "Observé." in page and "Tina Tutrice" in page
    client.post("/logout")
    login(w.trainer)  # staff may take the tutor off again
    assert client.post(url, data={"action": "tutor", "tutor_email": "  "}).status_code == 302
    assert "No tutor named yet." in client.get(url).get_data(as_text=True)


def test_builder_page_saves_the_settings(world, client, login):
    w = world
    module = w.module("exercice-campagne")
    login(w.trainer)
    edit = client.get(f"/o/acme/programs/{w.program.id}/modules/{module.id}")
    assert "exercise-settings" in edit.get_data(as_text=True)
    url = f"/o/acme/programs/{w.program.id}/modules/{module.id}/exercise"
    assert client.post(url, data={"instructions": ""}).status_code == 422
    response = client.post(url, data={
        "instructions": "Relayez deux contenus.", "evidence_url": "required",
        "due_days": "20", "rubric_key": ["angle", ""], "rubric_label": ["Un angle", ""],
        "verify": "on", "network": "linkedin", "kinds": ["post"], "count": "2",
        "own_comment": "on", "within_days": "14"})
    assert response.status_code == 302
    db.session.expire_all()
    assert module.exercise["due_days"] == 20
    assert module.exercise["verification"]["within_days"] == 14


# --- API ---------------------------------------------------------------------------------------


def test_api_submissions_and_reviews(enrolled, client, api_token):
    w = enrolled
    learner, module = w.enrollments[0], w.module("exercice-profil")
    mine = api_token(w.learners[0])
    base = "/api/v1/orgs/acme"
    response = client.post(f"{base}/exercises/submissions", headers=mine, json={
        "enrollment_id": learner.id, "module_id": module.id, "post_url": POST})
    assert response.status_code == 422
    assert "reflection" in response.get_json()["error"]["fields"]
    response = client.post(f"{base}/exercises/submissions", headers=mine, json={
        "enrollment_id": learner.id, "module_id": module.id, "post_url": POST,
        "reflection": "Titre revu."})
    assert response.status_code == 201
    sub = response.get_json()
    assert sub["status"] == "submitted" and sub["attempt"] == 1
    assert client.get(f"{base}/exercises/submissions", headers=mine).get_json()[
        "items"][0]["id"] == sub["id"]
    # Another learner cannot hand in for them, nor list the queue.
    other = api_token(w.learners[1])
    assert client.post(f"{base}/exercises/submissions", headers=other, json={
        "enrollment_id": learner.id, "module_id": module.id, "reflection": "x"}
    ).status_code == 404
    assert client.get(f"{base}/exercises/reviews", headers=other).status_code == 403
    trainer = api_token(w.trainer)
    queue = client.get(f"{base}/exercises/reviews", headers=trainer).get_json()
    assert [i["id"] for i in queue["items"]] == [sub["id"]] and queue["total"] == 1
    bad = client.post(f"{base}/exercises/submissions/{sub['id']}/reviews", headers=trainer,
                      json={"decision": "approved", "rubric": {"titre": "great"}})
    assert bad.status_code == 422
    done = client.post(f"{base}/exercises/submissions/{sub['id']}/reviews", headers=trainer,
                       json={"decision": "approved", "comment": "OK", "rubric": RUBRIC_OK})
    assert done.status_code == 201 and done.get_json()["decision"] == "approved"
    again = client.post(f"{base}/exercises/submissions/{sub['id']}/reviews", headers=trainer,
                        json={"decision": "approved", "rubric": RUBRIC_OK})
    assert again.status_code == 409
    assert client.get(f"{base}/exercises/submissions", headers=mine).get_json()[
        "items"][0]["status"] == "approved"


# --- demo --------------------------------------------------------------------------------------


def test_the_demo_shows_every_state_of_an_exercise():
    load_demo_once()
    # (The advocacy step may add exercises verified from the demo activity.)
    statuses = [s.status for s in db.session.scalars(select(ExerciseSubmission))
                if s.status != "verified"]
    assert sorted(statuses) == ["approved", "changes_requested", "submitted"]
    [plan] = db.session.scalars(select(AfestPlan))
    assert plan.tutor is not None and plan.analysis
    assert sorted(e.kind for e in plan.entries) == ["reflective_phase", "work_situation"]
    [waiting] = to_review(plan.organization_id)
    assert waiting.enrollment.membership.user.display_name == "Léa Dubois"


# --- concurrency -------------------------------------------------------------------------------


def _race(app, work, n: int = 2) -> tuple[list[object], list[BaseException]]:
    """Run ``work(i)`` in ``n`` threads at once, each with its own session, as several app
    processes would; retried when SQLite reports the database busy."""
    import threading

    from sqlalchemy.exc import OperationalError

    start = threading.Barrier(n)
    results: list[object] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        with app.app_context():
            try:
                start.wait()
                for _attempt in range(30):
                    try:
                        results.append(work(i))
                        db.session.commit()
                        return
                    except OperationalError:
                        db.session.rollback()
            except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_two_reviewers_at_once_give_one_review(app, enrolled, create_user):
    w = enrolled
    admin = create_user("admin", org=w.org)
    sub = submit_evidence(enrollment=w.enrollments[0],
                          module=w.module("exercice-profil"), post_url=POST,
                          reflection="ok")
    db.session.commit()
    reviewers = [w.member(w.trainer).id, membership(admin, w.org).id]
    sub_id = sub.id

    def review(i: int) -> object:
        from lms.accounts.models import Membership

        return review_submission(
            submission=db.session.get(ExerciseSubmission, sub_id),
            reviewer=db.session.get(Membership, reviewers[i]), decision="approved",
            rubric=RUBRIC_OK)

    results, errors = _race(app, review)
    assert len(results) == 1 and [type(e) for e in errors] == [Conflict]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ExerciseReview)) == 1
    assert state(w.enrollments[0], w.module("exercice-profil")) == "completed"


def test_two_verifications_at_once_give_one_verified_exercise(app, enrolled):
    w = enrolled
    enrollment_id, module_id = w.enrollments[1].id, w.module("exercice-campagne").id

    def verify(i: int) -> object:
        from lms.courses.cohorts.models import Enrollment
        from lms.courses.programs.models import Module

        return verify_exercise(db.session.get(Enrollment, enrollment_id),
                               db.session.get(Module, module_id),
                               evidence={"events": [i]}).id

    results, errors = _race(app, verify)
    assert not errors, errors
    db.session.expire_all()
    assert [s.status for s in db.session.scalars(select(ExerciseSubmission))] == ["verified"]
    assert len(statements("http://activitystrea.ms/schema/1.0/confirm")) == 1
