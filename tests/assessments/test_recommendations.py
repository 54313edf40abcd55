"""Gaps recommend the organization's training modules (registered by courses), and the team
map filters by cohort (also registered by courses)."""

from __future__ import annotations

import csv
import io

import pytest

from lms.accounts.models import Role
from lms.assessments import services
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import add_module, copy_from_catalogue, load_catalogue
from lms.extensions import db


@pytest.fixture()
def org(create_org, content):
    return create_org(slug="lumiere")


@pytest.fixture()
def take(questionnaire, answer_as):
    def do(user, levels):
        attempt, _ = services.start_attempt(membership=user.memberships[0],
                                            questionnaire=questionnaire)
        answer_as(attempt, levels)
        services.submit_attempt(attempt=attempt)
        db.session.commit()
        return attempt

    return do


def _program(org, title, c3_module):
    load_catalogue()
    program = copy_from_catalogue(organization=org, slug="parcours-ambassadeurs-6-semaines")
    program.title = {"en": title}
    for module in program.modules:  # only our module targets a competency: C3
        module.competencies = []
    module = add_module(program=program, kind="elearning", title=c3_module)
    module.competencies = ["C3"]
    db.session.commit()
    return program


def _results(client, org, attempt):
    page = client.get(f"/o/{org.slug}/skills/attempts/{attempt.id}/results")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_gap_recommends_the_modules_targeting_it(client, login, create_user, org, take,
                                                   content):
    _program(org, "Storytelling path", "Tell a customer story")
    user = create_user(Role.LEARNER, org=org, job_family="sales")
    attempt = take(user, {"C3": 0})
    login(user)
    html = _results(client, org, attempt)
    # Shown once, under the C3 gap (after its name and descriptor advice), with its program.
    assert html.count("Tell a customer story") == 1
    name = next(c for c in content.competencies if c.code == "C3").name["en"]
    gap = html.split(f"<h3>{name}</h3>", 1)[1].split("</li>\n    \n    <li>", 1)[0]
    assert gap.index("Try this:") < gap.index("Tell a customer story")
    assert "Storytelling path" in html
    # Not enrolled: named, but no link to a page the learner cannot open.
    assert '<a href="/o/lumiere/training/' not in html
    # The learner's own "My skills" page shows it too.
    assert "Tell a customer story" in client.get("/o/lumiere/skills/").get_data(as_text=True)


def test_modules_of_the_learners_program_come_first_with_a_link(client, login, create_user,
                                                                org, take):
    _program(org, "Other path", "Other C3 module")
    mine = _program(org, "My path", "My C3 module")
    user = create_user(Role.LEARNER, org=org, job_family="sales")
    cohort = create_cohort(program=mine, name="Spring")
    enrollment = enrol(cohort=cohort, membership=user.memberships[0])
    db.session.commit()
    attempt = take(user, {"C3": 0})
    login(user)
    html = _results(client, org, attempt)
    assert html.index("My C3 module") < html.index("Other C3 module")
    assert f'<a href="/o/lumiere/training/{enrollment.id}">My C3 module</a>' in html


def test_without_programs_only_the_descriptor_advice(client, login, create_user, org, take):
    user = create_user(Role.LEARNER, org=org, job_family="sales")
    attempt = take(user, {"C3": 0})
    login(user)
    html = _results(client, org, attempt)
    assert "Try this:" in html
    assert "Training modules on this competency:" not in html


def test_a_gap_no_module_targets_says_so(client, login, create_user, org, take):
    _program(org, "Storytelling path", "Tell a customer story")
    user = create_user(Role.LEARNER, org=org, job_family="sales")
    attempt = take(user, {})  # gaps everywhere, some with no module
    login(user)
    html = _results(client, org, attempt)
    assert "No training module of the organization works on this competency yet." in html


@pytest.fixture()
def cohorts(org, create_user, take):
    program = _program(org, "Path", "A module")
    spring = create_cohort(program=program, name="Spring")
    autumn = create_cohort(program=program, name="Autumn")
    alice = create_user(Role.LEARNER, org=org, name="Alice Spring", job_family="sales")
    bruno = create_user(Role.LEARNER, org=org, name="Bruno Autumn", job_family="sales")
    chloe = create_user(Role.LEARNER, org=org, name="Chloé Spring", job_family="sales")
    enrol(cohort=spring, membership=alice.memberships[0])
    enrol(cohort=spring, membership=chloe.memberships[0])
    enrol(cohort=autumn, membership=bruno.memberships[0])
    db.session.commit()
    take(alice, {"C1": 3})
    take(bruno, {"C1": 1})
    return spring, autumn


def test_the_team_map_filters_by_cohort(client, login, create_user, org, cohorts):
    spring, autumn = cohorts
    login(create_user(Role.TRAINER, org=org))
    html = client.get(f"/o/{org.slug}/skills/map").get_data(as_text=True)
    assert f'<option value="{spring.id}"' in html and "Spring — Path" in html
    assert "Alice Spring" in html and "Bruno Autumn" in html
    page = client.get(f"/o/{org.slug}/skills/map?cohort={spring.id}").get_data(as_text=True)
    assert "Alice Spring" in page and "Bruno Autumn" not in page
    # Chloé is in the cohort but has not answered; averages cover the cohort only.
    assert "Not answered yet (1)" in page and "Chloé Spring" in page
    assert "<th scope=\"row\">Average</th><td></td><td>3.0</td>" in page
    assert f'map.csv?cohort={spring.id}' in page


def test_the_csv_and_api_filter_by_cohort(client, login, create_user, org, cohorts,
                                          api_token):
    spring, autumn = cohorts
    hr = create_user(Role.HR, org=org)
    login(hr)
    rows = list(csv.DictReader(io.StringIO(client.get(
        f"/o/{org.slug}/skills/map.csv?cohort={autumn.id}").get_data().decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["Bruno Autumn"]
    body = client.get(f"/api/v1/orgs/{org.slug}/skill-map?cohort={spring.id}",
                      headers=api_token(hr)).get_json()
    assert [i["name"] for i in body["items"]] == ["Alice Spring", "Chloé Spring"]
    assert body["averages"]["C1"] == 3.0


def test_an_unknown_or_foreign_cohort_is_rejected(client, login, create_user, create_org, org,
                                                  cohorts, api_token):
    other = create_org(slug="other")
    program = _program(other, "Their path", "Their module")
    theirs = create_cohort(program=program, name="Theirs")
    db.session.commit()
    hr = create_user(Role.HR, org=org)
    login(hr)
    assert client.get(f"/o/{org.slug}/skills/map?cohort={theirs.id}").status_code == 404
    assert client.get(f"/o/{org.slug}/skills/map?cohort=abc").status_code == 404
    response = client.get(f"/api/v1/orgs/{org.slug}/skill-map?cohort={theirs.id}",
                          headers=api_token(hr))
    assert response.status_code == 404


def test_a_module_the_learner_completed_is_not_recommended(client, login, create_user, org,
                                                          take):
    from lms.courses.cohorts.models import COMPLETED, ModuleProgress

    program = _program(org, "My path", "Done C3 module")
    todo = add_module(program=program, kind="elearning", title="Next C3 module")
    todo.competencies = ["C3"]
    user = create_user(Role.LEARNER, org=org, job_family="sales")
    enrollment = enrol(cohort=create_cohort(program=program, name="Spring"),
                       membership=user.memberships[0])
    done = next(m for m in program.modules if "Done C3 module" in m.title.values())
    db.session.add(ModuleProgress(enrollment_id=enrollment.id, module_id=done.id,
                                  state=COMPLETED, percent=100))
    db.session.commit()
    attempt = take(user, {"C3": 0})
    login(user)
    html = _results(client, org, attempt)
    assert "Next C3 module" in html and "Done C3 module" not in html
