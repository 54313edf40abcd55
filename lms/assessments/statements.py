"""xAPI statements for skill mapping: one "answered" per item, one "completed" per attempt."""

from __future__ import annotations

from typing import Any

from flask import current_app

from lms.assessments.models import Attempt, Question, Questionnaire
from lms.core.models import utcnow
from lms.xapi.builders import agent_for_user

ANSWERED = {"id": "http://adlnet.gov/expapi/verbs/answered",
            "display": {"en-US": "answered", "fr-FR": "a répondu"}}
COMPLETED = {"id": "http://adlnet.gov/expapi/verbs/completed",
             "display": {"en-US": "completed", "fr-FR": "a terminé"}}
ASSESSMENT_TYPE = "http://adlnet.gov/expapi/activities/assessment"
INTERACTION_TYPE = "http://adlnet.gov/expapi/activities/cmi.interaction"


def _base() -> str:
    return str(current_app.config["BASE_URL"])


def extension(name: str) -> str:
    """The IRI of one of Relais' xAPI extensions."""
    return f"{_base()}/xapi/extensions/{name}"


def questionnaire_iri(q: Questionnaire) -> str:
    """The activity id of a questionnaire; an organization's own copies live under its id."""
    if q.organization_id is None:
        return f"{_base()}/xapi/activities/questionnaire/{q.key}"
    return f"{_base()}/xapi/activities/questionnaire/{q.organization_id}/{q.key}"


def question_iri(q: Questionnaire, question: Question) -> str:
    """The activity id of one question of a questionnaire."""
    return f"{questionnaire_iri(q)}/question/{question.key}"


def _lang_map(text: dict[str, str] | None) -> dict[str, str]:
    tags = {"en": "en-US", "fr": "fr-FR"}
    return {tags.get(lang, lang): value for lang, value in (text or {}).items()}


def _context(attempt: Attempt) -> dict[str, Any]:
    q = attempt.questionnaire
    return {"contextActivities": {"parent": [{"id": questionnaire_iri(q),
                                              "objectType": "Activity"}]},
            "extensions": {extension("attempt"): attempt.uuid}}


def answered(attempt: Attempt, question: Question, value: Any,
             right: bool | None) -> dict[str, Any]:
    """The statement of one answer; ``right`` is set for judgement items only."""
    q = attempt.questionnaire
    interaction: dict[str, Any] = {
        "type": INTERACTION_TYPE, "name": _lang_map(question.text),
        "interactionType": "choice" if question.options else "likert",
        "extensions": {extension("competency"): question.competency,
                       extension("level"): question.level,
                       extension("question-type"): question.type}}
    if question.options:
        interaction["choices"] = [{"id": o["key"], "description": _lang_map(o["text"])}
                                  for o in question.options]
        interaction["correctResponsesPattern"] = [
            "[,]".join(o["key"] for o in question.options if o.get("correct"))]
    result: dict[str, Any] = {
        "response": value if isinstance(value, str) else "[,]".join(value)}
    if right is not None:
        result["success"] = right
    return {"actor": agent_for_user(attempt.user), "verb": ANSWERED,
            "object": {"objectType": "Activity", "id": question_iri(q, question),
                       "definition": interaction},
            "result": result, "context": _context(attempt),
            "timestamp": utcnow().isoformat()}


def completed(attempt: Attempt, levels: dict[str, int],
              declared: dict[str, int]) -> dict[str, Any]:
    """The statement closing an attempt, carrying the measured and declared levels."""
    q = attempt.questionnaire
    duration = (attempt.submitted_at or utcnow()) - attempt.started_at
    seconds = max(0, int(duration.total_seconds()))
    return {"actor": agent_for_user(attempt.user), "verb": COMPLETED,
            "object": {"objectType": "Activity", "id": questionnaire_iri(q),
                       "definition": {"type": ASSESSMENT_TYPE, "name": _lang_map(q.title)}},
            "result": {"completion": True, "duration": f"PT{seconds}S",
                       "extensions": {extension("competency-levels"): levels,
                                      extension("declared-levels"): declared}},
            "context": {"extensions": {extension("attempt"): attempt.uuid}},
            "timestamp": utcnow().isoformat()}
