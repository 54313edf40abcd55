"""Bulk export: a ZIP of the certificates' PDFs and a CSV register, as a job or a command.

PDFs are written into the archive one at a time (each rendered, or read from the cache, then
released), so memory stays flat whatever the count. Rendering is sequential in this process.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lms.accounts.models import Organization
from lms.certificates import queries, rendering
from lms.certificates.models import Certificate
from lms.core.errors import ValidationFailed
from lms.extensions import db
from lms.jobs import services as jobs
from lms.jobs.models import Job
from lms.jobs.registry import ReportProgress

KIND = "certificates.export"
RESULT_NAME = "certificates.zip"
REGISTER_NAME = "register.csv"
REGISTER_COLUMNS = ("number", "code", "learner", "program", "cohort", "start", "end",
                    "hours", "issued_at", "issued_by", "reason", "status", "revoked_at",
                    "revocation_reason", "replaces", "file")


def _filters(params: dict[str, Any]) -> dict[str, Any]:
    return {"cohort_id": params.get("cohort_id"), "program_id": params.get("program_id"),
            "since": date.fromisoformat(params["since"]) if params.get("since") else None,
            "until": date.fromisoformat(params["until"]) if params.get("until") else None}


def certificate_ids(organization_id: int, params: dict[str, Any]) -> list[int]:
    """The ids of the certificates an export with these filters holds, oldest first."""
    stmt = queries.filtered(organization_id, **_filters(params)).with_only_columns(
        Certificate.id).order_by(None).order_by(Certificate.id)
    return list(db.session.scalars(stmt))


def file_name(certificate: Certificate) -> str:
    """The certificate's name in the archive: number, learner, status."""
    safe = "".join(ch if ch.isalnum() else "-" for ch in certificate.snapshot["learner"]["name"])
    suffix = "-revoked" if certificate.revoked else ""
    return f"{certificate.id:06d}-{safe.strip('-')[:60]}{suffix}.pdf"


def register_row(certificate: Certificate) -> list[Any]:
    """One line of the CSV register."""
    s = certificate.snapshot
    title = s["program"]["title"]
    return [certificate.id, certificate.code, s["learner"]["name"],
            title.get(certificate.language) or next(iter(title.values()), ""),
            s["cohort"]["name"], s["dates"]["start"], s["dates"]["end"], s["hours"]["total"],
            certificate.issued_at.isoformat(),
            certificate.issued_by.display_name if certificate.issued_by else "Relais",
            certificate.reason or "", "revoked" if certificate.revoked else "valid",
            certificate.revoked_at.isoformat() if certificate.revoked_at else "",
            certificate.revocation_reason or "", certificate.replaces_id or "",
            file_name(certificate)]


def write_zip(out: Path, ids: list[int],
              progress: Callable[[int, int], None] | None = None) -> int:
    """Write the archive of ``ids`` to ``out`` (atomically); returns the number of PDFs."""
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    register = io.StringIO()
    writer = csv.writer(register)
    writer.writerow(REGISTER_COLUMNS)
    total = len(ids)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
        for done, ident in enumerate(ids, start=1):
            certificate = db.session.get(Certificate, ident)
            if certificate is None:
                continue
            # PDFs are compressed already: stored as they are.
            archive.writestr(file_name(certificate), rendering.pdf_bytes(certificate))
            writer.writerow(register_row(certificate))
            db.session.expunge(certificate)  # keep the session (and memory) small
            if progress is not None:
                progress(done, total)
        archive.writestr(REGISTER_NAME, "\ufeff" + register.getvalue())
    os.replace(tmp, out)
    return total


def start_export(*, organization: Organization, created_by: Any,
                 params: dict[str, Any]) -> Job:
    """Enqueue an export job of the organization's certificates matching ``params``.

    :raise ValidationFailed: no certificate matches.
    """
    ids = certificate_ids(organization.id, params)
    if not ids:
        raise ValidationFailed("No certificate matches these filters.")
    return jobs.enqueue(kind=KIND, organization=organization, created_by=created_by,
                        params=params, total=len(ids))


def run_export(job: Job, report_progress: ReportProgress) -> dict[str, Any]:
    """Job handler: build the archive from the start (a rerun after a crash rebuilds it;
    rendered PDFs come back from the cache)."""
    if job.organization_id is None or db.session.get(Organization, job.organization_id) is None:
        raise ValidationFailed("The organization no longer exists.")
    ids = certificate_ids(job.organization_id, job.params)
    folder = jobs.job_folder(job)
    step = max(1, len(ids) // 100)

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            report_progress(done, total, f"{done} of {total} certificates")

    count = write_zip(folder / RESULT_NAME, ids, progress)
    jobs.set_result_file(job, RESULT_NAME)
    job.message = f"{count} certificates exported."
    return {"certificates": count}


def organization_by_slug(slug: str) -> Organization | None:
    """The organization ``slug``, for the command."""
    return db.session.scalar(select(Organization).where(Organization.slug == slug))
