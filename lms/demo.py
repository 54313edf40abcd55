"""The demo organization: a French company, its trainer, HR manager and a pilot group.

Each capability adds its part of the story to ``STEPS`` so ``relais demo`` shows every feature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Membership, Organization, Role
from lms.core.registry import Registry
from lms.extensions import db

DEMO_SLUG = "demo"
DEMO_PASSWORD = "relais-demo"


@dataclass
class DemoPeople:
    """Who is in the demo organization, for later steps to use."""

    organization: Organization
    admin: Membership
    trainer: Membership
    hr: Membership
    learners: list[Membership] = field(default_factory=list)


# (first name, last name, team, job family)
LEARNERS = [
    ("Camille", "Martin", "Ventes Grands Comptes", "sales"),
    ("Hugo", "Bernard", "Ventes Grands Comptes", "sales"),
    ("Léa", "Dubois", "Recrutement", "hr"),
    ("Nathan", "Thomas", "Marketing", "marketing"),
    ("Chloé", "Robert", "Marketing", "marketing"),
    ("Lucas", "Richard", "Direction régionale", "management"),
    ("Manon", "Petit", "Ventes PME", "sales"),
    ("Jules", "Durand", "Recrutement", "hr"),
]

# Later steps (courses, advocacy, certificates…) add a function taking the demo people, in
# order (``STEPS.add(step, after=courses_step)`` when a step needs another's data).
STEPS: Registry[Callable[[DemoPeople], None]] = Registry("demo steps")


def _person(org: Organization, email: str, name: str, role: Role, team: str | None = None,
            job_family: str | None = None) -> Membership:
    result = accounts.provision_member(organization=org, email=email, role=role,
                                       display_name=name, team=team, job_family=job_family,
                                       locale="fr")
    # Unchecked on purpose: the demo's password is published (README, login page of a demo
    # instance) and shorter than the policy wants; it only ever protects made-up people.
    accounts.set_password(result.membership.user, DEMO_PASSWORD, check=False)
    return result.membership


def load_demo(*, reset: bool = False) -> list[tuple[str, str]]:
    """Create the demo organization if it does not exist; returns every (role, e-mail) login,
    sorted by role, the pilot's learners first (the people the demo's story follows), then by
    e-mail.

    :param reset: delete the demo organization first and build it anew.
    """
    org = db.session.scalar(select(Organization).where(Organization.slug == DEMO_SLUG))
    if org is not None and reset:
        db.session.delete(org)
        db.session.flush()
        org = None
    if org is None:
        org = accounts.create_organization(slug=DEMO_SLUG, name="Maison Lumière (démo)")
        people = DemoPeople(
            organization=org,
            admin=_person(org, "admin@maison-lumiere.example", "Inès Admin", Role.ADMIN),
            trainer=_person(org, "formatrice@maison-lumiere.example", "Sophie Formatrice",
                            Role.TRAINER),
            hr=_person(org, "rh@maison-lumiere.example", "Marc Ressources-Humaines", Role.HR),
        )
        for first, last, team, family in LEARNERS:
            email = learner_email(first, last)
            people.learners.append(
                _person(org, email, f"{first} {last}", Role.LEARNER, team, family))
        for step in STEPS:
            step(people)
    pilot = [learner_email(first, last) for first, last, _team, _family in LEARNERS]
    return sorted(
        ((m.role.value, m.user.email) for m in org.memberships),
        key=lambda pair: (list(Role).index(Role(pair[0])),
                          pilot.index(pair[1]) if pair[1] in pilot else len(pilot), pair[1]),
    )


def learner_email(first: str, last: str) -> str:
    """The demo address of one of :data:`LEARNERS`."""
    return f"{first.lower().replace('é', 'e').replace('è', 'e')}.{last.lower()}" \
           "@maison-lumiere.example"
