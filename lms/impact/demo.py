"""Demo data for the proof of impact: a second wave still to be trained, colleagues never
enrolled, their activity over the same eight weeks as the pilot's, and the organization's
outcome values and costs.

The colleagues share now and then before and after the pilot's kick-off, a little more after it
(the launch campaign reached everyone): the estimate against them is smaller than the pilot's
raw before/after change, which is the point of a comparison group.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.advocacy import services as advocacy
from lms.advocacy.impact import training_date
from lms.core.models import utcnow
from lms.courses.cohorts.models import Cohort
from lms.courses.cohorts.services import create_cohort, enrol
from lms.demo import DEMO_PASSWORD
from lms.extensions import db
from lms.impact import services

# (first name, last name, team, job family): the second wave, then colleagues never enrolled.
WAVE_2 = [("Sarah", "Lefebvre", "Ventes PME"), ("Maxime", "Moreau", "Ventes PME"),
          ("Julie", "Girard", "Ventes Grands Comptes"), ("Thomas", "André", "Marketing"),
          ("Emma", "Mercier", "Marketing"), ("Antoine", "Dupont", "Recrutement"),
          ("Clara", "Lambert", "Ventes PME"), ("Paul", "Bonnet", "Direction régionale"),
          ("Inès", "François", "Ventes Grands Comptes"), ("Louis", "Martinez", "Marketing")]
NEVER = [("Zoé", "Legrand", "Service client"), ("Hugo", "Garnier", "Logistique"),
         ("Alice", "Faure", "Service client"), ("Arthur", "Rousseau", "Finance"),
         ("Lina", "Blanc", "Logistique"), ("Gabriel", "Guerin", "Finance"),
         ("Eva", "Muller", "Service client"), ("Raphaël", "Henry", "Logistique")]
# Shares per person per week before and after the pilot's kick-off, for the colleagues.
RATE_BEFORE, RATE_AFTER = 0.35, 0.5
SETTINGS = {"currency": "EUR",
            "outcome_values": {"clicks": "0.80", "signups": "25", "leads": "150",
                               "hires": "4000"},
            "trainer_day_rate": "1200", "extra_trainer_days": "1",
            "learner_hourly_cost": "45", "tools_cost_per_learner": "30"}


def _email(first: str, last: str) -> str:
    plain = (first + "." + last).lower()
    for accented, letter in (("é", "e"), ("è", "e"), ("ë", "e"), ("ç", "c"), ("ï", "i")):
        plain = plain.replace(accented, letter)
    return f"{plain}@maison-lumiere.example"


def demo_step(people: Any) -> None:
    """Add the second wave, the never-enrolled colleagues, their activity and the ROI inputs."""
    org = people.organization
    now = utcnow()
    pilot = db.session.scalar(select(Cohort).where(
        Cohort.organization_id == org.id, Cohort.pilot.is_(True)).order_by(Cohort.id))
    colleagues = []
    for group in (WAVE_2, NEVER):
        for first, last, team in group:
            membership = accounts.provision_member(
                organization=org, email=_email(first, last), role=Role.LEARNER,
                display_name=f"{first} {last}", team=team, locale="fr").membership
            accounts.set_password(membership.user, DEMO_PASSWORD, check=False)
            colleagues.append(membership)
    if pilot is not None:
        wave = create_cohort(program=pilot.program, name="Vague 2 — hiver",
                             starts_on=(now + timedelta(days=21)).date(),
                             ends_on=(now + timedelta(days=63)).date(),
                             trainers=[people.trainer])
        for membership in colleagues[:len(WAVE_2)]:
            enrol(cohort=wave, membership=membership)
    training = training_date(pilot) if pilot is not None else None
    kickoff = training.at if training else now - timedelta(days=14)
    rnd = random.Random(17)
    events = []
    for membership in colleagues:
        advocacy.give_consent(organization=org, user=membership.user)
        for day in range(1, 57):
            at = now - timedelta(days=day, hours=rnd.uniform(0, 10))
            rate = (RATE_AFTER if at >= kickoff else RATE_BEFORE) / 7
            if rnd.random() >= rate:
                continue
            clicks = rnd.randrange(0, 12)
            events.append(advocacy.normalize_event({
                "network": "linkedin", "kind": "share", "occurred_at": at,
                "url": f"https://www.linkedin.com/feed/update/demo-{membership.id}-{day}",
                "impressions": clicks * 30 + rnd.randrange(20, 200), "clicks": clicks,
                "reactions": rnd.randrange(0, 8), "signups": int(clicks * 0.2),
                "leads": int(rnd.random() < 0.03)}, user_id=membership.user_id,
                source="demo", now=now))
    advocacy.ingest(organization=org, events=events,
                    names={m.user_id: m.user.display_name for m in colleagues})
    services.save_settings(organization=org, data=SETTINGS)
