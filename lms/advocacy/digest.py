"""Advocacy's section of the e-mail digest: content to share that opened since the last week."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext

from lms.accounts.models import Membership
from lms.advocacy.calendar import open_items
from lms.notifications.sections import Item, Section, absolute

# A weekly digest covers the week before it; a daily one repeats an item for a few days, which
# is what a reminder to share should do.
NEW_DAYS = 7


def section(membership: Membership, now: datetime) -> Section | None:
    """Content items opened in the last :data:`NEW_DAYS` days that the member has not shared."""
    items = open_items(membership.organization, membership.user,
                       since=now.date() - timedelta(days=NEW_DAYS), today=now.date())
    if not items:
        return None
    slug = membership.organization.slug
    return Section("to-share", gettext("New content to share"), [
        Item(item.title, absolute(f"/o/{slug}/advocacy/to-share/{item.id}"))
        for item in items[:10]], order=40)
