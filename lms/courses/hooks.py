"""Callbacks other packages register to react to course events (certificates on completion).

Courses must not import the packages above them; those register here at app creation instead —
explicitly, from their ``init_app`` — and are called in the same transaction as the event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lms.courses.models import Enrollment, Module

EnrollmentHandler = Callable[["Enrollment"], None]
# Says, in a sentence for the confirmation page, what else deleting a module takes with it
# (None when nothing): packages above courses keep their own rows about modules.
ModuleLoss = Callable[["Module"], "str | None"]

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


# What other packages lose when a module is deleted (the database cascades the rows).
MODULE_LOSSES: list[ModuleLoss] = []


def on_module_deletion(describe: ModuleLoss) -> None:
    """Register ``describe(module)`` to say what deleting ``module`` erases in its package."""
    if describe not in MODULE_LOSSES:
        MODULE_LOSSES.append(describe)


def module_losses(module: Module) -> tuple[str, ...]:
    """The registered packages' sentences about what deleting ``module`` erases."""
    return tuple(line for describe in MODULE_LOSSES if (line := describe(module)))
