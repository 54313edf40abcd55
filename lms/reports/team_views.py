""""My team": what a manager sees of their direct reports and a champion of their group, and
the nudge they may send each person (``lms.accounts.groups`` says who follows whom).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.accounts import groups, nudges
from lms.accounts.authz import current_membership, get_in_org_or_404, org_blueprint
from lms.accounts.models import Membership
from lms.assessments.definitions import JOB_FAMILY_LABELS
from lms.core.errors import DomainError
from lms.core.web import PostForm, localized
from lms.courses.web import KIND_LABELS, STATUS_LABELS
from lms.extensions import db
from lms.reports import teams

bp = org_blueprint("teams", __name__)


def _page(errors: dict[int, str] | None = None, typed: dict[int, str] | None = None,
          status: int = 200) -> Any:
    me = current_membership()
    return render_template("reports/team.html", team=teams.team_of(me), t=localized,
                           kind_labels=KIND_LABELS, status_labels=STATUS_LABELS,
                           family_labels=JOB_FAMILY_LABELS,
                           days=teams.ACTIVITY_DAYS, errors=errors or {}, typed=typed or {},
                           post_form=PostForm(), message_max=nudges.MESSAGE_MAX,
                           MANAGER=groups.MANAGER), status


@bp.get("/team")
def team() -> Any:
    """My direct reports and my champion's group: progress, skills, activity, approvals."""
    teams.record_seen(current_membership())
    db.session.commit()
    return _page()


@bp.post("/team/<int:membership_id>/nudge")
def nudge(membership_id: int) -> Any:
    """Send a short e-mail to someone I follow (one a day per person, recorded)."""
    person = get_in_org_or_404(Membership, membership_id)
    message = request.form.get("message", "")
    if not PostForm().validate_on_submit():
        return redirect(url_for(".team"))
    try:
        row = nudges.nudge(sender=current_membership(), recipient=person, message=message)
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        return _page(errors={person.id: str(next(iter(exc.fields.values()), exc.message))},
                     typed={person.id: message}, status=exc.status)
    db.session.commit()
    if nudges.send(row):
        flash(_("Your message was sent to %(name)s.", name=person.user.display_name), "success")
    else:
        flash(_("Your message to %(name)s is recorded; no mail server is configured, so tell "
                "them yourself.", name=person.user.display_name), "info")
    return redirect(url_for(".team", _anchor=f"person-{person.id}"))
