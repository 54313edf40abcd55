"""The social-media charter of an organization: its published versions (French and English
Markdown), what accepting it gates, and each person's acceptance of a version.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Membership, OrganizationOwned, User
from lms.core.models import Base, utcnow


class CharterSettings(Base):
    """What an accepted charter gates in one organization (all off until an admin says so)."""

    __tablename__ = "charter_settings"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    # Advocacy events of people who never accepted the charter are kept but not counted.
    gate_advocacy: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Exercises on one's own accounts: a hand-in is refused until the current version is
    # accepted.
    gate_exercises: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Certificates wait until the current version is accepted (then they are issued).
    gate_certificates: Mapped[bool] = mapped_column(default=False, server_default=false())


class CharterVersion(OrganizationOwned, Base):
    """One published version of the charter; the highest number is the one in force.

    Published versions never change: editing publishes a new one, which asks everyone again.
    """

    __tablename__ = "charter_versions"
    __table_args__ = (UniqueConstraint("organization_id", "number"),)

    number: Mapped[int] = mapped_column()
    body_fr: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    # What changed, shown to those asked again (optional).
    summary: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    published_by: Mapped[User | None] = relationship()

    def body(self, lang: str) -> str:
        """The text in ``lang`` (French when there is no English text)."""
        return (self.body_en if lang == "en" and self.body_en.strip() else self.body_fr)


class CharterAcceptance(OrganizationOwned, Base):
    """A member accepted one version of the charter (once per version)."""

    __tablename__ = "charter_acceptances"
    __table_args__ = (UniqueConstraint("version_id", "membership_id"),)

    version_id: Mapped[int] = mapped_column(
        ForeignKey("charter_versions.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The "accepted" statement recorded in the LRS.
    statement_id: Mapped[str | None] = mapped_column(String(36))

    version: Mapped[CharterVersion] = relationship()
    membership: Mapped[Membership] = relationship()
