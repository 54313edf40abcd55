"""The difference-in-differences estimate and its bootstrap interval: pure functions, no
database.

Each person is a row of *changes*, one per metric: their rate per month in the weeks after the
training date minus their rate in the same number of weeks before. The estimate is the trained
group's mean change minus the comparison group's mean change — what the trained people gained
beyond what the season, a campaign or a company-wide push gave everyone in the same weeks.

The interval resamples people (the unit that was trained), both groups independently, with a
fixed seed so the same data always gives the same page. Plain Python: the project has no
numerical library and the groups are small; a group larger than :data:`EXACT_LIMIT` people has
each resampled mean drawn from its normal limit (same mean, standard error s/√n), which is what
the bootstrap distribution of a mean converges to at that size, so large organizations keep a
fast page.
"""

from __future__ import annotations

import math
import operator
import random
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_LEVEL = 0.90
DRAWS = 1000
SEED = 20261206
# Below this many people in either group, no verdict: the interval would mostly reflect who
# happened to be in the group.
MIN_GROUP = 5
EXACT_LIMIT = 200
# Rates are given per person per month; a month is 30 days.
MONTH_DAYS = 30.0

INCREASE, DECREASE, UNCLEAR, TOO_FEW = "increase", "decrease", "unclear", "too_few"


@dataclass(frozen=True)
class Estimate:
    """One metric's estimate, per person per month: the interval's low end, the point, the
    high end, and the size of each group behind it.
    """

    low: float
    point: float
    high: float
    treated: int
    control: int

    def verdict(self, min_group: int = MIN_GROUP) -> str:
        """The estimate's verdict (see :func:`verdict`)."""
        return verdict(self, min_group=min_group)


def per_month(total: float, days: float) -> float:
    """A window's total as a rate per month (0 for an empty window)."""
    return total / days * MONTH_DAYS if days > 0 else 0.0


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean (0 for no values)."""
    return sum(values) / len(values) if values else 0.0


def changes(before: Sequence[float], after: Sequence[float], before_days: float,
            after_days: float) -> list[float]:
    """A person's change per metric: rate per month after minus rate per month before."""
    return [per_month(a, after_days) - per_month(b, before_days)
            for b, a in zip(before, after, strict=True)]


def difference_in_differences(treated: Sequence[Sequence[float]],
                              control: Sequence[Sequence[float]]) -> list[float]:
    """Per metric (column), the trained group's mean change minus the comparison group's."""
    width = len(treated[0]) if treated else len(control[0]) if control else 0
    return [mean([row[k] for row in treated]) - mean([row[k] for row in control])
            for k in range(width)]


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0–1) of sorted values, interpolating linearly between neighbours
    (the usual "type 7" definition: the 5th percentile of 0…100 is 5).
    """
    if not ordered:
        return 0.0
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class _Normals:
    """Standard normal values, the very ones ``rnd.gauss()`` would give on a fresh generator
    (Box-Muller pairs from the same ``random()`` draws, the second of a pair kept for the
    next call), many at a time without a Python call per value.
    """

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.spare: float | None = None

    def take(self, count: int) -> list[float]:
        """The next ``count`` values."""
        out: list[float] = []
        if self.spare is not None:
            out.append(self.spare)
            self.spare = None
        draw, log, sqrt, cos, sin = self.rnd.random, math.log, math.sqrt, math.cos, math.sin
        two_pi = 2 * math.pi
        for _ in range((count - len(out) + 1) // 2):
            x2pi = draw() * two_pi
            g2rad = sqrt(-2.0 * log(1.0 - draw()))
            out.append(cos(x2pi) * g2rad)
            out.append(sin(x2pi) * g2rad)
        if len(out) > count:
            self.spare = out.pop()
        return out


def _resampled_means(columns: Sequence[Sequence[float]], draws: int, rnd: random.Random,
                     normals: _Normals) -> list[list[float]]:
    """Per column (one value per person), ``draws`` bootstrap means (people drawn with
    replacement, the same people for every column of a draw).
    """
    n = len(columns[0]) if columns else 0
    if n == 0:
        return [[0.0] * draws for _ in columns]
    width = len(columns)
    if n > EXACT_LIMIT:
        # The normal limit of the bootstrap mean: same centre, standard error s/√n; draw d of
        # column k is ``rnd.gauss(centre, error)`` made draw by draw, column by column.
        centres = [mean(c) for c in columns]
        errors = [math.sqrt(sum([(v - m) ** 2 for v in c]) / (n - 1) / n)
                  for c, m in zip(columns, centres, strict=True)]
        z = normals.take(draws * width)
        return [[m + d * s for d in z[k::width]]
                for k, (m, s) in enumerate(zip(centres, errors, strict=True))]
    out: list[list[float]] = [[] for _ in columns]
    people = range(n)
    for _ in range(draws):
        # The same draws as int(random() * n) n times, made in C.
        picks = rnd.choices(people, k=n)
        for c, means in zip(columns, out, strict=True):
            means.append(sum(map(c.__getitem__, picks)) / n)
    return out


def bootstrap(treated: Sequence[Sequence[float]], control: Sequence[Sequence[float]], *,
              level: float = DEFAULT_LEVEL, draws: int = DRAWS,
              seed: int = SEED) -> list[Estimate]:
    """Per metric, the difference-in-differences estimate with its ``level`` percentile
    interval from ``draws`` resamplings of people (each group resampled on its own, the same
    people for every metric of a draw).

    :param treated: one row of changes per trained person.
    :param control: one row of changes per person of the comparison group.
    """
    width = len(treated[0]) if treated else len(control[0]) if control else 0
    return bootstrap_columns([[row[k] for row in treated] for k in range(width)],
                             [[row[k] for row in control] for k in range(width)],
                             level=level, draws=draws, seed=seed)


def bootstrap_columns(treated: Sequence[Sequence[float]], control: Sequence[Sequence[float]],
                      *, level: float = DEFAULT_LEVEL, draws: int = DRAWS,
                      seed: int = SEED) -> list[Estimate]:
    """:func:`bootstrap` of changes given metric by metric: ``treated[k][i]`` is trained
    person ``i``'s change of metric ``k`` (both groups have the same metrics).
    """
    points = [mean(t) - mean(c) for t, c in zip(treated, control, strict=True)]
    rnd = random.Random(seed)
    normals = _Normals(rnd)
    t_means = _resampled_means(treated, draws, rnd, normals)
    c_means = _resampled_means(control, draws, rnd, normals)
    sizes = {"treated": len(treated[0]) if treated else 0,
             "control": len(control[0]) if control else 0}
    tail = (1 - level) / 2
    out = []
    for k, point in enumerate(points):
        diffs = sorted(map(operator.sub, t_means[k], c_means[k]))
        out.append(Estimate(low=percentile(diffs, tail), point=point,
                            high=percentile(diffs, 1 - tail), **sizes))
    return out


def verdict(estimate: Estimate, *, min_group: int = MIN_GROUP) -> str:
    """``too_few`` when either group has fewer than ``min_group`` people; ``increase`` when
    the whole interval is above zero, ``decrease`` when below, ``unclear`` when it holds zero.
    """
    if estimate.treated < min_group or estimate.control < min_group:
        return TOO_FEW
    if estimate.low > 0:
        return INCREASE
    if estimate.high < 0:
        return DECREASE
    return UNCLEAR


def scaled(estimate: Estimate, factor: float, offset: float = 0.0) -> tuple[float, float, float]:
    """(low, point, high) of ``estimate × factor + offset``, ordered low to high (a negative
    factor swaps the ends).
    """
    ends = sorted((estimate.low * factor + offset, estimate.high * factor + offset))
    return ends[0], estimate.point * factor + offset, ends[1]
