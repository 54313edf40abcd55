"""In a real browser: a manager sees their team (and only it); a learner volunteers for a pilot
group from their dashboard and the trainer accepts them, which enrols them. Volunteering and
acceptance are statements in the LRS."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Membership, Role
from lms.courses.cohorts.models import Enrollment
from lms.courses.cohorts.services import create_cohort
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.courses.volunteers.services import today
from lms.extensions import db
from lms.xapi.models import Statement

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser team password"
PATH = "parcours-ambassadeurs-6-semaines"


def _log_in(page: Page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agence Relais")


def test_a_manager_sees_their_team_and_a_volunteer_joins_the_pilot(
        live_server: str, page: Page, create_org, create_user) -> None:
    load_catalogue()
    org = create_org(slug="agence-relais", name="Agence Relais")
    trainer = create_user(Role.TRAINER, org=org, name="Claire Formatrice", password=PASSWORD)
    manager = create_user(Role.LEARNER, org=org, name="Marc Manager", password=PASSWORD,
                          team="Direction")
    nina = create_user(Role.LEARNER, org=org, name="Nina Apprenante", password=PASSWORD,
                       team="Ventes", job_family="sales")
    omar = create_user(Role.LEARNER, org=org, name="Omar Autre", password=PASSWORD,
                       team="Marketing")

    def member(user) -> Membership:
        return next(m for m in user.memberships if m.organization_id == org.id)

    accounts.set_manager(membership=member(nina), manager=member(manager))
    program = copy_from_catalogue(organization=org, slug=PATH)
    cohort = create_cohort(program=program, name="Pilote volontaires", pilot=True,
                           trainers=[member(trainer)])
    db.session.commit()

    # --- the manager sees Nina, not Omar -------------------------------------------------------
    _log_in(page, manager.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My team").click()
    expect(page.get_by_role("heading", name="My direct reports")).to_be_visible()
    expect(page.get_by_role("heading", name="Nina Apprenante")).to_be_visible()
    expect(page.get_by_text(omar.display_name)).to_have_count(0)
    expect(page.get_by_text("has not agreed to their activity being collected")).to_be_visible()

    # --- the trainer opens a call for volunteers ---------------------------------------------
    _log_in(page, trainer.email)
    page.goto(f"/o/{org.slug}/cohorts/{cohort.id}")
    page.get_by_role("link", name="Call for volunteers").click()
    page.get_by_label("What the pilot group is about").fill(
        "Testez le parcours avant tout le monde.")
    page.get_by_label("Deadline").fill((today() + timedelta(days=10)).isoformat())
    page.get_by_label("Seats").fill("3")
    page.get_by_role("button", name="Save the call").click()
    expect(page.get_by_text("The call for volunteers is saved.")).to_be_visible()

    # --- Nina volunteers from her dashboard ---------------------------------------------------
    _log_in(page, nina.email)
    expect(page.get_by_text("Testez le parcours avant tout le monde.")).to_be_visible()
    page.get_by_label("A word for the trainer (optional)").fill("Partante pour tester !")
    page.get_by_role("button", name="I volunteer").click()
    expect(page.get_by_text("Thank you for volunteering")).to_be_visible()
    expect(page.get_by_text("You have volunteered")).to_be_visible()

    # --- the trainer sees the diversity and accepts her ---------------------------------------
    _log_in(page, trainer.email)
    page.goto(f"/o/{org.slug}/cohorts/{cohort.id}/volunteers")
    expect(page.get_by_role("heading", name="Diversity of the group")).to_be_visible()
    expect(page.get_by_text("Partante pour tester !")).to_be_visible()
    page.get_by_role("button", name="Accept Nina Apprenante").click()
    expect(page.get_by_text("Nina Apprenante joins the pilot group.")).to_be_visible()

    # --- Nina is in the pilot cohort; the LRS holds each step ---------------------------------
    db.session.expire_all()
    assert db.session.scalar(select(Enrollment.membership_id).where(
        Enrollment.cohort_id == cohort.id)) == member(nina).id
    _log_in(page, nina.email)
    expect(page.get_by_text("You are in the pilot group.")).to_be_visible()
    verbs = [json.loads(data)["verb"]["display"]["en-US"] for data in db.session.scalars(
        select(Statement.data).where(Statement.organization_id == org.id)
        .order_by(Statement.pk))]
    assert verbs[-3:] == ["volunteered", "registered", "accepted"]
    # The manager's look at their team came first.
    assert verbs[0] == "experienced"
    team = json.loads(db.session.scalars(select(Statement.data).where(
        Statement.organization_id == org.id).order_by(Statement.pk)).first())
    assert team["object"]["id"].endswith(f"/xapi/activities/team/{member(manager).id}")
