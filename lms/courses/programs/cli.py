"""Commands: ``relais program-check``, ``relais program-export``, ``relais program-import``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.accounts.cli import organization_or_fail
from lms.courses.programs import definitions as defs
from lms.courses.programs import services
from lms.courses.programs.models import Program
from lms.extensions import db


def _read(path: Path) -> defs.ProgramDef:
    """The program in a folder or a zip; on errors, print each one and exit with status 1."""
    try:
        return defs.read_folder(path) if path.is_dir() else defs.read_zip(path.read_bytes())
    except defs.ContentError as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        raise SystemExit(1) from exc



@click.command("program-check")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def check_command(path: Path) -> None:
    """Validate a program folder or zip; print every error with its file and line."""
    program = _read(path)
    lessons = sum(len(m.lessons) for m in program.modules)
    click.echo(f"{program.slug}: valid ({len(program.modules)} modules, {lessons} lessons)")


@click.command("program-export")
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@click.option("--program", "program_slug", required=True, help="The program's slug.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Zip to write.")
@with_appcontext
def export_command(org_slug: str, program_slug: str, out: Path) -> None:
    """Export an organization's program as a zip (program.yaml and lessons/*.md)."""
    from lms.core.cli import fail

    org = organization_or_fail(org_slug)
    program = db.session.scalar(select(Program).where(Program.organization_id == org.id,
                                                      Program.slug == program_slug))
    if program is None:
        fail(f"no program {program_slug!r} in {org_slug}")
    out.write_bytes(defs.to_zip(services.definition_of(program)))  # type: ignore[arg-type]
    click.echo(f"Wrote {out}")


@click.command("program-import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@with_appcontext
def import_command(path: Path, org_slug: str) -> None:
    """Import a program folder or zip into an organization (nothing on any error)."""
    org = organization_or_fail(org_slug)
    definition = _read(path)
    program = services.create_program(organization=org, definition=definition)
    db.session.commit()
    click.echo(f"Imported {program.slug} into {org.slug} (id {program.id})")


COMMANDS = [check_command, export_command, import_command]
