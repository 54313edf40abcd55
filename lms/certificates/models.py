"""Issued completion certificates ("attestations de fin de formation").

A certificate freezes what it certifies in ``snapshot`` when issued: later edits of the program,
the cohort or the learner's name never change it. It is never re-dated: a re-issue creates a new
certificate that ``replaces`` the old one, which is revoked, so the history stays readable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organization, OrganizationOwned, User
from lms.core.models import Base, utcnow


class Certificate(OrganizationOwned, Base):
    """One issued certificate: who, what, the frozen content and its verification code."""

    __tablename__ = "certificates"
    __table_args__ = (
        Index("ix_certificates_organization_id_issued_at", "organization_id", "issued_at"),
    )

    # The links below may be lost (a learner erased, a cohort deleted): the snapshot remains.
    enrollment_id: Mapped[str | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    program_id: Mapped[int | None] = mapped_column(
        ForeignKey("programs.id", ondelete="SET NULL"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"),
                                                  index=True)
    template_key: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    # Public, unguessable: the only key of the verification page.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None when Relais issued it on completion.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="SET NULL"))
    # sha256 of the template files, the snapshot and the revocation: the rendered PDF's name.
    pdf_key: Mapped[str] = mapped_column(String(64))
    # End of validity when the program sets a validity period (None: valid without limit).
    valid_until: Mapped[datetime | None] = mapped_column(index=True)
    # The earlier certificate this one renews (recertification); the earlier one stays as is.
    renews_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="SET NULL"))
    # The refresher enrolment opened before expiry (so the learner is enrolled only once).
    refresher_enrollment_id: Mapped[str | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL"))

    organization: Mapped[Organization] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    replaces: Mapped[Certificate | None] = relationship(remote_side="Certificate.id",
                                                        foreign_keys=[replaces_id])

    @property
    def revoked(self) -> bool:
        """Whether the certificate was revoked (or replaced)."""
        return self.revoked_at is not None

    def expired_at(self, now: datetime) -> bool:
        """Whether the validity period is over at ``now`` (revocation aside)."""
        return self.valid_until is not None and _aware(self.valid_until) <= now

    def days_left(self, now: datetime) -> int | None:
        """Whole days until the validity period ends (0 on its last day, negative once over),
        None without an end.
        """
        if self.valid_until is None:
            return None
        return (_aware(self.valid_until).date() - now.date()).days

    def status(self, now: datetime) -> str:
        """``revoked``, ``expired`` or ``valid`` at ``now``."""
        if self.revoked:
            return "revoked"
        return "expired" if self.expired_at(now) else "valid"


def _aware(value: datetime) -> datetime:
    # SQLite gives naive datetimes back: they are UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class CertificateSettings(Base):
    """A program's certificate settings: template, branding, validity and recertification.

    Kept here, keyed by program, so the courses package knows nothing of certificates.
    """

    __tablename__ = "certificate_settings"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"),
                                            primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    template_key: Mapped[str] = mapped_column(String(64), default="default",
                                              server_default="default")
    # "#RRGGBB"; None: the template's own colour.
    accent_color: Mapped[str | None] = mapped_column(String(7))
    # The organization's logo as a data: URI (PNG or JPEG, checked on upload).
    logo: Mapped[str | None] = mapped_column(Text)
    validity_months: Mapped[int | None] = mapped_column()
    renewal_lead_days: Mapped[int] = mapped_column(default=30, server_default="30")
    # None: a "Recertification <year>" cohort is created when needed.
    refresher_cohort_id: Mapped[int | None] = mapped_column(
        ForeignKey("cohorts.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
