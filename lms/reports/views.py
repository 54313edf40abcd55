"""The organization dashboard, the first page people see after logging in: what matters now
for one's role — a learner's programs, next steps and appointments; a trainer's cohorts and
the work waiting for them.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for

from lms.accounts.authz import STAFF_ROLES, current_membership, current_organization, org_blueprint
from lms.accounts.models import Role
from lms.advocacy import calendar
from lms.assessments import queries as skills
from lms.charter import queries as charter
from lms.coaching import queries as coaching
from lms.core.models import utcnow
from lms.core.web import localized
from lms.courses.exercises.queries import count_to_review, due_for, to_review
from lms.courses.sessions.calendar import local
from lms.courses.surveys.queries import open_invitations
from lms.courses.volunteers.queries import calls_for
from lms.courses.web import KIND_LABELS
from lms.reports import pace, queries

bp = org_blueprint("reports", __name__)


def step_url(enrollment_id: str, step: queries.NextStep) -> str:
    """Where a next step starts: its first unread lesson, its quiz, its exercise, or the
    module in the learner's program.
    """
    if step.lesson_id is not None:
        return url_for("courses.lesson", enrollment_id=enrollment_id, lesson_id=step.lesson_id)
    if step.quiz_id is not None:
        return url_for("courses.quiz", enrollment_id=enrollment_id, quiz_id=step.quiz_id)
    if step.module.kind == "exercise":
        return url_for("courses.exercise", enrollment_id=enrollment_id, module_id=step.module.id)
    return url_for("courses.my_program", enrollment_id=enrollment_id,
                   _anchor=f"module-{step.module.id}")


@bp.route("/")
def dashboard() -> Any:
    """What matters now for your role in this organization."""
    org = current_organization()
    me = current_membership()
    now = utcnow()
    context: dict[str, Any] = {"counts": queries.member_counts(org.id), "t": localized,
                               "local": local, "now": now, "rule": pace,
                               "kind_labels": KIND_LABELS,
                               # Everyone is asked, until they accept the version in force.
                               "charter_to_accept": charter.to_accept(me),
                               "charter_in_force": charter.current_version(org.id)}
    if me.role == Role.LEARNER:
        context.update(programs=queries.my_programs(me), step_url=step_url,
                       due=due_for(me), session=queries.next_session(me, now=now),
                       followup=coaching.next_followup(me, now=now), calls=calls_for(me),
                       surveys=open_invitations(me),
                       # The questionnaire card leads until the first skill map is in.
                       skill_map_done=bool(skills.submitted_attempts(me.id)),
                       to_share=calendar.open_now(org.id, now.date()))
    else:
        # Trainers see their own cohorts and work; admins and HR the whole organization.
        mine = me if me.role == Role.TRAINER else None
        context.update(overview=queries.cohorts_overview(org.id, trainer=mine,
                                                         today=now.date()))
        if me.role in STAFF_ROLES:
            context.update(
                attendance=queries.attendance_to_take(org.id, trainer=mine, now=now),
                # The cards show eight (and a count): the queries need not load them all.
                to_review=to_review(org.id, trainer=mine, limit=8),
                to_review_count=count_to_review(org.id, trainer=mine),
                followups=coaching.due_followups(org.id, coach=mine, now=now, limit=8))
    return render_template("reports/dashboard.html", **context)
