"""The "accounts.import_members" job: a CSV of people → memberships, with an error report.

The CSV has a header row; ``email`` is required, ``role``, ``display_name`` (or ``name``),
``team``, ``job_family``, ``locale``, ``manager_email`` and ``champion`` (yes/no, oui/non,
1/0, true/false; empty leaves it unchanged) are optional (a missing role takes the job's
default). Managers are set once every row is in, so a manager may be listed after the
people they manage.
Commas or semicolons separate fields (spreadsheets in French save with semicolons). Rows are
provisioned in chunks; each chunk commits with the job's progress, so a job resumed after a
crash starts at the first unfinished chunk. Rows that fail are listed, with their line number,
in the job's result file ``errors.csv``.
"""

from __future__ import annotations

import csv
import io
from contextvars import ContextVar
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from lms.accounts import services as accounts
from lms.accounts.authz import membership_for
from lms.accounts.models import Membership, Organization, Role
from lms.core import csvexport
from lms.core.database import collector_paused
from lms.core.errors import DomainError, NotFound, ValidationFailed
from lms.extensions import db
from lms.jobs import services
from lms.jobs.models import Job
from lms.jobs.registry import ReportProgress

KIND = "accounts.import_members"
INPUT_NAME = "input.csv"
REPORT_NAME = "errors.csv"
COLUMNS = ("email", "role", "display_name", "team", "job_family", "locale", "manager_email",
           "champion")
ALIASES = {"name": "display_name", "e-mail": "email", "mail": "email",
           "manager": "manager_email", "référent": "champion", "referent": "champion"}
YES = {"yes", "oui", "1", "true", "vrai", "x"}
NO = {"no", "non", "0", "false", "faux"}
MAX_BYTES = 50 * 1024 * 1024


def parse_csv(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Read the CSV into (header, [(line number, row)]), blank lines skipped.

    :raise ValidationFailed: not UTF-8, no header, or no ``email`` column.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(_l("The file is not UTF-8 text."),
                               fields={"file": _l("Save it as CSV UTF-8.")}) from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        raw_header = next(reader)
    except StopIteration:
        raise ValidationFailed(_l("The file is empty."),
                               fields={"file": _l("The file is empty.")}) from None
    header = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in raw_header]
    if "email" not in header:
        raise ValidationFailed(_l("The first line must name the columns, including 'email'."),
                               fields={"file": _l("No 'email' column in the first line.")})
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        row = {name: (values[i].strip() if i < len(values) else "")
               for i, name in enumerate(header) if name in COLUMNS}
        rows.append((reader.line_num, row))
    return header, rows


def start_import(*, organization: Organization, created_by: Any, data: bytes,
                 default_role: str | Role = Role.LEARNER) -> Job:
    """Check the CSV, store it and enqueue the import job.

    :raise ValidationFailed: the file is too big, not UTF-8 or has no ``email`` column, or the
        default role is unknown.
    """
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_l("The file is too big."),
                               fields={"file": _l("At most %(size)d MB.",
                                                  size=MAX_BYTES // 1024 // 1024)})
    try:
        role = Role(default_role)
    except ValueError:
        raise ValidationFailed(_l("Unknown role."),
                               fields={"default_role": _l("Unknown role.")}) from None
    _header, rows = parse_csv(data)
    job = services.enqueue(kind=KIND, organization=organization, created_by=created_by,
                           params={"default_role": role.value}, total=len(rows))
    services.write_job_file(job, INPUT_NAME, data)
    return job


# The people of the chunk being imported, loaded once (set by run_import around each chunk).
_chunk_people: ContextVar[accounts.KnownPeople | None] = ContextVar("_chunk_people",
                                                                    default=None)


def _provision(org: Organization, row: dict[str, str], default_role: str,
               granted_by: Membership | None) -> bool:
    role = row.get("role") or default_role
    locale = row.get("locale") or None
    if locale and locale not in current_app.config["LANGUAGES"]:
        raise ValidationFailed(_l("Unsupported language."),
                               fields={"locale": _l("Use en or fr.")})
    flag = (row.get("champion") or "").lower()
    if flag and flag not in YES | NO:
        raise ValidationFailed(_l("Unknown champion value."),
                               fields={"champion": _l("Use yes or no.")})
    # The service validates e-mail and role before it writes anything, so a bad row leaves
    # nothing behind in the chunk's transaction.
    known = _chunk_people.get()
    assert known is not None
    return accounts.import_member(
        organization=org, email=row.get("email", ""), role=role,
        display_name=row.get("display_name") or None, team=row.get("team") or None,
        job_family=row.get("job_family") or None, locale=locale, granted_by=granted_by,
        champion=(flag in YES) if flag else None, known=known)


def run_import(job: Job, report_progress: ReportProgress) -> dict[str, Any]:
    """Job handler: provision the rows from ``job.progress_current`` on, chunk by chunk."""
    with collector_paused():
        return _run_import(job, report_progress)


def _run_import(job: Job, report_progress: ReportProgress) -> dict[str, Any]:
    folder = services.job_folder(job)
    _header, rows = parse_csv((folder / INPUT_NAME).read_bytes())
    org = db.session.get(Organization, job.organization_id)
    if org is None:
        raise ValidationFailed(_l("The organization no longer exists."))
    # The import grants roles in the name of whoever started it, held to what they may grant.
    granted_by = None
    if job.created_by is not None:
        try:
            granted_by = membership_for(job.created_by, org.slug)
        except NotFound:
            raise ValidationFailed(
                _l("The person who started this import left the organization.")) from None
    chunk = max(1, int(current_app.config["JOBS_IMPORT_CHUNK"]))
    default_role = job.params.get("default_role", Role.LEARNER.value)
    counts = dict(job.result or {"created": 0, "updated": 0, "errors": 0})
    start = job.progress_current
    total = len(rows)
    for first in range(start, total, chunk):
        errors = []
        part_rows = rows[first:first + chunk]
        # The chunk's people in one query; the people new to Relais are written with two
        # INSERTs, the other changes in one flush.
        known = accounts.KnownPeople([row.get("email", "") for _line, row in part_rows])
        people = _chunk_people.set(known)
        try:
            for line, row in part_rows:
                try:
                    created = _provision(org, row, default_role, granted_by)
                except DomainError as exc:
                    detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or \
                        exc.message
                    errors.append([line, row.get("email", ""), detail])
                    continue
                counts["created" if created else "updated"] += 1
        finally:
            _chunk_people.reset(people)
        known.write(org)
        db.session.flush()
        counts["errors"] += len(errors)
        # One small file per chunk, named by its first row: a rerun of the chunk overwrites it.
        part = f"errors-{first:09d}.part"
        if errors:
            services.write_job_file(job, part, csvexport.to_bytes(None, errors, bom=False))
        else:
            (folder / part).unlink(missing_ok=True)
        job.result = dict(counts)
        done = min(first + chunk, total)
        report_progress(done, total, lazy_ngettext("%(done)s of %(num)s row",
                                                   "%(done)s of %(num)s rows", total, done=done))
    counts["errors"] += _set_managers(job, org, rows)
    job.result = dict(counts)
    _write_report(job, total)
    return counts


def _set_managers(job: Job, org: Organization, rows: list[tuple[int, dict[str, str]]]) -> int:
    """Set the managers the file names, after every row is provisioned; returns the errors.

    Idempotent, so a job resumed after a crash may run it again. The checks come before any
    change, so a refused row changes nothing.
    """
    errors = []
    named = [(line, row) for line, row in rows if row.get("manager_email")]
    # Everyone named (people and managers) loaded once; the changes written in one flush.
    known = accounts.KnownPeople([email for _line, row in named
                                  for email in (row.get("email", ""), row["manager_email"])])
    for line, row in named:
        try:
            member = accounts.find_manager(organization=org, email=row.get("email", ""),
                                           known=known)
        except DomainError:
            continue  # the row itself failed: its error is reported already
        try:
            accounts.set_manager(membership=member, manager=accounts.find_manager(
                organization=org, email=row["manager_email"], known=known), flush=False)
        except DomainError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.message
            errors.append([line, row.get("email", ""), detail])
    db.session.flush()
    if errors:
        services.write_job_file(job, "errors-managers.part",
                                csvexport.to_bytes(None, errors, bom=False))
    return len(errors)


def _write_report(job: Job, total: int) -> None:
    folder = services.job_folder(job)
    out = io.StringIO()
    out.write(csvexport.to_text(["line", "email", "error"], []))
    for part in sorted(folder.glob("errors-*.part")):
        out.write(part.read_text())
    services.write_job_file(job, REPORT_NAME, out.getvalue().encode())
    services.set_result_file(job, REPORT_NAME)
    for part in folder.glob("errors-*.part"):
        part.unlink(missing_ok=True)
    job.message = lazy_ngettext("%(num)s row read.", "%(num)s rows read.", total)
