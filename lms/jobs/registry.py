"""The job kinds Relais knows: domain packages register their handlers at app creation.

A handler is ``handler(job, report_progress) -> dict | None``. It must be idempotent: after a
crash the job runs again from its last reported progress (``job.progress_current``), so work
reported as done must be committed together with that progress (``report_progress`` commits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from lms.jobs.models import Job


class ReportProgress(Protocol):
    """The ``report_progress`` callback a job handler receives."""

    def __call__(self, current: int, total: int | None = None,
                 message: Any = None) -> None:
        """Record that ``current`` of ``total`` items are done, and commit."""


Handler = Callable[["Job", ReportProgress], "dict[str, Any] | None"]

HANDLERS: dict[str, Handler] = {}
LABELS: dict[str, Any] = {}
# Kinds whose jobs only the person who started them may see (their result is personal data).
PRIVATE: set[str] = set()


def register_job(kind: str, handler: Handler, *, label: Any = None,
                 private: bool = False) -> None:
    """Register ``handler`` for jobs of ``kind`` (e.g. ``"certificates.export"``).

    :param label: what people see on the jobs pages (a lazy translated string), else the kind.
    :param private: only the job's creator may see it and download its result.

    :raise ValueError: another handler already has this kind.
    """
    current = HANDLERS.get(kind)
    if current is not None and current is not handler:
        raise ValueError(f"job kind {kind!r} is already registered")
    HANDLERS[kind] = handler
    if label is not None:
        LABELS[kind] = label
    if private:
        PRIVATE.add(kind)


def is_private(kind: str) -> bool:
    """Whether only the creator of a job of ``kind`` may see it."""
    return kind in PRIVATE


def label_for(kind: str) -> str:
    """The human name of a job kind."""
    return str(LABELS.get(kind, kind))


def handler_for(kind: str) -> Handler | None:
    """The handler of ``kind``, or None if nobody registered it."""
    return HANDLERS.get(kind)


class RetryableError(Exception):
    """A handler raises this for a transient failure: the job is retried later (bounded)."""


class JobCancelled(Exception):
    """Raised inside a handler by ``report_progress`` when someone cancelled the job."""


class JobLost(Exception):
    """Raised by ``report_progress`` when another runner took the job over (lease expired)."""
