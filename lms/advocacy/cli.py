"""Commands: ``relais import-activity``, ``relais advocacy-webhook-secret`` and
``relais rebuild-advocacy-figures``.
"""

from __future__ import annotations

from pathlib import Path

import click

from lms.accounts.cli import organization_or_fail
from lms.advocacy import csvimport, figures, services
from lms.core.errors import DomainError
from lms.extensions import db


@click.command("import-activity")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@click.option("--preset", default="generic", show_default=True,
              type=click.Choice(sorted(csvimport.PRESETS)), help="The file's format.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid rows and reject the others (default: all or nothing).")
@click.option("--rejected", "rejected_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to save the rejected rows (default: FILE.rejected.csv).")
def import_activity_command(file: Path, org_slug: str, preset: str, skip_invalid: bool,
                            rejected_path: Path | None) -> None:
    """Import advocacy activity from a CSV export; every bad row is listed with its line."""
    org = organization_or_fail(org_slug)
    data = file.read_bytes()
    try:
        checked_rows = len(csvimport.read_rows(data, csvimport.preset(preset))[1])
        with click.progressbar(length=checked_rows, label="Importing") as bar:
            result = csvimport.import_activity(organization=org, data=data, preset_name=preset,
                                               skip_invalid=skip_invalid, progress=bar.update)
        db.session.commit()
    except csvimport.ImportRejected as exc:
        db.session.rollback()
        for line, message in exc.errors:
            click.echo(f"line {line}: {message}", err=True)
        click.secho(f"error: {exc.message} (use --skip-invalid to import the valid rows)",
                    fg="red", err=True)
        raise SystemExit(1) from None
    except DomainError as exc:
        db.session.rollback()
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        click.secho(f"error: {exc.message}" + (f" ({details})" if details else ""), fg="red",
                    err=True)
        raise SystemExit(1) from None
    summary = result.summary()
    click.echo(f"{summary['read']} rows read: {summary['created']} new, {summary['updated']} "
               f"updated, {summary['unchanged']} unchanged, {summary['rejected']} rejected.")
    if result.rejected_csv:
        target = rejected_path or file.with_name(file.name + ".rejected.csv")
        target.write_bytes(result.rejected_csv)
        for line, message in result.errors[:20]:
            click.echo(f"line {line}: {message}", err=True)
        click.echo(f"Rejected rows saved to {target}")


@click.command("advocacy-webhook-secret")
@click.option("--org", "org_slug", required=True, help="The organization's slug.")
@click.option("--rotate", is_flag=True, help="Replace the secret (the old one stops working).")
def webhook_secret_command(org_slug: str, rotate: bool) -> None:
    """Print the organization's advocacy webhook secret (created on first use)."""
    org = organization_or_fail(org_slug)
    settings = services.settings_for(org.id)
    secret = settings.webhook_secret
    if rotate or not secret:
        secret = services.rotate_webhook_secret(organization=org)
    db.session.commit()
    click.echo(secret)


@click.command("rebuild-advocacy-figures")
@click.option("--org", "org_slug", help="The organization's slug (default: every one).")
def rebuild_figures_command(org_slug: str | None) -> None:
    """Recompute the advocacy daily figures from the events (after a restore or a bulk load
    straight into the database; every path of the application keeps them right itself).
    """
    org = organization_or_fail(org_slug) if org_slug else None
    rows = figures.rebuild(org.id if org else None)
    db.session.commit()
    click.echo(f"{rows} rows of daily figures written.")


COMMANDS = [import_activity_command, webhook_secret_command, rebuild_figures_command]
