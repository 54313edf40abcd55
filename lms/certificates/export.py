"""Bulk export: a ZIP of the certificates' PDFs and a CSV register, as a job or a command.

PDFs are rendered into the cache by a pool of warm processes (``RELAIS_CERTIFICATES_WORKERS``,
default: every core) and copied into the archive one at a time, with a bounded number in
flight, so memory stays flat whatever the count.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import zipfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select

from lms.accounts import audit
from lms.accounts.models import Organization
from lms.certificates import definitions, queries, rendering
from lms.certificates.models import Certificate
from lms.certificates.pool import PdfPool, default_workers
from lms.core import csvexport
from lms.core.errors import ValidationFailed
from lms.core.models import utcnow
from lms.extensions import db
from lms.jobs import services as jobs
from lms.jobs.models import Job
from lms.jobs.registry import ReportProgress

KIND = "certificates.export"
RESULT_NAME = "certificates.zip"
REGISTER_NAME = "register.csv"
REGISTER_COLUMNS = ("number", "code", "learner", "program", "cohort", "start", "end",
                    "hours", "issued_at", "issued_by", "reason", "status", "revoked_at",
                    "revocation_reason", "replaces", "file", "valid_until", "renews")


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
            certificate.reason or "", certificate.status(utcnow()),
            certificate.revoked_at.isoformat() if certificate.revoked_at else "",
            certificate.revocation_reason or "", certificate.replaces_id or "",
            file_name(certificate),
            certificate.valid_until.date().isoformat() if certificate.valid_until else "",
            certificate.renews_id or ""]


def _pdf_path(certificate: Certificate) -> Path:
    return rendering.cache_dir() / f"{rendering.key_for(certificate)}.pdf"


def write_zip(out: Path, ids: list[int],
              progress: Callable[[int, int], None] | None = None,
              workers: int = 1) -> int:
    """Write the archive of ``ids`` to ``out`` (atomically); returns the number of PDFs.

    :param workers: rendering processes; 1 renders in this process.
    """
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    # The register goes to a temporary file too, so memory does not grow with the count.
    register = tempfile.TemporaryFile("w+", encoding="utf-8-sig", newline="")
    writer = csvexport.writer(register)
    writer.writerow(REGISTER_COLUMNS)
    total = len(ids)
    done = 0
    pending: deque[tuple[str, list[Any], Path, Future[str] | None]] = deque()

    def flush_one(archive: zipfile.ZipFile) -> None:
        nonlocal done
        name, row, path, future = pending.popleft()
        if future is not None:
            future.result()
        # PDFs are compressed already: stored as they are, one at a time.
        archive.write(path, name)
        writer.writerow(row)
        done += 1
        if progress is not None:
            progress(done, total)

    pool = PdfPool(workers) if workers > 1 and total > 1 else None
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            for ident in ids:
                certificate = db.session.get(Certificate, ident)
                if certificate is None:
                    continue
                path = _pdf_path(certificate)
                future = None
                if not path.is_file():
                    if pool is None:
                        rendering.pdf_bytes(certificate)
                    else:
                        template = definitions.load(certificate.template_key)
                        future = pool.submit(rendering.render_html(certificate), template.css,
                                             str(template.folder), path)
                pending.append((file_name(certificate), register_row(certificate), path,
                                future))
                db.session.expunge(certificate)  # keep the session (and memory) small
                # A bounded window of PDFs in flight: memory does not grow with the count.
                while len(pending) > (4 * workers if pool else 0):
                    flush_one(archive)
            while pending:
                flush_one(archive)
            register.flush()
            register.seek(0)
            with archive.open(REGISTER_NAME, "w") as entry:
                shutil.copyfileobj(register.buffer, entry)  # type: ignore[type-var]
    finally:
        register.close()
        if pool is not None:
            pool.__exit__(None, None, None)
    os.replace(tmp, out)
    return done


def _audit(organization: Organization, by: Any, params: dict[str, Any], count: int,
           source: str) -> None:
    audit.record(action="certificates.export", actor=by, organization=organization,
                 target=f"organization:{organization.id}",
                 details={"certificates": count, "by": source,
                          **{k: v for k, v in params.items() if v is not None}})


def start_export(*, organization: Organization, created_by: Any,
                 params: dict[str, Any]) -> Job:
    """Enqueue an export job of the organization's certificates matching ``params`` (recorded
    in the audit log).

    :raise ValidationFailed: no certificate matches.
    """
    ids = certificate_ids(organization.id, params)
    if not ids:
        raise ValidationFailed(_l("No certificate matches these filters."))
    _audit(organization, created_by, params, len(ids), "job")
    return jobs.enqueue(kind=KIND, organization=organization, created_by=created_by,
                        params=params, total=len(ids))


def export_to_file(*, organization: Organization, out: Path, params: dict[str, Any],
                   workers: int) -> int:
    """Write the organization's certificates matching ``params`` into the ZIP ``out`` at once
    (the command line), recorded in the audit log; returns how many were written.
    """
    ids = certificate_ids(organization.id, params)
    count = write_zip(out, ids, workers=workers)
    _audit(organization, None, params, count, "cli")
    return count


def run_export(job: Job, report_progress: ReportProgress) -> dict[str, Any]:
    """Job handler: build the archive from the start (a rerun after a crash rebuilds it;
    rendered PDFs come back from the cache).
    """
    if job.organization_id is None or db.session.get(Organization, job.organization_id) is None:
        raise ValidationFailed(_l("The organization no longer exists."))
    ids = certificate_ids(job.organization_id, job.params)
    folder = jobs.job_folder(job)
    step = max(1, len(ids) // 100)

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            report_progress(done, total, lazy_ngettext("%(done)s of %(num)s certificate",
                                                       "%(done)s of %(num)s certificates",
                                                       total, done=done))

    workers = default_workers(current_app.config["CERTIFICATES_WORKERS"])
    count = write_zip(folder / RESULT_NAME, ids, progress, workers=workers)
    jobs.set_result_file(job, RESULT_NAME)
    job.message = lazy_ngettext("%(num)s certificate exported.",
                               "%(num)s certificates exported.", count)
    return {"certificates": count}


def organization_by_slug(slug: str) -> Organization | None:
    """The organization ``slug``, for the command."""
    return db.session.scalar(select(Organization).where(Organization.slug == slug))
