"""Fixtures for blended programs: an organization with a trainer, learners and the six-week
path copied from the catalogue, with a pilot cohort."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from lms.accounts.models import Membership, Organization, User
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.models import Module, Program
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.extensions import db

PATH = "parcours-ambassadeurs-6-semaines"


@dataclass
class World:
    org: Organization
    trainer: User
    learners: list[User]
    program: Program
    cohort: Cohort
    enrollments: list[Enrollment] = field(default_factory=list)

    def member(self, user: User) -> Membership:
        return next(m for m in user.memberships if m.organization_id == self.org.id)

    def module(self, key: str) -> Module:
        return next(m for m in self.program.modules if m.key == key)


@pytest.fixture()
def world(create_org: Any, create_user: Any) -> World:
    load_catalogue()
    org = create_org(slug="acme")
    trainer = create_user("trainer", org=org, name="Tess Trainer")
    learners = [create_user("learner", org=org, name=f"Learner {i}", team="Sales")
                for i in range(4)]
    program = copy_from_catalogue(organization=org, slug=PATH)
    w = World(org, trainer, learners, program, None)  # type: ignore[arg-type]
    w.cohort = create_cohort(program=program, name="Pilot", pilot=True,
                             starts_on=at(1, 0).date(), trainers=[w.member(trainer)])
    db.session.commit()
    return w


@pytest.fixture()
def enrolled(world: World) -> World:
    world.enrollments = [enrol(cohort=world.cohort, membership=world.member(u))
                         for u in world.learners]
    db.session.commit()
    return world


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC datetime in December 2026."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


# The fixtures date the pilot cohort and its sessions in December 2026 (``at``), so these tests
# run on a clock set eleven days before the cohort starts, and ticking: "upcoming", "past", "due"
# and "overdue" mean the same whatever day the suite runs.
NOW = at(1, 9) - timedelta(days=11)


@pytest.fixture(autouse=True)
def _dated_clock() -> Any:
    """Set the clock to ``NOW`` for each test in this folder (ticking from there)."""
    with time_machine.travel(NOW, tick=True):
        yield
