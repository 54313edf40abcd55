"""Demo data: consent for most learners, two campaigns with content to share, and a few
hundred realistic events over the last eight weeks (through the real ingestion path)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from lms.advocacy import services
from lms.core.models import utcnow

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
    events = []
    for n in range(300):
        user = rnd.choice(consenting)
        item = rnd.choice(items) if rnd.random() < 0.7 else None
        network = rnd.choices(networks, nweights)[0]
        kind = rnd.choices(kinds, kweights)[0]
        impressions = int(rnd.lognormvariate(5.5, 0.8))
        clicks = int(impressions * rnd.uniform(0.005, 0.04))
        url = item.url if item and kind == "share" else (
            f"https://www.linkedin.com/feed/update/urn:li:activity:{7200000000000000000 + n}"
            if network == "linkedin" else f"https://www.{network}.com/p/demo{n}")
        talent_item = item is not None and item.campaign_id == talent.id
        events.append(services.normalize_event({
            "network": network, "kind": kind, "url": url,
            "occurred_at": now - timedelta(days=rnd.uniform(0, 56)),
            "with_own_comment": kind in ("share", "post") and rnd.random() < 0.4,
            "content_item_id": item.id if item else None,
            "campaign_id": item.campaign_id if item else None,
            "external_id": f"demo-{n}", "impressions": impressions, "clicks": clicks,
            "reactions": int(impressions * rnd.uniform(0.01, 0.05)),
            "comments": rnd.randrange(0, 6), "reshares": rnd.randrange(0, 4),
            "signups": int(clicks * 0.3) if item is not None and not talent_item else 0,
            "leads": int(rnd.random() < 0.05),
            "hires": int(talent_item and rnd.random() < 0.08),
        }, user_id=user.id, source="demo", now=now))
    services.ingest(organization=org, events=events,
                    names={u.id: u.display_name for u in consenting})
