"""The trainer's cohort page at company scale: a page of learners at a time, a search, the
whole cohort's completion in the footer, and a bounded list of learners to enrol."""

from __future__ import annotations

import re

import pytest

from lms.courses.cohorts import views
from lms.courses.cohorts.models import COMPLETED, WITHDRAWN, ModuleProgress
from lms.courses.cohorts.services import enrol
from lms.extensions import db


def _rows(page: str) -> list[str]:
    """The learners' names in the grid, in order."""
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return re.findall(r'<th scope="row">([^<]+)</th>', body)


@pytest.fixture
def two_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "LEARNERS_A_PAGE", 2)


def test_the_grid_shows_a_page_of_learners_and_the_footer_counts_the_whole_cohort(
        enrolled, client, login, two_a_page):
    w = enrolled
    # Learner 3, on the second page, completed the first module; learner 0 withdrew.
    first = w.program.modules[0]
    db.session.add(ModuleProgress(enrollment_id=w.enrollments[3].id, module_id=first.id,
                                  state=COMPLETED))
    w.enrollments[0].status = WITHDRAWN
    db.session.commit()
    login(w.trainer)
    url = f"/o/acme/cohorts/{w.cohort.id}"
    page = client.get(url).get_data(as_text=True)
    assert _rows(page) == ["Learner 0", "Learner 1"]
    assert "1–2 of 4" in page and 'rel="next"' in page
    footer = page[page.index("<tfoot>"):page.index("</tfoot>")]
    # One of the three still enrolled completed the first module; nobody the program.
    assert re.search(r"<td>33\s?%</td>", footer) and "0/3" in footer
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert _rows(second) == ["Learner 2", "Learner 3"]
    assert 'class="state-completed"' in second and footer in second
    # A page past the end (an old link) shows the last page.
    past = client.get(f"{url}?page=9")
    assert past.status_code == 200 and _rows(past.get_data(as_text=True)) == [
        "Learner 2", "Learner 3"]


def test_a_search_finds_learners_by_name_or_address_and_says_when_none_match(
        enrolled, client, login, two_a_page):
    w = enrolled
    login(w.trainer)
    url = f"/o/acme/cohorts/{w.cohort.id}"
    page = client.get(f"{url}?q=learner+2").get_data(as_text=True)
    assert _rows(page) == ["Learner 2"]
    assert 'value="learner 2"' in page
    by_address = client.get(f"{url}?q={w.learners[1].email.upper()}").get_data(as_text=True)
    assert _rows(by_address) == ["Learner 1"]
    # "%" and "_" typed in the box are searched for, not wildcards.
    for typed in ("%25", "Learner_"):
        nobody = client.get(f"{url}?q={typed}")
        assert nobody.status_code == 200
        assert "No learner of this cohort matches" in nobody.get_data(as_text=True)
        assert "<tbody>" not in nobody.get_data(as_text=True)


def test_the_learners_to_enrol_are_listed_up_to_a_bound_and_a_search_finds_the_others(
        world, client, login, create_user, monkeypatch):
    w = world
    monkeypatch.setattr(views, "CANDIDATES_LISTED", 3)
    extra = create_user("learner", org=w.org, name="Zoé Zéphyr", password=None)
    enrol(cohort=w.cohort, membership=w.member(w.learners[0]))
    db.session.commit()
    login(w.trainer)
    url = f"/o/acme/cohorts/{w.cohort.id}"
    page = client.get(url).get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+) \(', page)
    # Four learners are not enrolled: the first three by name are listed, and the page says so.
    assert [name for _, name in options] == ["Learner 1", "Learner 2", "Learner 3"]
    assert "The first 3 of 4 learners are listed" in page
    found = client.get(f"{url}?find=z%C3%A9PHYR").get_data(as_text=True)
    assert re.findall(r'<option value="(\d+)"[^>]*>([^<]+) \(', found) == [
        (str(w.member(extra).id), "Zoé Zéphyr")]
    assert "The first" not in found
    # The enrolled learner is never offered, even when searched for.
    enrolled_one = client.get(f"{url}?find=Learner+0").get_data(as_text=True)
    assert re.findall(r'<option value="(\d+)"[^>]*>([^<]+) \(', enrolled_one) == []
