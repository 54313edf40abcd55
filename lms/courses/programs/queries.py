"""Programs, reads: the catalogue and an organization's programs (plain select() functions)."""

from __future__ import annotations

from sqlalchemy import select

from lms.courses.programs.models import Program
from lms.extensions import db


def catalogue() -> list[Program]:
    """The built-in catalogue programs."""
    return list(db.session.scalars(select(Program).where(Program.organization_id.is_(None))
                                   .order_by(Program.slug)))


def programs(organization_id: int) -> list[Program]:
    """An organization's programs, newest first."""
    return list(db.session.scalars(select(Program).where(
        Program.organization_id == organization_id).order_by(Program.id.desc())))
