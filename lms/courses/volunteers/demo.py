"""Demo call for volunteers: the trainer gathers a second wave of the one-day training from
volunteers; Léa, Nathan, Chloé and Jules answered, Léa is accepted, the others wait.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from lms.courses.cohorts.services import create_cohort
from lms.courses.programs.models import Program
from lms.courses.volunteers import services
from lms.extensions import db

PROGRAM = "formation-ambassadeurs-1-jour"
TEXT = ("Avant d'ouvrir la formation d'une journée à toute l'entreprise, nous cherchons une "
        "dizaine de volontaires pour la tester avec nous : une journée d'atelier à Lyon, puis "
        "deux semaines pour publier vos premiers posts et nous dire ce qui vous a aidé ou gêné.")
CRITERIA = ("Toutes les équipes sont bienvenues, débutants comme habitués de LinkedIn : nous "
            "voulons un groupe varié. Accord de votre manager pour la journée d'atelier.")
# Index in DemoPeople.learners → their note.
NOTES = {2: "Je recrute beaucoup via LinkedIn et j'aimerais que mes posts donnent envie de "
            "nous rejoindre.",
         3: "",
         4: "Je publie déjà un peu, je peux aider les autres à se lancer.",
         7: "Débutant complet, mais motivé !"}


def demo_step(people: Any) -> None:
    """A call for volunteers with four volunteers, one accepted."""
    org = people.organization
    program = db.session.scalar(select(Program).where(Program.organization_id == org.id,
                                                      Program.slug == PROGRAM))
    if program is None:
        return
    start = services.today() + timedelta(days=30)
    cohort = create_cohort(program=program, name="Vague 2 — volontaires",
                           starts_on=start, ends_on=start + timedelta(days=14),
                           trainers=[people.trainer])
    call = services.save_call(cohort=cohort, text=TEXT, criteria=CRITERIA,
                              deadline=services.today() + timedelta(days=12), seats=10,
                              by=people.trainer)
    rows = {i: services.volunteer(call=call, membership=people.learners[i], note=note)
            for i, note in NOTES.items()}
    services.accept(volunteer=rows[2], by=people.trainer)
