"""The xAPI statement of a survey answered.

The object is the survey; the program and cohort are its grouping. An anonymous survey's
statement says only that the person answered: no answer, no text, no registration that would
tie it to their path. A named survey's statement carries the answers as its response.
"""

from __future__ import annotations

import json
from typing import Any

from lms.core.models import utcnow
from lms.courses.statements import ANSWERED, iri
from lms.courses.surveys.models import SurveyInvitation
from lms.xapi.builders import agent_for_user, base_url

SURVEY_TYPE = "http://id.tincanapi.com/activitytype/survey"


def survey_iri(survey_id: int) -> str:
    """The activity id of a survey."""
    return f"{base_url()}/xapi/activities/survey/{survey_id}"


def answered(invitation: SurveyInvitation, answers: dict[str, Any]) -> dict[str, Any]:
    """The person answered the survey they were invited to."""
    survey = invitation.survey
    tags = {"en": "en-US", "fr": "fr-FR"}
    name = {tags.get(k, k): v for k, v in survey.title.items()}
    cohort = invitation.cohort
    result: dict[str, Any] = {"completion": True}
    if not survey.anonymous:
        result["response"] = json.dumps(answers, ensure_ascii=False, sort_keys=True)
    context: dict[str, Any] = {"platform": "Relais", "contextActivities": {"grouping": [
        {"objectType": "Activity", "id": iri("program", cohort.program_id)},
        {"objectType": "Activity", "id": iri("cohort", cohort.id)}]},
        "extensions": {f"{base_url()}/xapi/extensions/survey-kind": survey.kind,
                       f"{base_url()}/xapi/extensions/anonymous": survey.anonymous}}
    return {"actor": agent_for_user(invitation.membership.user), "verb": ANSWERED,
            "object": {"objectType": "Activity", "id": survey_iri(survey.id),
                       "definition": {"type": SURVEY_TYPE, "name": name}},
            "result": result, "context": context, "timestamp": utcnow().isoformat()}
