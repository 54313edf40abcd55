"""Take the documentation's screenshots from the demo: the learner's and the HR dashboards.

    .venv/bin/python scripts/docs_screenshots.py [OUT_DIR]     (default: docs/img)

Loads the demo into a throw-away SQLite database, serves the app from a thread and drives the
system's Chromium (``RELAIS_CHROMIUM`` to choose another). The demo accounts read French; the
screenshots are taken in English for the English documentation, and in French beside them.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from tests.browser.conftest import chromium_path  # noqa: E402

# (file name, demo account, page)
SHOTS = [
    ("learner-dashboard", "hugo.bernard@maison-lumiere.example", "/o/demo/"),
    ("hr-dashboard", "rh@maison-lumiere.example", "/o/demo/"),
]
VIEWPORT = {"width": 1280, "height": 860}


def _build_app(tmp: str):  # type: ignore[no-untyped-def]
    os.environ["RELAIS_INSTANCE_PATH"] = tmp
    from lms import create_app
    from lms.cli import upgrade_database
    from lms.content import load_builtin_content
    from lms.demo import load_demo
    from lms.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/docs.db",
                      "SECRET_KEY": "docs screenshots", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade_database()
        load_builtin_content()
        load_demo()
        db.session.commit()
    return app


def _set_locale(app, locale: str) -> None:  # type: ignore[no-untyped-def]
    from lms.accounts.models import User
    from lms.extensions import db

    with app.app_context():
        for user in db.session.scalars(db.select(User)):
            user.locale = locale
        db.session.commit()


def main(out: Path) -> None:
    """Write ``<name>.png`` (English) and ``<name>-fr.png`` for each page in ``SHOTS``."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = _build_app(tmp)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage"])
            for locale, suffix in (("en", ""), ("fr", "-fr")):
                _set_locale(app, locale)
                for name, email, path in SHOTS:
                    context = browser.new_context(base_url=base, viewport=VIEWPORT,
                                                  device_scale_factor=1)
                    page = context.new_page()
                    page.goto("/login")
                    page.fill("input[name=email]", email)
                    page.fill("input[name=password]", "relais-demo")
                    page.click("[type=submit]")
                    page.wait_for_load_state()
                    page.goto(path)
                    page.screenshot(path=out / f"{name}{suffix}.png")
                    context.close()
            browser.close()
        server.shutdown()
        with app.app_context():
            from lms.extensions import db

            db.engine.dispose()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "img"))
