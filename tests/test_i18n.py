"""French and English: pages follow the user's language, and no string is left untranslated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from lms.accounts.models import Role
from lms.extensions import db
from tests.support import sqlite_run_only

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "lms" / "translations"
# The same keywords as scripts/i18n.sh: gettext's defaults plus the lazy forms (forms, service
# errors, job messages).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
READS_THE_CATALOGUE = sqlite_run_only("it reads the code and the French catalogue")


def _lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "no lang attribute on <html>"
    return match.group(1)


def _h1(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match, "no <h1> in the page"
    return match.group(1).strip()


# -- pages in the right language -----------------------------------------------------------------

def test_a_french_browser_sees_the_french_login_page(client):
    page = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert _lang(html) == "fr"
    assert _h1(html) == "Se connecter"
    assert "Mot de passe" in html and "Aller au contenu" in html
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert _h1(english.get_data(as_text=True)) == "Log in"


def test_a_user_who_chose_english_sees_english_despite_a_french_browser(client, create_user,
                                                                      login):
    user = create_user(Role.TRAINER)
    user.locale = "en"
    db.session.commit()
    login(user)
    org = user.memberships[0].organization
    html = client.get(f"/o/{org.slug}/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert _lang(html) == "en"
    assert "Dashboard" in html and "Learners" in html
    assert "Tableau de bord" not in html


def test_the_footer_links_choose_the_language_before_logging_in(client, create_user, login):
    html = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="fr" hreflang="fr"' in html and ">Français</a>" in html
    response = client.get("/language/fr?next=/login", headers={"Accept-Language": "en"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _h1(page) == "Se connecter"
    # Only pages of this site are followed, and only configured languages are accepted.
    assert client.get("/language/en?next=//evil.example/").headers["Location"] == "/"
    assert client.get("/language/de").status_code == 404
    # A logged-in user's saved language wins over the footer's choice.
    user = create_user(Role.LEARNER)
    user.locale = "en"
    db.session.commit()
    login(user)
    client.get("/language/fr")
    html = client.get(f"/o/{user.memberships[0].organization.slug}/").get_data(as_text=True)
    assert _lang(html) == "en"


def test_after_logging_out_the_login_page_speaks_the_user_s_language(client, create_user,
                                                                    login):
    # A French account on an English browser: its pages are French, and so is the login page
    # it comes back to after logging out (not the browser's English).
    user = create_user(Role.LEARNER)
    user.locale = "fr"
    db.session.commit()
    login(user)
    client.get(f"/o/{user.memberships[0].organization.slug}/",
               headers={"Accept-Language": "en"})
    client.post("/logout")
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _lang(page) == "fr" and _h1(page) == "Se connecter"


def test_error_pages_speak_the_reader_s_language(client):
    html = client.get("/nowhere", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert _h1(html) == "Page introuvable" and "Erreur 404" in html
    html = client.get("/nowhere", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _h1(html) == "Not found"


def test_role_names_are_translated_on_the_members_page(client, create_user, login):
    trainer = create_user(Role.TRAINER)
    org = trainer.memberships[0].organization
    create_user(Role.LEARNER, org=org, name="Camille Martin")
    login(trainer)
    html = client.get(f"/o/{org.slug}/members",
                      headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Apprenant" in html and "Formateur" in html
    assert ">learner<" not in html


# -- the catalogue covers every string -----------------------------------------------------------

def _extracted() -> dict[str | tuple[str, ...], list[str]]:
    """Every msgid marked in lms/ (code and templates), as babel.cfg and scripts/i18n.sh say."""
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str | tuple[str, ...], list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


def _translated(entry: Message | None) -> bool:
    """True when ``entry`` has a reviewed translation (every plural form filled, not fuzzy)."""
    if entry is None or entry.fuzzy:
        return False
    if isinstance(entry.string, (tuple, list)):
        return all(entry.string)
    return bool(entry.string)


@pytest.fixture(scope="module")
def french() -> Catalog:
    with open(TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale="fr")


@READS_THE_CATALOGUE
def test_every_string_in_the_code_has_a_french_translation(french):
    missing = []
    for message, places in sorted(_extracted().items(), key=lambda item: str(item[0])):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = french.get(msgid)
        if not _translated(entry):
            state = "fuzzy" if entry is not None and entry.fuzzy else (
                "untranslated" if entry is not None else "missing")
            missing.append(f"  {msgid!r} ({state}) at {places[0]}")
    assert not missing, (
        "French translations missing — run scripts/i18n.sh, translate in "
        "lms/translations/fr/LC_MESSAGES/messages.po, then scripts/i18n.sh compile:\n"
        + "\n".join(missing))


@READS_THE_CATALOGUE
def test_french_translations_keep_the_placeholders(french):
    problems = [f"  {message.id!r}: {'; '.join(map(str, errors))}"
                for message, errors in french.check() if errors]
    assert not problems, "placeholders differ between English and French:\n" + "\n".join(problems)


@READS_THE_CATALOGUE
def test_the_compiled_french_catalogue_matches_the_po_file(french):
    with open(TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.mo", "rb") as fh:
        compiled = read_mo(fh)
    def strings(message: Message | None) -> tuple[str, ...] | None:
        # read_mo gives plural forms as lists, read_po as tuples.
        if message is None:
            return None
        value = message.string
        return tuple(value) if isinstance(value, (tuple, list)) else (value,)

    stale = [message.id for message in french if message.id and _translated(message)
             and strings(compiled.get(message.id)) != strings(message)]
    assert not stale, ("messages.mo is older than messages.po: run scripts/i18n.sh compile "
                       f"({len(stale)} messages differ, first {stale[0]!r})")
