"""``relais xapi-outbox``: the forwarding queue to external LRSs, from the command line."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.accounts.cli import organization_or_fail
from lms.accounts.models import Organization
from lms.core.cli import commit_or_fail, fail
from lms.extensions import db


def _wait(seconds: float) -> None:
    time.sleep(seconds)


@click.group("xapi-outbox")
def xapi_outbox() -> None:
    """Forwarding of statements to external LRSs: status, delivery, dead letters, settings."""


@xapi_outbox.command("status")
@click.option("--org", "org_slug", default=None, help="Only this organization.")
@with_appcontext
def status_command(org_slug: str | None) -> None:
    """Show each organization's external LRS and its queue: pending, delivered, dead."""
    from lms.xapi import forwarding
    from lms.xapi.forwarding_models import ExternalLrs

    stmt = select(Organization, ExternalLrs).outerjoin(
        ExternalLrs, ExternalLrs.organization_id == Organization.id).order_by(Organization.slug)
    if org_slug:
        stmt = stmt.where(Organization.id == organization_or_fail(org_slug).id)
    counts = forwarding.outbox_counts()
    shown = 0
    for org, target in db.session.execute(stmt):
        c = counts.get(org.id, forwarding.OutboxCounts())
        if target is None and not org_slug and not (c.pending or c.dead or c.delivered):
            continue
        shown += 1
        state = "not configured" if target is None else ("on" if target.enabled else "off")
        click.echo(f"{org.slug}: forwarding {state}"
                   + (f" → {target.endpoint}" if target is not None else ""))
        click.echo(f"  pending {c.pending}, delivered {c.delivered}, dead {c.dead}")
        if target is not None:
            if target.last_success_at:
                click.echo(f"  last delivery {target.last_success_at.isoformat()}")
            if target.last_error:
                when = target.last_error_at.isoformat() if target.last_error_at else ""
                click.echo(f"  last error {when}: {target.last_error}")
    if not shown:
        click.echo("No organization forwards statements.")


@xapi_outbox.command("deliver")
@click.option("--org", "org_slug", default=None, help="Only this organization.")
@click.option("--loop", is_flag=True, help="Keep delivering until interrupted (Ctrl+C).")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds to wait between passes when the queue is empty.")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(min=1),
              help="Most statements per pass.")
@with_appcontext
def deliver_command(org_slug: str | None, loop: bool, interval: float, limit: int) -> None:
    """Send due statements to the external LRSs (one pass, or a loop with --loop)."""
    from lms.xapi.forwarding import deliver_pending

    org_id = organization_or_fail(org_slug).id if org_slug else None
    try:
        while True:
            report = deliver_pending(limit=limit, organization_id=org_id)
            if report.batches or not loop:
                click.echo(f"delivered {report.delivered}, retry later {report.retried}, "
                           f"dead {report.dead} ({report.requests} requests)")
                for failing_org, message in report.errors.items():
                    click.echo(f"  organization #{failing_org}: {message}", err=True)
            if not loop:
                break
            # A full pass means more is due right away; otherwise wait for new work.
            processed = report.delivered + report.retried + report.dead
            if processed < limit:
                _wait(interval)
    except KeyboardInterrupt:
        click.echo("stopped")


@xapi_outbox.command("retry-dead")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
@with_appcontext
def retry_dead_command(org_slug: str) -> None:
    """Put the organization's dead-lettered statements back in the queue."""
    from lms.xapi.forwarding import requeue_dead

    org = organization_or_fail(org_slug)
    count = commit_or_fail(lambda: requeue_dead(organization_id=org.id))
    click.echo(f"{count} statements queued again for {org.slug}.")


@xapi_outbox.command("backfill")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              default=None, help="Only statements stored since this date (UTC).")
@with_appcontext
def backfill_command(org_slug: str, since: datetime | None) -> None:
    """Queue statements stored before forwarding was set up (or while it was off)."""
    from lms.xapi.forwarding import enqueue_existing

    org = organization_or_fail(org_slug)
    count = commit_or_fail(lambda: enqueue_existing(
        organization_id=org.id, since=since.replace(tzinfo=UTC) if since else None))
    click.echo(f"{count} statements queued for {org.slug}.")


@xapi_outbox.command("configure")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
@click.option("--endpoint", default=None, help="The external LRS's xAPI base URL.")
@click.option("--key", default=None, help="Its Basic auth key (user name).")
@click.option("--secret", default=None,
              help="Its Basic auth secret; asked for (hidden) when omitted on a first setup.")
@click.option("--disable", is_flag=True, help="Stop forwarding (queued statements wait).")
@with_appcontext
def configure_command(org_slug: str, endpoint: str | None, key: str | None,
                      secret: str | None, disable: bool) -> None:
    """Set, change or disable the organization's external LRS."""
    from lms.xapi import forwarding

    org = organization_or_fail(org_slug)
    if disable:
        commit_or_fail(lambda: forwarding.disable_external_lrs(organization_id=org.id))
        click.echo(f"Forwarding disabled for {org.slug}.")
        return
    current = forwarding.external_lrs_for(org.id)
    endpoint = endpoint or (current.endpoint if current else None)
    key = key or (current.key if current else None)
    if not endpoint or not key:
        fail("--endpoint and --key are required (or --disable)")
    if secret is None and current is None:
        secret = click.prompt("Secret", hide_input=True)
    target = commit_or_fail(lambda: forwarding.configure_external_lrs(
        organization_id=org.id, endpoint=endpoint or "", key=key or "", secret=secret))
    click.echo(f"Forwarding enabled for {org.slug} → {target.endpoint}.")
