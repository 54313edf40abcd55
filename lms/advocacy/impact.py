"""The before/after impact report: each cohort's advocacy activity in the N weeks before and
after its training, per learner and in total, with the learners behind every figure, and the
activity of each skill-level band.

The training date is the cohort's first session (its start time), or, without any session,
its start date (midnight UTC). The "before" window is ``[T - N weeks, T)``, the "after" window
``[T, T + N weeks)``, cut at now while it is still running. Only learners with an active
consent count (HR sees aggregates and the learners who opted in); withdrawn enrolments do not.
Events are summed in SQL, one grouped query per cohort, so the cost follows the cohort's
events in the two windows, not the organization's history.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import bindparam, case, func, select

from lms.accounts.models import Membership, User
from lms.advocacy.kpis import DISTRIBUTING_KINDS
from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent
from lms.assessments.models import SkillLevel
from lms.charter.queries import gated_advocacy_users
from lms.core.database import ids_value, one_of, one_of_param
from lms.core.models import utcnow
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.sessions.models import TrainingSession
from lms.extensions import db

DEFAULT_WEEKS = 4
MAX_WEEKS = 52
# The figures of the report, in the order shown. "events" is every action, "shares" the posts
# and shares (the distributing actions).
FIGURES = ("events", "shares", "clicks", "reactions", "comments", "signups", "hires")
# Figures drawn on one scale, because they count the same kind of thing: what the learners
# did, how their audience answered, what the business got. Hires next to clicks on one scale
# would be invisible; each on its own scale, 0.1 hire would look as big as 342 clicks.
UNITS = (("actions", ("events", "shares")), ("audience", ("clicks", "reactions", "comments")),
         ("results", ("signups", "hires")))
WINDOWS = ("before", "after")
# Average skill level (over the competencies of the latest submitted skill map) → band.
NOT_ASSESSED = 0


@dataclass(frozen=True)
class TrainingDate:
    """When a cohort was trained and where that date comes from (``session`` or
    ``start_date``).
    """

    at: datetime
    source: str


@dataclass
class LearnerRow:
    """One learner in the impact report: skill band and activity before and after the training."""

    membership_id: int
    user_id: int
    name: str
    band: int
    before: dict[str, int]
    after: dict[str, int]


# A few days after a training say nothing yet: a single share on day one would read as a
# tripling. Changes are given once the "after" window is a week long.
MIN_DAYS_AFTER = 7


@dataclass
class CohortImpact:
    """One cohort's report. Rates compare the windows per day, so a running "after" window
    compares fairly with a complete "before" one.
    """

    cohort: Cohort
    weeks: int
    training: TrainingDate | None
    learners: int = 0
    consenting: int = 0
    active: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WINDOWS, 0))
    totals: dict[str, dict[str, int]] = field(
        default_factory=lambda: {w: dict.fromkeys(FIGURES, 0) for w in WINDOWS})
    days: dict[str, float] = field(default_factory=lambda: dict.fromkeys(WINDOWS, 0.0))
    windows: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    rows: list[LearnerRow] = field(default_factory=list)
    bands: list[dict[str, Any]] = field(default_factory=list)

    @property
    def after_complete(self) -> bool:
        """Whether the "after" window has run its full number of weeks."""
        return self.days["after"] >= self.weeks * 7

    @property
    def too_early(self) -> bool:
        """Whether the weeks after are too short yet for a fair comparison (under a week)."""
        return self.held and self.days["after"] < MIN_DAYS_AFTER

    @property
    def held(self) -> bool:
        """Whether the training has taken place (there is an "after" to speak of)."""
        return self.days["after"] > 0

    def per_learner(self, window: str, figure: str) -> float | None:
        """The window's total of ``figure`` per consenting learner (None without any)."""
        if not self.consenting:
            return None
        return self.totals[window][figure] / self.consenting

    def change(self, figure: str) -> float | None:
        """Change of ``figure`` from before to after, in percent of the daily rate (None when
        there was nothing before, or the training is still to come or under a week old).
        """
        if self.too_early:
            return None
        return percent_change(self.totals["before"][figure], self.days["before"],
                              self.totals["after"][figure], self.days["after"])


def percent_change(before: float, before_days: float, after: float,
                   after_days: float) -> float | None:
    """Change in percent between two per-day rates; None when it cannot be said (nothing
    before, or an empty window).
    """
    if before <= 0 or before_days <= 0 or after_days <= 0:
        return None
    return 100.0 * ((after / after_days) / (before / before_days) - 1.0)


def band_of(levels: list[int]) -> int:
    """The band of a learner's average level: 1 for 1.0–1.9 … 5 for 5; 0 if not assessed."""
    assessed = [lv for lv in levels if lv > 0]
    if not assessed:
        return NOT_ASSESSED
    return max(1, min(5, math.floor(sum(assessed) / len(assessed))))


def clamp_weeks(value: Any) -> int:
    """A window length in weeks from user input: 1 to MAX_WEEKS, the default otherwise."""
    try:
        weeks = int(value)
    except (TypeError, ValueError):
        return DEFAULT_WEEKS
    return weeks if 1 <= weeks <= MAX_WEEKS else DEFAULT_WEEKS


def training_date(cohort: Cohort) -> TrainingDate | None:
    """The cohort's first session start, else its start date, else None."""
    return training_dates([cohort]).get(cohort.id)


def training_dates(cohorts: list[Cohort]) -> dict[int, TrainingDate | None]:
    """:func:`training_date` of several cohorts, in one query."""
    firsts = dict(db.session.execute(
        select(TrainingSession.cohort_id, func.min(TrainingSession.starts_at))
        .where(TrainingSession.cohort_id.in_([c.id for c in cohorts]))
        .group_by(TrainingSession.cohort_id)).all()) if cohorts else {}
    out: dict[int, TrainingDate | None] = {}
    for cohort in cohorts:
        first = firsts.get(cohort.id)
        if first is not None:
            out[cohort.id] = TrainingDate(_aware(first), "session")
        elif cohort.starts_on is not None:
            out[cohort.id] = TrainingDate(datetime.combine(cohort.starts_on, time(), tzinfo=UTC),
                                          "start_date")
        else:
            out[cohort.id] = None
    return out


def default_cohort(cohorts: list[Cohort], now: datetime | None = None) -> Cohort | None:
    """The cohort a report opens on: the one trained most recently whose "after" weeks have
    begun — at least :data:`MIN_DAYS_AFTER` days ago if one was, so the report has changes to
    show (a cohort still to be trained has nothing after); without any, the pilot, else the
    newest.
    """
    now = now or utcnow()
    dates = training_dates(cohorts)
    begun = [c for c in cohorts if (d := dates.get(c.id)) is not None and d.at <= now]
    settled = [c for c in begun
               if now - dates[c.id].at >= timedelta(days=MIN_DAYS_AFTER)]  # type: ignore[union-attr]
    if settled or begun:
        return max(settled or begun, key=lambda c: (dates[c.id].at, c.id))  # type: ignore[union-attr]
    return next((c for c in cohorts if c.pilot), None) or (cohorts[0] if cohorts else None)


def _aware(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite returns an aggregate's timestamp as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _members(cohorts: list[Cohort]) -> dict[int, list[tuple[int, int, str, bool]]]:
    """Per cohort, (membership id, user id, name, consenting) of its enrolled learners."""
    out: dict[int, list[tuple[int, int, str, bool]]] = {c.id: [] for c in cohorts}
    if not cohorts:
        return out
    consent = select(AdvocacyConsent.user_id).where(
        AdvocacyConsent.organization_id == cohorts[0].organization_id,
        AdvocacyConsent.revoked_at.is_(None)).scalar_subquery()
    stmt = (select(Enrollment.cohort_id, Membership.id, Membership.user_id, User.display_name,
                   Membership.user_id.in_(consent))
            .join(Enrollment, Enrollment.membership_id == Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(Enrollment.cohort_id.in_(list(out)), Enrollment.status != WITHDRAWN)
            .order_by(User.name_key, User.id))
    for cohort_id, m, u, n, c in db.session.execute(stmt):
        out[cohort_id].append((m, u, n, bool(c)))
    return out


def _events_of(organization_id: int, *, per_person: bool) -> Any:
    """The figures of some people's events in ``[start, end)`` split at ``split``, grouped by
    window (``w``: 0 before, 1 after) and, with ``per_person``, by person first; without,
    each window's number of people with an event comes second. The people and the three
    moments are the parameters ``ids`` (:func:`ids_value`), ``start``, ``split`` and ``end``:
    a page builds the statement once and runs it for each of its cohorts.
    """
    e = AdvocacyEvent
    window = case((e.occurred_at >= bindparam("split"), 1), else_=0).label("w")
    # count(): the index on (user_id, occurred_at) holds every column read (no table row).
    sums = (func.count(), func.sum(case((e.kind.in_(DISTRIBUTING_KINDS), 1), else_=0)),
            func.sum(e.clicks), func.sum(e.reactions), func.sum(e.comments),
            func.sum(e.signups), func.sum(e.hires))
    who = (e.user_id,) if per_person else ()
    stmt = (select(*who, window, *(() if per_person else (func.count(e.user_id.distinct()),)),
                   *sums)
            .where(e.organization_id == organization_id, one_of_param(e.user_id, "ids"),
                   e.occurred_at >= bindparam("start"), e.occurred_at < bindparam("end"))
            .group_by(*who, window))
    return stmt


class _EventReads:
    """The two grouped reads of events, built once for a page's cohorts (building one cost
    about as much client CPU as running it) and run for each cohort.
    """

    def __init__(self, organization_id: int) -> None:
        self.organization_id = organization_id

    @cached_property
    def counted(self) -> set[int] | None:
        """The people the charter gate counts (as in ``kpis.Scope``), read once a page; None
        without the gate. Each cohort's people are narrowed to them before its read: a
        condition on them in the statement made SQLite read every counted person's events
        (ten times the page's time).
        """
        accepted = gated_advocacy_users(self.organization_id)
        return None if accepted is None else set(db.session.scalars(accepted))

    def _people(self, user_ids: list[int]) -> list[int]:
        counted = self.counted
        return user_ids if counted is None else [u for u in user_ids if u in counted]

    @cached_property
    def per_person(self) -> Any:
        return _events_of(self.organization_id, per_person=True)

    @cached_property
    def per_window(self) -> Any:
        return _events_of(self.organization_id, per_person=False)

    def sums(self, user_ids: list[int], start: datetime, split: datetime, end: datetime
             ) -> dict[tuple[int, str], dict[str, int]]:
        """Per (user, window): the figures of their events in ``[start, end)``, split at
        ``split`` — one grouped query.
        """
        user_ids = self._people(user_ids)
        if not user_ids or end <= start:
            return {}
        # Sums of NOT NULL columns over groups of at least one event: whole numbers, never
        # NULL (a conversion per value was a fifth of the overview's CPU: 8,000 rows of 7).
        return {(row[0], WINDOWS[row[1]]): dict(zip(FIGURES, row[2:], strict=True))
                for row in db.session.execute(self.per_person, _moments(user_ids, start,
                                                                        split, end))}

    def window_totals(self, user_ids: list[int], start: datetime, split: datetime,
                      end: datetime) -> dict[str, tuple[int, dict[str, int]]]:
        """Per window with events: (people with an event, their figures summed) — what
        :meth:`sums` gives added up by the database, for a cohort whose learners are not
        shown (two rows instead of one per learner and window).
        """
        user_ids = self._people(user_ids)
        if not user_ids or end <= start:
            return {}
        return {WINDOWS[row[0]]: (row[1], dict(zip(FIGURES, row[2:], strict=True)))
                for row in db.session.execute(self.per_window, _moments(user_ids, start,
                                                                        split, end))}


def _moments(user_ids: list[int], start: datetime, split: datetime, end: datetime
             ) -> dict[str, Any]:
    return {"ids": ids_value(user_ids), "start": start, "split": split, "end": end}


def _levels(membership_ids: list[int]) -> dict[int, list[int]]:
    """Each learner's shown levels from their latest submitted skill map."""
    out: dict[int, list[int]] = {}
    if not membership_ids:
        return out
    for mid, shown in db.session.execute(select(SkillLevel.membership_id, SkillLevel.shown)
                                         .where(one_of(SkillLevel.membership_id, membership_ids))):
        out.setdefault(mid, []).append(shown)
    return out


def cohort_impact(cohort: Cohort, *, weeks: int = DEFAULT_WEEKS,
                  now: datetime | None = None) -> CohortImpact:
    """The before/after report of one cohort (see the module's docstring)."""
    return organization_impact([cohort], weeks=weeks, now=now)[0]


def organization_impact(cohorts: list[Cohort], *, weeks: int = DEFAULT_WEEKS,
                        now: datetime | None = None,
                        detailed: Collection[int] | None = None) -> list[CohortImpact]:
    """The report of each cohort, in the order given: training dates, learners and skill
    levels are read for all cohorts at once, then one grouped query per cohort sums its
    events.

    :param detailed: the cohorts (ids) whose learner rows and skill bands are wanted (None:
        every one); the others get their totals and active learners only (an overview page
        shows a cohort's learners only for the one in detail).
    """
    now = now or utcnow()
    trainings = training_dates(cohorts)
    members = _members(cohorts)
    levels = _levels(sorted({m[0] for c, ms in members.items() for m in ms
                             if m[3] and (detailed is None or c in detailed)}))
    reads = _EventReads(cohorts[0].organization_id if cohorts else 0)  # built when first run
    return [_report(c, weeks, now, trainings[c.id], members[c.id], levels, reads,
                    detailed is None or c.id in detailed) for c in cohorts]


def _report(cohort: Cohort, weeks: int, now: datetime, training: TrainingDate | None,
            members: list[tuple[int, int, str, bool]],
            levels: dict[int, list[int]], reads: _EventReads,
            detailed: bool = True) -> CohortImpact:
    report = CohortImpact(cohort=cohort, weeks=weeks, training=training)
    report.learners = len(members)
    consenting = [m for m in members if m[3]]
    report.consenting = len(consenting)
    if training is None:
        return report
    t = training.at
    span = timedelta(weeks=weeks)
    before_end, after_end = min(t, now), min(t + span, now)
    report.windows = {"before": (t - span, before_end), "after": (t, max(t, after_end))}
    report.days = {"before": max(0.0, (before_end - (t - span)).total_seconds() / 86400),
                   "after": max(0.0, (after_end - t).total_seconds() / 86400)}
    ids = [m[1] for m in consenting]
    if not detailed:
        # Totals and active learners only: summed by the database.
        for w, (active, values) in reads.window_totals(ids, t - span, t,
                                                       max(t, after_end)).items():
            report.active[w] = active
            report.totals[w].update(values)
        return report
    sums = reads.sums(ids, t - span, t, max(t, after_end))
    empty = dict.fromkeys(FIGURES, 0)
    for membership_id, user_id, name, _c in consenting:
        before, after = sums.get((user_id, "before"), empty), sums.get((user_id, "after"), empty)
        report.rows.append(LearnerRow(membership_id=membership_id, user_id=user_id,
                                      name=name, band=band_of(levels.get(membership_id, [])),
                                      before=before, after=after))
        for w, values in (("before", before), ("after", after)):
            if values is empty:  # no event in the window: adds nothing
                continue
            report.active[w] += values["events"] > 0
            totals = report.totals[w]
            for f in FIGURES:
                totals[f] += values[f]
    report.bands = skill_bands(report.rows)
    return report


def skill_bands(rows: list[LearnerRow]) -> list[dict[str, Any]]:
    """Per skill band (highest first, "not assessed" last): learners, and actions, shares and
    clicks per learner before and after.
    """
    groups: dict[int, list[LearnerRow]] = {}
    for row in rows:
        groups.setdefault(row.band, []).append(row)
    out = []
    for band in sorted(groups, key=lambda b: (b == NOT_ASSESSED, -b)):
        items = groups[band]
        n = len(items)
        out.append({"band": band, "learners": n,
                    "active_after": sum(1 for r in items if r.after["events"]),
                    **{f"{w}_{f}": sum(getattr(r, w)[f] for r in items) / n
                       for w in WINDOWS for f in ("events", "shares", "clicks")}})
    return out


def as_dict(report: CohortImpact) -> dict[str, Any]:
    """The report as JSON-ready data (the API's and the CSV's source)."""
    def rounded(value: float | None, digits: int = 2) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "cohort": {"id": report.cohort.id, "name": report.cohort.name,
                   "pilot": report.cohort.pilot},
        "weeks": report.weeks,
        "training_date": report.training.at.isoformat() if report.training else None,
        "training_date_source": report.training.source if report.training else None,
        "windows": {w: {"start": s.isoformat(), "end": e.isoformat(),
                        "days": rounded(report.days[w])}
                    for w, (s, e) in report.windows.items()},
        "after_complete": report.after_complete,
        "learners": {"enrolled": report.learners, "with_consent": report.consenting,
                     "active_before": report.active["before"],
                     "active_after": report.active["after"]},
        "figures": {f: {"before": report.totals["before"][f],
                        "after": report.totals["after"][f],
                        "before_per_learner": rounded(report.per_learner("before", f)),
                        "after_per_learner": rounded(report.per_learner("after", f)),
                        "change_percent": rounded(report.change(f), 1)} for f in FIGURES},
        "skill_bands": [{k: rounded(v) if isinstance(v, float) else v for k, v in b.items()}
                        for b in report.bands],
    }
