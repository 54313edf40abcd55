"""The program builder's quiz editor and deletions, through HTTP: what a trainer types, what the
learner then sees, what a deletion says it loses, and that exports still round-trip."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.courses.cohorts.models import ModuleProgress
from lms.courses.cohorts.queries import progress_by_module
from lms.courses.elearning.models import LessonView, QuizAttempt
from lms.courses.elearning.services import submit_quiz, view_lesson
from lms.courses.exercises.models import ExerciseSubmission
from lms.courses.exercises.services import submit_evidence
from lms.courses.programs import definitions as defs
from lms.courses.programs.models import Module, Program, Quiz, QuizQuestion
from lms.courses.programs.services import (
    add_lesson,
    add_module,
    create_blank_program,
    definition_of,
    import_program,
    update_module,
)
from lms.courses.sessions.models import TrainingSession
from lms.courses.sessions.services import schedule_session
from lms.extensions import db

from .conftest import at


def _question(text_fr: str, options: list[tuple[str, bool]], *, multiple: bool = False,
              text_en: str = "", action: str = "save", **extra: str) -> dict[str, str]:
    data = {"text-fr": text_fr, "text-en": text_en, "feedback-fr": "", "feedback-en": "",
            "answers": "multiple" if multiple else "single", "option-count": str(len(options)),
            "action": action}
    for n, (text, correct) in enumerate(options, 1):
        data[f"option-{n}-text-fr"] = text
        data[f"option-{n}-text-en"] = ""
        if correct:
            data[f"option-{n}-correct"] = "on"
    data.update(extra)
    return data


def _profil(w) -> Module:
    return w.module("profil")


def test_trainer_builds_a_quiz_the_learner_then_takes(enrolled, client, login):
    w = enrolled
    module = _profil(w)
    login(w.trainer)
    page = client.get(f"/o/acme/programs/{w.program.id}").get_data(as_text=True)
    assert f"/programs/{w.program.id}/modules/{module.id}/quizzes/new" in page
    url = f"/o/acme/programs/{w.program.id}/modules/{module.id}/quizzes/new"
    assert client.get(url).status_code == 200
    response = client.post(url, data={
        "title-fr": "Vérifier ses acquis", "title-en": "Check what you learnt", "pass_mark": "50",
        **_question("Que met-on dans le titre ?", [("Son poste et sa valeur", True),
                                                   ("Son numéro de téléphone", False), ("", False)],
                    text_en="What goes in the headline?",
                    **{"option-1-feedback-fr": "Oui : c'est ce qu'on lit en premier.",
                       "feedback-fr": "Le titre suit votre nom partout."})})
    assert response.status_code == 302
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == module.id,
                                                Quiz.key == "quiz-2"))
    assert quiz is not None and quiz.pass_mark == 50
    assert quiz.title == {"fr": "Vérifier ses acquis", "en": "Check what you learnt"}
    (first,) = quiz.questions
    assert first.text == {"fr": "Que met-on dans le titre ?", "en": "What goes in the headline?"}
    assert first.feedback == {"fr": "Le titre suit votre nom partout."}
    assert [(o["key"], o["correct"]) for o in first.options] == [("a", True), ("b", False)]
    assert first.options[0]["feedback"] == {"fr": "Oui : c'est ce qu'on lit en premier."}

    # A multiple-answer question, then reorder and edit it.
    response = client.post(f"/o/acme/programs/{w.program.id}/quizzes/{quiz.id}/questions/new",
                           data=_question("Quels éléments rassurent ?",
                                          [("Une photo récente", True), ("Un résumé clair", True),
                                           ("Un profil vide", False)], multiple=True))
    assert response.status_code == 302
    db.session.expire_all()
    second = quiz.questions[1]
    assert second.multiple and second.key == "q2"
    client.post(f"/o/acme/programs/{w.program.id}/questions/{second.id}/move",
                data={"direction": "up"})
    db.session.expire_all()
    assert [q.key for q in quiz.questions] == ["q2", "q1"]
    page = client.get(f"/o/acme/programs/{w.program.id}/quizzes/{quiz.id}").get_data(
        as_text=True)
    assert "Quels éléments rassurent ?" in page and "No text yet in: English" in page
    edit = f"/o/acme/programs/{w.program.id}/questions/{first.id}"
    page = client.get(edit).get_data(as_text=True)
    assert "Son poste et sa valeur" in page and 'name="option-3-text-fr"' in page  # a spare row
    response = client.post(edit, data=_question(
        "Que met-on dans le titre ?", [("Son numéro de téléphone", False),
                                       ("Son poste et la valeur apportée", True)],
        **{"option-1-key": "b", "option-2-key": "a"}))
    assert response.status_code == 302
    db.session.expire_all()
    # Existing options keep their keys (past answers name them) in their new order.
    assert [(o["key"], o["correct"]) for o in first.options] == [("b", False), ("a", True)]
    assert "feedback" not in first.options[1]  # cleared fields are dropped
    client.post("/logout")

    # The learner sees the new quiz, with check boxes for the multiple-answer question.
    login(w.learners[0])
    e = w.enrollments[0]
    page = client.get(f"/o/acme/training/{e.id}/quizzes/{quiz.id}").get_data(as_text=True)
    assert "Quels éléments rassurent ?" in page and 'type="checkbox" name="q-q2"' in page
    response = client.post(f"/o/acme/training/{e.id}/quizzes/{quiz.id}",
                           data={"q-q2": ["a", "b"], "q-q1": "a"})
    assert response.status_code == 200
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id))
    assert attempt.score == 100 and attempt.passed


def test_question_validation_messages(world, client, login):
    w = world
    quiz = _profil(w).quizzes[0]
    login(w.trainer)
    url = f"/o/acme/programs/{w.program.id}/quizzes/{quiz.id}/questions/new"
    cases = [
        (_question("Une seule option ?", [("Oui", True)]), "at least two options"),
        (_question("Aucune bonne réponse ?", [("Oui", False), ("Non", False)]),
         "Mark at least one option as correct"),
        (_question("Deux bonnes réponses ?", [("Oui", True), ("Non", True)]),
         "exactly one correct option"),
        (_question("Plusieurs ?", [("Oui", True), ("Non", False)], multiple=True),
         "at least two correct options"),
        (_question("", [("Oui", True), ("Non", False)], text_en="Only English?"),
         "Write the question in the program&#39;s language (fr)"),
        (_question("Doublon ?", [("Oui", True), ("oui", False)]), "same text"),
        ({**_question("Option sans texte ?", [("Oui", True), ("", False)]),
          "option-2-text-en": "English only"}, "Option 2 needs a text"),
    ]
    before = len(quiz.questions)
    for data, message in cases:
        response = client.post(url, data=data)
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True), message
    db.session.expire_all()
    assert len(quiz.questions) == before
    # Pass mark and title of the quiz itself.
    response = client.post(f"/o/acme/programs/{w.program.id}/quizzes/{quiz.id}",
                           data={"title-fr": "", "title-en": "x", "pass_mark": "120"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "percentage from 0 to 100" in page and "Give the quiz a title" in page
    response = client.post(f"/o/acme/programs/{w.program.id}/quizzes/{quiz.id}",
                           data={"title-fr": "Quiz du profil", "title-en": "", "pass_mark": "70"})
    assert response.status_code == 302
    db.session.expire_all()
    assert quiz.title == {"fr": "Quiz du profil"} and quiz.pass_mark == 70
    # A quiz always keeps one question, and only e-learning modules take quizzes.
    lancement = w.module("lancement")
    assert client.get(f"/o/acme/programs/{w.program.id}/modules/{lancement.id}/quizzes/new"
                      ).status_code == 404


def test_option_buttons_rearrange_without_saving(world, client, login):
    w = world
    question = _profil(w).quizzes[0].questions[0]
    saved = [dict(o) for o in question.options]
    login(w.trainer)
    url = f"/o/acme/programs/{w.program.id}/questions/{question.id}"
    rows = [("Premier", False), ("Deuxième", True), ("Troisième", False)]
    page = client.post(url, data=_question("Q ?", rows, action="up-2")).get_data(as_text=True)
    assert page.index('value="Deuxième"') < page.index('value="Premier"')
    page = client.post(url, data=_question("Q ?", rows, action="remove-1")).get_data(as_text=True)
    assert 'value="Premier"' not in page and 'value="Troisième"' in page
    page = client.post(url, data=_question("Q ?", rows, action="add-option")
                       ).get_data(as_text=True)
    assert 'name="option-4-text-fr"' in page
    db.session.expire_all()
    assert question.options == saved


def test_quiz_edits_keep_the_export_round_trip_exact(world, client, login, create_org):
    w = world
    module = _profil(w)
    login(w.trainer)
    client.post(f"/o/acme/programs/{w.program.id}/modules/{module.id}/quizzes/new", data={
        "title-fr": "Bilan", "title-en": "", "pass_mark": "60",
        **_question("Qui voit votre profil ?", [("Vos clients", True), ("Personne", False)],
                    text_en="Who sees your profile?",
                    **{"option-1-feedback-en": "Yes, and recruiters too."})})
    question = module.quizzes[0].questions[1]
    client.post(f"/o/acme/programs/{w.program.id}/questions/{question.id}/move",
                data={"direction": "up"})
    exported = client.get(f"/o/acme/programs/{w.program.id}/export.zip").data
    definition = defs.read_zip(exported)
    assert [q.key for q in definition.modules[1].quizzes[0].questions][:2] == [question.key,
                                                                                "titre"]
    assert "Yes, and recruiters too." in defs.to_files(definition)["program.yaml"].decode()
    # Imported elsewhere and exported again: the same bytes.
    imported = import_program(organization=create_org(), data=exported)
    db.session.commit()
    assert defs.to_zip(definition_of(imported)) == exported


def test_deleting_a_module_says_what_is_lost_and_drops_prerequisites(enrolled, client, login):
    w = enrolled
    veille = w.module("veille-et-ecriture")
    lesson = veille.lessons[0]
    for e in w.enrollments[:2]:
        view_lesson(enrollment=e, lesson=lesson)
    db.session.commit()
    dependent = w.module("exercice-premier-post")
    assert dependent.prerequisites == ["veille-et-ecriture"]
    login(w.trainer)
    url = f"/o/acme/programs/{w.program.id}/modules/{veille.id}/delete"
    assert f'href="{url}"' in client.get(f"/o/acme/programs/{w.program.id}").get_data(
        as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert "2 learners have progress in this module" in page
    assert "2 records of learners reading them" in page
    assert "Premier post" in page or "first post" in page.lower()  # the dependent module
    count = len(w.program.modules)
    assert client.post(url).status_code == 302
    db.session.expire_all()
    program = db.session.get(Program, w.program.id)
    assert len(program.modules) == count - 1
    assert [m.position for m in program.modules] == list(range(1, count))
    assert db.session.get(Module, dependent.id).prerequisites == []
    assert db.session.scalar(select(func.count()).select_from(LessonView)) == 0
    assert db.session.scalar(select(func.count()).select_from(ModuleProgress).where(
        ModuleProgress.module_id == veille.id)) == 0
    # The program still exports and imports.
    defs.read_zip(client.get(f"/o/acme/programs/{w.program.id}/export.zip").data)


def test_deleting_an_exercise_says_how_many_hand_ins_go(enrolled, client, login):
    w = enrolled
    module = w.module("exercice-profil")
    for e in w.enrollments[:3]:
        submit_evidence(enrollment=e, module=module,
                        post_url="https://www.linkedin.com/in/someone",
                        reflection="Titre et résumé revus.")
    db.session.commit()
    login(w.trainer)
    url = f"/o/acme/programs/{w.program.id}/modules/{module.id}/delete"
    assert "3 exercise hand-ins and their reviews" in client.get(url).get_data(as_text=True)
    assert client.post(url).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ExerciseSubmission)) == 0


def test_deleting_a_module_with_sessions_and_the_last_module(world, client, login,
                                                             create_org):
    w = world
    lancement = w.module("lancement")
    schedule_session(cohort=w.cohort, module=lancement, starts_at=at(2, 9),
                     ends_at=at(2, 12), place="Salle A")
    blank = create_blank_program(organization=w.org, title="Brouillon", language="fr")
    db.session.commit()
    login(w.trainer)
    page = client.get(f"/o/acme/programs/{w.program.id}/modules/{lancement.id}/delete"
                      ).get_data(as_text=True)
    assert "0 learners have progress" in page and "1 scheduled session" in page
    client.post(f"/o/acme/programs/{w.program.id}/modules/{lancement.id}/delete")
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 0
    only = blank.modules[0]
    url = f"/o/acme/programs/{blank.id}/modules/{only.id}/delete"
    assert "keeps at least one module" in client.get(url).get_data(as_text=True)
    client.post(url)
    db.session.expire_all()
    assert db.session.get(Module, only.id) is not None
    # Other organizations' modules are out of reach.
    assert client.get(f"/o/acme/programs/{w.program.id}/modules/{only.id}/delete"
                      ).status_code == 404


def test_deleting_a_lesson_rederives_progress(enrolled, client, login):
    w = enrolled
    module = add_module(program=w.program, kind="elearning", title="Bonus")
    add_lesson(module=module, title="Deuxième leçon")
    db.session.commit()
    first, second = module.lessons
    e = w.enrollments[0]
    view_lesson(enrollment=e, lesson=first)
    db.session.commit()
    assert progress_by_module(e.id)[module.id].state == "in_progress"
    login(w.trainer)
    url = f"/o/acme/programs/{w.program.id}/lessons/{second.id}/delete"
    page = client.get(url).get_data(as_text=True)
    assert "0 learners have read this lesson" in page
    assert client.post(url).status_code == 302
    db.session.expire_all()
    progress = db.session.scalar(select(ModuleProgress).where(
        ModuleProgress.enrollment_id == e.id, ModuleProgress.module_id == module.id))
    assert progress.state == "completed"  # they had read every lesson that remains
    # The module's only lesson cannot go while reading lessons completes it.
    page = client.get(f"/o/acme/programs/{w.program.id}/lessons/{first.id}/delete"
                      ).get_data(as_text=True)
    assert "only lesson" in page
    client.post(f"/o/acme/programs/{w.program.id}/lessons/{first.id}/delete")
    assert db.session.get(type(first), first.id) is not None


def test_deleting_quizzes_and_questions(enrolled, client, login):
    w = enrolled
    module = _profil(w)
    quiz = module.quizzes[0]
    e = w.enrollments[0]
    submit_quiz(enrollment=e, quiz=quiz, answers={
        q.key: [next(o["key"] for o in q.options if o.get("correct"))] for q in quiz.questions})
    db.session.commit()
    login(w.trainer)
    url = f"/o/acme/programs/{w.program.id}/quizzes/{quiz.id}/delete"
    assert "only quiz" in client.get(url).get_data(as_text=True)
    client.post(url)
    assert db.session.get(Quiz, quiz.id) is not None
    # Once the module no longer needs it, the quiz goes, with its attempts.
    update_module(module=module, language="fr", title="Profil", description="",
                  required=True, duration_minutes=30, competencies=["C1"],
                  completion={"type": "lessons_viewed"})
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "1 learner took this quiz; their attempts (1) will be erased" in page
    assert client.post(url).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 0
    # Questions: the last one of a quiz stays.
    other = w.module("veille-et-ecriture").quizzes[0]
    keys = [q.key for q in other.questions]
    target = other.questions[0]
    client.post(f"/o/acme/programs/{w.program.id}/questions/{target.id}/delete")
    db.session.expire_all()
    assert [q.key for q in other.questions] == keys[1:]
    assert [q.position for q in other.questions] == list(range(1, len(keys)))
    for q in list(other.questions)[:-1]:
        client.post(f"/o/acme/programs/{w.program.id}/questions/{q.id}/delete")
    db.session.expire_all()
    (last,) = other.questions
    page = client.get(f"/o/acme/programs/{w.program.id}/questions/{last.id}/delete"
                      ).get_data(as_text=True)
    assert "delete the quiz instead" in page
    client.post(f"/o/acme/programs/{w.program.id}/questions/{last.id}/delete")
    assert db.session.get(QuizQuestion, last.id) is not None


def test_learners_and_strangers_cannot_edit(world, client, login, create_user, create_org):
    w = world
    quiz = _profil(w).quizzes[0]
    login(w.learners[0])
    for url in (f"/o/acme/programs/{w.program.id}/quizzes/{quiz.id}",
                f"/o/acme/programs/{w.program.id}/modules/{quiz.module_id}/delete"):
        assert client.get(url).status_code == 403
    client.post("/logout")
    create_org(slug="other")
    stranger = create_user("trainer", org=db.session.scalar(
        select(type(w.org)).where(type(w.org).slug == "other")))
    login(stranger)
    assert client.get(f"/o/other/programs/{w.program.id}/quizzes/{quiz.id}").status_code == 404
    assert client.post(f"/o/other/programs/{w.program.id}/modules/{quiz.module_id}/delete"
                       ).status_code == 404
    assert db.session.get(Module, quiz.module_id) is not None
