"""Results for the learner, the team skill map for trainers and HR, level validation, and
questionnaire management (copy, edit, reorder, delete, import, export)."""

from __future__ import annotations

import csv
import io

import pytest
from markupsafe import escape
from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessments import services
from lms.assessments.models import LevelValidation, Question, Questionnaire
from lms.extensions import db


def _member(user):
    return user.memberships[0]


@pytest.fixture()
def org(create_org, content):
    return create_org(slug="lumiere")


def test_results_show_levels_targets_gaps_and_what_to_do_next(client, login, create_user, org,
                                                              take):
    # Sales targets: C4 4, C5 4 … This learner is at 2 in C4, claims 3 in C3 but misjudges.
    user = create_user(Role.LEARNER, org=org, job_family="sales")
    attempt = take(user, {"C1": 3, "C2": 2, "C3": 2, "C4": 2, "C5": 3, "C6": 3, "C7": 3,
                          "C8": 2}, overclaim={"C3"})
    login(user)
    page = client.get(f"/o/{org.slug}/skills/attempts/{attempt.id}/results")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # The radar is inline SVG with a text alternative, and the same data as a table.
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'role="img"' in html
    assert "C4: level 2, target 4" in html
    assert "<caption>Levels by competency (0 to 5)</caption>" in html
    # Declared apart, never mixed in.
    assert "Declared: 3" in html
    # Gaps in plain words, the widest first, with the next level's descriptor and advice.
    assert "Level 2, target 4: 2 levels to go." in html
    assert html.index("Network building and audience targeting") < html.index(
        "Conversation and relationship building")
    assert "I look for the people I need with search filters" in html
    # The rule is shown to the learner.
    assert "We start at level 3." in html
    # Feedback on the situations answered.
    assert "Not the best answer" in html


def test_retakes_show_progress_over_time(client, login, create_user, org, take):
    user = create_user(Role.LEARNER, org=org, job_family="hr")
    take(user, {"C1": 1, "C2": 1}, days_ago=60)
    take(user, {"C1": 3, "C2": 1})
    login(user)
    html = client.get(f"/o/{org.slug}/skills/").get_data(as_text=True)
    assert "Progress over time" in html
    assert "up from 1" in html
    assert "Since the first attempt: 1 competencies up, 0 down." in html
    assert "Retake it" in html


def test_levels_four_and_five_wait_for_a_trainer(client, login, create_user, org, take):
    learner = create_user(Role.LEARNER, org=org, job_family="marketing")
    take(learner, {"C1": 4})
    trainer = create_user(Role.TRAINER, org=org)
    login(learner)
    html = client.get(f"/o/{org.slug}/skills/").get_data(as_text=True)
    assert "Level 4 measured, awaiting a trainer's validation" in html
    client.post("/logout")
    login(trainer)
    member = _member(learner)
    response = client.post(f"/o/{org.slug}/skills/learners/{member.id}/validate",
                           data={"competency": "C1", "level": "4", "note": "Seen in workshop"})
    assert response.status_code == 302
    validation = db.session.scalar(select(LevelValidation))
    assert (validation.competency, validation.level, validation.validated_by_id) == (
        "C1", 4, trainer.id)
    html = client.get(f"/o/{org.slug}/skills/learners/{member.id}").get_data(as_text=True)
    assert "Level 4 validated by a trainer" in html
    # Level 3 is not for trainers to validate; nothing is written.
    client.post(f"/o/{org.slug}/skills/learners/{member.id}/validate",
                data={"competency": "C1", "level": "3"})
    assert db.session.scalar(select(db.func.count()).select_from(LevelValidation)) == 1


def test_hr_reads_the_map_but_cannot_validate(client, login, create_user, org):
    learner = create_user(Role.LEARNER, org=org)
    login(create_user(Role.HR, org=org))
    assert client.get(f"/o/{org.slug}/skills/learners/{_member(learner).id}").status_code == 200
    assert client.post(f"/o/{org.slug}/skills/learners/{_member(learner).id}/validate",
                       data={"competency": "C1", "level": "4"}).status_code == 403
    assert client.get(f"/o/{org.slug}/skills/questionnaires").status_code == 403


@pytest.fixture()
def team(create_user, org, take):
    a = create_user(Role.LEARNER, org=org, name="Alice Ventes", team="Ventes", job_family="sales")
    b = create_user(Role.LEARNER, org=org, name="Bruno Marketing", team="Marketing",
                    job_family="marketing")
    c = create_user(Role.LEARNER, org=org, name="=Chloé Pas-Encore", team="Ventes",
                    job_family="sales")
    take(a, {"C1": 3, "C4": 2})
    take(b, {"C1": 1, "C2": 3})
    return a, b, c


def test_team_map_heat_map_filters_and_who_has_not_answered(client, login, create_user, org,
                                                            team):
    login(create_user(Role.TRAINER, org=org))
    html = client.get(f"/o/{org.slug}/skills/map").get_data(as_text=True)
    assert "Alice Ventes" in html and "Bruno Marketing" in html
    # Colour and text together, and the gap to target said in words for screen readers.
    assert 'class="cell lvl-3"' in html and "(target 3)" in html
    assert "Not answered yet (1)" in html and "=Chloé Pas-Encore" in html
    # Organization average against targets: C1 (3 + 1) / 2.
    assert "<th scope=\"row\">Average</th><td></td><td>2.0</td>" in html
    filtered = client.get(f"/o/{org.slug}/skills/map?team=Ventes").get_data(as_text=True)
    assert "Alice Ventes" in filtered and "Bruno Marketing" not in filtered
    filtered = client.get(f"/o/{org.slug}/skills/map?job_family=marketing").get_data(
        as_text=True)
    assert "Bruno Marketing" in filtered and "Alice Ventes" not in filtered
    assert "Not answered yet (0)" in filtered


def test_team_map_csv(client, login, create_user, org, team):
    login(create_user(Role.HR, org=org))
    response = client.get(f"/o/{org.slug}/skills/map.csv?team=Ventes")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["'=Chloé Pas-Encore", "Alice Ventes"]
    alice = rows[1]
    assert (alice["C1"], alice["C4"], alice["C4_target"], alice["job_family"]) == (
        "3", "2", "4", "sales")
    assert rows[0]["C1"] == ""  # not answered: empty, not zero


def test_a_learner_cannot_see_the_team_map(client, login, create_user, org):
    login(create_user(Role.LEARNER, org=org))
    assert client.get(f"/o/{org.slug}/skills/map").status_code == 403
    assert client.get(f"/o/{org.slug}/skills/map.csv").status_code == 403


def test_another_organization_gets_404(client, login, create_user, create_org, org, team):
    outsider = create_user(Role.TRAINER, org=create_org())
    login(outsider)
    for url in ("/skills/", "/skills/map", "/skills/map.csv",
                f"/skills/learners/{_member(team[0]).id}"):
        assert client.get(f"/o/{org.slug}{url}").status_code == 404
    # Its own map lists none of them.
    html = client.get(f"/o/{outsider.memberships[0].organization.slug}/skills/map").get_data(
        as_text=True)
    assert "Alice Ventes" not in html


def test_nav_links_by_role(client, login, create_user, org):
    login(create_user(Role.LEARNER, org=org))
    html = client.get(f"/o/{org.slug}/").get_data(as_text=True)
    assert "My skills" in html and "Skill map" not in html
    client.post("/logout")
    login(create_user(Role.HR, org=org))
    assert "Skill map" in client.get(f"/o/{org.slug}/").get_data(as_text=True)


# --- managing questionnaires ---------------------------------------------------------------

def test_copy_edit_reorder_delete_and_publish(client, login, create_user, org, questionnaire):
    login(create_user(Role.TRAINER, org=org))
    base = f"/o/{org.slug}/skills/questionnaires"
    assert client.get(base).status_code == 200
    response = client.post(f"{base}/{questionnaire.id}/copy")
    copy = db.session.scalar(select(Questionnaire).where(Questionnaire.organization_id == org.id))
    assert response.headers["Location"].endswith(f"{base}/{copy.id}/edit")
    assert copy.title["en"].endswith("(copy)") and not copy.published
    assert len(copy.questions) == len(questionnaire.questions)
    # Built-in questionnaires are read-only.
    assert client.get(f"{base}/{questionnaire.id}/edit").status_code == 404

    first = copy.questions[0]
    response = client.post(f"{base}/{copy.id}/questions/{first.id}", data={
        "text_en": "I can describe my job in one sentence.", "text_fr": ""})
    assert response.status_code == 302
    db.session.refresh(first)
    assert first.text == {"en": "I can describe my job in one sentence."}
    judgement = next(x for x in copy.questions if x.options)
    form = {"text_en": "New situation", "text_fr": "Nouvelle situation",
            "feedback_en": "Because.", "feedback_fr": ""}
    form.update({f"option_{o['key']}_en": f"Option {o['key']}" for o in judgement.options})
    assert client.post(f"{base}/{copy.id}/questions/{judgement.id}", data=form).status_code == 302
    db.session.refresh(judgement)
    assert [o["text"] for o in judgement.options] == [{"en": f"Option {k}"} for k in "abc"]
    assert [o["correct"] for o in judgement.options].count(True) == 1  # the key stays
    # An empty text is refused with a message.
    assert client.post(f"{base}/{copy.id}/questions/{first.id}",
                       data={"text_en": " ", "text_fr": ""}).status_code == 422

    client.post(f"{base}/{copy.id}/questions/{first.id}/move", data={"direction": "down"})
    db.session.expire_all()
    keys = [x.key for x in db.session.get(Questionnaire, copy.id).questions]
    assert keys[:2] == ["c1-l1-sjt", "c1-l1-can"]

    # Deleting asks first (a page), then deletes on POST.
    page = client.get(f"{base}/{copy.id}/questions/{first.id}/delete")
    assert "Delete this question?" in page.get_data(as_text=True)
    assert db.session.get(Question, first.id) is not None
    client.post(f"{base}/{copy.id}/questions/{first.id}/delete")
    db.session.expire_all()
    assert db.session.get(Question, first.id) is None

    # Publishing makes the copy what learners take.
    client.post(f"{base}/{copy.id}/edit", data={"title_en": "Our skills", "title_fr": "",
                                                 "published": "on"})
    db.session.expire_all()
    from lms.assessments import queries
    assert [q.id for q in queries.offered_questionnaires(org.id)] == [copy.id]


def test_export_and_import_round_trip(client, login, create_user, org, questionnaire):
    login(create_user(Role.TRAINER, org=org))
    base = f"/o/{org.slug}/skills/questionnaires"
    exported = client.get(f"{base}/{questionnaire.id}/export.yaml")
    assert exported.status_code == 200
    text = exported.get_data(as_text=True)
    response = client.post(f"{base}/import", data={
        "file": (io.BytesIO(text.encode()), "social-media-skills.yaml")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    mine = db.session.scalar(select(Questionnaire).where(Questionnaire.organization_id == org.id))
    again = client.get(f"{base}/{mine.id}/export.yaml").get_data(as_text=True)
    assert again == text
    # Importing the same key again updates in place.
    client.post(f"{base}/import", data={"file": (io.BytesIO(text.replace(
        "Social media skills: where do you stand?", "Where do you stand?").encode()), "x.yaml")},
        content_type="multipart/form-data")
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(Questionnaire).where(
        Questionnaire.organization_id == org.id)) == 1
    assert db.session.get(Questionnaire, mine.id).title["en"] == "Where do you stand?"


def test_import_errors_are_shown_with_their_lines(client, login, create_user, org, content):
    login(create_user(Role.TRAINER, org=org))
    bad = "format_version: 1\nkey: bad\ntitle: {en: Bad}\nquestions:\n  - key: q\n" \
          "    type: can_do\n    competency: C1\n    level: 9\n    text: {en: x}\n"
    response = client.post(f"/o/{org.slug}/skills/questionnaires/import",
                           data={"file": (io.BytesIO(bad.encode()), "bad.yaml")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "line 8: level must be an integer from 1 to 5" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Questionnaire).where(
        Questionnaire.organization_id == org.id)) == 0


def test_csrf_protects_the_skill_forms(app, client, login, create_user, org, questionnaire):
    login(create_user(Role.LEARNER, org=org))
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/o/{org.slug}/skills/start/{questionnaire.id}").status_code == 400


def test_trainers_and_hr_read_a_learners_results_but_not_a_draft(client, login, create_user,
                                                                 org, take, questionnaire):
    learner = create_user(Role.LEARNER, org=org, name="Dora Résultats")
    attempt = take(learner, {"C1": 2})
    draft, _ = services.start_attempt(membership=_member(learner), questionnaire=questionnaire)
    db.session.commit()
    login(create_user(Role.HR, org=org))
    page = client.get(f"/o/{org.slug}/skills/attempts/{attempt.id}/results")
    assert page.status_code == 200 and "Dora Résultats" in page.get_data(as_text=True)
    assert client.get(f"/o/{org.slug}/skills/attempts/{draft.id}/results").status_code == 404
    assert client.get(f"/o/{org.slug}/skills/attempts/{draft.id}").status_code == 404


def test_the_map_is_paged_but_averages_cover_everyone(monkeypatch, client, login, create_user,
                                                      org, team):
    from lms.assessments import views

    monkeypatch.setattr(views, "MAP_PAGE_SIZE", 1)
    login(create_user(Role.TRAINER, org=org))
    first = client.get(f"/o/{org.slug}/skills/map").get_data(as_text=True)
    second = client.get(f"/o/{org.slug}/skills/map?page=2").get_data(as_text=True)
    assert "Alice Ventes" in first and "Bruno Marketing" not in first
    assert "Bruno Marketing" in second and "Page 2 of 2" in second
    for html in (first, second):
        assert "<th scope=\"row\">Average</th><td></td><td>2.0</td>" in html
    # A page beyond the end shows the last one.
    assert "Bruno Marketing" in client.get(f"/o/{org.slug}/skills/map?page=9").get_data(
        as_text=True)


def test_deleting_an_organization_removes_its_skill_data(create_user, org, questionnaire,
                                                         answer_as):
    from lms.assessments import queries
    from lms.assessments.models import Attempt

    copy = services.copy_questionnaire(questionnaire=questionnaire, organization=org)
    copy.published = True
    learner = create_user(Role.LEARNER, org=org)
    attempt, _ = services.start_attempt(membership=_member(learner), questionnaire=copy)
    answer_as(attempt, {"C1": 4})
    services.submit_attempt(attempt=attempt)
    services.validate_level(membership=_member(learner), competency="C1", level=4,
                            by=create_user(Role.TRAINER, org=org))
    db.session.commit()
    db.session.delete(org)
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(Attempt)) == 0
    assert db.session.scalar(select(db.func.count()).select_from(LevelValidation)) == 0
    assert [q.key for q in queries.builtin_questionnaires()] == ["social-media-skills"]


def test_the_map_follows_retakes_and_validations(create_user, org, take):
    from lms.assessments import queries

    learner = create_user(Role.LEARNER, org=org, job_family="sales")
    take(learner, {"C1": 1, "C2": 5})
    [row] = queries.team_map(org.id)
    assert (row.levels["C1"], row.levels["C2"]) == (1, 3)
    assert [c.pending for c in row.cells if c.code == "C2"] == [5]
    take(learner, {"C1": 3, "C2": 5})
    services.validate_level(membership=_member(learner), competency="C2", level=5,
                            by=create_user(Role.TRAINER, org=org))
    db.session.commit()
    [row] = queries.team_map(org.id)
    assert (row.levels["C1"], row.levels["C2"]) == (3, 5)
    assert [c.pending for c in row.cells if c.code == "C2"] == [None]
    page = queries.map_page(org.id)
    assert page.answered == 1 and page.averages["C2"] == 5
    assert page.average_targets["C4"] == 4  # the sales target


def test_results_name_each_competency_and_show_the_learners_own_answer(client, login,
                                                                      create_user, org, take):
    user = create_user(Role.LEARNER, org=org, job_family="sales")
    # Level 0 in C8 (measured: a wrong answer at each level), 2 in C4.
    attempt = take(user, {"C1": 3, "C2": 2, "C3": 2, "C4": 2, "C5": 3, "C6": 3, "C7": 3,
                          "C8": 0})
    login(user)
    html = client.get(f"/o/{org.slug}/skills/attempts/{attempt.id}/results").get_data(
        as_text=True)
    radar = html[html.index('<svg xmlns="http://www.w3.org/2000/svg"'):html.index("</svg>")]
    # The radar is labelled with names (wrapped on lines), 400 px of drawing and room for them.
    assert 'viewBox="0 0 660 460"' in radar
    assert ">Network building and<" in radar or ">Network building<" in radar
    assert ">C4<" not in radar
    # A measured 0 is a level, not "not assessed"; each level is a bar against the target.
    assert "Level 0: not yet level 1" in html and "Not assessed" not in html
    assert 'aria-label="Level 2 of 5, target 4"' in html
    # The learner's own answer beside the best one, with words and an icon, not colour alone.
    wrong = html[html.index('class="feedback wrong"'):]
    wrong = wrong[:wrong.index("</dl>")]
    assert "Your answer" in wrong and "✗" in wrong and "Not the best answer" in wrong
    assert "The best answer" in wrong
    question = next(q for q in attempt.questionnaire.questions
                    if q.key in attempt.answers and q.options and q.competency == "C8")
    chosen = attempt.answers[question.key]
    chosen = {chosen} if isinstance(chosen, str) else set(chosen)
    mine = str(escape(next(o for o in question.options if o["key"] in chosen)["text"]["en"]))
    best = str(escape(next(o for o in question.options if o.get("correct"))["text"]["en"]))
    block = html[html.index(f'<span class="answer">{mine}</span>'):]
    assert block.index("The best answer") < block.index(f'<span class="answer">{best}</span>')
    # Details folded: the situations, the rule.
    assert '<details class="card feedback-box">' in html
