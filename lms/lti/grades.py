"""Completion and score sent back to the platform: a projection of xAPI statements.

``on_statement`` is registered with :mod:`lms.xapi.projections` for ``completed``. Courses
records a derived ``completed`` statement whenever a module's (or a program's) completion rule
is met, however it was met — lessons and a quiz in Relais, an xAPI package, attendance, a
reviewed exercise — and voids it when the completion is taken back. So this one handler sees
every completion, and for each link the learner launched it queues a job that posts the score
to the link's line item (retried if the platform is down; never inside the request).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from lms.core.models import utcnow
from lms.courses import statements as xs
from lms.courses.cohorts.models import Enrollment, ModuleProgress
from lms.extensions import db
from lms.jobs import services as jobs
from lms.lti.models import LtiLinkLearner, LtiPlatform, LtiResourceLink, LtiUser

SCORE_JOB = "lti.score"
COMPLETED_VERB = xs.COMPLETED["id"]
# A platform may be down for a while: 5 s, 20 s, 80 s… up to about half a day in all.
SCORE_ATTEMPTS = 8


def _target(object_id: str) -> tuple[str, int] | None:
    prefix = xs.activity_prefix()
    if not object_id.startswith(prefix):
        return None
    kind, _, ident = object_id[len(prefix):].partition("/")
    if kind not in ("module", "program") or not ident.isdigit():
        return None
    return kind, int(ident)


def on_statement(statement: dict[str, Any], *, organization_id: int, voided: bool) -> None:
    """Projection handler: queue a score for each link the learner launched to this module."""
    if not xs.is_derived(statement):
        return
    target = _target(str(statement["object"].get("id", "")))
    registration = (statement.get("context") or {}).get("registration")
    if target is None or not registration:
        return
    enrollment = db.session.get(Enrollment, str(registration).lower())
    if enrollment is None or enrollment.organization_id != organization_id:
        return
    kind, ident = target
    column = LtiResourceLink.module_id if kind == "module" else LtiResourceLink.program_id
    rows = db.session.execute(
        select(LtiResourceLink, LtiUser).join(LtiLinkLearner,
                                              LtiLinkLearner.link_id == LtiResourceLink.id)
        .join(LtiUser, LtiUser.id == LtiLinkLearner.lti_user_id)
        .join(LtiPlatform, LtiPlatform.id == LtiResourceLink.platform_id)
        .where(column == ident, LtiResourceLink.lineitem_url.is_not(None),
               LtiPlatform.organization_id == organization_id,
               LtiUser.user_id == enrollment.membership.user_id)).all()
    if not rows:
        return
    score = None
    if kind == "module":
        score = db.session.scalar(select(ModuleProgress.score).where(
            ModuleProgress.enrollment_id == enrollment.id, ModuleProgress.module_id == ident))
    for link, who in rows:
        jobs.enqueue(kind=SCORE_JOB, organization=enrollment.membership.organization,
                     created_by=None, max_attempts=SCORE_ATTEMPTS,
                     params={"link_id": link.id, "lti_user_id": who.id, "score": score,
                             "completed": not voided, "timestamp": utcnow().isoformat()})
