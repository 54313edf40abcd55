"""Is a learner keeping up? Pure functions over dates and percentages (no database).

A learner is *falling behind* when, in a cohort that has started and that they have not
completed, either

- their progress is more than ``PACE_MARGIN`` points below the share of the cohort's dates
  already elapsed (a cohort from 1 to 31 March expects about 50 % on 16 March, so below 35 %
  is behind), when the cohort has both a start and an end date; or
- they have had no learning activity (no statement about any of their modules) for
  ``IDLE_DAYS`` days or more (counted from their enrolment when there was none at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

PACE_MARGIN = 15  # percentage points of tolerance below the expected pace
IDLE_DAYS = 14


def expected_percent(starts_on: date | None, ends_on: date | None, today: date) -> int | None:
    """The share of the cohort's dates elapsed on ``today``, 0–100; None without both dates."""
    if starts_on is None or ends_on is None or ends_on <= starts_on:
        return None
    share = (today - starts_on).days / (ends_on - starts_on).days
    return round(100 * min(1.0, max(0.0, share)))


@dataclass(frozen=True)
class Pace:
    """Why a learner is flagged: the expected percent when behind schedule, idle days when
    inactive (either may be None).
    """

    expected: int | None
    idle_days: int | None

    @property
    def behind(self) -> bool:
        """Whether the learner is flagged: behind schedule or inactive."""
        return self.expected is not None or self.idle_days is not None


def pace(*, percent: float, expected: int | None, started: bool, last_activity: datetime,
         today: date) -> Pace:
    """How a learner stands against the cohort's calendar and their own activity.

    :param percent: their progress in the program, 0–100.
    :param expected: :func:`expected_percent` of their cohort on ``today``.
    :param started: whether their cohort has started (nobody is late before).
    :param last_activity: their latest learning activity (or enrolment).
    """
    if not started:
        return Pace(None, None)
    late = expected if expected is not None and percent < expected - PACE_MARGIN else None
    idle = (today - last_activity.date()).days
    return Pace(late, idle if idle >= IDLE_DAYS else None)
