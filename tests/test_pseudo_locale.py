"""A pseudo-locale finds text that escaped translation.

Every msgid marked in the code and templates (extracted as ``scripts/i18n.sh`` does) is turned
into an accented, bracketed form — "State" → "⟦Šţàţé⟧" — and compiled on the fly into an English
catalogue used for this test only. Pages are then rendered in English: a visible text outside
the brackets either comes from the data (names, titles, lesson text, numbers, dates, URLs) or
is a string nobody marked for translation, which fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from flask import Flask
from flask_babel import get_babel, refresh
from sqlalchemy import select

from lms.accounts.models import Organization, User
from lms.certificates.definitions import available as certificate_templates
from lms.certificates.models import Certificate
from lms.courses.programs.models import Program
from lms.extensions import db
from lms.jobs import services as jobs
from lms.jobs.runner import run_job
from tests.i18n_crawl import ROLES, Page, crawl, login, parse
from tests.support import load_demo_once, sqlite_run_only

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
OPEN, CLOSE = "⟦", "⟧"
ACCENTED = str.maketrans("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                         "àƀçđéƒĝĥîĵķĺɱñôþǫŕšţûṽŵẋýžÀƁÇĐÉƑĜĤÎĴĶĹṀÑÔÞǪŔŠŢÛṼŴẊÝŽ")
# Left as they are inside a msgid: placeholders, markup, entities.
KEEP = re.compile(r"(%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[a-z]|%[%sd]|<[^>]*>|&#?\w+;)")


def pseudo(text: str) -> str:
    """"State: %(n)d" → "⟦Šţàţé: %(n)d⟧": letters accented, placeholders and tags kept."""
    parts = KEEP.split(text)
    return OPEN + "".join(p if i % 2 else p.translate(ACCENTED)
                          for i, p in enumerate(parts)) + CLOSE


def _catalogue() -> Catalog:
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(locale="en")
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        if isinstance(message, tuple):
            catalog.add(message, tuple(pseudo(m) for m in message[:2]))
        elif message:
            catalog.add(message, pseudo(message))
    return catalog


@pytest.fixture(scope="module")
def pseudo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pseudo")
    (folder / "en" / "LC_MESSAGES").mkdir(parents=True)
    with open(folder / "en" / "LC_MESSAGES" / "messages.mo", "wb") as fh:
        write_mo(fh, _catalogue())
    return folder


@pytest.fixture()
def pseudo_english(app: Flask, pseudo_dir: Path, monkeypatch: pytest.MonkeyPatch
                   ) -> Iterator[None]:
    """English pages come out in the pseudo-locale for the length of a test."""
    babel = get_babel(app)
    monkeypatch.setattr(babel, "translation_directories",
                        [str(pseudo_dir), *babel.translation_directories])
    babel.instance.domain_instance.cache.clear()
    refresh()
    yield
    babel.instance.domain_instance.cache.clear()
    refresh()


# -- what is data, what leaked ---------------------------------------------------------------------

def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _data_text() -> str:
    """Every string held in the database (names, titles, lessons, answers…) and in the
    certificate templates' files, one per line."""
    found: set[str] = set(_strings([vars(t) for t in certificate_templates()]))
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    found.update(_strings(value))
    return "\n".join(_squash(s) for s in found)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# Not words: URLs, e-mail addresses, time zones, dates (Babel's month and day names), numbers,
# codes (C1, #12), symbols.
NOISE = re.compile(r"https?://\S+|\S+@\S+|\b[A-Z][a-z]+/[A-Z][A-Za-z_]+\b"
                   r"|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b\.?"
                   r"|\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\b\.?"
                   r"|\b\d[\d\s.,:/h%-]*\b|#\d+|\bC\d\b")
# Words kept as they are in every language: the product, networks, standards, language names.
PROPER = {"Relais", "LinkedIn", "Instagram", "Facebook", "TikTok", "YouTube", "xAPI", "LRS",
          "API", "CSV", "PDF", "AFEST", "SCIM", "OIDC", "SAML", "LTI", "QR", "Français",
          "English", "SVG", "HTTP", "Markdown", "ZIP", "URL", "cmi5", "Tin", "Can", "min",
          "ics", "Maison", "Lumière"}
SEPARATORS = re.compile(r"\s*[,;:·—–()\[\]|/→←•\"«»]\s*|\s+-\s+|\.\.\.|…")


def _in_data(text: str, data: str) -> bool:
    """Whether ``text`` appears in the data as whole words."""
    start = data.find(text)
    while start != -1:
        end = start + len(text)
        if (start == 0 or not data[start - 1].isalnum()) and (
                end == len(data) or not data[end].isalnum()):
            return True
        start = data.find(text, start + 1)
    return False


def leaks(page: Page, data: str, known: set[str]) -> list[str]:
    """The texts of ``page`` that are neither translated nor data."""
    found = []
    for text in page.texts:
        if _squash(text) in known:
            continue
        rest = text
        while True:  # marked texts may nest ("⟦… ⟦…⟧ …⟧"): remove from the inside out
            shorter = re.sub(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}", " ", rest)
            if shorter == rest:
                break
            rest = shorter
        rest = _squash(rest)
        if not re.search(r"[A-Za-z]{3}", rest) or _in_data(rest, data):
            continue
        for piece in SEPARATORS.split(NOISE.sub(" , ", rest)):
            # "1. Question text" (numbered data), a word list's "…" (truncated data).
            piece = re.sub(r"^\d+\.\s*", "", piece.strip()).strip(" .-")
            words = [w for w in re.findall(r"[^\W\d_]+", piece) if len(w) >= 3]
            if not words or _in_data(piece, data) or all(w in PROPER for w in words):
                continue
            found.append(f"{page.path}: {piece[:80]!r}")
    return found


def _known_untranslated() -> set[str]:
    """Left in English for now: the advocacy import formats, shown by their internal name
    with an English description (lms/advocacy/csvimport.py, which the advocacy intake rewrite
    owns)."""
    from lms.advocacy.csvimport import PRESETS

    return {_squash(preset.description) for preset in PRESETS.values()} | set(PRESETS)


# -- tests -----------------------------------------------------------------------------------------

@sqlite_run_only("it transforms text")
def test_the_pseudo_locale_transforms_text_and_keeps_placeholders():
    assert pseudo("State") == "⟦Šţàţé⟧"
    assert pseudo("%(n)d of %(total)s <strong>rows</strong> &amp; more") == \
        "⟦%(n)d ôƒ %(total)s <strong>ŕôŵš</strong> &amp; ɱôŕé⟧"
    page, _links = parse("/x", "<p>⟦Šţàţé⟧ Camille Martin</p><p>Untranslated words</p>"
                               "<p title='Hover text'>⟦ô⟧</p><script>var x = 'code';</script>")
    assert leaks(page, "Camille Martin", set()) == [
        "/x: 'Untranslated words'", "/x: 'Hover text'"]


def _english_demo() -> None:
    load_demo_once()
    for user in db.session.scalars(select(User)):
        user.locale = "en"
    db.session.commit()


@pytest.mark.slow
@sqlite_run_only("which texts are marked for translation on the demo's pages (the other "
                 "page tests render them on PostgreSQL; error and job pages are checked on "
                 "both below)")
def test_every_page_of_every_role_is_translated(app: Flask, pseudo_english: None):
    _english_demo()
    pages = []
    for role in ROLES:
        client = app.test_client()
        login(client, role)
        pages += [(role, page) for page in crawl(client)]
    # The data is read after the crawl: visiting pages records statements (what to share was
    # seen, My team was opened) whose activity names the statements page then shows.
    data, known = _data_text(), _known_untranslated()
    found = [f"{role} {leak}" for role, page in pages for leak in leaks(page, data, known)]
    assert len(pages) > 40, f"the crawl reached only {len(pages)} pages"
    assert not found, (f"{len(found)} texts not translated:\n"
                       + "\n".join(sorted(set(found))[:120]))


def test_error_flashes_form_errors_and_job_pages_are_translated(app: Flask,
                                                                 pseudo_english: None):
    _english_demo()
    data, known = _data_text(), _known_untranslated()
    found: list[str] = []

    def check(path: str, html: str) -> None:
        page, _links = parse(path, html)
        found.extend(leaks(page, data, known))

    trainer = app.test_client()
    login(trainer, "trainer")
    program = db.session.scalar(select(Program).join(Organization).where(
        Organization.slug == "demo").order_by(Program.id))
    assert program is not None
    today = date.today()
    # A service error flashed after a redirect: the end date before the start date.
    page = trainer.post("/o/demo/cohorts/new", follow_redirects=True, data={
        "program_id": program.id, "name": "Vague 9",
        "starts_on": (today + timedelta(days=10)).isoformat(), "ends_on": today.isoformat()})
    html = page.get_data(as_text=True)
    assert pseudo("The cohort cannot be created.") in html
    assert pseudo("The end date is before the start date.") in html
    check("/o/demo/cohorts/new (error)", html)
    # A form the server refuses: the questionnaire's questions left unanswered.
    learner = app.test_client()
    login(learner, "learner")
    pages = {p.path: p for p in crawl(learner)}
    quiz = next((path for path in pages if re.search(r"/quizzes/\d+$", path)), None)
    assert quiz is not None, "the demo learner has no quiz to answer"
    html = learner.post(quiz, data={}, follow_redirects=True).get_data(as_text=True)
    assert pseudo("Answer this question.") in html
    check(f"{quiz} (empty answers)", html)
    # Pages seen before logging in: the login form with a refused password, a public
    # certificate verification.
    visitor = app.test_client()
    html = visitor.post("/login", data={"email": ROLES["learner"], "password": "wrong"},
                        headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert pseudo("Log in") in html
    check("/login (wrong password)", html)
    code = db.session.scalar(select(Certificate.code).order_by(Certificate.id))
    assert code is not None
    check(f"/verify/{code}", visitor.get(f"/verify/{code}",
                                         headers={"Accept-Language": "en"}).get_data(as_text=True))
    # A job page, its list and its status poll.
    hr = db.session.scalar(select(User).where(User.email == ROLES["hr"]))
    org = hr.memberships[0].organization
    job = jobs.enqueue(kind="jobs.selftest", organization=org, created_by=hr,
                       params={"steps": 2, "seconds": 0})
    db.session.commit()
    assert run_job(job.id) == "succeeded"
    client = app.test_client()
    login(client, "hr")
    for path in (f"/o/demo/jobs/{job.id}", "/o/demo/jobs"):
        html = client.get(path).get_data(as_text=True)
        assert "⟦Šûççééđéđ⟧" in html
        check(path, html)
    status = client.get(f"/o/demo/jobs/{job.id}/status").get_json()
    assert status["state_label"] == "⟦Šûççééđéđ⟧"
    assert status["message"].startswith(OPEN)
    assert not found, f"{len(found)} texts not translated:\n" + "\n".join(sorted(set(found)))
