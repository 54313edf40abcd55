"""The accessibility crawl (tests/browser/crawl.py) in English on a desktop screen: the menu pages
(the detail pages share their templates with French), their layout and the language they
declare (the rest of axe's rules check the templates, which the French passes cover)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.crawl import LANGUAGE_RULES, crawl

try:
    from playwright.sync_api import Browser
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser


def test_every_menu_page_in_english_declares_its_language_and_fits(
        browser: Browser, live_server: str, axe_script: Path) -> None:
    crawl(browser, live_server, axe_script, lang="en", screen="desktop", details=False,
          contrast=False, rules=LANGUAGE_RULES)
