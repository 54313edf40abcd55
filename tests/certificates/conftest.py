"""Fixtures for certificates: an organization with a trainer, HR, learners enrolled in the
six-week path, and a helper completing an enrolment through statements (the real path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from lms.accounts.models import Membership, Organization, User
from lms.courses import statements as xs
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.models import Program
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.extensions import db
from lms.xapi.builders import agent_for_user
from lms.xapi.record import record

PATH = "parcours-ambassadeurs-6-semaines"


@dataclass
class CertWorld:
    org: Organization
    trainer: User
    hr: User
    learners: list[User]
    program: Program
    cohort: Cohort
    enrollments: list[Enrollment] = field(default_factory=list)

    def member(self, user: User) -> Membership:
        return next(m for m in user.memberships if m.organization_id == self.org.id)

    def complete(self, enrollment: Enrollment) -> None:
        """Complete every required module by statements, as an external package would."""
        user = enrollment.membership.user
        record([{"actor": agent_for_user(user),
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                 "object": {"id": xs.iri("module", m.id)},
                 "context": {"registration": enrollment.id}}
                for m in self.program.modules if m.required], organization_id=self.org.id)
        db.session.commit()


@pytest.fixture()
def cert_world(create_org: Any, create_user: Any) -> CertWorld:
    load_catalogue()
    org = create_org(slug="acme", name="Acme Formation")
    trainer = create_user("trainer", org=org, name="Tess Trainer")
    hr = create_user("hr", org=org, name="Harry HR")
    learners = [create_user("learner", org=org, name=f"Learner {i}") for i in range(3)]
    program = copy_from_catalogue(organization=org, slug=PATH)
    w = CertWorld(org, trainer, hr, learners, program, None)  # type: ignore[arg-type]
    w.cohort = create_cohort(program=program, name="Pilot group", pilot=True,
                             starts_on=date(2026, 10, 1),
                             trainers=[w.member(trainer)])
    w.enrollments = [enrol(cohort=w.cohort, membership=w.member(u)) for u in learners]
    db.session.commit()
    return w
