"""Digest fixtures: the courses world (a pilot cohort of the six-week path, on its dated
clock)."""

from __future__ import annotations

from tests.courses.conftest import _dated_clock, enrolled, world  # noqa: F401  (fixtures)
