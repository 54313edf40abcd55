"""Callbacks other packages register to react to course events (certificates on completion).

Courses must not import the packages above them; those register here at app creation instead —
explicitly, from their ``init_app`` — and are called in the same transaction as the event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lms.courses.models import Enrollment

EnrollmentHandler = Callable[["Enrollment"], None]

# Called with the enrolment once it became completed (status and completed_at set, flushed).
ENROLLMENT_COMPLETED: list[EnrollmentHandler] = []


def on_enrollment_completed(handler: EnrollmentHandler) -> None:
    """Register ``handler(enrollment)`` to run when an enrolment becomes completed (once)."""
    if handler not in ENROLLMENT_COMPLETED:
        ENROLLMENT_COMPLETED.append(handler)


def enrollment_completed(enrollment: Enrollment) -> None:
    """Tell the registered handlers that ``enrollment`` has just been completed."""
    for handler in ENROLLMENT_COMPLETED:
        handler(enrollment)
