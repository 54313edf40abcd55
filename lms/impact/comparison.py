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

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from lms.accounts.models import Membership, Role
from lms.advocacy.impact import DEFAULT_WEEKS, MIN_DAYS_AFTER, TrainingDate, training_dates
from lms.advocacy.kpis import DISTRIBUTING_KINDS
from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent
from lms.coaching.models import HELD, FollowUp
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
# How trained people may differ by what they followed: (key, what "yes" means).
FORMATS = ("coached", "blended", "exercises")
SCOPES = ("cohort", "program", "organization")


@dataclass
class Person:
    """One person's totals per metric in the weeks before and after (a window's length may
    differ from the other's while the "after" weeks still run).
    """

    user_id: int
    before: list[float]
    after: list[float]


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
    treated: list[Person] = field(default_factory=list)
    control: list[Person] = field(default_factory=list)
    estimates: dict[str, Estimate] = field(default_factory=dict)
    event_metric: str = "shares"
    # Per week relative to the training date (-N … N-1): (week, trained mean, control mean);
    # weeks not over yet are left out.
    event_study: list[tuple[int, float, float]] = field(default_factory=list)

    @property
    def held(self) -> bool:
        """Whether the training has taken place."""
        return self.days["after"] > 0

    @property
    def too_early(self) -> bool:
        """Whether the weeks after are under :data:`MIN_DAYS_AFTER` days (nothing to say)."""
        return self.days["after"] < MIN_DAYS_AFTER

    def mean_change(self, group: str, metric: str) -> float:
        """A group's mean change of ``metric`` per person per month."""
        k = self.metrics.index(metric)
        rows = changes(self.treated if group == "treated" else self.control, self.days)
        return estimator.mean([r[k] for r in rows])


def changes(people: Iterable[Person], days: dict[str, float]) -> list[list[float]]:
    """Each person's change per metric per month (after minus before)."""
    return [estimator.changes(p.before, p.after, days["before"], days["after"])
            for p in people]


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
    return set(db.session.scalars(select(Membership.user_id).where(
        Membership.organization_id == organization_id, Membership.role == Role.LEARNER,
        Membership.active.is_(True), Membership.user_id.in_(consent))))


def first_trainings(organization_id: int,
                    cohorts: list[Cohort]) -> tuple[dict[int, datetime], dict[int, set[int]]]:
    """Each person's first training date over their cohorts (withdrawn enrolments left out),
    and each cohort's enrolled user ids.
    """
    dates = training_dates(cohorts)
    first: dict[int, datetime] = {}
    members: dict[int, set[int]] = {c.id: set() for c in cohorts}
    rows = db.session.execute(
        select(Enrollment.cohort_id, Membership.user_id)
        .join(Membership, Membership.id == Enrollment.membership_id)
        .where(Enrollment.organization_id == organization_id, Enrollment.status != WITHDRAWN))
    for cohort_id, user_id in rows:
        if cohort_id not in members:
            continue
        members[cohort_id].add(user_id)
        if (d := dates.get(cohort_id)) is not None and (
                user_id not in first or d.at < first[user_id]):
            first[user_id] = d.at
    return first, members


def _metric_columns() -> list[Any]:
    e = AdvocacyEvent
    return [func.count(e.id), func.sum(case((e.kind.in_(DISTRIBUTING_KINDS), 1), else_=0)),
            func.sum(e.clicks), func.sum(e.reactions), func.sum(e.comments),
            func.sum(e.signups), func.sum(e.leads), func.sum(e.hires)]


def window_sums(organization_id: int, start: datetime, split: datetime,
                end: datetime) -> dict[tuple[int, int], list[float]]:
    """Per (user, window — 0 before ``split``, 1 from it): :data:`METRICS` totals of the
    events in ``[start, end)``, one grouped query.
    """
    e = AdvocacyEvent
    if end <= start:
        return {}
    window = case((e.occurred_at >= split, 1), else_=0)
    stmt = (select(e.user_id, window, *_metric_columns())
            .where(e.organization_id == organization_id, e.occurred_at >= start,
                   e.occurred_at < end)
            .group_by(e.user_id, window))
    return {(row[0], int(row[1])): [float(v or 0) for v in row[2:]]
            for row in db.session.execute(stmt)}


def _with_values(totals: list[float], weights: dict[str, float]) -> list[float]:
    if not weights:
        return totals
    return totals + [sum(totals[METRICS.index(m)] * w for m, w in weights.items())]


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


def compare_cohort(cohort: Cohort, *, weeks: int = DEFAULT_WEEKS,
                   level: float = estimator.DEFAULT_LEVEL, event_metric: str = "shares",
                   now: datetime | None = None) -> Comparison:
    """The cohort against consenting colleagues not yet trained (see the module's docstring).

    :param event_metric: the metric of the week-by-week event study.
    """
    now = now or utcnow()
    org_id = cohort.organization_id
    weights = outcome_weights(settings_of(org_id))
    metrics = METRICS + ((VALUE,) if weights else ())
    training = training_dates([cohort])[cohort.id]
    result = Comparison(cohort=cohort, weeks=weeks, training=training, metrics=metrics,
                        level=level, event_metric=event_metric if event_metric in metrics
                        else "shares")
    if training is None:
        return result
    result.windows, result.days = period_windows(training, weeks, now)
    all_cohorts = list(db.session.scalars(select(Cohort).where(
        Cohort.organization_id == org_id)))
    first, members = first_trainings(org_id, all_cohorts)
    consenting = consenting_learners(org_id)
    after_end = training.at + timedelta(weeks=weeks)
    treated_ids = sorted(members.get(cohort.id, set()) & consenting)
    control_ids = sorted(u for u in consenting
                         if u not in members.get(cohort.id, set())
                         and (u not in first or first[u] >= after_end))
    start, split, end = result.windows["before"][0], training.at, result.windows["after"][1]
    sums = window_sums(org_id, start, split, max(split, end))
    zero = [0.0] * len(METRICS)

    def person(user_id: int) -> Person:
        return Person(user_id, _with_values(sums.get((user_id, 0), zero), weights),
                      _with_values(sums.get((user_id, 1), zero), weights))

    result.treated = [person(u) for u in treated_ids]
    result.control = [person(u) for u in control_ids]
    if result.held:
        estimates = estimator.bootstrap(changes(result.treated, result.days),
                                        changes(result.control, result.days), level=level)
        result.estimates = dict(zip(metrics, estimates, strict=True))
    result.event_study = event_study(org_id, set(treated_ids), set(control_ids), training.at,
                                     weeks, result.event_metric, weights, now)
    return result


def event_study(organization_id: int, treated: set[int], control: set[int], training: datetime,
                weeks: int, metric: str, weights: dict[str, float],
                now: datetime) -> list[tuple[int, float, float]]:
    """Per week relative to the training date (``-weeks`` … ``weeks - 1``, weeks over by
    ``now``), the mean of ``metric`` per person in each group — one grouped query by week and
    person, summed here per group.
    """
    e = AdvocacyEvent
    start = training - timedelta(weeks=weeks)
    end = min(training + timedelta(weeks=weeks), now)
    if end <= start or not (treated or control):
        return []
    # Whole weeks only: a week just begun would read as a fall.
    shown = [k for k in range(-weeks, weeks) if training + timedelta(weeks=k + 1) <= now]
    week = case(*[(e.occurred_at < training + timedelta(weeks=k + 1), k)
                  for k in range(-weeks, weeks - 1)], else_=weeks - 1)
    k_metric = (METRICS + (VALUE,)).index(metric)
    rows = db.session.execute(
        select(week, e.user_id, *_metric_columns())
        .where(e.organization_id == organization_id, e.occurred_at >= start,
               e.occurred_at < end)
        .group_by(week, e.user_id))
    sums = {k: [0.0, 0.0] for k in shown}
    for row in rows:
        k, user_id = int(row[0]), row[1]
        if k not in sums or not (user_id in treated or user_id in control):
            continue
        totals = [float(v or 0) for v in row[2:]]
        value = _with_values(totals, weights)[k_metric] if metric == VALUE else \
            totals[k_metric]
        sums[k][0 if user_id in treated else 1] += value
    return [(k, sums[k][0] / len(treated) if treated else 0.0,
             sums[k][1] / len(control) if control else 0.0) for k in shown]


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


def scope_cohorts(cohort: Cohort, scope: str) -> list[Cohort]:
    """The cohorts a format comparison pools: the cohort, its program's, or the organization's."""
    if scope == "cohort":
        return [cohort]
    stmt = select(Cohort).where(Cohort.organization_id == cohort.organization_id)
    if scope == "program":
        stmt = stmt.where(Cohort.program_id == cohort.program_id)
    return list(db.session.scalars(stmt.order_by(Cohort.id)))


def compare_formats(cohort: Cohort, fmt: str, *, scope: str = "cohort",
                    weeks: int = DEFAULT_WEEKS, level: float = estimator.DEFAULT_LEVEL,
                    now: datetime | None = None) -> FormatComparison:
    """Trained people of the scope's cohorts (each around their own cohort's training date,
    once trained at least :data:`MIN_DAYS_AFTER` days) split by whether they followed ``fmt``.
    """
    now = now or utcnow()
    org_id = cohort.organization_id
    weights = outcome_weights(settings_of(org_id))
    metrics = METRICS + ((VALUE,) if weights else ())
    result = FormatComparison(format=fmt, scope=scope, metrics=metrics)
    cohorts = scope_cohorts(cohort, scope)
    dates = training_dates(cohorts)
    consenting = consenting_learners(org_id)
    yes_rows: list[list[float]] = []
    no_rows: list[list[float]] = []
    zero = [0.0] * len(METRICS)
    for c in cohorts:
        training = dates.get(c.id)
        if training is None:
            continue
        windows, days = period_windows(training, weeks, now)
        if days["after"] < MIN_DAYS_AFTER:
            continue
        enrolled = [(eid, uid) for eid, uid in db.session.execute(
            select(Enrollment.id, Membership.user_id)
            .join(Membership, Membership.id == Enrollment.membership_id)
            .where(Enrollment.cohort_id == c.id, Enrollment.status != WITHDRAWN))
            if uid in consenting]
        if not enrolled:
            continue
        result.cohorts += 1
        did = followed([eid for eid, _u in enrolled], fmt)
        sums = window_sums(org_id, windows["before"][0], training.at, windows["after"][1])
        for eid, uid in enrolled:
            p = Person(uid, _with_values(sums.get((uid, 0), zero), weights),
                       _with_values(sums.get((uid, 1), zero), weights))
            (yes_rows if eid in did else no_rows).extend(changes([p], days))
    result.yes, result.no = len(yes_rows), len(no_rows)
    if yes_rows or no_rows:
        result.estimates = dict(zip(metrics, estimator.bootstrap(yes_rows, no_rows,
                                                                  level=level), strict=True))
    return result
