"""The demo's skill map: most learners answered, one retook it and progressed, one has not
answered, and a trainer validated a level 4.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lms.assessments import queries, services
from lms.assessments.models import Attempt
from lms.core.models import utcnow

# What each demo learner can really do, per competency C1…C8 (the answers follow from it).
# Index in DemoPeople.learners → (levels, competencies the learner over-rates themselves on).
TRUE_LEVELS: dict[int, tuple[list[int], set[str]]] = {
    0: ([3, 2, 3, 4, 4, 3, 2, 2], set()),  # Camille, sales, after training (retake)
    1: ([2, 1, 2, 3, 2, 2, 2, 1], {"C3"}),  # Hugo, sales, over-rates his writing
    2: ([4, 2, 3, 4, 3, 3, 3, 2], set()),  # Léa, recruiting: level 4 profile, validated
    3: ([3, 4, 4, 2, 3, 3, 3, 3], set()),  # Nathan, marketing
    4: ([2, 3, 3, 2, 2, 4, 2, 2], {"C8"}),  # Chloé, marketing
    5: ([3, 2, 1, 3, 3, 2, 3, 1], set()),  # Lucas, management
    6: ([1, 1, 2, 2, 1, 1, 1, 0], set()),  # Manon, sales, new to social media
    # 7: Jules has not answered yet.
}
# Camille's first attempt, two months before her retake; Léa's, before last year's training
# (her certificate shows both: levels before → after).
FIRST_CAMILLE = [2, 1, 2, 3, 2, 3, 2, 1]
FIRST_LEA = [3, 1, 2, 3, 2, 2, 2, 1]
CODES = ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"]
FREQUENCIES = ["never", "rarely", "monthly", "weekly", "daily"]


def answers_for(attempt: Attempt, levels: dict[str, int], overclaim: set[str]) -> None:
    """Answer an attempt screen by screen as a person with ``levels`` would."""
    questions = {x.key: x for x in attempt.questionnaire.questions}
    mean = sum(levels.values()) / max(1, len(levels))
    while True:
        state = services.progress_of(attempt)
        if state.finished:
            return
        given: dict[str, Any] = {}
        for key in state.current:
            x = questions[key]
            true = levels.get(x.competency, 0)
            if x.type == "can_do":
                if true >= x.level:
                    given[key] = "teach" if true == 5 else "alone"
                else:
                    given[key] = "alone" if x.competency in overclaim else (
                        "with_help" if true >= x.level - 1 else "never")
            elif x.type == "frequency":
                given[key] = FREQUENCIES[min(4, round(mean))]
            else:
                right = [o["key"] for o in x.options if o.get("correct")]
                wrong = [o["key"] for o in x.options if not o.get("correct")]
                chosen = right if true >= x.level else wrong[:1]
                given[key] = chosen if x.type == "multiple_choice" else chosen[0]
        services.answer(attempt=attempt, answers=given)


def _take(membership: Any, questionnaire: Any, levels: list[int], overclaim: set[str],
          days_ago: int) -> Attempt:
    attempt, _created = services.start_attempt(membership=membership, questionnaire=questionnaire)
    answers_for(attempt, dict(zip(CODES, levels, strict=True)), overclaim)
    services.submit_attempt(attempt=attempt)
    # Spread the demo over the past weeks so the history reads like a real programme.
    when = utcnow() - timedelta(days=days_ago)
    attempt.started_at = when - timedelta(minutes=11)
    attempt.submitted_at = attempt.updated_at = when
    return attempt


def demo_step(people: Any) -> None:
    """Answer the questionnaire for most demo learners and validate one level 4."""
    if queries.default_framework() is None:
        services.load_builtin_content()
    offered = queries.offered_questionnaires(people.organization.id)
    if not offered:
        return
    questionnaire = offered[0]
    learners = people.learners
    if learners:
        _take(learners[0], questionnaire, FIRST_CAMILLE, set(), days_ago=62)
    if len(learners) > 2:
        _take(learners[2], questionnaire, FIRST_LEA, set(), days_ago=90)
    for index, (levels, overclaim) in TRUE_LEVELS.items():
        if index < len(learners):
            _take(learners[index], questionnaire, levels, overclaim,
                  days_ago=3 if index == 0 else 40 - 4 * index)
    if len(learners) > 2:
        services.validate_level(membership=learners[2], competency="C1", level=4,
                                by=people.trainer.user,
                                note="Profil et titre retravaillés pour les candidats ; "
                                     "vu en atelier le 12 novembre.")
