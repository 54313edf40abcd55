"""Retention (GDPR art. 5(1)(e)): each organization keeps each kind of data for a set period.

Defaults come from the configuration (``RETENTION_*``, ``JOBS_RETENTION_DAYS``); an
administrator may change them per organization (page and API, through :func:`save_settings`).
The periodic work (:func:`run_all`, daily) and ``relais retention --org S`` apply them through
:func:`run`, in batches of ``RETENTION_BATCH_SIZE`` rows, one transaction per batch.

What happens to data older than its period, kind by kind:

- advocacy events are deleted, and their daily figures with them (dashboards of those months
  then show nothing: that is what deleting means; the figures were personal — who posted
  what, where);
- xAPI statements are **pseudonymised in place**, as an erasure does, not deleted: progress,
  completion and every cohort figure are projections of them, and deleting the statements
  would leave figures that the LRS no longer supports (or, re-derived, figures that silently
  drop). With every person replaced by their stable pseudonym, counts and per-learner
  aggregates stay true and nobody is identified;
- hand-ins lose their content (post URL, screenshot file, reflection, review comment); the
  submission's status stays, since module completion rests on it;
- coaching follow-ups lose their notes and action items; the meeting itself stays;
- the certificate register of erased holders (what training law asks to keep) is deleted;
  certificates of current holders stay as long as they are valid evidence;
- finished jobs and their files are deleted;
- audit entries are deleted (the run itself is then recorded, so the log never empties).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update

from lms.accounts import audit
from lms.accounts.models import Organization, User
from lms.advocacy import figures
from lms.advocacy.models import AdvocacyEvent
from lms.certificates.models import Certificate
from lms.certificates.rendering import cache_dir
from lms.coaching.models import ActionItem, FollowUp
from lms.core.errors import ValidationFailed
from lms.core.models import utcnow
from lms.courses.exercises.models import ExerciseSubmission
from lms.extensions import db
from lms.jobs import services as jobs
from lms.privacy import statements
from lms.privacy.models import RetentionSettings
from lms.privacy.services import ERASED_DOMAIN, clear_hand_ins

# Bounds of a period: at least a month (or a day), at most 20 years (or 10 for jobs).
MAX_MONTHS = 240
MAX_DAYS = 3650


@dataclass
class Run:
    """One organization's retention run: its settings, the batch size, what was done."""

    organization: Organization
    settings: RetentionSettings
    batch: int
    counts: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    lookup: statements.Lookup | None = None  # built once per run: it reads the members


def _rows(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _count(model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# -- advocacy events ------------------------------------------------------------------------------

def _advocacy_where(org_id: int, cutoff: datetime) -> list[Any]:
    return [AdvocacyEvent.organization_id == org_id, AdvocacyEvent.occurred_at < cutoff]


def _advocacy_count(run: Run, cutoff: datetime) -> int:
    return _count(AdvocacyEvent, *_advocacy_where(run.organization.id, cutoff))


def _advocacy_purge(run: Run, cutoff: datetime) -> tuple[int, bool]:
    ids = db.session.scalars(select(AdvocacyEvent.id).where(
        *_advocacy_where(run.organization.id, cutoff)).limit(run.batch)).all()
    if ids:
        figures.remove_events(run.organization.id, ids)
        db.session.execute(delete(AdvocacyEvent).where(AdvocacyEvent.id.in_(ids)))
    return len(ids), len(ids) < run.batch


# -- xAPI statements ------------------------------------------------------------------------------

def _statements_count(run: Run, cutoff: datetime) -> int:
    return statements.stored_before(organization_id=run.organization.id, before=cutoff,
                                    after_pk=run.settings.statements_done_pk or 0)


def _statements_purge(run: Run, cutoff: datetime) -> tuple[int, bool]:
    if run.lookup is None:
        run.lookup = statements.retention_lookup(run.organization.id)
    changed, last, finished = statements.pseudonymise_older(
        organization_id=run.organization.id, before=cutoff,
        after_pk=run.settings.statements_done_pk or 0, limit=run.batch, lookup=run.lookup)
    run.settings.statements_done_pk = last
    return changed, finished


# -- hand-ins -------------------------------------------------------------------------------------

def _hand_ins_where(org_id: int, cutoff: datetime) -> list[Any]:
    return [ExerciseSubmission.organization_id == org_id, ExerciseSubmission.submitted_at < cutoff,
            or_(ExerciseSubmission.post_url.is_not(None),
                ExerciseSubmission.screenshot_path.is_not(None),
                ExerciseSubmission.reflection.is_not(None),
                ExerciseSubmission.verification.is_not(None))]


def _hand_ins_count(run: Run, cutoff: datetime) -> int:
    return _count(ExerciseSubmission, *_hand_ins_where(run.organization.id, cutoff))


def _hand_ins_purge(run: Run, cutoff: datetime) -> tuple[int, bool]:
    submissions = db.session.scalars(select(ExerciseSubmission).where(
        *_hand_ins_where(run.organization.id, cutoff)).limit(run.batch)).all()
    clear_hand_ins(submissions, run.files)
    return len(submissions), len(submissions) < run.batch


# -- coaching notes -------------------------------------------------------------------------------

def _old_followups(org_id: int, cutoff: datetime) -> Any:
    return select(FollowUp.id).where(FollowUp.organization_id == org_id,
                                     FollowUp.scheduled_at < cutoff)


def _coaching_count(run: Run, cutoff: datetime) -> int:
    old = _old_followups(run.organization.id, cutoff)
    return (_count(FollowUp, FollowUp.id.in_(old), FollowUp.notes.is_not(None))
            + _count(ActionItem, ActionItem.followup_id.in_(old)))


def _coaching_purge(run: Run, cutoff: datetime) -> tuple[int, bool]:
    old = _old_followups(run.organization.id, cutoff)
    items = db.session.scalars(select(ActionItem.id).where(
        ActionItem.followup_id.in_(old)).limit(run.batch)).all()
    if items:
        db.session.execute(delete(ActionItem).where(ActionItem.id.in_(items)))
    notes = db.session.scalars(select(FollowUp.id).where(
        FollowUp.id.in_(old), FollowUp.notes.is_not(None)).limit(run.batch)).all()
    if notes:
        db.session.execute(update(FollowUp).where(FollowUp.id.in_(notes)).values(notes=None))
    return len(items) + len(notes), len(items) < run.batch and len(notes) < run.batch


# -- the certificate register of erased holders ---------------------------------------------------

def _certificates_where(org_id: int, cutoff: datetime) -> list[Any]:
    # Erased people: their own account emptied, or the pseudonymous holder of their records.
    erased = select(User.id).where(User.email.like(f"%@{ERASED_DOMAIN}"))
    return [Certificate.organization_id == org_id, Certificate.issued_at < cutoff,
            or_(Certificate.user_id.is_(None), Certificate.user_id.in_(erased))]


def _certificates_count(run: Run, cutoff: datetime) -> int:
    return _count(Certificate, *_certificates_where(run.organization.id, cutoff))


def _certificates_purge(run: Run, cutoff: datetime) -> tuple[int, bool]:
    rows = db.session.execute(select(Certificate.id, Certificate.pdf_key).where(
        *_certificates_where(run.organization.id, cutoff)).limit(run.batch)).all()
    run.files.extend(cache_dir() / f"{row.pdf_key}.pdf" for row in rows if row.pdf_key)
    if rows:
        db.session.execute(delete(Certificate).where(Certificate.id.in_([r.id for r in rows])))
    return len(rows), len(rows) < run.batch


# -- jobs and the audit log -----------------------------------------------------------------------

def _jobs_count(run: Run, cutoff: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(
        jobs.finished_before(cutoff, organization_id=run.organization.id).subquery())) or 0


def _jobs_purge(run: Run, cutoff: datetime) -> tuple[int, bool]:
    done = jobs.purge_finished(before=cutoff, organization_id=run.organization.id,
                               limit=run.batch)
    return done, done < run.batch


def _audit_count(run: Run, cutoff: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(audit.events_query(
        organization_id=run.organization.id, until=cutoff).subquery())) or 0


def _audit_purge(run: Run, cutoff: datetime) -> tuple[int, bool]:
    done = audit.purge(organization_id=run.organization.id, before=cutoff, limit=run.batch)
    return done, done < run.batch


@dataclass(frozen=True)
class Kind:
    """A kind of data with a retention period: how to count and purge what is older."""

    key: str
    unit: str  # "months" or "days"
    default_setting: str  # the configuration key holding the instance's default
    label: Any
    fate: Any  # what happens to it after the period, for the pages and the register
    count: Callable[[Run, datetime], int]
    purge: Callable[[Run, datetime], tuple[int, bool]]

    @property
    def column(self) -> str:
        """The column of :class:`RetentionSettings` holding the organization's period."""
        return f"{self.key}_{self.unit}"


KINDS: tuple[Kind, ...] = (
    Kind("advocacy_events", "months", "RETENTION_ADVOCACY_EVENTS_MONTHS",
         _l("Advocacy events"), _l("deleted"), _advocacy_count, _advocacy_purge),
    Kind("statements", "months", "RETENTION_STATEMENTS_MONTHS", _l("xAPI statements"),
         _l("pseudonymised (figures stay, nobody is named)"), _statements_count,
         _statements_purge),
    Kind("hand_ins", "months", "RETENTION_HAND_INS_MONTHS",
         _l("Exercise hand-ins and their files"), _l("content and files deleted"),
         _hand_ins_count, _hand_ins_purge),
    Kind("coaching_notes", "months", "RETENTION_COACHING_NOTES_MONTHS",
         _l("Coaching notes and action items"), _l("deleted"), _coaching_count,
         _coaching_purge),
    Kind("certificates", "months", "RETENTION_CERTIFICATES_MONTHS",
         _l("Certificate register of erased people"), _l("deleted"), _certificates_count,
         _certificates_purge),
    Kind("jobs", "days", "JOBS_RETENTION_DAYS", _l("Background jobs and their files"),
         _l("deleted"), _jobs_count, _jobs_purge),
    Kind("audit", "months", "RETENTION_AUDIT_MONTHS", _l("Audit log"), _l("deleted"),
         _audit_count, _audit_purge),
)
BY_KEY = {kind.key: kind for kind in KINDS}


def settings_of(organization: Organization) -> RetentionSettings:
    """The organization's row, or an unsaved one (all defaults) when it has none."""
    row = db.session.get(RetentionSettings, organization.id)
    return row if row is not None else RetentionSettings(organization_id=organization.id,
                                                         statements_done_pk=0)


def default_period(kind: Kind) -> int:
    """The instance's default period of ``kind``, in its unit."""
    return int(current_app.config[kind.default_setting])


def period(settings: RetentionSettings, kind: Kind) -> int:
    """The organization's period of ``kind``, in its unit (its own, else the default)."""
    value = getattr(settings, kind.column)
    return int(value) if value is not None else default_period(kind)


def periods(organization: Organization) -> dict[str, int]:
    """Every period of the organization, by kind."""
    settings = settings_of(organization)
    return {kind.key: period(settings, kind) for kind in KINDS}


def cutoff(kind: Kind, value: int, now: datetime) -> datetime:
    """The moment before which ``kind`` data is out of its period of ``value``.

    A month is 30 days, so that a period means the same length every month.
    """
    return now - timedelta(days=value * (30 if kind.unit == "months" else 1))


def check_periods(values: dict[str, Any]) -> dict[str, int]:
    """Validate periods given by kind (missing kinds are left out).

    :raise ValidationFailed: an unknown kind, or a value that is not a whole number in range.
    """
    fields: dict[str, Any] = {}
    checked: dict[str, int] = {}
    for key, value in values.items():
        kind = BY_KEY.get(key)
        if kind is None:
            fields[key] = _l("unknown kind of data")
            continue
        top = MAX_MONTHS if kind.unit == "months" else MAX_DAYS
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            fields[key] = (_l("a whole number of months from 1 to %(max)s", max=top)
                           if kind.unit == "months"
                           else _l("a whole number of days from 1 to %(max)s", max=top))
            continue
        checked[key] = value
    if fields:
        raise ValidationFailed(_l("The retention periods are not valid."), fields=fields)
    return checked


def save_settings(*, organization: Organization, values: dict[str, Any], by: User | None,
                  address: str | None = None) -> dict[str, int]:
    """Set some of the organization's periods, and record the change in the audit log.

    :param values: periods by kind key (``{"hand_ins": 12}``), in each kind's unit.
    :param by: who changes them, None from the command line.
    :raise ValidationFailed: see :func:`check_periods`.
    :return: every period after the change.
    """
    checked = check_periods(values)
    row = db.session.get(RetentionSettings, organization.id)
    if row is None:
        row = RetentionSettings(organization_id=organization.id, statements_done_pk=0)
        db.session.add(row)
    before = {kind.key: period(row, kind) for kind in KINDS}
    for key, value in checked.items():
        setattr(row, BY_KEY[key].column, value)
    after = {kind.key: period(row, kind) for kind in KINDS}
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    db.session.flush()
    if changed:
        audit.record(action="retention.settings", actor=by, organization=organization,
                     target=f"organization:{organization.id}", address=address,
                     details={"changed": changed})
    return after


def plan(organization: Organization, *, now: datetime | None = None) -> dict[str, int]:
    """How many records of each kind a run would delete or pseudonymise now (nothing changes)."""
    now = now or utcnow()
    run = Run(organization=organization, settings=settings_of(organization), batch=0)
    return {kind.key: kind.count(run, cutoff(kind, period(run.settings, kind), now))
            for kind in KINDS}


def remove_files(files: list[Path]) -> None:
    """Delete files of committed changes (a missing file is already gone)."""
    for path in files:
        path.unlink(missing_ok=True)


def run(*, organization: Organization, commit: Callable[[], None], by: User | None = None,
        source: str = "cli") -> dict[str, int]:
    """Apply the organization's periods: delete or pseudonymise what is older, kind by kind.

    Each batch of ``RETENTION_BATCH_SIZE`` rows is one transaction: ``commit`` (the edge's
    commit) is called after it, and its files are removed once it is committed. The run is
    recorded in the audit log, with its counts, in the last transaction.

    :param commit: commits the session (``db.session.commit``).
    :param source: who started it, for the audit log: ``cli`` or ``periodic``.
    :return: the number of records deleted or pseudonymised, by kind.
    """
    row = db.session.get(RetentionSettings, organization.id)
    if row is None:
        row = RetentionSettings(organization_id=organization.id, statements_done_pk=0)
        db.session.add(row)
        db.session.flush()
    state = Run(organization=organization, settings=row,
                batch=max(1, int(current_app.config["RETENTION_BATCH_SIZE"])))
    now = utcnow()
    for kind in KINDS:
        moment = cutoff(kind, period(row, kind), now)
        total = 0
        finished = False
        while not finished:
            done, finished = kind.purge(state, moment)
            total += done
            db.session.flush()
            commit()
            remove_files(state.files)
            state.files.clear()
        state.counts[kind.key] = total
    row.last_run_at = utcnow()
    audit.record(action="retention.run", actor=by, organization=organization,
                 target=f"organization:{organization.id}",
                 details={"by": source, **state.counts})
    commit()
    return state.counts


def run_all() -> dict[str, int]:
    """Periodic task: run every organization's retention; returns the totals by kind."""
    totals: dict[str, int] = {}
    for org_id in db.session.scalars(select(Organization.id).order_by(Organization.id)).all():
        organization = db.session.get(Organization, org_id)
        if organization is None:  # deleted meanwhile
            continue
        for key, value in run(organization=organization, commit=db.session.commit,
                              source="periodic").items():
            totals[key] = totals.get(key, 0) + value
    dropped = drop_statement_months()
    if dropped:
        totals["statement_months_dropped"] = len(dropped)
    return totals


def drop_statement_months() -> list[int]:
    """PostgreSQL: drop the months of statements older than
    ``RETENTION_DROP_STATEMENT_MONTHS`` (0: never) in which every statement may go: every
    organization with statements in the month has pseudonymised them all (its retention
    cursor is past the month's last) and none waits to be forwarded. A whole month goes at
    once (its partitions are dropped: no row-by-row delete). Commits after each month.

    Pseudonymised statements are kept by default (see the module): the figures projected
    from them stay backed by the LRS. Dropping them is for a store too large to keep whole.
    """
    from lms.xapi import partitions

    months_kept = int(current_app.config["RETENTION_DROP_STATEMENT_MONTHS"])
    if months_kept <= 0 or not partitions.partitioned():
        return []
    before = partitions.month_code(utcnow()) - months_kept
    done = dict(db.session.execute(select(RetentionSettings.organization_id,
                                          RetentionSettings.statements_done_pk)).all())
    dropped = []
    for month in partitions.months():
        if month >= before:
            break
        last, waiting = partitions.month_summary(month)
        if waiting or any(done.get(org_id, 0) < pk for org_id, pk in last.items()):
            continue
        partitions.drop_month(month)
        db.session.commit()
        dropped.append(month)
    return dropped
