"""An xAPI package uploaded to an e-learning module."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import OrganizationOwned, User
from lms.core.models import Base, utcnow
from lms.courses.programs.models import Module


class XapiPackage(OrganizationOwned, Base):
    """One upload of a Tin Can package (zip with ``tincan.xml``) for a module.

    Files live in ``<instance>/<folder>/``. A new upload adds a row rather than replacing one:
    the module's package is its newest, and earlier rows keep their root activity ids mapped
    to the module, so statements about a replaced version still count.
    """

    __tablename__ = "xapi_packages"
    __table_args__ = (Index("ix_xapi_packages_org_activity", "organization_id", "activity_id"),)
    organization_indexed = False

    module_id: Mapped[int] = mapped_column(
        ForeignKey("program_modules.id", ondelete="CASCADE"), index=True)
    # Relative to the instance folder, e.g. "packages/12".
    folder: Mapped[str] = mapped_column(String(255))
    launch_path: Mapped[str] = mapped_column(String(1000))
    activity_id: Mapped[str] = mapped_column(Text)
    activity_type: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(300))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Unpacked size in bytes.
    size: Mapped[int] = mapped_column(Integer)

    module: Mapped[Module] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
