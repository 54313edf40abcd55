"""Framework editing through the pages: copy the built-in framework, edit texts and targets,
see the new targets on results and the skill map, export and import it as YAML."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.assessments import services
from lms.assessments.models import Competency, SkillFramework
from lms.extensions import db


@pytest.fixture()
def org(create_org, content):
    return create_org(slug="lumiere")


def _copy(client, org, builtin):
    response = client.post(f"/o/{org.slug}/skills/frameworks/{builtin.id}/copy")
    assert response.status_code == 302
    return db.session.scalar(select(SkillFramework).where(
        SkillFramework.organization_id == org.id))


def _form_of(fw, **changes):
    """Every field of the edit form as stored, with ``changes`` applied."""
    data = {}
    for c in fw.competencies:
        for lang in ("en", "fr"):
            data[f"{c.code}_name_{lang}"] = c.name.get(lang, "")
            data[f"{c.code}_description_{lang}"] = c.description.get(lang, "")
            for lvl in range(1, 6):
                data[f"{c.code}_level_{lvl}_{lang}"] = c.levels[str(lvl)].get(lang, "")
    for t in fw.targets:
        for c in fw.competencies:
            data[f"target_{t.job_family}_{c.code}"] = str(t.levels.get(c.code, 0))
    data.update(changes)
    return data


def test_copy_edit_a_name_and_a_target_shows_on_results_and_skill_map(
        client, login, create_user, org, content, questionnaire, answer_as):
    learner = create_user(Role.LEARNER, org=org, job_family="sales", name="Alice Ventes")
    attempt, _ = services.start_attempt(membership=learner.memberships[0],
                                        questionnaire=questionnaire)
    answer_as(attempt, {"C1": 3, "C2": 2, "C3": 2, "C4": 2, "C5": 3, "C6": 3, "C7": 3, "C8": 2})
    services.submit_attempt(attempt=attempt)
    db.session.commit()
    trainer = create_user(Role.TRAINER, org=org)
    login(trainer)
    listing = client.get(f"/o/{org.slug}/skills/frameworks").get_data(as_text=True)
    assert content.key in listing and "built in" in listing
    fw = _copy(client, org, content)
    assert fw is not None and fw.id != content.id
    listing = client.get(f"/o/{org.slug}/skills/frameworks").get_data(as_text=True)
    assert ">your copy · in use</td>" in listing and ">built in</td>" in listing
    response = client.post(f"/o/{org.slug}/skills/frameworks/{fw.id}/edit", data=_form_of(
        fw, C4_name_en="Prospecting online", C4_level_5_fr="Forme toute l'équipe",
        target_sales_C4="5"))
    assert response.status_code == 302
    db.session.expire_all()
    c4 = db.session.scalar(select(Competency).where(Competency.framework_id == fw.id,
                                                    Competency.code == "C4"))
    assert c4.name["en"] == "Prospecting online" and c4.levels["5"]["fr"] == "Forme toute l'équipe"
    # The built-in framework is untouched.
    assert db.session.scalar(select(Competency).where(
        Competency.framework_id == content.id, Competency.code == "C4")).name["en"] \
        != "Prospecting online"
    # The learner's results and the skill map use the organization's target (was 4).
    client.post("/logout")
    login(learner)
    html = client.get(f"/o/{org.slug}/skills/attempts/{attempt.id}/results").get_data(
        as_text=True)
    assert "C4: level 2, target 5" in html
    assert "Prospecting online" in html
    client.post("/logout")
    login(trainer)
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/o/{org.slug}/skills/map.csv").get_data(as_text=True))))
    assert rows[0]["C4_target"] == "5" and rows[0]["C1_target"] == "3"


def test_a_target_out_of_range_or_an_empty_name_writes_nothing(client, login, create_user, org,
                                                               content):
    login(create_user(Role.ADMIN, org=org))
    fw = _copy(client, org, content)
    response = client.post(f"/o/{org.slug}/skills/frameworks/{fw.id}/edit", data=_form_of(
        fw, C1_name_en="", C1_name_fr="", target_hr_C2="7"))
    assert response.status_code == 422
    assert "Every text needs at least one language" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SkillFramework, fw.id).competencies[0].name["en"]
    assert next(t for t in fw.targets if t.job_family == "hr").levels["C2"] == 2


def test_the_builtin_framework_is_read_only(client, login, create_user, org, content):
    login(create_user(Role.TRAINER, org=org))
    assert client.get(f"/o/{org.slug}/skills/frameworks/{content.id}/edit").status_code == 404
    assert client.post(f"/o/{org.slug}/skills/frameworks/{content.id}/edit",
                       data=_form_of(content, C1_name_en="Hacked")).status_code == 404
    db.session.expire_all()
    assert db.session.get(SkillFramework, content.id).competencies[0].name["en"] != "Hacked"


def test_export_import_round_trip_is_exact(client, login, create_user, org, content):
    login(create_user(Role.TRAINER, org=org))
    base = f"/o/{org.slug}/skills/frameworks"
    text = client.get(f"{base}/{content.id}/export.yaml").get_data(as_text=True)
    assert "key: relais-default" in text
    response = client.post(f"{base}/import", data={
        "file": (io.BytesIO(text.replace("levels: {C1: 3, C2: 2, C3: 3, C4: 4",
                                         "levels: {C1: 3, C2: 2, C3: 3, C4: 1").encode()),
                 "framework.yaml")}, content_type="multipart/form-data")
    assert response.status_code == 302
    mine = db.session.scalar(select(SkillFramework).where(
        SkillFramework.organization_id == org.id))
    assert next(t for t in mine.targets if t.job_family == "sales").levels["C4"] == 1
    exported = client.get(f"{base}/{mine.id}/export.yaml").get_data(as_text=True)
    client.post(f"{base}/import", data={"file": (io.BytesIO(exported.encode()), "f.yaml")},
                content_type="multipart/form-data")
    assert client.get(f"{base}/{mine.id}/export.yaml").get_data(as_text=True) == exported
    assert exported == text.replace("levels: {C1: 3, C2: 2, C3: 3, C4: 4",
                                    "levels: {C1: 3, C2: 2, C3: 3, C4: 1")
    assert db.session.scalar(select(func.count()).select_from(SkillFramework).where(
        SkillFramework.organization_id == org.id)) == 1


def test_bad_yaml_shows_line_numbered_errors_and_writes_nothing(client, login, create_user, org,
                                                                content):
    login(create_user(Role.TRAINER, org=org))
    base = f"/o/{org.slug}/skills/frameworks"
    text = client.get(f"{base}/{content.id}/export.yaml").get_data(as_text=True)
    bad = text.replace("levels: {C1: 4, C2: 2, C3: 3, C4: 4", "levels: {C1: 9, C2: 2, C3: 3, C4: 4")
    line = next(n for n, row in enumerate(bad.splitlines(), 1) if "C1: 9" in row)
    for source, message in ((bad, f"line {line}: target level of C1 must be an integer from 0 "
                                  "to 5"),
                            ("key: x\n- broken\n", "line 2: not valid YAML"),
                            (text.replace("key: relais-default", "key: other"),
                             "line 3: key must be &#39;relais-default&#39;")):
        response = client.post(f"{base}/import", data={
            "file": (io.BytesIO(source.encode()), "bad.yaml")}, content_type="multipart/form-data")
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SkillFramework).where(
        SkillFramework.organization_id == org.id)) == 0


def test_learners_get_403_and_other_organizations_404(client, login, create_user, create_org,
                                                       org, content):
    login(create_user(Role.TRAINER, org=org))
    fw = _copy(client, org, content)
    client.post("/logout")
    login(create_user(Role.LEARNER, org=org))
    base = f"/o/{org.slug}/skills/frameworks"
    assert client.get(base).status_code == 403
    assert client.get(f"{base}/{fw.id}/edit").status_code == 403
    assert client.post(f"{base}/{content.id}/copy").status_code == 403
    assert client.get(f"{base}/{fw.id}/export.yaml").status_code == 403
    other = create_org(slug="ailleurs")
    client.post("/logout")
    login(create_user(Role.TRAINER, org=other))
    assert client.get(f"/o/{other.slug}/skills/frameworks/{fw.id}/edit").status_code == 404
    assert client.get(f"/o/{other.slug}/skills/frameworks/{fw.id}/export.yaml").status_code \
        == 404
    assert client.post(f"/o/{other.slug}/skills/frameworks/{fw.id}/edit",
                       data=_form_of(fw)).status_code == 404
    # Its own pages still use the built-in framework.
    html = client.get(f"/o/{other.slug}/skills/frameworks").get_data(as_text=True)
    assert ">built in · in use</td>" in html and ">your copy" not in html


def test_framework_forms_carry_and_require_a_csrf_token(app, client, login, create_user, org,
                                                        content):
    login(create_user(Role.TRAINER, org=org))
    fw = _copy(client, org, content)
    assert 'name="csrf_token"' in client.get(f"/o/{org.slug}/skills/frameworks").get_data(
        as_text=True)
    assert 'name="csrf_token"' in client.get(
        f"/o/{org.slug}/skills/frameworks/{fw.id}/edit").get_data(as_text=True)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/o/{org.slug}/skills/frameworks/{fw.id}/edit",
                       data=_form_of(fw)).status_code == 400
    assert client.post(f"/o/{org.slug}/skills/frameworks/import").status_code == 400
