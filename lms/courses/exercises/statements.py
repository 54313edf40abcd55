"""xAPI statements of on-the-job exercises.

- the learner ``submitted`` evidence (object: the module; result: the reflection, extensions:
  the post URL and the attempt number);
- a reviewer ``reviewed`` it (actor: the reviewer; object: a StatementRef to the hand-in;
  result: success = approved, the comment, the rubric levels);
- Relais ``confirmed`` it from advocacy activity (actor: Relais; the evidence in extensions);
- an approval or a verification also records the learner ``completed`` the module (not
  derived), which the progress projection counts as it counts an external package's;
- each AFEST journal entry: the learner ``experienced`` a work situation or a reflective phase,
  with its duration.

Every statement carries the enrolment as registration, the module as parent and the program
as grouping, like the other statements of blended programs.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from flask import current_app

from lms.accounts.models import Membership
from lms.courses import statements as xs
from lms.courses.cohorts.models import Enrollment
from lms.courses.exercises.models import AfestEntry, ExerciseReview, ExerciseSubmission
from lms.courses.programs.models import Module
from lms.xapi.builders import agent_for_user

REVIEWED = {"id": "http://id.tincanapi.com/verb/reviewed",
            "display": {"en-US": "reviewed", "fr-FR": "a évalué"}}
CONFIRMED = {"id": "http://activitystrea.ms/schema/1.0/confirm",
             "display": {"en-US": "confirmed", "fr-FR": "a confirmé"}}
AFEST_TYPES = {"work_situation": "http://id.tincanapi.com/activitytype/performance",
               "reflective_phase": "http://id.tincanapi.com/activitytype/reflection"}


def ext(name: str) -> str:
    """An extension IRI of exercises on this instance."""
    return f"{xs.activity_prefix().rsplit('/activities/', 1)[0]}/extensions/exercise-{name}"


def _context(enrollment: Enrollment, module: Module) -> dict[str, Any]:
    return {"registration": enrollment.id, "contextActivities": {
        "parent": [{"objectType": "Activity", "id": xs.iri("module", module.id)}],
        "grouping": [{"objectType": "Activity", "id": xs.iri("program", module.program_id)}]}}


def _module(module: Module) -> dict[str, Any]:
    return xs.activity("module", module.id, module.title)


def _learner(enrollment: Enrollment) -> dict[str, Any]:
    return agent_for_user(enrollment.membership.user)


def submitted(submission: ExerciseSubmission) -> dict[str, Any]:
    """The learner handed in evidence."""
    enrollment, module = submission.enrollment, submission.module
    extensions: dict[str, Any] = {ext("attempt"): submission.attempt}
    if submission.post_url:
        extensions[ext("url")] = submission.post_url
    if submission.screenshot_path:
        extensions[ext("screenshot")] = True
    result: dict[str, Any] = {"completion": False, "extensions": extensions}
    if submission.reflection:
        result["response"] = submission.reflection[:2000]
    context = _context(enrollment, module)
    # The module as object and as parent: the projection finds it either way.
    return {"actor": _learner(enrollment), "verb": xs.SUBMITTED, "object": _module(module),
            "context": context, "result": result,
            "timestamp": submission.submitted_at.isoformat()}


def reviewed(review: ExerciseReview, reviewer: Membership) -> dict[str, Any]:
    """A reviewer approved the hand-in or asked for changes."""
    submission = review.submission
    context = _context(submission.enrollment, submission.module)
    result: dict[str, Any] = {"success": review.decision == "approved",
                              "extensions": {ext("decision"): review.decision,
                                             ext("rubric"): dict(review.rubric)}}
    if review.comment:
        result["response"] = review.comment[:2000]
    obj: dict[str, Any] = ({"objectType": "StatementRef", "id": submission.statement_id}
                           if submission.statement_id else _module(submission.module))
    return {"actor": agent_for_user(reviewer.user), "verb": REVIEWED, "object": obj,
            "context": context, "result": result, "timestamp": review.created_at.isoformat()}


def confirmed(submission: ExerciseSubmission) -> dict[str, Any]:
    """Relais matched the learner's advocacy activity with the exercise's verification rule."""
    context = _context(submission.enrollment, submission.module)
    return {"actor": {"objectType": "Agent", "name": "Relais",
                      "account": {"homePage": current_app.config["BASE_URL"],
                                  "name": "relais"}},
            "verb": CONFIRMED, "object": _module(submission.module), "context": context,
            "result": {"success": True,
                       "extensions": {ext("evidence"): dict(submission.verification or {})}}}


def module_done(submission: ExerciseSubmission, by: Membership | None) -> dict[str, Any]:
    """The learner completed the exercise module (approved or verified)."""
    enrollment, module = submission.enrollment, submission.module
    context = _context(enrollment, module)
    del context["contextActivities"]["parent"]
    if by is not None:
        context["instructor"] = agent_for_user(by.user)
    return {"actor": _learner(enrollment), "verb": xs.COMPLETED, "object": _module(module),
            "context": context, "result": {"completion": True, "success": True,
                                           "extensions": {ext("status"): submission.status}}}


def journal(entry: AfestEntry) -> dict[str, Any]:
    """The learner went through an AFEST work situation or a reflective phase."""
    plan = entry.plan
    context = _context(plan.enrollment, plan.module)
    if plan.tutor is not None:
        context["instructor"] = agent_for_user(plan.tutor.user)
    names = {"work_situation": {"en-US": "Work situation", "fr-FR": "Mise en situation de "
                                                                     "travail"},
             "reflective_phase": {"en-US": "Reflective phase", "fr-FR": "Phase réflexive"}}
    obj = {"objectType": "Activity", "id": xs.iri(f"afest-{entry.kind.replace('_', '-')}",
                                                   entry.id),
           "definition": {"type": AFEST_TYPES[entry.kind], "name": names[entry.kind]}}
    when = datetime.combine(entry.day, time(12), tzinfo=UTC)
    hours, minutes = divmod(entry.duration_minutes, 60)
    return {"actor": _learner(plan.enrollment), "verb": xs.EXPERIENCED, "object": obj,
            "context": context, "timestamp": when.isoformat(),
            "result": {"duration": f"PT{hours}H{minutes}M" if hours else f"PT{minutes}M"}}
