"""Reads behind the dashboards."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.accounts.models import Membership, Role
from lms.extensions import db


def member_counts(organization_id: int) -> dict[Role, int]:
    """Number of members per role in an organization (every role present, zero if none)."""
    rows = db.session.execute(
        select(Membership.role, func.count())
        .where(Membership.organization_id == organization_id)
        .group_by(Membership.role)
    ).all()
    counts = {role: 0 for role in Role}
    counts.update({role: n for role, n in rows})
    return counts
