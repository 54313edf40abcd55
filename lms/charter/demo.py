"""Demo charter: version 1 published three months ago and accepted by everyone then; version 2
(the crisis rules and whom to ask, made clearer) published ten days ago and accepted so far by
five of the eight learners and the trainer. Digest preferences: two learners want it daily,
one turned it off. Acceptances go through the service, so their statements are in the LRS.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lms.charter import default, services
from lms.core.models import utcnow
from lms.extensions import db
from lms.notifications.models import DAILY, NEVER
from lms.notifications.services import set_frequency

V1_FR = default.BODY_FR.split("## 5.")[0].rstrip() + """

## 5. En cas de doute

Je pose la question à l'équipe communication avant de publier.
"""
V1_EN = default.BODY_EN.split("## 5.")[0].rstrip() + """

## 5. When in doubt

I ask the communication team before posting.
"""
V2_SUMMARY = ("Nouvelles règles en cas de crise (« on prévient d'abord, on publie ensuite ») "
              "et contacts à qui poser ses questions.")


def demo_step(people: Any) -> None:
    """Two versions of the charter, acceptances of each, and digest preferences."""
    org, now = people.organization, utcnow()
    everyone = [people.admin, people.trainer, people.hr, *people.learners]
    v1 = services.publish(organization=org, body_fr=V1_FR, body_en=V1_EN,
                          summary="Première version de la charte.", by=people.hr.user)
    v1.published_at = now - timedelta(days=90)
    for index, member in enumerate(everyone):
        services.accept(membership=member, number=1,
                        at=now - timedelta(days=88 - index, hours=index))
    v2 = services.publish(organization=org, body_fr=default.BODY_FR, body_en=default.BODY_EN,
                          summary=V2_SUMMARY, by=people.hr.user)
    v2.published_at = now - timedelta(days=10)
    # Léa, Lucas and Jules have not read version 2 yet: HR can remind them.
    for index, member in enumerate([people.hr, people.trainer, *people.learners[:2],
                                    *people.learners[3:5], people.learners[6]]):
        services.accept(membership=member, number=2,
                        at=now - timedelta(days=9 - index, hours=2 * index))
    set_frequency(user=people.learners[0].user, frequency=DAILY)
    set_frequency(user=people.trainer.user, frequency=DAILY)
    set_frequency(user=people.learners[5].user, frequency=NEVER)
    db.session.flush()
