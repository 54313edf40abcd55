"""Demo: two learners of the pilot cohort finish the path, so certificates exist.

They complete the remaining modules through statements (as an external package or a review
would), so completion — and the certificate — follow the real path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lms.courses import statements as xs
from lms.courses.models import Cohort, Enrollment
from lms.extensions import db
from lms.xapi.builders import agent_for_user
from lms.xapi.record import record

# Indexes in DemoPeople.learners: Camille (ahead) and Léa.
FINISHERS = (0, 2)


def demo_step(people: Any) -> None:
    """Complete the pilot path for Camille and Léa."""
    org = people.organization
    cohort = db.session.scalar(select(Cohort).where(Cohort.organization_id == org.id,
                                                    Cohort.pilot.is_(True)))
    if cohort is None:
        return
    for index in FINISHERS:
        membership = people.learners[index]
        enrollment = db.session.scalar(select(Enrollment).where(
            Enrollment.cohort_id == cohort.id, Enrollment.membership_id == membership.id))
        if enrollment is None:
            continue
        record([{"actor": agent_for_user(membership.user),
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
                          "display": {"en-US": "completed"}},
                 "object": {"objectType": "Activity", "id": xs.iri("module", module.id)},
                 "context": {"registration": enrollment.id}}
                for module in cohort.program.modules if module.required],
               organization_id=org.id)
