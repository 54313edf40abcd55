"""Pages of calls for volunteers, on the courses blueprint: the trainer's call and volunteers
of a cohort (with the group's diversity), and the call a learner answers.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.accounts.authz import STAFF_ROLES, current_membership, get_in_org_or_404, role_required
from lms.accounts.models import Role
from lms.core.errors import DomainError
from lms.core.web import commit_or_errors, commit_or_flash, form_date, form_int, get_or_404
from lms.courses.volunteers import queries, services
from lms.courses.volunteers.models import Volunteer, VolunteerCall
from lms.courses.web import bp, cohort_or_404, page_context
from lms.extensions import db


def _call_page(cohort_id: int, errors: dict[str, Any] | None = None, status: int = 200) -> Any:
    cohort = cohort_or_404(cohort_id)
    call = queries.call_of(cohort)
    return render_template(
        "courses/volunteers.html", cohort=cohort, call=call,
        diversity=queries.diversity(call) if call else None,
        accepted=services.accepted_count(call) if call else 0,
        is_open=services.is_open(call) if call else False, today=services.today(),
        errors=errors or {}, typed=request.form if errors else {}, **page_context()), status


@bp.get("/cohorts/<int:cohort_id>/volunteers")
@role_required(*STAFF_ROLES)
def volunteers(cohort_id: int) -> Any:
    """A cohort's call for volunteers: the call, the volunteers and the group's diversity."""
    return _call_page(cohort_id)


@bp.post("/cohorts/<int:cohort_id>/volunteers")
@role_required(*STAFF_ROLES)
def save_call(cohort_id: int) -> Any:
    """Open or edit the cohort's call for volunteers."""
    cohort = cohort_or_404(cohort_id)
    form = request.form
    errors = commit_or_errors(lambda: services.save_call(
        cohort=cohort, text=form.get("text", ""), criteria=form.get("criteria", ""),
        deadline=form_date(form.get("deadline")), seats=form_int(form.get("seats")),
        by=current_membership()))
    if errors is not None:
        return _call_page(cohort_id, errors=errors, status=422)
    flash(_("The call for volunteers is saved."), "success")
    return redirect(url_for(".volunteers", cohort_id=cohort.id))


def _volunteer_of(cohort_id: int, volunteer_id: int) -> Volunteer:
    cohort = cohort_or_404(cohort_id)
    return get_or_404(Volunteer, volunteer_id,
                      outside=lambda row: row.call.cohort_id != cohort.id)


@bp.post("/cohorts/<int:cohort_id>/volunteers/<int:volunteer_id>/accept")
@role_required(*STAFF_ROLES)
def accept_volunteer(cohort_id: int, volunteer_id: int) -> Any:
    """Accept a volunteer into the pilot cohort (they are enrolled)."""
    row = _volunteer_of(cohort_id, volunteer_id)
    commit_or_flash(lambda: services.accept(volunteer=row, by=current_membership()),
                    _("%(name)s joins the pilot group.", name=row.membership.user.display_name))
    return redirect(url_for(".volunteers", cohort_id=cohort_id))


@bp.post("/cohorts/<int:cohort_id>/volunteers/<int:volunteer_id>/decline")
@role_required(*STAFF_ROLES)
def decline_volunteer(cohort_id: int, volunteer_id: int) -> Any:
    """Decline a volunteer."""
    row = _volunteer_of(cohort_id, volunteer_id)
    commit_or_flash(lambda: services.decline(volunteer=row, by=current_membership()),
                    _("%(name)s was not retained this time.",
                      name=row.membership.user.display_name))
    return redirect(url_for(".volunteers", cohort_id=cohort_id))


def _learner_page(call: VolunteerCall, error: str | None = None, status: int = 200) -> Any:
    mine = next((o for o in queries.calls_for(current_membership()) if o.call.id == call.id),
                None)
    return render_template("courses/volunteer_call.html", call=call, offer=mine,
                           is_open=services.is_open(call), error=error,
                           note=request.form.get("note", "") if error else "",
                           **page_context()), status


@bp.get("/volunteer-calls/<int:call_id>")
@role_required(Role.LEARNER)
def volunteer_call(call_id: int) -> Any:
    """A call for volunteers, as a learner sees it, with the form to volunteer."""
    return _learner_page(get_in_org_or_404(VolunteerCall, call_id))


@bp.post("/volunteer-calls/<int:call_id>/volunteer")
@role_required(Role.LEARNER)
def volunteer(call_id: int) -> Any:
    """Volunteer for a pilot group, with an optional note for the trainer."""
    call = get_in_org_or_404(VolunteerCall, call_id)
    try:
        services.volunteer(call=call, membership=current_membership(),
                           note=request.form.get("note", ""))
    except DomainError as exc:
        db.session.rollback()
        return _learner_page(call, error=str(exc.fields.get("note", exc.message)),
                             status=exc.status)
    db.session.commit()
    flash(_("Thank you for volunteering: the trainer will answer you."), "success")
    return redirect(url_for("reports.dashboard"))
