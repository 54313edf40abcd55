"""The accessibility crawl (tests/browser/crawl.py) in French on a desktop screen: menu and
detail pages, colour contrast included. (On PostgreSQL, tests/test_pages_answer.py checks that
the same pages answer.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.crawl import crawl

try:
    from playwright.sync_api import Browser
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser


def test_every_page_in_french_on_a_desktop_is_accessible_and_fits(
        browser: Browser, live_server: str, axe_script: Path) -> None:
    crawl(browser, live_server, axe_script, lang="fr", screen="desktop", details=True,
          contrast=True)
