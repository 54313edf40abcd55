"""Coaching fixtures: the six-week path with a pilot cohort of enrolled learners (from the
courses fixtures), its two coaching modules and the cohort's trainer as coach."""

from __future__ import annotations

from tests.courses.conftest import World, at, enrolled, world  # noqa: F401  (fixtures)
