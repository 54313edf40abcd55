"""Take screenshots of the main pages, desktop and phone, in English and French, to look at them.

    .venv/bin/python -m tests.browser.screenshots [OUT_DIR]     (default: bench/out/screenshots)

Builds a throw-away SQLite database with a small organization, serves the app from a thread and
drives the system's Chromium. Not a test: a tool for people reviewing the look of the pages.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

from flask import url_for
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from tests.browser.conftest import chromium_path

PASSWORD = "screenshots password"
WIDTHS = {"desktop": 1280, "phone": 390}


def _build_app(tmp: str):  # type: ignore[no-untyped-def]
    os.environ["RELAIS_INSTANCE_PATH"] = tmp
    from lms import create_app
    from lms.accounts import services
    from lms.accounts.models import Role
    from lms.cli import upgrade_database
    from lms.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shots.db",
                      "SECRET_KEY": "screenshots", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade_database()
        from lms.content import load_builtin_content

        load_builtin_content()
        org = services.create_organization(slug="atelier-dupont", name="Atelier Dupont & Fils")
        other = services.create_organization(slug="beta", name="Beta Industries")
        trainer = services.create_user(email="claire.martin@example.com",
                                       display_name="Claire Martin", password=PASSWORD)
        services.add_member(organization=org, user=trainer, role=Role.TRAINER)
        services.add_member(organization=other, user=trainer, role=Role.LEARNER)
        admin = services.create_user(email="admin@example.com", display_name="Alex Admin",
                                     password=PASSWORD)
        services.add_member(organization=org, user=admin, role=Role.ADMIN)
        learner = services.create_user(email="nina@example.com", display_name="Nina Nouvelle",
                                       password=PASSWORD)
        services.add_member(organization=org, user=learner, role=Role.LEARNER, team="Ventes")
        for n, name in enumerate(["Camille Durand", "Jean-Baptiste Lefèvre-Rousseau",
                                  "Sophie Bernard", "Marc Petit"]):
            user = services.create_user(email=f"person{n}@example.com", display_name=name)
            services.add_member(organization=org, user=user,
                                role=Role.HR if n == 3 else Role.LEARNER,
                                team="Marketing" if n % 2 else None)
        services.invite(organization=org, email="pending@example.com", role=Role.LEARNER,
                        invited_by=trainer)
        services.issue_api_token(user=admin, name="HR sync")
        db.session.commit()
    return app


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log ``page``'s context in through the login form (shared with the crawl test)."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main [type=submit]")
    page.wait_for_load_state()


def shoot(page: Page, folder: Path, name: str) -> Path:
    """Save a full-page screenshot of ``page`` as ``folder/name.png``; the file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = _build_app(tmp)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        pages = {
            "dashboard": ("claire.martin@example.com", "/o/atelier-dupont/"),
            "members": ("admin@example.com", "/o/atelier-dupont/members"),
            "account": ("claire.martin@example.com", "/account"),
            "tokens": ("admin@example.com", "/account/tokens"),
            "learner-dashboard": ("nina@example.com", "/o/atelier-dupont/"),
            "forbidden": ("nina@example.com", "/o/atelier-dupont/members"),
            "not-found": ("nina@example.com", "/o/nowhere/"),
        }
        # Pages of other modules, when present: one stylesheet serves them all.
        extra = {
            "skills-mine": ("nina@example.com", "skills.mine"),
            "skills-map": ("admin@example.com", "skills.team_map"),
            "questionnaires": ("admin@example.com", "skills.questionnaires"),
            "my-training": ("nina@example.com", "courses.my_training"),
            "programs": ("claire.martin@example.com", "courses.programs"),
            "cohorts": ("claire.martin@example.com", "courses.cohorts"),
            "jobs": ("admin@example.com", "jobs.jobs"),
            "import-members": ("admin@example.com", "jobs.import_members"),
            "statements": ("admin@example.com", "xapi_viewer.statements"),
            "lrs-forwarding": ("admin@example.com", "xapi_forwarding.settings"),
        }
        endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
        with app.test_request_context():
            pages.update({name: (email, url_for(endpoint, org_slug="atelier-dupont"))
                          for name, (email, endpoint) in extra.items() if endpoint in endpoints})
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            for lang in ("en", "fr"):
                for device, width in WIDTHS.items():
                    context = browser.new_context(
                        base_url=base, locale="fr-FR" if lang == "fr" else "en-GB",
                        viewport={"width": width, "height": 900},
                        device_scale_factor=1, is_mobile=device == "phone",
                        has_touch=device == "phone")
                    page = context.new_page()
                    page.goto("/login")
                    shoot(page, out, f"login-{lang}-{device}")
                    current = None
                    for name, (email, path) in pages.items():
                        if email != current:
                            context.clear_cookies()
                            log_in(page, email)
                            current = email
                        page.goto(path)
                        shoot(page, out, f"{name}-{lang}-{device}")
                    context.close()
            browser.close()
        server.shutdown()
        with app.app_context():
            from lms.extensions import db

            db.engine.dispose()
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out/screenshots"))
