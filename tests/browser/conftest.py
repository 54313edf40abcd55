"""Real-browser journeys: Chromium driven by Playwright against the app served from a thread.

On a developer's machine without Chromium or Playwright these tests skip with a one-line reason;
when ``CI`` is set they fail instead, so CI cannot pass without really running them.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.support import in_ci, serving


@functools.cache
def chromium_path() -> str | None:
    """Chromium to drive: $RELAIS_CHROMIUM when set (and only it), else the system's."""
    chosen = os.environ.get("RELAIS_CHROMIUM")
    candidates = [chosen] if chosen else [
        "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((path for path in candidates if path and os.access(path, os.X_OK)), None)


@functools.cache
def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
        import pytest_playwright  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "Chromium not found (apt-get install chromium, or set RELAIS_CHROMIUM)"
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Runs before any fixture, so a missing Playwright plugin never shows as a fixture error.
    if item.get_closest_marker("browser") is None:
        return
    reason = missing_browser()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason}; CI is set, so the browser journeys must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": chromium_path(), "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--disable-dev-shm-usage"]}


@pytest.fixture(scope="session")
def live_url(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free local port from a thread; the database is a real file or server,
    so the server's threads see what the test commits."""
    with serving(app, "live-server") as url:
        yield url


@pytest.fixture(scope="session")
def base_url(live_url: str) -> str:
    """pytest-playwright's base URL: ``page.goto("/login")`` goes to the live server."""
    return live_url


@pytest.fixture()
def live_server(app: Flask, live_url: str) -> Iterator[str]:
    """The live server's URL, with CSRF on (as in production) and links pointing at it."""
    saved = {key: app.config[key] for key in ("WTF_CSRF_ENABLED", "BASE_URL")}
    app.config.update(WTF_CSRF_ENABLED=True, BASE_URL=live_url)
    try:
        yield live_url
    finally:
        app.config.update(saved)


@pytest.fixture(scope="module")
def axe_script() -> Path:
    """axe-core's ``axe.min.js`` for the accessibility crawl (tests/browser/crawl.py):
    ``$RELAIS_AXE_CORE``, else where ``.ci/run`` installs it from the npm registry."""
    chosen = os.environ.get("RELAIS_AXE_CORE")
    path = (Path(chosen) if chosen else
            Path(__file__).resolve().parents[2] / ".ci/npm/node_modules/axe-core/axe.min.js")
    if not path.is_file():
        reason = ("axe-core not found: run `npm install --no-save --prefix .ci/npm axe-core@4` "
                  "or set RELAIS_AXE_CORE to the path of axe.min.js")
        if in_ci():
            pytest.fail(f"{reason}; CI is set, so the accessibility crawl must run",
                        pytrace=False)
        pytest.skip(reason)
    return path
