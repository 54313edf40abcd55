"""Chromium: an LMS (the test LTI 1.3 platform) launches a Relais module for a learner, who
completes it; the platform's grade book receives the score."""

from __future__ import annotations

import re

import pytest

from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.extensions import db
from lms.jobs.runner import run_available
from lms.lti import services
from tests.lti.platform import LEARNER, running_platform

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser


def test_an_lms_launches_a_module_and_receives_the_score(live_server: str, page: Page,
                                                         create_org) -> None:
    org = create_org(slug="acme-lms", name="Acme LMS")
    load_catalogue()
    program = copy_from_catalogue(organization=org,
                                          slug="parcours-ambassadeurs-6-semaines")
    module = next(m for m in program.modules if m.key == "profil")
    with running_platform() as platform:
        platform.tool_login_url = f"{live_server}/lti/login"
        platform.tool_launch_url = f"{live_server}/lti/launch"
        platform.tool_jwks_url = f"{live_server}/lti/jwks"
        services.save_platform(
            organization=org, name="Moodle Acme", issuer=platform.issuer,
            client_id=platform.client_id, deployment_ids=platform.deployment_id,
            auth_login_url=f"{platform.issuer}/auth", auth_token_url=f"{platform.issuer}/token",
            jwks_url=f"{platform.issuer}/jwks")
        db.session.commit()
        platform.add_user("lea-sub", "lea@acme-lms.example", "Léa Learner", LEARNER)
        platform.add_link("link-1", "Votre profil", {"relais_module": str(module.id)})

        # The learner clicks the link in her course: the platform's page posts itself to
        # Relais, which sends her through the platform's login and back into the module.
        page.goto(f"{platform.issuer}/launch?user=lea-sub&link=link-1")
        training = re.escape(f"{live_server}/o/acme-lms/training/") + "[0-9a-f-]{36}"
        expect(page).to_have_url(re.compile(f"{training}/lessons/{module.lessons[0].id}$"))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        for _lesson in module.lessons:
            page.get_by_role("button", name="Mark as read and continue").click()
        expect(page).to_have_url(re.compile(f"{training}/quizzes/{module.quizzes[0].id}$"))
        for name, value in (("q-titre", "b"), ("q-photo", "a"), ("q-resume", "a"),
                            ("q-resume", "b")):
            page.locator(f'input[name="{name}"][value="{value}"]').check()
        page.get_by_role("button", name="Submit my answers").click()
        expect(page.get_by_text("100", exact=False).first).to_be_visible()

        # A worker sends the result: the platform's grade book has it.
        db.session.commit()
        assert run_available(10) == 1
        [score] = platform.scores("link-1")
    assert score["userId"] == "lea-sub" and score["scoreGiven"] == 100
    assert score["activityProgress"] == "Completed"
    assert score["gradingProgress"] == "FullyGraded"
