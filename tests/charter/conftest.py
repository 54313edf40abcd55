"""Charter fixtures: the courses world (a pilot cohort of the six-week path, on its dated
clock) and the certificates world (enrolments completed by statements)."""

from __future__ import annotations

from tests.certificates.conftest import cert_world  # noqa: F401  (fixtures)
from tests.courses.conftest import _dated_clock, enrolled, world  # noqa: F401  (fixtures)
