"""A trained cohort against consenting colleagues not yet trained, over the same calendar weeks;
trained people compared by what they followed.

The training date and the windows are the before/after report's (:mod:`lms.advocacy.impact`):
``[T - N weeks, T)`` before, ``[T, T + N weeks)`` after, cut at now. The comparison group is
every learner of the organization who consents to having their activity counted and whose own
first training date is not before the end of the "after" window — later waves of a staggered
roll-out and people never enrolled. People without any event count, as zeros: that is what
they did. Events are summed in SQL, one grouped query per question, so the cost follows the
events of the compared weeks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal_column, select, text, union_all

from lms.accounts.models import Membership, Role
from lms.advocacy.impact import DEFAULT_WEEKS, MIN_DAYS_AFTER, TrainingDate, training_dates
from lms.advocacy.kpis import DISTRIBUTING_KINDS
from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent
from lms.coaching.models import HELD, FollowUp
from lms.core.database import collector_paused
from lms.core.models import utcnow
from lms.courses.cohorts.models import COMPLETED as DONE
from lms.courses.cohorts.models import FAILED as TRIED
from lms.courses.cohorts.models import (
    IN_PROGRESS,
    WITHDRAWN,
    Cohort,
    Enrollment,
    ModuleProgress,
)
from lms.courses.exercises.models import DONE_STATUSES, ExerciseSubmission
from lms.courses.programs.models import Module
from lms.extensions import db
from lms.impact import estimator
from lms.impact.estimator import Estimate
from lms.impact.models import OUTCOMES, ImpactSettings

# The metrics compared, in the order shown; "value" (what the outcomes are worth, from the
# organization's settings) is added when the organization has set any.
METRICS = ("events", "shares", "clicks", "reactions", "comments", "signups", "leads", "hires")
VALUE = "value"
_POSITION = {m: i for i, m in enumerate(METRICS)}
# How trained people may differ by what they followed: (key, what "yes" means).
FORMATS = ("coached", "blended", "exercises")
SCOPES = ("cohort", "program", "organization")


@dataclass
class Group:
    """People compared and their totals per metric in the weeks before and after (a window's
    length may differ from the other's while the "after" weeks still run), metric by metric:
    ``before[k][i]`` is the total of metric ``k`` of person ``user_ids[i]``.
    """

    user_ids: list[int] = field(default_factory=list)
    before: list[list[float]] = field(default_factory=list)
    after: list[list[float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.user_ids)

    def changes(self, days: dict[str, float]) -> list[list[float]]:
        """Per metric, each person's change per month (after minus before)."""
        return [change_column(b, a, days["before"], days["after"])
                for b, a in zip(self.before, self.after, strict=True)]


@dataclass
class Comparison:
    """A cohort against the not-yet-trained over the same weeks: both groups' people, each
    metric's estimate per person per month, and the event study of one metric.
    """

    cohort: Cohort
    weeks: int
    training: TrainingDate | None
    metrics: tuple[str, ...] = METRICS
    level: float = estimator.DEFAULT_LEVEL
    windows: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    days: dict[str, float] = field(default_factory=lambda: {"before": 0.0, "after": 0.0})
    treated: Group = field(default_factory=Group)
    control: Group = field(default_factory=Group)
    estimates: dict[str, Estimate] = field(default_factory=dict)
    event_metric: str = "shares"
    # Per week relative to the training date (-N … N-1): (week, trained mean, control mean);
    # weeks not over yet are left out.
    event_study: list[tuple[int, float, float]] = field(default_factory=list)
    _changes: dict[str, list[list[float]]] = field(default_factory=dict, repr=False)

    @property
    def held(self) -> bool:
        """Whether the training has taken place."""
        return self.days["after"] > 0

    @property
    def too_early(self) -> bool:
        """Whether the weeks after are under :data:`MIN_DAYS_AFTER` days (nothing to say)."""
        return self.days["after"] < MIN_DAYS_AFTER

    def changes(self, group: str) -> list[list[float]]:
        """Per metric, each person's change per month in ``group`` (``treated`` or
        ``control``), worked out once.
        """
        if group not in self._changes:
            self._changes[group] = (self.treated if group == "treated"
                                    else self.control).changes(self.days)
        return self._changes[group]

    def mean_change(self, group: str, metric: str) -> float:
        """A group's mean change of ``metric`` per person per month."""
        return estimator.mean(self.changes(group)[self.metrics.index(metric)])


def change_column(before: Sequence[float], after: Sequence[float], before_days: float,
                  after_days: float) -> list[float]:
    """Each person's change per month of one metric: :func:`estimator.changes` column by
    column (the same operations, so the same figures: it runs for thousands of people per
    page).
    """
    if before_days > 0 and after_days > 0:
        month = estimator.MONTH_DAYS
        return [a / after_days * month - b / before_days * month
                for b, a in zip(before, after, strict=True)]
    per_month = estimator.per_month
    return [per_month(a, after_days) - per_month(b, before_days)
            for b, a in zip(before, after, strict=True)]


def settings_of(organization_id: int) -> ImpactSettings | None:
    """The organization's outcome values and costs, if it has set any."""
    return db.session.get(ImpactSettings, organization_id)


def outcome_weights(settings: ImpactSettings | None) -> dict[str, float]:
    """Metric → value of one, for the outcomes the organization has valued."""
    if settings is None:
        return {}
    return {o: float(v) for o in OUTCOMES if (v := settings.value_of(o)) is not None}


def consenting_learners(organization_id: int) -> set[int]:
    """User ids of the organization's active learners with an active consent."""
    consent = select(AdvocacyConsent.user_id).where(
        AdvocacyConsent.organization_id == organization_id,
        AdvocacyConsent.revoked_at.is_(None))
    # Core rows (the session's connection): thousands of ids need no ORM loading.
    return set(db.session.connection().scalars(select(Membership.user_id).where(
        Membership.organization_id == organization_id, Membership.role == Role.LEARNER,
        Membership.active.is_(True), Membership.user_id.in_(consent))).all())


WINDOWS = ("before", "after")


@dataclass
class Activity:
    """The events of one training date's weeks, summed per person: :data:`METRICS` totals
    before and after the date (people without events in a window left out), and running
    totals of some metrics week by week.
    """

    users: frozenset[int]
    weeks: int
    weekly_metrics: tuple[str, ...]
    before: dict[int, tuple[int, ...]]
    after: dict[int, tuple[int, ...]]
    # Window → metric of ``weekly_metrics`` → user id → the totals of the window's events
    # before the end of each of its weeks (the last one is the window's total): a week's
    # total is the difference of two neighbours, a group's the difference of two column sums.
    upto: dict[str, dict[str, dict[int, tuple[int, ...]]]]

    def weekly_sums(self, metric: str, people: Iterable[int]) -> list[int]:
        """The totals of ``metric`` of ``people`` per week (``-weeks`` … ``weeks - 1``)."""
        people = list(people)
        out: list[int] = []
        for window in WINDOWS:
            per_user = self.upto[window][metric]
            rows = [per_user[u] for u in people if u in per_user]
            columns = [sum(c) for c in zip(*rows, strict=True)] if rows else [0] * self.weeks
            out += [columns[0], *(b - a for a, b in zip(columns, columns[1:], strict=False))]
        return out


def _metric_parts(metric: str) -> tuple[Any, Any]:
    """(condition or None, value summed) of a metric of :data:`METRICS`."""
    e = AdvocacyEvent
    if metric == "events":
        return None, 1
    if metric == "shares":
        return e.kind.in_(DISTRIBUTING_KINDS), 1
    return None, getattr(e, metric)


def _sum_where(metric: str, *conditions: Any) -> Any:
    condition, value = _metric_parts(metric)
    if condition is not None:
        conditions = (*conditions, condition)
    return func.sum(case((and_(*conditions), value), else_=0))


def _written(value: Any) -> Any:
    """``value`` written into the statement when it runs (typed by its comparison)."""
    return bindparam(None, value, literal_execute=True)


def activity(organization_id: int, users: Iterable[int], training: datetime, weeks: int,
             end: datetime, weekly_metrics: tuple[str, ...] = ()) -> Activity:
    """Per person of ``users``, :data:`METRICS` totals of their events in
    ``[training - weeks, training)`` and ``[training, end)``, and the running totals of
    ``weekly_metrics`` week by week in each (see :class:`Activity`).

    One statement: per window, a query grouped by person of plain sums (the running totals
    aside), the two joined by ``UNION ALL``. The people's ids are written into it (no
    bound-parameter limit), so each part reads its window's events from the index on
    (user_id, occurred_at, totals…) alone, in person order, with no sort, rather than every
    event of the organization's weeks. Measured at 1,000,000 events: one query over both
    windows with "before" as conditional sums costs SQLite 40 % more, and grouping by person
    *and week* returns seven times the rows and sorts them.
    """
    e = AdvocacyEvent
    ids = sorted(set(users))
    start = training - timedelta(weeks=weeks)
    out = Activity(frozenset(ids), weeks, weekly_metrics, {}, {},
                   {w: {m: {} for m in weekly_metrics} for w in WINDOWS})
    if end <= start or not ids:
        return out
    # Whole numbers from the database: written out, they cost a join instead of a literal
    # rendered per id; the statement is not cached (its text differs for every group). Its
    # dates are written out too: with no parameter, a statement psycopg prepares after five
    # runs keeps the plan made for its weeks (a generic plan tripled PostgreSQL's time).
    people = text(f"advocacy_events.user_id IN ({','.join(str(int(u)) for u in ids)})")
    parts = []
    for flag, (lo, hi, first) in enumerate(((start, min(training, end), start),
                                            (training, end, training))):
        if hi <= lo:
            continue
        inner = [first + timedelta(weeks=k) for k in range(1, weeks)]
        parts.append(
            select(e.user_id, literal_column(str(flag)), *_metric_columns(),
                   *[_sum_where(m, e.occurred_at < _written(at)) for m in weekly_metrics
                     for at in inner])
            .where(people, e.organization_id == _written(organization_id),
                   e.occurred_at >= _written(lo), e.occurred_at < _written(hi))
            .group_by(e.user_id))
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    # All rows at once: the driver's fetchall, not a call per row.
    rows = db.session.connection().execute(
        statement, execution_options={"compiled_cache": None}).all()
    width, span = len(METRICS), weeks - 1
    totals = (out.before, out.after)
    # Tuples of whole numbers: the garbage collector stops following them at its first pass.
    for row in rows:
        user_id, flag = row[0], row[1]
        sums = row[2:2 + width]
        totals[flag][user_id] = sums
        for n, m in enumerate(weekly_metrics):
            at = 2 + width + n * span
            out.upto[WINDOWS[flag]][m][user_id] = (*row[at:at + span], sums[_POSITION[m]])
    return out


@dataclass
class Roster:
    """What a page reads once about an organization and shares between the estimate, the
    formats compared and the ROI: its cohorts and their training dates, who consents, who is
    enrolled where, and each training date's activity once asked for.
    """

    organization_id: int
    settings: ImpactSettings | None
    cohorts: list[Cohort]
    dates: dict[int, TrainingDate | None]
    consenting: set[int]
    # Cohort id → (enrolment id, user id) of its enrolments not withdrawn, by user id.
    enrolled: dict[int, list[tuple[str, int]]]
    # User id → their first training date over their cohorts.
    first: dict[int, datetime]
    _activity: dict[tuple[datetime, int, datetime], list[Activity]] = field(
        default_factory=dict, repr=False)

    @classmethod
    def of(cls, organization_id: int) -> Roster:
        """The organization's roster: four queries, whatever its size."""
        cohorts = list(db.session.scalars(select(Cohort).where(
            Cohort.organization_id == organization_id).order_by(Cohort.id)))
        dates = training_dates(cohorts)
        enrolled: dict[int, list[tuple[str, int]]] = {c.id: [] for c in cohorts}
        first: dict[int, datetime] = {}
        rows = db.session.connection().execute(
            select(Enrollment.cohort_id, Enrollment.id, Membership.user_id)
            .join(Membership, Membership.id == Enrollment.membership_id)
            .where(Enrollment.organization_id == organization_id,
                   Enrollment.status != WITHDRAWN)
            .order_by(Enrollment.cohort_id, Membership.user_id, Enrollment.id)).all()
        for cohort_id, enrollment_id, user_id in rows:
            if cohort_id not in enrolled:
                continue
            enrolled[cohort_id].append((enrollment_id, user_id))
            if (d := dates.get(cohort_id)) is not None and (
                    user_id not in first or d.at < first[user_id]):
                first[user_id] = d.at
        return cls(organization_id, settings_of(organization_id), cohorts, dates,
                   consenting_learners(organization_id), enrolled, first)

    @property
    def weights(self) -> dict[str, float]:
        """Metric → value of one (see :func:`outcome_weights`)."""
        return outcome_weights(self.settings)

    def members(self, cohort_id: int) -> set[int]:
        """User ids enrolled in the cohort (withdrawn enrolments left out)."""
        return {u for _e, u in self.enrolled.get(cohort_id, [])}

    def activity(self, users: Iterable[int], training: datetime, weeks: int, end: datetime,
                 weekly_metrics: tuple[str, ...] = ()) -> Activity:
        """:func:`activity`, read once per roster: people already read for the same weeks
        (and weekly metrics) are not read again.
        """
        wanted = set(users)
        known = self._activity.setdefault((training, weeks, end), [])
        for found in known:
            if wanted <= found.users and set(weekly_metrics) <= set(found.weekly_metrics):
                return found
        found = activity(self.organization_id, wanted, training, weeks, end, weekly_metrics)
        known.append(found)
        return found


def _metric_columns() -> list[Any]:
    e = AdvocacyEvent
    # count() rather than count(id): the index holds every column read, id aside.
    return [func.count(), func.sum(case((e.kind.in_(DISTRIBUTING_KINDS), 1), else_=0)),
            func.sum(e.clicks), func.sum(e.reactions), func.sum(e.comments),
            func.sum(e.signups), func.sum(e.leads), func.sum(e.hires)]


def period_windows(training: TrainingDate, weeks: int,
                   now: datetime) -> tuple[dict[str, tuple[datetime, datetime]], dict[str, float]]:
    """The before and after windows around the training date (cut at ``now``) and their
    lengths in days.
    """
    t = training.at
    span = timedelta(weeks=weeks)
    before_end, after_end = min(t, now), max(t, min(t + span, now))
    windows = {"before": (t - span, before_end), "after": (t, after_end)}
    days = {w: max(0.0, (e - s).total_seconds() / 86400) for w, (s, e) in windows.items()}
    return windows, days


def _group(user_ids: list[int], found: Activity, weights: dict[str, float]) -> Group:
    """The people's totals before and after, metric by metric, with their value when the
    organization has set any (zeros for people without events).
    """
    nothing = (0,) * len(METRICS)
    positions = [(_POSITION[m], w) for m, w in weights.items()]
    group = Group(user_ids)
    for window, found_rows in ((group.before, found.before), (group.after, found.after)):
        rows = [found_rows.get(u, nothing) for u in user_ids]
        window += [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in METRICS]
        if positions:
            # int × float is float(int) × float: the figures of the totals made numbers first.
            window.append([sum([r[k] * w for k, w in positions]) for r in rows])
    return group


@collector_paused()
def compare_cohort(cohort: Cohort, *, weeks: int = DEFAULT_WEEKS,
                   level: float = estimator.DEFAULT_LEVEL, event_metric: str = "shares",
                   now: datetime | None = None, roster: Roster | None = None) -> Comparison:
    """The cohort against consenting colleagues not yet trained (see the module's docstring).

    :param event_metric: the metric of the week-by-week event study.
    :param roster: the organization's, when the caller reads it for other comparisons too.
    """
    now = now or utcnow()
    roster = roster or Roster.of(cohort.organization_id)
    weights = roster.weights
    metrics = METRICS + ((VALUE,) if weights else ())
    training = roster.dates.get(cohort.id) if cohort.id in roster.dates \
        else training_dates([cohort])[cohort.id]
    result = Comparison(cohort=cohort, weeks=weeks, training=training, metrics=metrics,
                        level=level, event_metric=event_metric if event_metric in metrics
                        else "shares")
    if training is None:
        return result
    result.windows, result.days = period_windows(training, weeks, now)
    members = roster.members(cohort.id)
    first = roster.first
    after_end = training.at + timedelta(weeks=weeks)
    treated_ids = sorted(members & roster.consenting)
    control_ids = sorted(u for u in roster.consenting
                         if u not in members and (u not in first or first[u] >= after_end))
    shown = result.event_metric
    found = roster.activity(treated_ids + control_ids, training.at, weeks,
                            result.windows["after"][1],
                            tuple(weights) if shown == VALUE else (shown,))
    result.treated = _group(treated_ids, found, weights)
    result.control = _group(control_ids, found, weights)
    if result.held:
        estimates = estimator.bootstrap_columns(result.changes("treated"),
                                                result.changes("control"), level=level)
        result.estimates = dict(zip(metrics, estimates, strict=True))
    result.event_study = event_study(found, set(treated_ids), set(control_ids), training.at,
                                     weeks, result.event_metric, weights, now)
    return result


def event_study(found: Activity, treated: set[int], control: set[int], training: datetime,
                weeks: int, metric: str, weights: dict[str, float],
                now: datetime) -> list[tuple[int, float, float]]:
    """Per week relative to the training date (``-weeks`` … ``weeks - 1``, weeks over by
    ``now``), the mean of ``metric`` per person in each group, from the weeks' activity.
    """
    if not (treated or control):
        return []
    # Whole weeks only: a week just begun would read as a fall.
    shown = [k for k in range(-weeks, weeks) if training + timedelta(weeks=k + 1) <= now]
    parts = list(weights.items()) if metric == VALUE else [(metric, None)]
    groups = [[found.weekly_sums(m, people) for m, _w in parts] for people in (treated, control)]
    out = []
    for k in shown:
        at = k + weeks
        sums = [0.0, 0.0]
        for group, per_metric in enumerate(groups):
            for (_m, weight), weekly in zip(parts, per_metric, strict=True):
                total = weekly[at] if weekly else 0
                sums[group] += total if weight is None else float(total) * weight
        out.append((k, sums[0] / len(treated) if treated else 0.0,
                    sums[1] / len(control) if control else 0.0))
    return out


# -- formats compared ---------------------------------------------------------------------------

@dataclass
class FormatComparison:
    """Trained people who followed a format (``yes``) against those who did not (``no``): per
    metric, the difference of their mean changes per person per month.
    """

    format: str
    scope: str
    metrics: tuple[str, ...]
    yes: int = 0
    no: int = 0
    estimates: dict[str, Estimate] = field(default_factory=dict)
    cohorts: int = 0


def followed(enrollment_ids: list[str], fmt: str) -> set[str]:
    """The enrolments among ``enrollment_ids`` that followed ``fmt``: a coaching follow-up
    held (``coached``), an e-learning module begun (``blended``), an exercise approved or
    verified (``exercises``).
    """
    if not enrollment_ids:
        return set()
    if fmt == "coached":
        stmt = select(FollowUp.enrollment_id).where(FollowUp.enrollment_id.in_(enrollment_ids),
                                                    FollowUp.status == HELD)
    elif fmt == "blended":
        stmt = (select(ModuleProgress.enrollment_id)
                .join(Module, Module.id == ModuleProgress.module_id)
                .where(ModuleProgress.enrollment_id.in_(enrollment_ids),
                       Module.kind == "elearning",
                       ModuleProgress.state.in_((IN_PROGRESS, DONE, TRIED))))
    else:
        stmt = select(ExerciseSubmission.enrollment_id).where(
            ExerciseSubmission.enrollment_id.in_(enrollment_ids),
            ExerciseSubmission.status.in_(DONE_STATUSES))
    return set(db.session.scalars(stmt.distinct()))


@collector_paused()
def compare_formats(cohort: Cohort, fmt: str, *, scope: str = "cohort",
                    weeks: int = DEFAULT_WEEKS, level: float = estimator.DEFAULT_LEVEL,
                    now: datetime | None = None, roster: Roster | None = None) -> FormatComparison:
    """Trained people of the scope's cohorts (each around their own cohort's training date,
    once trained at least :data:`MIN_DAYS_AFTER` days) split by whether they followed ``fmt``.

    :param roster: the organization's, when the caller reads it for other comparisons too.
    """
    now = now or utcnow()
    roster = roster or Roster.of(cohort.organization_id)
    weights = roster.weights
    metrics = METRICS + ((VALUE,) if weights else ())
    result = FormatComparison(format=fmt, scope=scope, metrics=metrics)
    if scope == "cohort":
        cohorts = [cohort]
    else:
        cohorts = [c for c in roster.cohorts
                   if scope == "organization" or c.program_id == cohort.program_id]
    yes: list[list[float]] = [[] for _ in metrics]
    no: list[list[float]] = [[] for _ in metrics]
    for c in cohorts:
        training = roster.dates.get(c.id)
        if training is None:
            continue
        windows, days = period_windows(training, weeks, now)
        if days["after"] < MIN_DAYS_AFTER:
            continue
        enrolled = [(eid, uid) for eid, uid in roster.enrolled.get(c.id, [])
                    if uid in roster.consenting]
        if not enrolled:
            continue
        result.cohorts += 1
        did = followed([eid for eid, _u in enrolled], fmt)
        found = roster.activity([uid for _e, uid in enrolled], training.at, weeks,
                                windows["after"][1])
        split = [eid in did for eid, _u in enrolled]
        columns = _group([uid for _e, uid in enrolled], found, weights).changes(days)
        for column, yes_column, no_column in zip(columns, yes, no, strict=True):
            for value, is_yes in zip(column, split, strict=True):
                (yes_column if is_yes else no_column).append(value)
    result.yes, result.no = len(yes[0]), len(no[0])
    if result.yes or result.no:
        result.estimates = dict(zip(metrics, estimator.bootstrap_columns(yes, no, level=level),
                                    strict=True))
    return result
