"""Background jobs and periodic tasks: the database rows are the source of truth.

A message broker (Celery on Redis) only says "run job <id>"; whoever runs a job first claims it
with a conditional UPDATE on its row, so a job is never run twice at once and never lost.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from lms.accounts.models import Organization, User
from lms.core.models import Base, TimestampMixin, values_enum
from lms.jobs.messages import encode


class JobState(enum.StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)

JOB_STATE_ENUM = values_enum(JobState, "job_state")


class Job(TimestampMixin, Base):
    """One piece of long work (an import, a bulk export…) with the progress people watch."""

    __tablename__ = "jobs"
    __table_args__ = (
        # The runners' question: which queued or lease-expired jobs are there?
        Index("ix_jobs_state_lease_until", "state", "lease_until"),
        Index("ix_jobs_organization_id_created_at", "organization_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for system jobs (maintenance) that belong to no organization.
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(JOB_STATE_ENUM, default=JobState.QUEUED,
                                            server_default=JobState.QUEUED.value)
    progress_current: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    progress_total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(String(500))
    # Summary figures a handler returns (counts…), shown on the job page and in the API.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Relative to the jobs folder (RELAIS_JOBS_DIR); the downloadable report or export.
    result_path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    max_attempts: Mapped[int] = mapped_column(Integer, default=3, server_default=text("3"))
    # Not run before this time (a retry's back-off).
    run_after: Mapped[datetime | None] = mapped_column()
    # The runner holding the job must renew this; once past, another runner takes the job over.
    lease_until: Mapped[datetime | None] = mapped_column()
    # Random per claim: a runner that lost its lease cannot write progress any more.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    worker: Mapped[str | None] = mapped_column(String(200))
    cancel_requested: Mapped[bool] = mapped_column(default=False, server_default=false())
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    organization: Mapped[Organization | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @validates("message")
    def _store_message(self, _key: str, message: Any) -> str | None:
        # A lazy message is kept untranslated and translated for each reader (jobs.messages).
        return encode(message)

    @property
    def finished(self) -> bool:
        """Whether the job reached a final state."""
        return self.state in FINISHED_STATES

    @property
    def percent(self) -> int | None:
        """Progress in whole percent, None while the total is unknown."""
        if not self.progress_total:
            return 100 if self.state == JobState.SUCCEEDED else None
        return min(100, int(100 * self.progress_current / self.progress_total))

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state.value}>"


class PeriodicTask(Base):
    """When a periodic task last ran and next runs; the row is the lock that makes it run once."""

    __tablename__ = "periodic_tasks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column()
    last_started_at: Mapped[datetime | None] = mapped_column()
    last_finished_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
