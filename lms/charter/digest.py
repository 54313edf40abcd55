"""The charter's section of the e-mail digest: a version to read and accept."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext

from lms.accounts.models import Membership
from lms.charter.queries import to_accept
from lms.notifications.sections import Item, Section, absolute


def section(membership: Membership, now: datetime) -> Section | None:
    """The charter in force, when the member has not accepted it yet."""
    version = to_accept(membership)
    if version is None:
        return None
    return Section("charter", gettext("Social-media charter"), [Item(
        gettext("Read and accept version %(number)d of the charter.", number=version.number),
        absolute(f"/o/{membership.organization.slug}/charter"), version.published_at)], order=10)
