"""Crawl the demo organization's pages as each role: shared by the French typography test and
the pseudo-locale test (``from tests.i18n_crawl import …``), and the list of a role's menu pages
the accessibility crawl (tests/browser/crawl.py) and tests/test_pages_answer.py visit.

The crawl follows the links of each page (GET only, same site), from the role's dashboard, and
visits at most two pages per URL shape (``/o/demo/cohorts/<n>``), so it covers every kind of
page a role reaches without rendering the 300 advocacy events one by one.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

from flask.testing import FlaskClient

from lms.demo import DEMO_PASSWORD, DEMO_SLUG

ROLES = {
    "learner": "camille.martin@maison-lumiere.example",
    "trainer": "formatrice@maison-lumiere.example",
    "hr": "rh@maison-lumiere.example",
    "admin": "admin@maison-lumiere.example",
}

# Not pages: downloads, the LRS, the API, sign-out and language switches.
SKIP = re.compile(r"/logout|/language/|/api/|/xapi|/static/|\.(pdf|csv|zip|ics|json|svg|png)$"
                  r"|/export|/download|/result$|/sheet|/qr|/file|/screenshot|/launch|/content/")
VISIBLE_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")


# Detail pages worth a visit, by the shape of their path (the first link found of each).
DETAILS = {
    "cohort": r"(?<!/impact)/cohorts/\d+$",
    "impact-cohort": r"/impact/cohorts/\d+$",
    "impact-settings": r"/impact/settings$",
    "session": r"/sessions/\d+$",
    "program": r"/programs/\d+$",
    "followup": r"/coaching/followups/\d+$",
    "coaching-learner": r"/coaching/learners/[^/]+$",
    "skill-results": r"/skills/attempts/\d+/results$",
    "questionnaire": r"/skills/questionnaires/\d+$",
    "learner-skills": r"/skills/learners/\d+$",
    "my-program": r"/training/[0-9a-f-]{32,36}$",
    "lesson": r"/lessons/\d+$",
    "quiz": r"/quizzes/\d+$",
    "exercise": r"/exercises/\d+$",
    "review": r"/exercises/submissions/\d+$",
    "campaign": r"/advocacy/campaigns/\d+$",
    "calendar-item": r"/advocacy/calendar/items/\d+$",
    "calendar-feed": r"/advocacy/calendar/feed$",
    "proposals-review": r"/advocacy/proposals/review$",
    "to-share-item": r"/advocacy/to-share/\d+$",
    "survey-answer": r"/surveys/answer/\d+$",
    "survey-results": r"/surveys/\d+/results$",
    "program-surveys": r"/programs/\d+/surveys$",
    # The learner's dashboard links to the charter; the staff's charter pages link to managing.
    "charter": r"/charter$",
    "charter-manage": r"/charter/manage$",
    "timeline": r"/timeline$",
    "certificate": r"/certificates/\d+$",
    "job": r"/jobs/\d+$",
}


def page_name(path: str) -> str:
    """``/o/demo/skills/map`` → ``skills-map``: a file name for the page's screenshot."""
    rest = path.removeprefix(f"/o/{DEMO_SLUG}").strip("/")
    return re.sub(r"[^a-z0-9]+", "-", rest.lower()).strip("-") or "dashboard"


HREF = re.compile(r'<a [^>]*href="(/[^"]*)"')


def _hrefs(get: Callable[[str], str], path: str, within: str = "") -> list[str]:
    """The site links of ``path``'s HTML (``get`` returns a page's HTML), after the first
    occurrence of ``within`` when given."""
    html = get(path)
    if within:
        html = html[html.find(within):] if within in html else ""
    return [link.replace("&amp;", "&") for link in HREF.findall(html)]


def menu_pages(get: Callable[[str], str]) -> dict[str, str]:
    """A role's pages, by name (:func:`page_name`): the menu's entries, their tabs, and one
    detail page of each kind they link to (:data:`DETAILS`). ``get`` returns a page's HTML as
    the logged-in role (a browser's request, or the test client)."""
    dashboard = f"/o/{DEMO_SLUG}/"
    html = get(dashboard)
    menu = re.search(r'<nav id="main-nav".*?</nav>', html, re.S)
    found: dict[str, str] = {}
    for path in HREF.findall(menu.group(0) if menu else ""):
        tabs = re.search(r'<nav class="subnav".*?</nav>', get(path), re.S)
        for link in [path, *HREF.findall(tabs.group(0) if tabs else "")]:
            found.setdefault(page_name(link), link.split("?")[0])
    details: dict[str, str] = {}
    for path in list(found.values()):
        for link in _hrefs(get, path, within='<main'):
            link = link.split("#")[0].split("?")[0]
            for kind, shape in DETAILS.items():
                if kind not in details and re.search(shape, link) and link.startswith("/o/"):
                    details[kind] = link
    return {**found, **details}


@dataclass
class Page:
    """A rendered page: its path and the text a person sees (text nodes and labels)."""

    path: str
    html: str
    texts: list[str] = field(default_factory=list)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # A textarea holds what people typed (the charter's English text…), not Relais' words.
        if tag in ("script", "style", "code", "pre", "template", "textarea"):
            self._hidden += 1
        values = dict(attrs)
        for name in VISIBLE_ATTRIBUTES:
            if values.get(name):
                self.texts.append(values[name] or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "pre", "template", "textarea") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data)


def parse(path: str, html: str) -> tuple[Page, list[str]]:
    """The page's visible texts and the links it holds."""
    parser = _Text()
    parser.feed(html)
    return Page(path, html, parser.texts), parser.links


def login(client: FlaskClient, role: str) -> None:
    """Log the test client in as the demo person of ``role``."""
    client.get("/logout")
    response = client.post("/login", data={"email": ROLES[role], "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def shape(path: str) -> str:
    """``/o/demo/cohorts/12/enrolments/<uuid>`` → ``/o/demo/cohorts/#/enrolments/#``."""
    return re.sub(r"/(\d+|[0-9a-f-]{32,36})(?=/|$)", "/#", path)


def crawl(client: FlaskClient, *, start: str | None = None, limit: int = 200,
          per_shape: int = 2) -> Iterator[Page]:
    """Yield the pages reachable from ``start`` (the dashboard) for the logged-in client."""
    start = start or f"/o/{DEMO_SLUG}/"
    queue, seen, shapes = deque([start]), {start}, {}  # type: ignore[var-annotated]
    count = 0
    while queue and count < limit:
        path = queue.popleft()
        response = client.get(path)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        count += 1
        page, links = parse(path, response.get_data(as_text=True))
        yield page
        for link in links:
            target, _ = urldefrag(link)
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            target = parts.path
            if target in seen or SKIP.search(target):
                continue
            seen.add(target)
            key = shape(target)
            if shapes.get(key, 0) >= per_shape:
                continue
            shapes[key] = shapes.get(key, 0) + 1
            queue.append(target)
