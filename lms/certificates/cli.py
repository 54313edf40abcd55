"""Command: ``relais export-certificates --org SLUG --out PATH [--cohort ID]``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from lms.certificates import export
from lms.certificates.pool import default_workers
from lms.courses.cohorts.models import Cohort
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
    from lms.core.cli import fail

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
    count = export.export_to_file(
        organization=org, out=out, params={"cohort_id": cohort_id},
        workers=default_workers(workers or current_app.config["CERTIFICATES_WORKERS"]))
    db.session.commit()
    click.echo(f"{count} certificates written to {out}")


@click.command("recertify")
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@click.option("--dry-run", is_flag=True, help="Only list who would be enrolled, change nothing.")
def recertify_command(org_slug: str, dry_run: bool) -> None:
    """Enrol in a refresher the learners whose certificates expire soon."""
    from lms.certificates import recertification
    from lms.core.cli import fail

    org = export.organization_by_slug(org_slug)
    if org is None:
        fail(f"no organization {org_slug!r}")
        return
    plan = recertification.recertify(org, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for p in plan:
        click.echo(f"certificate {p.certificate_id}\t{p.learner}\t{p.program}\t"
                   f"valid until {p.valid_until}\t{p.cohort}\t{p.action}")
    enrolled = sum(1 for p in plan if p.action == "enrol")
    verb = "would be enrolled" if dry_run else "enrolled"
    click.echo(f"{enrolled} learner(s) {verb} in a refresher; {len(plan)} certificate(s) "
               "expiring within their program's lead time.")


@click.command("clean-certificate-cache")
@click.option("--dry-run", is_flag=True, help="Only count the stale files.")
def clean_cache_command(dry_run: bool) -> None:
    """Delete cached certificate PDFs no certificate uses any more."""
    from lms.certificates import rendering

    count, freed = rendering.clean_cache(dry_run=dry_run)
    verb = "would be deleted" if dry_run else "deleted"
    click.echo(f"{count} stale PDF(s) {verb} ({freed / 1e6:.1f} MB).")


COMMANDS = [export_command, recertify_command, clean_cache_command]
