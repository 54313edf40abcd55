"""Privacy fixtures: the demo organization, and its learner Camille Martin given every kind of
personal data Relais holds (the demo gives her statements, answers, a hand-in, an AFEST
journal, advocacy events, a consent and a certificate; a coaching follow-up with notes and an
action item, a State document, an API token and a launch credential are added here)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Membership, Organization, Role, User
from lms.coaching import services as coaching
from lms.core.models import utcnow
from lms.courses.cohorts.models import Enrollment
from lms.demo import DEMO_PASSWORD
from lms.extensions import db
from lms.xapi import documents
from lms.xapi.agents import agent_key
from lms.xapi.builders import agent_for_user
from lms.xapi.services import create_lrs_credentials
from tests.support import load_demo_once

EMAIL = "camille.martin@maison-lumiere.example"
NAME = "Camille Martin"
COACHING_NOTE = "Camille veut publier chaque semaine"


@dataclass
class Demo:
    org: Organization
    user: User
    membership: Membership
    enrollment: Enrollment
    password: str = DEMO_PASSWORD

    @property
    def sha1(self) -> str:
        return hashlib.sha1(f"mailto:{EMAIL}".encode()).hexdigest()


@pytest.fixture()
def demo() -> Demo:
    load_demo_once()
    org = db.session.scalar(select(Organization).where(Organization.slug == "demo"))
    user = accounts.find_user(EMAIL)
    assert org is not None and user is not None
    membership = db.session.scalar(select(Membership).where(
        Membership.organization_id == org.id, Membership.user_id == user.id))
    # Her enrolment in a program with a coaching module (she may have several enrolments).
    enrollment, module = next(
        (e, m) for e in db.session.scalars(select(Enrollment).where(
            Enrollment.membership_id == membership.id).order_by(Enrollment.enrolled_at))
        for m in e.cohort.program.modules if m.kind == "coaching")
    coach = db.session.scalar(select(Membership).where(
        Membership.organization_id == org.id, Membership.role == Role.TRAINER))
    followup = coaching.schedule(enrollment=enrollment, module=module, coach=coach,
                                 scheduled_at=utcnow() - timedelta(days=1), place="Salle 2")
    coaching.record_held(followup=followup, notes=f"{COACHING_NOTE} ({NAME})",
                         actions=[(f"{NAME}: un post par semaine",
                                   utcnow().date() + timedelta(days=7))])
    key = agent_key(agent_for_user(user))
    documents.put_document(organization_id=org.id,
                           scope=documents.Scope(kind="state", activity_id="https://x.example/a",
                                                 agent_key=key),
                           document_id="bookmark", content=f'{{"who": "{NAME}"}}'.encode(),
                           content_type="application/json",
                           preconditions=documents.Preconditions(),
                           require_precondition=False)
    accounts.issue_api_token(user=user, name="mine")
    # What a package launch issues: a credential limited to her agent.
    create_lrs_credentials(organization=org, label="launch",
                           expires_at=utcnow() + timedelta(hours=1),
                           scope_agent=json.dumps(agent_for_user(user)),
                           scope_registration=enrollment.id)
    db.session.commit()
    return Demo(org=org, user=user, membership=membership, enrollment=enrollment)
