"""Courses' part in the charter and the digest: cohorts as the groups HR reads charter
acceptance by, and the digest's section of exercises due soon.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select

from lms.accounts.models import Membership
from lms.charter.queries import Group
from lms.core.web import localized
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.exercises.models import SUBMITTED
from lms.courses.exercises.queries import due_for
from lms.extensions import db
from lms.notifications.sections import Item, Section, absolute

# The digest lists exercises due within this many days (and those overdue).
DUE_SOON_DAYS = 14


def cohort_groups(organization_id: int) -> list[Group]:
    """The organization's cohorts, newest first, with their members (withdrawn ones left out)."""
    members: dict[int, set[int]] = {}
    for cohort_id, member_id in db.session.execute(
            select(Enrollment.cohort_id, Enrollment.membership_id).where(
                Enrollment.organization_id == organization_id, Enrollment.status != WITHDRAWN)):
        members.setdefault(cohort_id, set()).add(member_id)
    cohorts = db.session.execute(select(Cohort.id, Cohort.name).where(
        Cohort.organization_id == organization_id).order_by(Cohort.id.desc())).all()
    return [Group(str(i), name, frozenset(members.get(i, ()))) for i, name in cohorts]


def exercises_section(membership: Membership, now: datetime) -> Section | None:
    """Exercises not handed in that are overdue or due within :data:`DUE_SOON_DAYS` days."""
    horizon = (now + timedelta(days=DUE_SOON_DAYS)).date()
    slug = membership.organization.slug
    items = [Item(
        gettext("Overdue: %(title)s", title=localized(d.module.title))
        if d.due_on and d.due_on < now.date()
        else localized(d.module.title),
        absolute(f"/o/{slug}/training/{d.enrollment.id}/exercises/{d.module.id}"),
        datetime.combine(d.due_on, datetime.min.time(), tzinfo=now.tzinfo) if d.due_on else None)
        for d in due_for(membership)
        if d.status != SUBMITTED and d.due_on is not None and d.due_on <= horizon]
    return Section("exercises", gettext("Exercises due"), items, order=20) if items else None
