"""Demo champions: Camille Martin is the champion ("référente") of the Ventes Grands Comptes
team, follows Hugo and sent him a nudge. Lucas, the regional manager, already has his direct
reports (set by the courses' demo).
"""

from __future__ import annotations

from typing import Any

from lms.accounts import nudges
from lms.accounts.services import set_champion

CHAMPION, NUDGED = 0, 1  # Camille, Hugo
MESSAGE = ("Bravo pour ton premier post sur la gamme Éclat ! Le quiz « Veille et écriture » "
           "t'attend : on en parle à la pause café si tu veux un coup de main ?")


def demo_step(people: Any) -> None:
    """Make Camille her team's champion, with one nudge sent."""
    champion = people.learners[CHAMPION]
    set_champion(membership=champion, champion=True)
    nudges.nudge(sender=champion, recipient=people.learners[NUDGED], message=MESSAGE)
