"""The accessibility crawl (tests/browser/crawl.py) in French on a phone screen: menu and detail
pages (colour contrast is checked on desktop: the colours are the same at every width)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.crawl import crawl

try:
    from playwright.sync_api import Browser
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser


def test_every_page_in_french_on_a_phone_is_accessible_and_fits(
        browser: Browser, live_server: str, axe_script: Path) -> None:
    crawl(browser, live_server, axe_script, lang="fr", screen="phone", details=True,
          contrast=False)
