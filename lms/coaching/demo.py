"""Demo coaching: in the pilot cohort, Hugo's first follow-up was held (notes and action items,
one already done), Nathan's is scheduled by video in three days, Chloé's is overdue (two days
ago, not recorded yet), and Manon's is planned next week. Everything goes through the services,
so the statements and the module progress exist as in real use.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from lms.coaching import services
from lms.coaching.models import DONE
from lms.core.models import utcnow
from lms.courses.cohorts.models import Enrollment
from lms.courses.cohorts.queries import pilot_cohort
from lms.courses.sessions.services import local_zone
from lms.extensions import db

NOTES = ("Premier post publié sur le lancement de la gamme Éclat : bonne accroche, mais le "
         "lien arrivait trop tôt. Hugo hésite encore à commenter les posts de ses clients.\n"
         "On garde le rythme d'un post par semaine et on teste le format carrousel.")
ACTIONS = (("Mettre à jour le titre du profil avec la promesse client", -3, True),
           ("Publier un carrousel sur un cas client (avec son accord écrit)", 6, False),
           ("Commenter trois posts de clients ou de prospects chaque semaine", 13, False))


def _local(days: int, hour: int) -> datetime:
    day = (utcnow().astimezone(local_zone()) + timedelta(days=days)).date()
    return datetime.combine(day, time(hour), tzinfo=local_zone())


def demo_step(people: Any) -> None:
    """Follow-ups of the pilot cohort's first coaching module."""
    org = people.organization
    cohort = pilot_cohort(org.id)
    if cohort is None:
        return
    module = next((m for m in cohort.program.modules if m.kind == "coaching"), None)
    if module is None:
        return

    def enrollment(index: int) -> Enrollment | None:
        return db.session.scalar(select(Enrollment).where(
            Enrollment.cohort_id == cohort.id,
            Enrollment.membership_id == people.learners[index].id))

    coach = people.trainer
    hugo, nathan, chloe, manon = (enrollment(i) for i in (1, 3, 4, 6))
    if hugo is not None:
        held = services.schedule(enrollment=hugo, module=module, coach=coach,
                                 scheduled_at=_local(-5, 11), place="Lyon — bureau 3.12")
        today = utcnow().date()
        services.record_held(followup=held, notes=NOTES,
                             actions=[(text, today + timedelta(days=due))
                                      for text, due, _done in ACTIONS],
                             next_followup_on=today + timedelta(days=16))
        for item, (_text, _due, done) in zip(held.action_items, ACTIONS, strict=True):
            if done:
                services.set_action_status(item=item, status=DONE, by=hugo.membership.user)
    if nathan is not None:
        services.schedule(enrollment=nathan, module=module, coach=coach,
                          scheduled_at=_local(3, 14),
                          video_link="https://visio.maison-lumiere.example/coaching-nathan")
    if chloe is not None:
        services.schedule(enrollment=chloe, module=module, coach=coach,
                          scheduled_at=_local(-2, 9), place="Lyon — salle Fourvière")
    if manon is not None:
        services.schedule(enrollment=manon, module=module, coach=coach,
                          scheduled_at=_local(8, 10),
                          video_link="https://visio.maison-lumiere.example/coaching-manon")
