"""Coaching's section of the e-mail digest: the learner's follow-ups in the coming days."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select

from lms.accounts.models import Membership
from lms.coaching.models import SCHEDULED, FollowUp
from lms.core.web import localized
from lms.courses.cohorts.models import WITHDRAWN, Enrollment
from lms.extensions import db
from lms.notifications.sections import Item, Section, absolute

# The digest lists follow-ups within this many days: a weekly digest covers the week after.
COMING_DAYS = 8


def section(membership: Membership, now: datetime) -> Section | None:
    """Scheduled follow-ups of the member (as a learner) from now to :data:`COMING_DAYS`."""
    followups = db.session.scalars(
        select(FollowUp).join(Enrollment, FollowUp.enrollment_id == Enrollment.id)
        .where(Enrollment.membership_id == membership.id, Enrollment.status != WITHDRAWN,
               FollowUp.status == SCHEDULED, FollowUp.scheduled_at >= now,
               FollowUp.scheduled_at < now + timedelta(days=COMING_DAYS))
        .order_by(FollowUp.scheduled_at, FollowUp.id).limit(10)).all()
    if not followups:
        return None
    link = absolute(f"/o/{membership.organization.slug}/my/followups")
    items = [Item(gettext("Follow-up: %(module)s", module=localized(f.module.title)), link,
                  f.scheduled_at) for f in followups]
    return Section("coaching", gettext("Coaching follow-ups coming"), items, order=30)
