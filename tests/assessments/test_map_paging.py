"""The team skill map at scale: the page shows learners a page at a time (links, counts,
filters kept, empty states), the CSV streams every learner, the API map is paged with its
bad input answered 400, and the counts and averages stay those of everyone selected."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import delete

from lms.accounts.models import Role
from lms.assessments import queries, views
from lms.assessments.models import SkillLevel
from lms.extensions import db

API = "/api/v1/orgs"
# Six learners, by name: five answered (two teams, three job families), Zoé has not.
CROWD = [("Ana", "Ventes", "sales", {"C1": 3, "C4": 2}),
         ("Ben", "Marketing", "marketing", {"C1": 1, "C2": 3}),
         ("Chloé", "Ventes", "hr", {"C1": 2, "C3": 2, "C8": 1}),
         ("Dan", "Marketing", "sales", {"C2": 1}),
         ("Eve", "Ventes", "sales", {"C1": 3, "C5": 2}),
         ("Zoé", "Ventes", "hr", None)]


@pytest.fixture()
def org(create_org, content):
    return create_org(slug="lumiere")


@pytest.fixture()
def crowd(create_user, org, take):
    users = {}
    for name, team, family, levels in CROWD:
        users[name] = create_user(Role.LEARNER, org=org, name=name, team=team,
                                  job_family=family)
        if levels is not None:
            take(users[name], levels)
    return users


def _names(html: str) -> list[str]:
    """The learners of the heat map, in the page's order (each row's heading)."""
    found = [(html.index(f'">{name}</a></th>'), name) for name, *_ in CROWD
             if f'">{name}</a></th>' in html]
    return [name for _, name in sorted(found)]


def _python_averages(rows: list[queries.MapRow]) -> tuple[dict[str, float], dict[str, float]]:
    """The averages as the map showed them before paging: over the cells of every row."""
    answered = [r.cells for r in rows if r.cells is not None]
    codes = [x.code for x in answered[0]]
    return ({c: sum(cells[i].level for cells in answered) / len(answered)
             for i, c in enumerate(codes)},
            {c: sum(cells[i].target for cells in answered) / len(answered)
             for i, c in enumerate(codes)})


def test_the_page_shows_a_page_of_learners_with_links_counts_and_filters_kept(
        monkeypatch, client, login, create_user, org, crowd):
    monkeypatch.setattr(views, "MAP_PAGE_SIZE", 2)
    login(create_user(Role.TRAINER, org=org))
    first = client.get(f"/o/{org.slug}/skills/map").get_data(as_text=True)
    assert _names(first) == ["Ana", "Ben"]
    assert "Learners 1–2 of 5 who answered, by name." in first and "Page 1 of 3" in first
    assert 'aria-current="page" href="/o/lumiere/skills/map?page=1"' in first
    assert 'href="/o/lumiere/skills/map?page=3"' in first and 'rel="prev"' not in first
    last = client.get(f"/o/{org.slug}/skills/map?page=3").get_data(as_text=True)
    assert _names(last) == ["Eve"] and "Learners 5–5 of 5 who answered" in last
    assert 'rel="next"' not in last and 'rel="prev"' in last
    # Out of range or not a number: the nearest page, never an error.
    for page, shown in (("0", ["Ana", "Ben"]), ("-4", ["Ana", "Ben"]), ("abc", ["Ana", "Ben"]),
                        ("99", ["Eve"]), ("99999999999999999999", ["Eve"])):
        response = client.get(f"/o/{org.slug}/skills/map?page={page}")
        assert response.status_code == 200
        assert _names(response.get_data(as_text=True)) == shown, page
    # Every page link keeps the filters; the not-answered list and the counts follow them.
    ventes = client.get(f"/o/{org.slug}/skills/map?team=Ventes&page=2").get_data(as_text=True)
    assert _names(ventes) == ["Eve"] and "Learners 3–3 of 3 who answered" in ventes
    assert 'href="/o/lumiere/skills/map?page=1&amp;team=Ventes"' in ventes
    assert "Not answered yet (1)" in ventes and "Zoé" in ventes
    # On one page: the count in words, no pager.
    monkeypatch.setattr(views, "MAP_PAGE_SIZE", 50)
    whole = client.get(f"/o/{org.slug}/skills/map").get_data(as_text=True)
    assert "5 learners answered." in whole and 'class="pager"' not in whole
    assert _names(whole) == ["Ana", "Ben", "Chloé", "Dan", "Eve"]


def test_every_page_shows_the_averages_of_everyone_selected(monkeypatch, client, login,
                                                           create_user, org, crowd):
    monkeypatch.setattr(views, "MAP_PAGE_SIZE", 2)
    login(create_user(Role.HR, org=org))
    levels, _targets = _python_averages(queries.team_map(org.id))
    footer = "".join(f"<td>{levels[c]:.1f}</td>" for c in ("C1", "C2"))
    for page in (1, 2, 3):
        html = client.get(f"/o/{org.slug}/skills/map?page={page}").get_data(as_text=True)
        assert f'<th scope="row">Average</th><td></td>{footer}' in html


def test_empty_states(client, login, create_user, org):
    create_user(Role.LEARNER, org=org, name="Yann Pas-Encore", team="Ventes")
    login(create_user(Role.TRAINER, org=org))
    html = client.get(f"/o/{org.slug}/skills/map").get_data(as_text=True)
    assert "No learner in this selection has answered the skill questionnaire yet." in html
    assert "Not answered yet (1)" in html and "Yann Pas-Encore" in html
    assert "heatmap" not in html and 'class="pager"' not in html
    nobody = client.get(f"/o/{org.slug}/skills/map?team=Nulle-part").get_data(as_text=True)
    assert "No learner matches this selection." in nobody
    assert 'href="/o/lumiere/skills/map">Show every learner</a>' in nobody
    assert "Not answered yet" not in nobody


def test_the_csv_streams_every_learner(monkeypatch, client, login, create_user, org, crowd):
    monkeypatch.setattr(queries, "MAP_BATCH", 2)  # three batches and a half
    login(create_user(Role.HR, org=org))
    response = client.get(f"/o/{org.slug}/skills/map.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == [name for name, *_ in CROWD]
    by_name = {r.name: r for r in queries.team_map(org.id)}
    for row in rows:
        expected = by_name[row["name"]]
        if expected.answered:
            assert {c: int(row[c]) for c in expected.levels} == expected.levels
            assert {c: int(row[f"{c}_target"]) for c in expected.targets} == expected.targets
            assert row["answered_at"] == expected.submitted_at.isoformat()
        else:
            assert row["C1"] == row["C1_target"] == row["answered_at"] == ""
    assert (rows[0]["C1"], rows[0]["C4"], rows[0]["C4_target"]) == ("3", "2", "4")
    hr_only = client.get(f"/o/{org.slug}/skills/map.csv?job_family=hr").get_data()
    assert [r["name"] for r in csv.DictReader(io.StringIO(hr_only.decode("utf-8-sig")))] == [
        "Chloé", "Zoé"]


def test_the_api_map_is_paged(client, create_user, api_token, org, crowd):
    headers = api_token(create_user(Role.TRAINER, org=org))
    pages = [client.get(f"{API}/{org.slug}/skill-map?per_page=2&page={n}",
                        headers=headers).get_json() for n in (1, 2, 3, 4)]
    assert [[i["name"] for i in p["items"]] for p in pages] == [
        ["Ana", "Ben"], ["Chloé", "Dan"], ["Eve", "Zoé"], []]
    assert [(p["page"], p["per_page"], p["total"], p["answered"]) for p in pages] == [
        (n, 2, 6, 5) for n in (1, 2, 3, 4)]
    assert pages[2]["items"][1]["answered"] is False and pages[2]["items"][1]["levels"] is None
    assert pages[0]["items"][0]["levels"]["C4"] == 2
    levels, targets = _python_averages(queries.team_map(org.id))
    for page in pages:
        assert page["averages"] == {c: round(v, 2) for c, v in levels.items()}
        assert page["average_targets"] == {c: round(v, 2) for c, v in targets.items()}
    default = client.get(f"{API}/{org.slug}/skill-map?team=Marketing", headers=headers)
    assert default.get_json()["per_page"] == 50 and default.get_json()["total"] == 2


@pytest.mark.parametrize("query, field", [
    ("page=0", "page"), ("page=abc", "page"), ("page=-1", "page"), ("page=1.5", "page"),
    ("per_page=0", "per_page"), ("per_page=201", "per_page"), ("per_page=x", "per_page"),
    ("page=1&page=2", "page"), ("cursor=abc", "cursor")])
def test_bad_paging_is_a_400_in_the_error_envelope(client, create_user, api_token, org, query,
                                                   field):
    headers = api_token(create_user(Role.HR, org=org))
    response = client.get(f"{API}/{org.slug}/skill-map?{query}", headers=headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and field in error["fields"]


def test_the_openapi_document_describes_the_paged_map(client):
    document = client.get("/api/v1/openapi.json").get_json()
    op = document["paths"]["/orgs/{org_slug}/skill-map"]["get"]
    assert {"page", "per_page", "team", "job_family", "cohort"} <= {
        p["name"] for p in op["parameters"] if p["in"] == "query"}
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SkillMap"}
    assert "400" in op["responses"]
    schema = document["components"]["schemas"]["SkillMap"]
    assert {"items", "page", "per_page", "total", "answered", "averages"} <= set(
        schema["properties"])


def test_the_summary_keeps_the_figures_of_the_whole_map(create_user, org, crowd):
    rows = queries.team_map(org.id)
    summary = queries.map_summary(org.id)
    levels, targets = _python_averages(rows)
    assert (summary.learners, summary.answered) == (6, 5)
    assert summary.averages == pytest.approx(levels)
    assert summary.average_targets == pytest.approx(targets)
    # A level row missing (a competency added to the framework since): 0, as its cell shows.
    db.session.execute(delete(SkillLevel).where(
        SkillLevel.membership_id == crowd["Ana"].memberships[0].id, SkillLevel.competency == "C1"))
    db.session.commit()
    levels, _ = _python_averages(queries.team_map(org.id))
    assert queries.map_summary(org.id).averages == pytest.approx(levels)
    assert levels["C1"] == pytest.approx((0 + 1 + 2 + 0 + 3) / 5)
    # With filters: the same figures as the rows the filters keep.
    for kwargs in ({"team": "Ventes"}, {"job_family": "sales"},
                   {"team": "Marketing", "job_family": "sales"}):
        rows = queries.team_map(org.id, **kwargs)
        summary = queries.map_summary(org.id, **kwargs)
        levels, targets = _python_averages(rows)
        assert summary.learners == len(rows)
        assert summary.answered == sum(r.answered for r in rows)
        assert summary.averages == pytest.approx(levels)
        assert summary.average_targets == pytest.approx(targets)
    page = queries.map_page(org.id, page=2, size=2)
    assert [r.name for r in page.rows] == ["Chloé", "Dan"]
    assert (page.first, page.last, page.pages, page.missing_count) == (3, 4, 3, 1)
    assert [m.name for m in page.missing] == ["Zoé"]
