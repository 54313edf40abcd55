"""Command: ``relais export-certificates --org SLUG --out PATH [--cohort ID]``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from lms.certificates import export
from lms.certificates.pool import default_workers
from lms.courses.models import Cohort
from lms.extensions import db


@click.command("export-certificates")
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The ZIP file to write (PDFs and register.csv).")
@click.option("--cohort", "cohort_id", type=int, help="Only this cohort's certificates.")
@click.option("--workers", type=int, default=None,
              help="Rendering processes (default: RELAIS_CERTIFICATES_WORKERS, else every core).")
def export_command(org_slug: str, out: Path, cohort_id: int | None,
                   workers: int | None) -> None:
    """Write an organization's certificates (PDFs and a CSV register) into a ZIP file."""
    from lms.cli import fail

    org = export.organization_by_slug(org_slug)
    if org is None:
        fail(f"no organization {org_slug!r}")
        return
    if cohort_id is not None:
        cohort = db.session.get(Cohort, cohort_id)
        if cohort is None or cohort.organization_id != org.id:
            fail(f"no cohort {cohort_id} in {org_slug!r}")
    if not out.parent.is_dir():
        fail(f"no such folder: {out.parent}")
    ids = export.certificate_ids(org.id, {"cohort_id": cohort_id})
    count = export.write_zip(out, ids, workers=default_workers(
        workers or current_app.config.get("CERTIFICATES_WORKERS")))
    click.echo(f"{count} certificates written to {out}")


COMMANDS = [export_command]
