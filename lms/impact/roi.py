"""Return on investment of a cohort and of a program, with the estimate's interval carried
through.

Benefit: the estimated value per person per month (the "value" metric of the comparison,
:mod:`lms.impact.comparison`) × the trained people × the months of the "after" weeks. Costs:
trainer days (hours in session ÷ :data:`HOURS_PER_DAY`, plus the organization's preparation
days per cohort) at the day rate; learners' hours (half-days marked present, at the length of
their session's half-day, plus the stated duration of the e-learning, exercise and coaching
modules for each enrolled learner) at the hourly cost; tools per enrolled learner. ROI =
(benefit − cost) ÷ cost, at the interval's low end, the point and the high end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.programs.models import Module
from lms.courses.sessions.models import Attendance, TrainingSession
from lms.courses.sessions.services import half_days
from lms.extensions import db
from lms.impact import estimator
from lms.impact.comparison import VALUE, Comparison, Roster, compare_cohort, settings_of
from lms.impact.estimator import Estimate
from lms.impact.models import ImpactSettings

HOURS_PER_DAY = 7.0
# Modules done outside sessions, whose stated duration each learner spends.
SELF_PACED_KINDS = ("elearning", "exercise", "coaching")


@dataclass(frozen=True)
class Costs:
    """A cohort's (or program's) costs; an amount is None when its rate is not set."""

    trainer_days: float
    learner_hours: float
    learners: int
    trainers: float | None
    learners_time: float | None
    tools: float | None

    @property
    def total(self) -> float:
        """The sum of the costs whose rate is set."""
        return sum(v for v in (self.trainers, self.learners_time, self.tools) if v is not None)

    def __add__(self, other: Costs) -> Costs:
        def add(a: float | None, b: float | None) -> float | None:
            return None if a is None and b is None else (a or 0.0) + (b or 0.0)

        return Costs(self.trainer_days + other.trainer_days,
                     self.learner_hours + other.learner_hours, self.learners + other.learners,
                     add(self.trainers, other.trainers),
                     add(self.learners_time, other.learners_time), add(self.tools, other.tools))


@dataclass(frozen=True)
class Roi:
    """Benefit and ROI at the interval's low end, the point and the high end; ROI is None
    without any cost.
    """

    benefit: tuple[float, float, float]
    costs: Costs
    roi: tuple[float, float, float] | None


def _rate(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def cost_of(settings: ImpactSettings | None, *, session_hours: float, attended_hours: float,
            self_paced_hours: float, learners: int) -> Costs:
    """Costs from the hours and the organization's rates (pure: see the module's docstring).

    :param session_hours: hours of the cohort's sessions (the trainer's time in session).
    :param attended_hours: learners' hours in session, from the half-days marked present.
    :param self_paced_hours: learners' hours on self-paced modules, all learners together.
    """
    extra = float(settings.extra_trainer_days or 0) if settings else 0.0
    days = session_hours / HOURS_PER_DAY + extra
    hours = attended_hours + self_paced_hours
    day_rate = _rate(settings.trainer_day_rate) if settings else None
    hourly = _rate(settings.learner_hourly_cost) if settings else None
    tools = _rate(settings.tools_cost_per_learner) if settings else None
    return Costs(trainer_days=days, learner_hours=hours, learners=learners,
                 trainers=None if day_rate is None else days * day_rate,
                 learners_time=None if hourly is None else hours * hourly,
                 tools=None if tools is None else tools * learners)


def roi_of(value: Estimate | None, *, people: int, after_days: float, costs: Costs) -> Roi:
    """Benefit over the "after" weeks and ROI from the value estimate per person per month."""
    months = after_days / estimator.MONTH_DAYS
    benefit = estimator.scaled(value, people * months) if value is not None else (0.0,) * 3
    return roi_from(benefit, costs)


def roi_from(benefit: tuple[float, float, float], costs: Costs) -> Roi:
    """ROI = (benefit − cost) ÷ cost at each of (low, point, high); None without a cost."""
    cost = costs.total
    ratios = tuple((b - cost) / cost for b in benefit) if cost > 0 else None
    return Roi(benefit=benefit, costs=costs, roi=ratios)  # type: ignore[arg-type]


def total(rois: list[Roi]) -> Roi:
    """A program's ROI from its cohorts': benefits and costs added (the low ends together and
    the high ends together — a wider, cautious interval rather than a joint one).
    """
    benefit = tuple(sum(r.benefit[i] for r in rois) for i in range(3))
    costs = rois[0].costs if rois else Costs(0, 0, 0, None, None, None)
    for r in rois[1:]:
        costs = costs + r.costs
    return roi_from(benefit, costs)  # type: ignore[arg-type]


def cohort_hours(cohort: Cohort, *, learners: int | None = None) -> tuple[float, float, float, int]:
    """(session hours, learners' attended hours, learners' self-paced hours, learners) of a
    cohort, from its sessions, attendance and module durations.

    :param learners: its enrolments not withdrawn, when the caller has counted them.
    """
    sessions = list(db.session.scalars(select(TrainingSession).where(
        TrainingSession.cohort_id == cohort.id)))
    # Each half-day marked present counts the session's hours shared over its half-days.
    per_half = {s.id: (s.ends_at - s.starts_at).total_seconds() / 3600
                / max(len(half_days(s)), 1) for s in sessions}
    present = db.session.execute(
        select(Attendance.session_id, func.count())
        .where(Attendance.session_id.in_(list(per_half)), Attendance.status == "present")
        .group_by(Attendance.session_id)).all() if per_half else []
    attended = sum(per_half[sid] * marks for sid, marks in present)
    if learners is None:
        learners = db.session.scalar(select(func.count(Enrollment.id)).where(
            Enrollment.cohort_id == cohort.id, Enrollment.status != WITHDRAWN)) or 0
    minutes = db.session.scalar(select(func.coalesce(func.sum(Module.duration_minutes), 0))
                                .where(Module.program_id == cohort.program_id,
                                       Module.kind.in_(SELF_PACED_KINDS))) or 0
    hours = sum((s.ends_at - s.starts_at).total_seconds() / 3600 for s in sessions)
    return hours, attended, learners * int(minutes) / 60, int(learners)


def cohort_roi(comparison: Comparison, roster: Roster | None = None) -> Roi:
    """A compared cohort's ROI: its value estimate over its "after" weeks, against its costs.

    :param roster: the organization's, when the caller has read it already.
    """
    cohort = comparison.cohort
    settings = roster.settings if roster else settings_of(cohort.organization_id)
    hours = cohort_hours(cohort, learners=len(roster.enrolled.get(cohort.id, []))
                         if roster else None)
    costs = cost_of(settings, session_hours=hours[0], attended_hours=hours[1],
                    self_paced_hours=hours[2], learners=hours[3])
    value = comparison.estimates.get(VALUE)
    return roi_of(value, people=len(comparison.treated), after_days=comparison.days["after"],
                  costs=costs)


def program_roi(cohort: Cohort, *, weeks: int, now: datetime | None = None,
                roster: Roster | None = None) -> tuple[Roi, int]:
    """The ROI of the cohort's program, its trained cohorts added (and how many there were).

    :param roster: the organization's, when the caller has read it already.
    """
    roster = roster or Roster.of(cohort.organization_id)
    rois = []
    for c in roster.cohorts:
        if c.program_id != cohort.program_id:
            continue
        comparison = compare_cohort(c, weeks=weeks, now=now, roster=roster)
        if comparison.training is not None and comparison.held:
            rois.append(cohort_roi(comparison, roster))
    return total(rois), len(rois)
