"""The accessibility crawl: every page of the menu, for every role of the demo, in French and
English, on a desktop and a phone screen: axe-core finds no serious or critical accessibility
problem and no page is wider than the screen. Screenshots of every page are saved for people to
look at. Each pass (language and screen) is a test file of its own (``test_crawl_*.py``), so the
parallel test workers share the passes out.

What is visited, per role (learner, trainer, HR, admin — the demo's people, as the French
typography and pseudo-locale crawls use) and the login page:

- every entry of the main menu and every tab of its groups (the sub-menu);
- one page of each kind the menu pages link to that people open all day (a cohort, a session, a
  program, a follow-up, skill results, a learner's program, a cohort's proof of impact and
  the ROI settings…), the first such link found.

French is crawled at 1366×900 and 390×844; English at 1366×900, its menu pages only, so the run
stays within a few minutes (the languages share every template, and the phone layout is the same
in both). axe checks colour contrast on desktop only: the colours are the same at every width and
contrast is its slowest rule. In English it checks only what the language changes, the page's
declared language (``LANGUAGE_RULES``): names, labels, roles and colours come from the templates
the French passes check, and English text is never empty (it is the source text): the full set
of rules found nothing more there and took a quarter of that test's time (25.5 s → 19.2 s).

axe-core is not a Python package: ``.ci/run`` installs it from the npm registry
(``npm install --no-save --prefix .ci/npm axe-core@4``) and this test reads ``$RELAIS_AXE_CORE``
(the path of ``axe.min.js``), else ``.ci/npm/node_modules/axe-core/axe.min.js``.
Without it the tests skip with that command, or fail when ``CI`` is set, as the other browser
tests do without Chromium. Screenshots go to ``$RELAIS_SCREENSHOT_DIR``, else
``bench/out/crawl`` (git-ignored): ``<role>-<page>-<lang>-<width>.png``; with ``CI`` set and no
``$RELAIS_SCREENSHOT_DIR``, none are taken.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lms.accounts.models import User
from lms.demo import DEMO_PASSWORD, DEMO_SLUG
from lms.extensions import db
from tests.browser.screenshots import log_in, shoot
from tests.i18n_crawl import DETAILS, ROLES, menu_pages
from tests.support import in_ci, load_demo_once

try:
    from playwright.sync_api import Browser, Page
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

ROOT = Path(__file__).resolve().parents[2]
SCREENS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
SERIOUS = ("serious", "critical")
# axe's rules about the language a page declares: the only ones a translation can change.
LANGUAGE_RULES = ("html-has-lang", "html-lang-valid", "html-xml-lang-mismatch", "valid-lang")


def _screenshot_dir() -> Path | None:
    """Where to save the pages' screenshots: ``$RELAIS_SCREENSHOT_DIR``; none under CI unless
    it is set (nobody opens them there, and a full-page PNG of every page cost a fifth of the
    crawl's time), else ``bench/out/crawl``."""
    folder = os.environ.get("RELAIS_SCREENSHOT_DIR")
    if folder:
        return Path(folder)
    if in_ci():
        return None
    return ROOT / "bench/out/crawl"


def _set_language(code: str) -> None:
    """The demo's people read ``code`` (the demo gives them French)."""
    for user in db.session.scalars(select(User)):
        user.locale = code
    db.session.commit()


def _check(page: Page, axe: str | None, where: str, contrast: bool = True,
           rules: tuple[str, ...] | None = None) -> list[str]:
    """The problems of the page on screen: serious axe violations (unless ``axe``, axe-core's
    script, is None: a check of the layout only; only ``rules`` when given), sideways
    scrolling."""
    problems = []
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(el => !el.closest('.table-wrap, pre, .scroll'))
            .slice(0, 3).map(el => el.tagName.toLowerCase()
                 + (el.className ? '.' + el.className : '')
                 + ' ' + Math.round(el.getBoundingClientRect().right) + 'px')""")
        problems.append(f"{where}: {width[0]} px wide on a {width[1]} px screen "
                        f"({', '.join(wide)})")
    if axe is None:
        return problems
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(content=axe)
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if rules is not None:
        options["runOnly"] = {"type": "rule", "values": list(rules)}
    else:
        options["rules"] = {"color-contrast": {"enabled": contrast}}
    result: dict[str, Any] = page.evaluate("options => axe.run(document, options)", options)
    for violation in result["violations"]:
        if violation["impact"] in SERIOUS:
            targets = "; ".join(" ".join(n["target"]) if isinstance(n["target"][0], str)
                                else str(n["target"]) for n in violation["nodes"][:3])
            problems.append(f"{where}: axe {violation['impact']} {violation['id']} "
                            f"({len(violation['nodes'])}×: {targets})")
    return problems


def crawl(browser: Browser, base_url: str, axe_script: Path, *, lang: str, screen: str,
          details: bool, contrast: bool, rules: tuple[str, ...] | None = None) -> None:
    """One pass: log in as each role of the demo in ``lang`` on ``screen`` and check every menu
    page (and, with ``details``, one detail page of each kind); fail with every problem found.

    :param contrast: whether axe checks colour contrast (its slowest rule; the colours are the
        same at every width, so desktop passes check it).
    :param rules: only these axe rules (``contrast`` then does not apply); None: all of them.
    """
    load_demo_once()
    _set_language(lang)
    axe = axe_script.read_text()
    shots = _screenshot_dir()
    problems: list[str] = []
    visited = 0
    seen: set[str] = set()  # a page reached by several roles is checked with the first
    context = browser.new_context(
        base_url=base_url, viewport=SCREENS[screen], device_scale_factor=1,
        is_mobile=screen == "phone", has_touch=screen == "phone",
        locale="fr-FR" if lang == "fr" else "en-GB",
        bypass_csp=True)  # axe is injected as an inline script, which the CSP forbids
    try:
        page = context.new_page()
        page.goto("/login")
        problems += _check(page, axe, f"login ({lang}, {screen})", contrast, rules)
        if shots:
            shoot(page, shots, f"login-{lang}-{screen}")
        for role, email in ROLES.items():
            context.clear_cookies()
            log_in(page, email, DEMO_PASSWORD)
            assert f"/o/{DEMO_SLUG}/" in page.url, f"{role} could not log in: {page.url}"
            pages = {name: path for name, path in menu_pages(
                         lambda path: page.request.get(path).text()).items()
                     if (path not in seen or name == "dashboard")
                     and (details or name not in DETAILS)}
            seen.update(pages.values())
            for name, path in pages.items():
                response = page.goto(path)
                assert response is not None and response.ok, f"{role} {path}: {response}"
                problems += _check(page, axe, f"{role} {path} ({lang}, {screen})", contrast,
                                   rules)
                if shots:
                    shoot(page, shots, f"{role}-{name}-{lang}-{screen}")
                visited += 1
    finally:
        context.close()
    if shots:
        (shots / f"problems-{lang}-{screen}.txt").write_text("\n".join(problems) + "\n")
    # The demo's four roles reach about 30 menu pages between them, and details add about 15.
    assert visited >= (40 if details else 25), f"only {visited} pages visited"
    assert not problems, f"{len(problems)} problems in {visited} pages:\n" + "\n".join(problems)
