"""Reads for jobs: who may see which job."""

from __future__ import annotations

from sqlalchemy import Select, select

from lms.accounts.authz import MANAGER_ROLES
from lms.accounts.models import Membership, Role
from lms.jobs.models import Job
from lms.jobs.registry import is_private


def can_see(membership: Membership, job: Job) -> bool:
    """Managers see their organization's jobs; anyone sees the jobs they started there.

    A private kind's job (a personal-data export) is seen by its creator only, in any of their
    organizations when it belongs to none (a person's export of all their data).
    """
    if job.created_by_id == membership.user_id and (
            job.organization_id in (None, membership.organization_id)):
        return True
    if job.organization_id != membership.organization_id or is_private(job.kind):
        return False
    return membership.role in MANAGER_ROLES


def org_jobs(organization_id: int) -> Select[Job]:
    """The organization's jobs, newest first."""
    return (select(Job).where(Job.organization_id == organization_id)
            .order_by(Job.created_at.desc(), Job.id.desc()))


ADMIN_ROLES = (Role.HR, Role.ADMIN)
