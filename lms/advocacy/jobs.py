"""The "advocacy.import_activity" job: a CSV upload imported in the background with progress.

Re-running after a crash is safe: the import is idempotent (known events are left alone).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from lms.accounts.models import Organization, User
from lms.advocacy import csvimport
from lms.core.errors import ValidationFailed
from lms.extensions import db
from lms.jobs import services as jobs
from lms.jobs.models import Job
from lms.jobs.registry import ReportProgress

KIND = "advocacy.import_activity"
INPUT_NAME = "input.csv"
REPORT_NAME = "rejected.csv"


def start_import(*, organization: Organization, created_by: User | None, data: bytes,
                 preset_name: str | None = None, skip_invalid: bool = False) -> Job:
    """Check that the file is readable, store it and enqueue the import.

    :raise ValidationFailed: too big, not UTF-8, unknown preset or missing columns.
    """
    if len(data) > csvimport.MAX_BYTES:
        raise ValidationFailed(_l("The file is too big."), fields={
            "file": _l("At most %(size)d MB.", size=csvimport.MAX_BYTES // 1024 // 1024)})
    spec = csvimport.preset(preset_name)
    _header, rows = csvimport.read_rows(data, spec)
    job = jobs.enqueue(kind=KIND, organization=organization, created_by=created_by,
                       params={"preset": spec.name, "skip_invalid": bool(skip_invalid)},
                       total=len(rows))
    jobs.write_job_file(job, INPUT_NAME, data)
    return job


def run_import(job: Job, report_progress: ReportProgress) -> dict[str, Any]:
    """Job handler: check the whole file, then import it batch by batch with progress."""
    data = (jobs.job_folder(job) / INPUT_NAME).read_bytes()
    org = db.session.get(Organization, job.organization_id)
    if org is None:
        raise ValidationFailed(_l("The organization no longer exists."))
    done = 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        report_progress(done, None, lazy_ngettext("%(num)s event imported",
                                                  "%(num)s events imported", done))

    try:
        result = csvimport.import_activity(
            organization=org, data=data, preset_name=job.params.get("preset"),
            skip_invalid=bool(job.params.get("skip_invalid")), progress=progress)
    except csvimport.ImportRejected as exc:
        checked = csvimport.check_file(organization=org, data=data,
                                       preset_name=job.params.get("preset"))
        jobs.write_job_file(job, REPORT_NAME, csvimport.rejected_csv(checked))
        jobs.set_result_file(job, REPORT_NAME)
        job.message = exc.message
        return {"read": exc.read, "created": 0, "updated": 0, "unchanged": 0,
                "rejected": len(exc.errors), "written": False}
    if result.rejected_csv:
        jobs.write_job_file(job, REPORT_NAME, result.rejected_csv)
        jobs.set_result_file(job, REPORT_NAME)
    summary = result.summary()
    job.message = _l("%(read)s rows read: %(created)s new, %(updated)s updated, "
                     "%(unchanged)s unchanged, %(rejected)s rejected.",
                     **{key: summary[key]
                        for key in ("read", "created", "updated", "unchanged", "rejected")})
    return {**summary, "written": True}
