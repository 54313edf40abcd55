"""Demo data: consent for most learners, two campaigns with content to share, and a few
hundred realistic events over the last eight weeks (through the real ingestion path).

The activity tells the story the impact report shows: before the pilot cohort's kick-off a
few early adopters shared now and then; after it every consenting learner is active, more
often and with comments of their own. The first pilot learner still in training (Hugo)
relays two campaign posts on LinkedIn with his own comment, which verifies his campaign
exercise automatically.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from lms.advocacy import impact, services
from lms.core.models import utcnow
from lms.courses.cohorts.models import ACTIVE
from lms.courses.cohorts.queries import pilot_cohort
from lms.extensions import db

CONTENT = [
    ("Lancement T3 : inscrivez-vous à l'événement de lancement",
     "https://www.example.com/evenements/lancement-t3",
     "Dites en une phrase ce que vous attendez de la nouvelle gamme, puis le lien."),
    ("Témoignage client : 30 % de temps gagné sur les devis",
     "https://www.example.com/blog/temoignage-devis",
     "Racontez un échange avec un client qui vit la même situation."),
    ("Vidéo : les coulisses du salon Préventica",
     "https://www.example.com/videos/coulisses-salon",
     "Une photo de votre stand, avec votre propre commentaire."),
]
TALENT = [("Nous recrutons 12 commerciaux terrain en Auvergne-Rhône-Alpes",
           "https://www.example.com/carrieres/commerciaux-aura",
           "Partagez ce qui vous plaît dans votre métier ici.")]
NETWORK_WEIGHTS = [("linkedin", 70), ("x", 10), ("facebook", 10), ("instagram", 10)]
KIND_WEIGHTS = [("share", 55), ("post", 20), ("comment", 15), ("reaction", 10)]
# Two campaign posts with the author's own comment: (days ago, content item, clicks).
EXERCISE_POSTS = [(9.0, 0, 38), (4.0, 1, 21)]


def demo_step(people: Any) -> None:
    """Add advocacy activity to the demo organization."""
    org = people.organization
    rnd = random.Random(42)
    now = utcnow()
    year = now.year if now.month <= 9 else now.year + 1
    launch = services.create_campaign(
        organization=org, kind="campaign",
        title=f"3 000 inscriptions confirmées à l'événement de lancement T3 avant le "
              f"30 septembre {year}", target_metric="signups", target_value=3000,
        deadline=date(year, 9, 30))
    talent = services.create_campaign(
        organization=org, kind="talent",
        title="Recrutement commerciaux terrain : 12 embauches via la cooptation",
        target_metric="hires", target_value=12, deadline=(now + timedelta(days=90)).date())
    items = [services.add_content_item(campaign=launch, title=t, url=u, angle=a)
             for t, u, a in CONTENT]
    items += [services.add_content_item(campaign=talent, title=t, url=u, angle=a)
              for t, u, a in TALENT]
    learners = [m.user for m in people.learners]
    # Most, not all: the demo shows that activity counts only with consent.
    consenting = learners[:-1] if len(learners) > 2 else learners
    for user in consenting:
        services.give_consent(organization=org, user=user)
    networks, nweights = zip(*NETWORK_WEIGHTS, strict=True)
    kinds, kweights = zip(*KIND_WEIGHTS, strict=True)
    training, in_training = _pilot_training(org.id)
    # Hugo (the second learner; Camille, the first, is ahead and has her certificate from last
    # year's run), else the first pilot learner still in training.
    exerciser = next((u for u in consenting[1:2] + consenting if u.id in in_training),
                     consenting[0])
    # Days since the kick-off (the impact report's training date); 14 without a pilot.
    since_training = (now - training).total_seconds() / 86400 if training else 14.0
    early_adopters = consenting[:3]
    events = []
    for n in range(300 - len(EXERCISE_POSTS)):
        after = rnd.random() < 0.7
        user = rnd.choice(consenting if after else early_adopters)
        item = rnd.choice(items) if rnd.random() < 0.7 else None
        network = rnd.choices(networks, nweights)[0]
        kind = rnd.choices(kinds, kweights)[0]
        impressions = int(rnd.lognormvariate(5.5, 0.8))
        clicks = int(impressions * rnd.uniform(0.005, 0.04) * (1.5 if after else 1.0))
        days_ago = (rnd.uniform(0.1, since_training - 0.1) if after
                    else rnd.uniform(since_training + 0.1, 56))
        own_comment = kind in ("share", "post") and rnd.random() < (0.5 if after else 0.2)
        if kind == "post" and network == "linkedin" and user is not exerciser:
            # Only one exercise is verified from activity in the demo.
            own_comment = False
        url = item.url if item and kind == "share" else (
            f"https://www.linkedin.com/feed/update/urn:li:activity:{7200000000000000000 + n}"
            if network == "linkedin" else f"https://www.{network}.com/p/demo{n}")
        talent_item = item is not None and item.campaign_id == talent.id
        events.append(services.normalize_event({
            "network": network, "kind": kind, "url": url,
            "occurred_at": now - timedelta(days=days_ago),
            "with_own_comment": own_comment,
            "content_item_id": item.id if item else None,
            "campaign_id": item.campaign_id if item else None,
            "external_id": f"demo-{n}", "impressions": impressions, "clicks": clicks,
            "reactions": int(impressions * rnd.uniform(0.01, 0.05)),
            "comments": rnd.randrange(0, 6), "reshares": rnd.randrange(0, 4),
            "signups": int(clicks * 0.3) if item is not None and not talent_item else 0,
            "leads": int(rnd.random() < 0.05),
            "hires": int(talent_item and rnd.random() < 0.08),
        }, user_id=user.id, source="demo", now=now))
    for n, (days_ago, item_index, clicks) in enumerate(EXERCISE_POSTS):
        item = items[item_index]
        events.append(services.normalize_event({
            "network": "linkedin", "kind": "post", "with_own_comment": True,
            "url": "https://www.linkedin.com/feed/update/urn:li:activity:"
                   f"{7300000000000000000 + n}",
            "occurred_at": now - timedelta(days=min(days_ago, since_training - 0.5)),
            "content_item_id": item.id, "campaign_id": item.campaign_id,
            "external_id": f"demo-exercise-{n}", "impressions": clicks * 40, "clicks": clicks,
            "reactions": clicks // 2, "comments": 4, "signups": clicks // 3,
        }, user_id=exerciser.id, source="demo", now=now))
    # Ingestion verifies exercises from matching activity: the campaign exercise.
    services.ingest(organization=org, events=events,
                    names={u.id: u.display_name for u in consenting})


def _pilot_training(organization_id: int) -> tuple[datetime | None, set[int]]:
    """The pilot cohort's training date and the users still in training there. Its learners'
    exercises open at the cohort's start (they were invited a week before the kick-off).
    """
    cohort = pilot_cohort(organization_id)
    training = impact.training_date(cohort) if cohort is not None else None
    if cohort is None or training is None:
        return None, set()
    for enrollment in cohort.enrollments:
        enrollment.enrolled_at = min(enrollment.enrolled_at,
                                     training.at - timedelta(days=7))
    db.session.flush()
    return training.at, {e.membership.user_id for e in cohort.enrollments
                         if e.status == ACTIVE}


# A month of editorial calendar around today: (days from today to the first day, window length
# in days or None for open-ended, title, address, networks, French angle, French sample post).
CALENDAR = [
    (-20, 10, "Retour en images sur le séminaire commercial de Lyon",
     "https://www.example.com/blog/seminaire-lyon", "linkedin",
     "Une rencontre ou une idée qui vous a marqué pendant ces deux jours.",
     "Deux jours à Lyon avec l'équipe commerciale : ce que je retiens, c'est…"),
    (-6, 14, "Livre blanc : éclairage des entrepôts et économies d'énergie",
     "https://www.example.com/ressources/livre-blanc-eclairage", "linkedin x",
     "Quelle question vos clients vous posent-ils le plus sur leur facture d'énergie ?",
     "Nos clients me demandent souvent combien ils peuvent économiser sur l'éclairage. "
     "Ce livre blanc donne des chiffres concrets :"),
    (-2, 7, "Portes ouvertes de l'usine de Villeurbanne le mois prochain",
     "https://www.example.com/evenements/portes-ouvertes", "linkedin facebook",
     "Ce que vous aimeriez montrer de votre atelier à un visiteur.", None),
    (0, None, "Nous recrutons : techniciens de maintenance en alternance",
     "https://www.example.com/carrieres/alternance-maintenance", "linkedin instagram",
     "Pourquoi vous recommanderiez l'alternance chez nous à un jeune de votre entourage.",
     "Je suis entré chez Maison Lumière en alternance il y a six ans. Si vous connaissez "
     "quelqu'un qui…"),
    (3, 10, "Étude de cas : la rénovation de l'éclairage d'un hôpital",
     "https://www.example.com/references/hopital", "linkedin",
     "Le détail technique dont vous êtes fier dans ce chantier.", None),
    (9, 7, "Webinaire clients : piloter son éclairage à distance",
     "https://www.example.com/webinaires/pilotage", "linkedin x",
     "Invitez un client à qui ce webinaire rendrait service, en lui disant pourquoi.", None),
    (16, 12, "Salon Préventica : venez nous voir stand B42",
     "https://www.example.com/evenements/preventica", "linkedin x facebook",
     "Une photo de la préparation du stand, avec votre propre commentaire.", None),
]


def calendar_step(people: Any) -> None:
    """Date the demo's content on a month of editorial calendar around today, and add two
    colleague proposals: one approved into the calendar, one waiting for review.
    """
    from lms.advocacy import calendar, proposals
    from lms.advocacy.models import Campaign

    org = people.organization
    today = utcnow().date()
    trainer, hr = people.trainer.user, people.hr.user
    talent = db.session.scalar(select(Campaign.id).where(
        Campaign.organization_id == org.id, Campaign.kind == "talent"))
    for n, (offset, length, title, url, networks, angle, sample) in enumerate(CALENDAR):
        start = today + timedelta(days=offset)
        calendar.save_item(organization=org, by=hr if n % 3 == 0 else trainer,
                           fields=calendar.ItemFields(
                               title=title, url=url, starts_on=start,
                               ends_on=start + timedelta(days=length) if length else None,
                               networks=networks.split(), angle=angle, sample_post=sample,
                               campaign_id=talent if "recrutons" in title else None))
    # The campaign items made above (no window yet) open with the launch, two weeks ago.
    for item in calendar.unscheduled(org.id):
        item.starts_on, item.ends_on = today - timedelta(days=14), today + timedelta(days=21)
        item.networks = "linkedin"
    learners = [m.user for m in people.learners]
    approved = proposals.propose(
        organization=org, user=learners[3] if len(learners) > 3 else learners[0],
        title="Notre équipe a planté 200 arbres avec l'association Bocage Vivant",
        url="https://www.example.com/actualites/bocage-vivant",
        note="Photos disponibles auprès de Nathan, l'équipe marketing est partante pour en "
             "parler.")
    proposals.approve(organization=org, proposal=approved, reviewer=trainer,
                      fields=calendar.ItemFields(starts_on=today + timedelta(days=5),
                                                 ends_on=today + timedelta(days=12),
                                                 networks=["linkedin", "instagram"]))
    proposals.propose(
        organization=org, user=learners[1] if len(learners) > 1 else learners[0],
        title="Un client nous cite dans son rapport RSE",
        text="Le groupe Ardennes Logistique mentionne la rénovation de son éclairage avec "
             "nous comme première économie d'énergie de l'année.",
        note="Je peux demander au client s'il accepte d'être cité nommément.")
    db.session.flush()
