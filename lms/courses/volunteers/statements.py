"""xAPI statements of calls for volunteers: a person volunteered for a pilot cohort, and the
trainer accepted them into it (the enrolment then records "registered" as usual).
"""

from __future__ import annotations

from typing import Any

from lms.accounts.models import Membership
from lms.core.models import utcnow
from lms.courses.cohorts.models import Enrollment
from lms.courses.statements import activity_prefix, iri
from lms.courses.volunteers.models import Volunteer
from lms.xapi.builders import agent_for_user, base_url

CALL_TYPE = "{base}/xapi/activity-types/volunteer-call"


def _verb(name: str, fr: str) -> dict[str, Any]:
    return {"id": f"{base_url()}/xapi/verbs/{name}", "display": {"en-US": name, "fr-FR": fr}}


def call_activity(volunteer: Volunteer) -> dict[str, Any]:
    """The call for volunteers as an activity, named after its cohort."""
    call = volunteer.call
    return {"objectType": "Activity", "id": f"{activity_prefix()}volunteer-call/{call.id}",
            "definition": {"type": CALL_TYPE.format(base=base_url()),
                           "name": {"fr-FR": f"Appel à volontaires — {call.cohort.name}",
                                    "en-US": f"Call for volunteers — {call.cohort.name}"}}}


def _context(volunteer: Volunteer) -> dict[str, Any]:
    cohort = volunteer.call.cohort
    return {"platform": "Relais", "contextActivities": {"grouping": [
        {"objectType": "Activity", "id": iri("program", cohort.program_id)},
        {"objectType": "Activity", "id": f"{activity_prefix()}cohort/{cohort.id}"}]}}


def volunteered(volunteer: Volunteer) -> dict[str, Any]:
    """The person volunteered for the call (their note stays in Relais, never in the LRS)."""
    return {"actor": agent_for_user(volunteer.membership.user),
            "verb": _verb("volunteered", "s'est porté volontaire pour"),
            "object": call_activity(volunteer), "context": _context(volunteer),
            "timestamp": utcnow().isoformat()}


def accepted(volunteer: Volunteer, by: Membership, enrollment: Enrollment) -> dict[str, Any]:
    """The trainer accepted the volunteer into the pilot cohort: the volunteer is the object,
    the call the context's parent, the new enrolment its registration.
    """
    context = _context(volunteer)
    # xAPI allows "platform" only when the object is an activity.
    del context["platform"]
    context["registration"] = enrollment.id
    context["contextActivities"]["parent"] = [{"objectType": "Activity",
                                               "id": call_activity(volunteer)["id"]}]
    return {"actor": agent_for_user(by.user), "verb": _verb("accepted", "a retenu"),
            "object": agent_for_user(volunteer.membership.user), "context": context,
            "timestamp": utcnow().isoformat()}
