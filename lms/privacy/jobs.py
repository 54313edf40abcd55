"""The personal-data export as a background job, with progress (the pages start it).

The job is private (only its creator sees it and downloads its result): the ZIP is personal
data, and other managers of the organization must not reach it through the jobs pages.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import Organization, User
from lms.core.errors import ValidationFailed
from lms.extensions import db
from lms.jobs import services as jobs
from lms.jobs.models import Job
from lms.jobs.registry import ReportProgress

KIND = "personal_data.export"
RESULT_NAME = "personal-data.zip"


def start_export(*, user: User, organization: Organization | None, created_by: User) -> Job:
    """Enqueue the export of ``user``'s data (in ``organization``, or everywhere if None)."""
    from lms.privacy.export import KINDS

    return jobs.enqueue(kind=KIND, organization=organization, created_by=created_by,
                        params={"user_id": user.id}, total=len(KINDS))


def run_export(job: Job, report_progress: ReportProgress) -> dict[str, Any]:
    """Job handler: build the ZIP from the start (a rerun rebuilds it whole)."""
    from lms.privacy.export import build_zip

    user = db.session.get(User, int(job.params.get("user_id", 0)))
    organization = db.session.get(Organization, job.organization_id) \
        if job.organization_id is not None else None
    if user is None or (job.organization_id is not None and organization is None):
        raise ValidationFailed(_l("The person or the organization no longer exists."))

    def progress(done: int, total: int) -> None:
        report_progress(done, total, f"{done} of {total} kinds of data")

    data = build_zip(user, organization, progress)
    jobs.write_job_file(job, RESULT_NAME, data)
    jobs.set_result_file(job, RESULT_NAME)
    job.message = _l("Export ready.")
    return {"bytes": len(data)}


def export_jobs_about(user: User) -> list[Job]:
    """The export jobs whose result holds ``user``'s data (erasure deletes their files)."""
    return [job for job in db.session.scalars(select(Job).where(Job.kind == KIND))
            if job.params.get("user_id") == user.id]
