"""People's names sort and match as a French reader expects, on either database: accents and
case aside ("Émilie" before "Zoé", "helene" finds "Hélène"), through ``User.name_key``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.core.database import folded
from lms.extensions import db

NAMES = ["zoé Bernard", "Lucas Martin", "Émilie Zola", "Léa Dubois", "Hélène Petit",
         "Œdipe Roi", "élodie Hervé"]


def _order(html: str, names: list[str]) -> list[str]:
    """``names`` in the order the page shows them."""
    return sorted(names, key=html.index)


def test_folded_drops_accents_and_case():
    assert folded("Émilie ZOLA") == "emilie zola"
    assert folded("Hélène Çelik-Noël") == "helene celik-noel"
    assert folded("Straße") == "strasse"
    assert folded("Œdipe et Lætitia") == "oedipe et laetitia"


@pytest.fixture()
def org(create_org, create_user, login):
    """An organization of :data:`NAMES`, its admin logged in."""
    org = create_org()
    admin = create_user(role=Role.ADMIN, org=org, name="Admin Principal")
    for name in NAMES:
        create_user(org=org, name=name)
    login(admin)
    return org


def test_the_members_page_sorts_by_name_accents_and_case_aside(client, org):
    html = client.get(f"/o/{org.slug}/members").get_data(as_text=True)
    assert _order(html, NAMES) == ["élodie Hervé", "Émilie Zola", "Hélène Petit", "Léa Dubois",
                                   "Lucas Martin", "Œdipe Roi", "zoé Bernard"]


def test_a_search_for_a_name_without_its_accents_finds_it(client, org):
    for typed in ("helene", "HÉLÈNE", "Helène"):
        html = client.get(f"/o/{org.slug}/members", query_string={"q": typed}) \
            .get_data(as_text=True)
        assert "Hélène Petit" in html, typed
        assert "Léa Dubois" not in html and "Lucas Martin" not in html, typed
    # An e-mail address still matches as typed.
    helene = db.session.scalar(select(User).where(User.display_name == "Hélène Petit"))
    html = client.get(f"/o/{org.slug}/members", query_string={"q": helene.email}) \
        .get_data(as_text=True)
    assert "Hélène Petit" in html and "Lucas Martin" not in html


def test_the_key_follows_every_change_of_name(client, create_user, login):
    user = create_user(name="Jean Dupont")
    assert user.name_key == "jean dupont"
    login(user)
    response = client.post("/account", data={"display_name": "  Élise Dupont ", "locale": "fr"})
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert (stored.display_name, stored.name_key) == ("Élise Dupont", "elise dupont")
