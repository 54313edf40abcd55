"""The falling-behind rule at its edges (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lms.reports.pace import IDLE_DAYS, PACE_MARGIN, expected_percent, pace

MARCH_16 = date(2026, 3, 16)


def test_expected_share_of_the_dates():
    assert expected_percent(date(2026, 3, 1), date(2026, 3, 31), MARCH_16) == 50
    assert expected_percent(date(2026, 3, 1), date(2026, 3, 31), date(2026, 2, 1)) == 0
    assert expected_percent(date(2026, 3, 1), date(2026, 3, 31), date(2026, 5, 1)) == 100
    assert expected_percent(None, date(2026, 3, 31), MARCH_16) is None
    assert expected_percent(date(2026, 3, 1), date(2026, 3, 1), MARCH_16) is None


def test_behind_schedule_only_beyond_the_margin():
    recent = datetime(2026, 3, 15, tzinfo=UTC)
    on_edge = pace(percent=50 - PACE_MARGIN, expected=50, started=True, last_activity=recent,
                   today=MARCH_16)
    assert not on_edge.behind
    late = pace(percent=50 - PACE_MARGIN - 1, expected=50, started=True,
                last_activity=recent, today=MARCH_16)
    assert late.behind and late.expected == 50 and late.idle_days is None
    assert not pace(percent=0, expected=None, started=True, last_activity=recent,
                    today=MARCH_16).behind


def test_inactive_from_fourteen_days_and_never_before_the_start():
    two_weeks = datetime(2026, 3, 16 - IDLE_DAYS, 18, 0, tzinfo=UTC)
    idle = pace(percent=80, expected=50, started=True, last_activity=two_weeks, today=MARCH_16)
    assert idle.behind and idle.idle_days == IDLE_DAYS and idle.expected is None
    day_after = datetime(2026, 3, 16 - IDLE_DAYS + 1, tzinfo=UTC)
    assert not pace(percent=80, expected=50, started=True, last_activity=day_after,
                    today=MARCH_16).behind
    assert not pace(percent=0, expected=0, started=False, last_activity=two_weeks,
                    today=MARCH_16).behind
