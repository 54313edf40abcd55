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
from lms.charter import queries as charter_queries
from lms.charter import services as charter
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
    rnd_days = random.Random(5)
    for group in (WAVE_2, NEVER):
        for first, last, team in group:
            membership = accounts.provision_member(
                organization=org, email=_email(first, last), role=Role.LEARNER,
                display_name=f"{first} {last}", team=team, locale="fr").membership
            accounts.set_password(membership.user, DEMO_PASSWORD, check=False)
            colleagues.append(membership)
            # They joined after version 1 and have accepted the charter in force.
            if charter_queries.current_version(org.id) is not None:
                charter.accept(membership=membership,
                               at=now - timedelta(days=rnd_days.randrange(1, 9)))
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


# The launch announcement as the communication team wrote it: before the training, pilot
# learners pasted it as it was (the "parrot effect" of seed 003); after it, they wrote their own.
SAMPLE_POST = ("Maison Lumière ouvre son nouvel atelier de Lyon ! Venez découvrir nos "
               "luminaires fabriqués en France lors de nos portes ouvertes du mois prochain. "
               "Inscriptions sur notre site.")
# Small additions people make to a pasted text: it stays near-identical.
PASTED_ENDINGS = ("", " #MaisonLumière", " À très vite !", " #Lyon #Fabriqué en France")
OWN_WORDS = (
    "J'ai visité l'atelier de Lyon la semaine dernière : voir nos artisans monter une suspension "
    "en laiton, pièce par pièce, m'a rappelé pourquoi je défends ces produits chez mes clients.",
    "Question aux architectes d'intérieur de mon réseau : qu'attendez-vous d'un fabricant de "
    "luminaires quand vous rénovez un hôtel ? Je prépare les portes ouvertes de Lyon avec vos "
    "réponses.",
    "Trois choses que j'ai apprises en accompagnant un client dans notre atelier : la lumière se "
    "choisit sur place, les délais comptent plus que le prix, et un prototype vaut mille "
    "catalogues.",
    "Recruter à Lyon, c'est aussi montrer où l'on travaille. Nos équipes de l'atelier ouvrent "
    "leurs portes le mois prochain ; si le métier de monteur vous intéresse, écrivez-moi.",
    "Ce qui me frappe chez nos clients hôteliers : ils veulent des luminaires réparables. C'est "
    "exactement ce que l'atelier de Lyon sait faire, et je serai ravie d'en parler sur place.",
    "Mon premier mois à l'atelier en images : les gabarits, les essais de teintes et l'équipe "
    "qui répond à toutes mes questions de commerciale curieuse.",
)


def parrot_step(people: Any) -> None:
    """Post texts for the pilot's learners: pasted copies of the announcement before the
    kick-off, their own words after it (two still paste), so the cohort's impact page and
    each learner's results show the parrot effect receding.
    """
    org = people.organization
    now = utcnow()
    pilot = db.session.scalar(select(Cohort).where(
        Cohort.organization_id == org.id, Cohort.pilot.is_(True)).order_by(Cohort.id))
    training = training_date(pilot) if pilot is not None else None
    if training is None or training.at >= now:
        return
    consenting = [m.user for m in people.learners
                  if advocacy.consent_of(org.id, m.user_id) is not None][:6]
    since = (now - training.at).total_seconds() / 86400
    events = []
    for n, user in enumerate(consenting):
        # Before (the three early adopters, as in the advocacy step): the announcement pasted
        # as it was, as a share without own words.
        if n < 3:
            events.append(advocacy.normalize_event({
                "network": "linkedin", "kind": "share", "occurred_at":
                    training.at - timedelta(days=3 + n), "text": SAMPLE_POST +
                    PASTED_ENDINGS[n % len(PASTED_ENDINGS)],
                "url": "https://www.maison-lumiere.example/portes-ouvertes-lyon",
                "external_id": f"demo-parrot-before-{n}", "impressions": 90 + 10 * n,
                "clicks": 1}, user_id=user.id, source="demo", now=now))
        # After: their own words, a comment on the share; the last two still paste.
        pasted = n >= len(consenting) - 2
        events.append(advocacy.normalize_event({
            "network": "linkedin", "kind": "share", "occurred_at":
                now - timedelta(days=max(0.5, min(since - 0.5, 2 + n))),
            "text": SAMPLE_POST if pasted else OWN_WORDS[n % len(OWN_WORDS)],
            "with_own_comment": not pasted,
            "url": "https://www.maison-lumiere.example/portes-ouvertes-lyon",
            "external_id": f"demo-parrot-after-{n}", "impressions": 260 + 40 * n,
            "clicks": 6 + n}, user_id=user.id, source="demo", now=now))
    advocacy.ingest(organization=org, events=events,
                    names={u.id: u.display_name for u in consenting})
