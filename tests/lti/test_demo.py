"""The demo registers the academy's Moodle, and its page shows what to enter in Moodle."""

from __future__ import annotations

from lms.accounts.models import Organization
from lms.demo import DEMO_PASSWORD
from lms.extensions import db
from lms.lti import services
from tests.support import load_demo_once


def test_demo_registers_a_moodle_platform(client):
    load_demo_once()
    org = db.session.scalar(db.select(Organization).where(Organization.slug == "demo"))
    [moodle] = services.platforms_of(org)
    assert moodle.auth_login_url.endswith("/mod/lti/auth.php") and moodle.deployment_ids
    client.post("/login", data={"email": "admin@maison-lumiere.example",
                                "password": DEMO_PASSWORD})
    page = client.get(f"/o/demo/settings/lti/{moodle.id}").get_data(as_text=True)
    assert "Moodle de l&#39;Académie Maison Lumière" in page or "Moodle de l'Acad" in page
    assert "/lti/jwks" in page and "/lti/login" in page
