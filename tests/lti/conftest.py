"""LTI fixtures: Relais served over HTTP on 127.0.0.1 (the platform calls its JWKS), a real LTI
platform beside it (tests/lti/platform.py), and an organization whose program the platform's
course links to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask

from lms.accounts.models import Organization
from lms.courses.programs.models import Module, Program
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.extensions import db
from lms.jobs.runner import run_available
from lms.lti import services
from lms.lti.models import LtiPlatform
from tests.lti.platform import INSTRUCTOR, LEARNER, Platform, running_platform
from tests.support import serving

PATH = "parcours-ambassadeurs-6-semaines"


@pytest.fixture(scope="session")
def relais_url(app: Flask) -> Iterator[str]:
    """Relais on a free local port, from a thread (the platform fetches its JWKS)."""
    with serving(app, "relais-lti") as url:
        yield url


@pytest.fixture(scope="session")
def platform_server() -> Iterator[Platform]:
    with running_platform() as running:
        yield running


@dataclass
class World:
    org: Organization
    program: Program
    module: Module  # the e-learning module "profil": two lessons and a quiz
    registration: LtiPlatform
    platform: Platform
    relais: str


class _Form(HTMLParser):
    """The page's auto-posting form (the platform's, or Relais' ``data-autosubmit`` one): its
    action and hidden fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and self.action is None and (
                "data-autosubmit" in values or values.get("id") == "f"):
            self.action, self._inside = values.get("action") or "", True
        elif tag == "input" and self._inside and values.get("type") == "hidden" \
                and values.get("name"):
            self.fields[str(values["name"])] = values.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def follow(browser: requests.Session, response: requests.Response) -> requests.Response:
    """Do what a browser does with auto-posting pages: post their form, until a page that
    does not post itself (redirects are followed by requests)."""
    for _hop in range(10):
        text = response.text if response.status_code == 200 else ""
        if ".submit()" not in text and "data-autosubmit" not in text:
            return response
        form = _Form()
        form.feed(text)
        response = browser.post(urljoin(response.url, form.action or ""), data=form.fields,
                                timeout=30)
    raise AssertionError("too many auto-posting pages")


def launch(world: World, user: str, link: str = "link-1",
           browser: requests.Session | None = None) -> requests.Response:
    """A person clicks the link in the platform's course; where their browser ends up."""
    browser = browser or requests.Session()
    db.session.commit()  # nothing of the test's may hold the database while Relais answers
    first = browser.get(f"{world.platform.issuer}/launch", params={"user": user, "link": link},
                        timeout=30)
    return follow(browser, first)


def run_jobs() -> int:
    """Run the queued jobs (score posting, roster import) here, as a worker would."""
    db.session.commit()
    return run_available(50)


@pytest.fixture()
def world(app: Flask, relais_url: str, platform_server: Platform, create_org: Any) -> World:
    """An organization whose six-week program the platform's course links to: link-1 opens
    its e-learning module "profil"; Lea is a learner of the course, Ian its instructor."""
    app.config["BASE_URL"] = relais_url
    platform = platform_server
    platform.users.clear()
    platform.links.clear()
    platform.lineitems.clear()
    platform.deep_link_errors.clear()
    platform.token_errors.clear()
    platform.audience, platform.lifetime, platform.foreign_key = None, 300, False
    platform.deployment_override = platform.nonce_override = platform.issuer_override = None
    platform.failing_scores = 0
    platform.tool_login_url = f"{relais_url}/lti/login"
    platform.tool_launch_url = f"{relais_url}/lti/launch"
    platform.tool_jwks_url = f"{relais_url}/lti/jwks"
    load_catalogue()
    org = create_org(slug="acme-lti", name="Acme LTI")
    program = copy_from_catalogue(organization=org, slug=PATH)
    module = next(m for m in program.modules if m.key == "profil")
    registration = services.save_platform(
        organization=org, name="Moodle Acme", issuer=platform.issuer,
        client_id=platform.client_id, deployment_ids=f"{platform.deployment_id}, other-1",
        auth_login_url=f"{platform.issuer}/auth", auth_token_url=f"{platform.issuer}/token",
        jwks_url=f"{platform.issuer}/jwks")
    db.session.commit()
    platform.add_user("lea-sub", "lea@acme-lti.example", "Léa Learner", LEARNER)
    platform.add_user("ian-sub", "ian@acme-lti.example", "Ian Instructor", INSTRUCTOR)
    platform.add_link("link-1", "Votre profil", {"relais_module": str(module.id)})
    return World(org, program, module, registration, platform, relais_url)
