"""The LTI background jobs: posting a score to a line item, importing a course's roster."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select

from lms.accounts.models import Organization, Role, User
from lms.core.errors import DomainError, ValidationFailed
from lms.extensions import db
from lms.jobs import services as jobs
from lms.jobs.models import Job
from lms.jobs.registry import ReportProgress
from lms.lti import advantage, services
from lms.lti.models import LtiContext, LtiResourceLink, LtiUser

ROSTER_JOB = "lti.roster"


def run_score(job: Job, report_progress: ReportProgress) -> dict[str, Any]:
    """Job handler: post one learner's result to one line item (idempotent: the platform keeps
    the latest score by timestamp).
    """
    link = db.session.get(LtiResourceLink, int(job.params.get("link_id", 0)))
    who = db.session.get(LtiUser, int(job.params.get("lti_user_id", 0)))
    if link is None or who is None or not link.lineitem_url:
        raise ValidationFailed(_l("The link or the person no longer exists."))
    try:
        advantage.post_score(link.platform, lineitem_url=link.lineitem_url, user_sub=who.sub,
                             score=job.params.get("score"),
                             completed=bool(job.params.get("completed")),
                             timestamp=str(job.params.get("timestamp")))
    except advantage.PlatformRefused as exc:
        raise ValidationFailed(str(exc)) from exc
    job.message = _l("Score sent.")
    return {"score": job.params.get("score"), "completed": bool(job.params.get("completed"))}


def start_roster(*, context: LtiContext, created_by: User) -> Job:
    """Queue the import of a platform course's roster into its cohort.

    :raise ValidationFailed: the platform offers no roster for this course.
    """
    if not context.memberships_url:
        raise ValidationFailed(_l("The platform offers no roster for this course (enable Names "
                                  "and Role Provisioning)."))
    organization = db.session.get(Organization, context.platform.organization_id)
    return jobs.enqueue(kind=ROSTER_JOB, organization=organization, created_by=created_by,
                        params={"context_pk": context.id})


def run_roster(job: Job, report_progress: ReportProgress) -> dict[str, Any]:
    """Job handler: each active member of the course becomes a member of the organization
    (learners join the course's cohort); idempotent, so a rerun after a crash starts over.
    """
    context = db.session.get(LtiContext, int(job.params.get("context_pk", 0)))
    if context is None or not context.memberships_url:
        raise ValidationFailed(_l("The course no longer exists or offers no roster."))
    platform = context.platform
    try:
        # Read first: the roster's token is signed before this transaction writes anything.
        members = list(advantage.memberships(platform, context.memberships_url))
        cohort = services.context_cohort(context)
    except advantage.PlatformRefused as exc:
        raise ValidationFailed(str(exc)) from exc
    counts = {"members": len(members), "learners": 0, "trainers": 0, "skipped": 0}
    report_progress(0, len(members))
    for done, member in enumerate(members, start=1):
        if member.get("status", "Active") != "Active":
            counts["skipped"] += 1
            continue
        role = services.relais_role(member.get("roles"))
        try:
            membership = services.person(platform=platform, sub=member.get("user_id"),
                                         email=member.get("email"), name=member.get("name"),
                                         role=role)
        except DomainError:
            counts["skipped"] += 1  # no e-mail, deactivated: reported in the totals
            continue
        if membership.role == Role.LEARNER:
            services.join_cohort(member=membership, cohort=cohort)
            counts["learners"] += 1
        else:
            counts["trainers"] += 1
        if done % 50 == 0:
            report_progress(done, len(members))
    job.message = lazy_ngettext("%(num)d learner in the cohort %(cohort)s.",
                                "%(num)d learners in the cohort %(cohort)s.",
                                counts["learners"], cohort=cohort.name)
    return {**counts, "cohort_id": cohort.id}


def roster_jobs(context: LtiContext) -> list[Job]:
    """The latest roster imports of a course."""
    return [job for job in db.session.scalars(
        select(Job).where(Job.kind == ROSTER_JOB).order_by(Job.id.desc()).limit(50))
        if job.params.get("context_pk") == context.id][:3]
