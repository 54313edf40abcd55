"""The demo's surveys: the kick-off's satisfaction survey answered by five of the six people
present (enough to show results), the follow-up planned six weeks after the kick-off, the
readiness survey of the sales teams' wave before it starts (two answers: not enough to show),
and two learners who agreed to be named in the results shared internally.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lms.assessments.models import Survey
from lms.assessments.surveys import load_templates
from lms.courses.cohorts.models import Cohort
from lms.courses.surveys import services
from lms.courses.surveys.queries import open_invitations
from lms.extensions import db

# What the five who answered the kick-off's survey said (Camille's is still open, to show the
# dashboard card).
SATISFACTION = {
    1: {"useful": 5, "confident": 4, "pace": "right", "best": ["examples", "practice"],
        "recommend": 5, "comment": "Les exemples de publications de nos collègues m'ont "
                                   "décidé à me lancer."},
    2: {"useful": 4, "confident": 3, "pace": "fast", "best": ["charter"], "recommend": 4,
        "comment": "Un peu rapide sur la partie droit à l'image."},
    3: {"useful": 5, "confident": 5, "pace": "right", "best": ["practice", "peers"],
        "recommend": 5},
    4: {"useful": 3, "confident": 2, "pace": "right", "best": ["peers"], "recommend": 4,
        "comment": "J'aurais aimé plus de temps pour refaire mon titre de profil."},
    5: {"useful": 4, "confident": 4, "pace": "slow", "best": ["examples"], "recommend": 4},
}
READINESS = {
    1: {"comfortable": 3, "worth_it": 4, "worries": ["skills"], "network": "rarely",
        "expectation": "Savoir quoi publier sans y passer mes soirées."},
    6: {"comfortable": 2, "worth_it": 3, "worries": ["time", "privacy"], "network": "never"},
}


def _template(key: str) -> Survey:
    survey = db.session.scalar(select(Survey).where(Survey.organization_id.is_(None),
                                                    Survey.key == key))
    if survey is None:
        load_templates()
        return _template(key)
    return survey


def demo_step(people: Any) -> None:
    """Survey rules on the demo's two programs, and their answers."""
    org, learners = people.organization, people.learners
    cohorts = {c.name: c for c in db.session.scalars(select(Cohort).where(
        Cohort.organization_id == org.id))}
    pilot = next(c for name, c in cohorts.items() if name.startswith("Groupe pilote"))
    wave = next(c for name, c in cohorts.items() if name.startswith("Vague 1"))
    kickoff = next(m for m in pilot.program.modules if m.key == "lancement")
    services.add_rule(program=pilot.program, survey_id=_template("satisfaction").id,
                      trigger="after_session", module_id=kickoff.id)
    services.add_rule(program=pilot.program, survey_id=_template("followup").id,
                      trigger="after_module", module_id=kickoff.id, days=42)
    services.add_rule(program=wave.program, survey_id=_template("readiness").id,
                      trigger="before_start")
    services.apply_rules(organization_id=org.id)
    for answers_by_learner in (SATISFACTION, READINESS):
        for i, answers in answers_by_learner.items():
            invitation = next(inv for inv in open_invitations(learners[i])
                              if set(answers) <= {item["key"] for item in inv.survey.items})
            services.answer(invitation=invitation, raw=answers)
    # Camille and Hugo agreed to be thanked by name in the results shared internally.
    for i in (0, 1):
        learners[i].user.named_in_results = True
    db.session.flush()
