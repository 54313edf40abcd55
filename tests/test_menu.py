"""The main menu: at most seven entries per role, in plain words, each group's pages as tabs."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from lms.accounts.models import Role

MENU = re.compile(r'<nav id="main-nav".*?</nav>', re.S)
TABS = re.compile(r'<nav class="subnav" aria-label="([^"]*)">(.*?)</nav>', re.S)


def _entries(html: str) -> list[str]:
    menu = MENU.search(html)
    assert menu, "no main menu"
    return re.findall(r"<a [^>]*>([^<]*)</a>", menu.group(0))


@pytest.mark.parametrize("role", [Role.LEARNER, Role.TRAINER, Role.HR, Role.ADMIN])
def test_every_role_has_at_most_seven_menu_entries(client: FlaskClient, login, create_user,
                                                   create_org, role: Role) -> None:
    org = create_org(slug="atelier")
    login(create_user(role, org=org))
    entries = _entries(client.get("/o/atelier/").get_data(as_text=True))
    assert 2 <= len(entries) <= 7, entries
    assert entries[0] == "Dashboard"
    assert not {"Jobs", "Statements"} & set(entries)  # jargon without context


def test_a_group_opens_on_its_first_page_and_shows_its_pages_as_tabs(
        client: FlaskClient, login, create_user, create_org) -> None:
    org = create_org(slug="atelier")
    login(create_user(Role.TRAINER, org=org))
    html = client.get("/o/atelier/cohorts").get_data(as_text=True)
    assert _entries(html) == ["Dashboard", "Training", "Exercises and coaching", "Skills",
                              "People", "Results", "Imports and records"]
    assert 'href="/o/atelier/programs" aria-current="true">Training</a>' in html
    label, tabs = TABS.search(html).groups()
    assert label == "Training"
    assert re.findall(r'href="([^"]*)"( aria-current="page")?>([^<]*)<', tabs) == [
        ("/o/atelier/programs", "", "Programs"),
        ("/o/atelier/cohorts", ' aria-current="page"', "Cohorts")]
    # A page of the group that is not a tab keeps its group open.
    html = client.get("/o/atelier/skills/frameworks").get_data(as_text=True)
    assert 'aria-current="true">Skills</a>' in html
    assert 'href="/o/atelier/skills/frameworks" aria-current="page"' in html


def test_french_menu_speaks_plain_french(client: FlaskClient, login, create_user,
                                         create_org) -> None:
    org = create_org(slug="atelier")
    user = create_user(Role.ADMIN, org=org)
    user.locale = "fr"
    login(user)
    html = client.get("/o/atelier/jobs").get_data(as_text=True)
    assert _entries(html) == ["Tableau de bord", "Formations", "Exercices et coaching",
                              "Compétences", "Personnes", "Résultats", "Imports et réglages"]
    assert "Imports et exports" in TABS.search(html).group(2)
    assert "Tâches" not in html and "Déclarations" not in html
