"""Dashboards read what the domain packages write: reuse the blended-program fixtures (an
organization with a trainer, four learners and the six-week path, with a pilot cohort)."""

from tests.courses.conftest import World, enrolled, world  # noqa: F401  (fixtures)
