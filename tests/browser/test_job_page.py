"""The job page in a real browser: the progress bar moves without reloading, then the result.

Chromium through Playwright, set up by tests/browser/conftest.py (its page opens the URL of the
server below, which runs the embedded job runner).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from lms.accounts.models import Role
from lms.extensions import db
from lms.jobs import services
from lms.jobs.runner import start_background
from tests.support import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture()
def served(app: Flask) -> Iterator[str]:
    """The app on a free port, with the embedded job runner as `relais serve` has it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["JOBS_POLL_SECONDS"] = 0.2
    loop = start_background(app, run_jobs=True)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        loop.stop()
        app.config["JOBS_POLL_SECONDS"] = 2
        server.shutdown()
        thread.join(10)
        server.server_close()


def test_the_progress_bar_moves_live_and_the_result_appears(served, page, create_user,
                                                             create_org):
    org = create_org()
    hr = create_user(Role.HR, org=org)
    page.goto(f"{served}/login")
    page.fill("input[name=email]", hr.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{served}/o/**")

    job = services.enqueue(kind="jobs.selftest", organization=org, created_by=hr,
                           params={"steps": 8, "seconds": 0.4}, total=8)
    db.session.commit()
    page.goto(f"{served}/o/{org.slug}/jobs/{job.id}")
    bar = page.locator("#job-progress")
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    # Values strictly between start and end arrive by the page's polling, with no reload.
    page.wait_for_function(
        "() => { const b = document.getElementById('job-progress');"
        " return b.value > 0 && b.value < 8; }", timeout=30000)
    assert page.evaluate("window.sameDocument === true")
    page.wait_for_function(
        "() => document.getElementById('job-state').dataset.state === 'succeeded'",
        timeout=30000)
    page.wait_for_load_state()
    assert bar.get_attribute("value") == "8"
    assert "8 steps done." in page.inner_text("#job-message")
