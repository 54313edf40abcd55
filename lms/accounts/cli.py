"""What every package's commands share about accounts: finding the organization named on the
command line.
"""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import Organization
from lms.core.cli import fail
from lms.extensions import db


def organization_or_fail(slug: str) -> Organization:
    """The organization ``slug``; else an error on stderr and exit status 1."""
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        fail(f"no organization with slug {slug!r}")
    return org
