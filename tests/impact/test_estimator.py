"""The estimator's pure functions against values computed by hand."""

from __future__ import annotations

import math
import random

import pytest

from lms.impact import estimator, roi
from lms.impact.estimator import Estimate


def test_changes_are_rates_per_month():
    # 3 shares in 28 days before, 6 in 14 days after: 3.214… → 12.857… per 30 days.
    (change,) = estimator.changes([3], [6], 28, 14)
    assert change == pytest.approx(6 / 14 * 30 - 3 / 28 * 30)
    assert estimator.per_month(5, 0) == 0.0


def test_difference_in_differences_by_hand():
    treated = [[4.0, 1.0], [6.0, 1.0]]  # mean change 5 and 1
    control = [[1.0, 0.0], [2.0, 2.0], [3.0, 1.0]]  # mean change 2 and 1
    assert estimator.difference_in_differences(treated, control) == [3.0, 0.0]


def test_percentile_interpolates_like_type_7():
    values = [float(v) for v in range(101)]
    assert estimator.percentile(values, 0.05) == 5.0
    assert estimator.percentile([0.0, 10.0], 0.25) == 2.5
    assert estimator.percentile([], 0.5) == 0.0


def test_identical_people_give_an_interval_of_width_zero():
    result = estimator.bootstrap([[2.0]] * 6, [[0.5]] * 6)
    assert result == [Estimate(low=1.5, point=1.5, high=1.5, treated=6, control=6)]


def test_the_interval_of_a_two_person_group_by_hand():
    # Resampling two people with changes 0 and 3 gives means 0 (1/4), 1.5 (1/2), 3 (1/4); the
    # control is constant. Out of 1,000 draws about 250 are 0 and 250 are 3, so the 5th and
    # 95th percentiles are 0 and 3 (fewer than 50 of either would be a 1-in-10^20 event).
    (e,) = estimator.bootstrap([[0.0], [3.0]], [[0.0]] * 5)
    assert (e.low, e.point, e.high) == (0.0, 1.5, 3.0)


def test_the_seed_fixes_the_interval_and_a_wider_level_widens_it():
    treated = [[float(v)] for v in (0, 1, 1, 2, 5, 8, 3, 0)]
    control = [[float(v)] for v in (0, 1, 0, 2, 1, 0)]
    first = estimator.bootstrap(treated, control)
    assert estimator.bootstrap(treated, control) == first
    assert first[0].point == pytest.approx(20 / 8 - 4 / 6)
    wide = estimator.bootstrap(treated, control, level=0.98)[0]
    assert wide.low <= first[0].low < first[0].point < first[0].high <= wide.high


def test_large_groups_use_the_normal_limit_around_the_same_point():
    treated = [[float(i % 7)] for i in range(estimator.EXACT_LIMIT + 1)]
    control = [[float(i % 3)] for i in range(estimator.EXACT_LIMIT + 50)]
    (e,) = estimator.bootstrap(treated, control)
    assert e.low < e.point < e.high
    # The standard error of the difference is about 0.16 here: ±1.645 of it.
    assert e.high - e.low == pytest.approx(2 * 1.645 * 0.16, rel=0.15)


def _bootstrap_value_by_value(treated, control, *, level=estimator.DEFAULT_LEVEL,
                              draws=estimator.DRAWS):
    """The bootstrap written the plain way, one draw and one value at a time: what the
    estimator's column-by-column version must give to the last digit.
    """
    rnd = random.Random(estimator.SEED)

    def means(rows, width):
        n = len(rows)
        if n == 0:
            return [[0.0] * width for _ in range(draws)]
        columns = [[row[k] for row in rows] for k in range(width)]
        if n > estimator.EXACT_LIMIT:
            centres = [sum(c) / n for c in columns]
            errors = [math.sqrt(sum((v - m) ** 2 for v in c) / (n - 1) / n)
                      for c, m in zip(columns, centres, strict=True)]
            return [[rnd.gauss(m, s) for m, s in zip(centres, errors, strict=True)]
                    for _ in range(draws)]
        out = []
        for _ in range(draws):
            picks = rnd.choices(range(n), k=n)
            out.append([sum(c[i] for i in picks) / n for c in columns])
        return out

    width = len((treated or control)[0])
    t_means, c_means = means(treated, width), means(control, width)
    tail = (1 - level) / 2
    out = []
    for k in range(width):
        diffs = sorted(t[k] - c[k] for t, c in zip(t_means, c_means, strict=True))
        out.append((estimator.percentile(diffs, tail), estimator.percentile(diffs, 1 - tail)))
    return out


@pytest.mark.parametrize(("treated", "control", "width", "draws"), [
    (8, 6, 2, 1000),
    (201, 250, 3, 999),  # an odd count of normal values: the spare one goes to the control
    (6, 300, 9, 1000),
    (150, 0, 2, 1000),
])
def test_the_bootstrap_gives_the_plain_ways_figures(treated, control, width, draws):
    rnd = random.Random(5)
    t = [[rnd.random() * 10 - 3 for _ in range(width)] for _ in range(treated)]
    c = [[rnd.random() * 8 - 3 for _ in range(width)] for _ in range(control)]
    expected = _bootstrap_value_by_value(t, c, draws=draws)
    assert [(e.low, e.high) for e in estimator.bootstrap(t, c, draws=draws)] == expected
    columns = estimator.bootstrap_columns([[r[k] for r in t] for k in range(width)],
                                          [[r[k] for r in c] for k in range(width)],
                                          draws=draws)
    assert [(e.low, e.high) for e in columns] == expected


@pytest.mark.parametrize(("low", "high", "treated", "control", "expected"), [
    (1.0, 3.0, 5, 5, estimator.INCREASE),
    (-3.0, -1.0, 5, 5, estimator.DECREASE),
    (0.0, 3.0, 5, 5, estimator.UNCLEAR),  # zero is inside the interval
    (-1.0, 2.0, 40, 40, estimator.UNCLEAR),
    (1.0, 3.0, 4, 50, estimator.TOO_FEW),  # one short of the minimum
    (1.0, 3.0, 50, 4, estimator.TOO_FEW),
])
def test_verdict_thresholds(low, high, treated, control, expected):
    assert estimator.verdict(Estimate(low, (low + high) / 2, high, treated, control)) == expected


def test_verdict_in_words(app):
    from lms.impact.wording import verdict_text

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert verdict_text(Estimate(2, 3.5, 5, 7, 18), "shares") == \
            "likely increase of 2 to 5 shares per person per month"
        assert verdict_text(Estimate(2, 3.5, 5, 4, 18), "shares").startswith(
            "too few people to tell")
        assert verdict_text(Estimate(-3, -2, -1, 7, 7), "clicks") == \
            "likely decrease of 1 to 3 clicks per person per month"
        assert verdict_text(Estimate(-1, 0.5, 2, 7, 7), "clicks", difference=True) == \
            "no clear change: between -1 and 2 clicks per person per month"


def test_roi_by_hand():
    costs = roi.Costs(trainer_days=2, learner_hours=10, learners=4, trainers=2000.0,
                      learners_time=500.0, tools=None)
    assert costs.total == 2500.0
    # 100 to 300 (point 200) of value per person per month, 5 people, 30 days after.
    result = roi.roi_of(Estimate(100, 200, 300, 5, 9), people=5, after_days=30, costs=costs)
    assert result.benefit == (500.0, 1000.0, 1500.0)
    assert result.roi == pytest.approx((-0.8, -0.6, -0.4))
    assert roi.roi_of(None, people=5, after_days=30,
                      costs=roi.Costs(0, 0, 0, None, None, None)).roi is None
    program = roi.total([result, result])
    assert program.benefit == (1000.0, 2000.0, 3000.0)
    assert program.costs.total == 5000.0


def test_costs_from_hours_and_rates():
    from decimal import Decimal

    from lms.impact.models import ImpactSettings

    settings = ImpactSettings(trainer_day_rate=Decimal("1000"), extra_trainer_days=Decimal("1"),
                              learner_hourly_cost=Decimal("40"),
                              tools_cost_per_learner=None)
    # 14 hours of sessions = 2 days, +1 of preparation; 20 + 10 learner hours.
    costs = roi.cost_of(settings, session_hours=14, attended_hours=20, self_paced_hours=10,
                        learners=5)
    assert (costs.trainer_days, costs.trainers, costs.learner_hours, costs.learners_time,
            costs.tools) == (3.0, 3000.0, 30.0, 1200.0, None)
    assert costs.total == 4200.0
