"""Session pages on the courses blueprint: scheduling, seats and the waiting list, the
attendance sheet, calendar files, and a learner's own registration.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from lms.accounts.authz import STAFF_ROLES, current_membership, role_required
from lms.accounts.models import Membership, Role
from lms.core.errors import Conflict, DomainError
from lms.core.models import utcnow
from lms.core.web import (
    commit_or_flash,
    flash_error,
    form_datetime,
    form_int,
    get_or_404,
    localized,
)
from lms.courses.cohorts.models import WITHDRAWN, Enrollment
from lms.courses.cohorts.queries import enrollments
from lms.courses.programs.models import Module
from lms.courses.sessions import approvals
from lms.courses.sessions.calendar import icalendar, local
from lms.courses.sessions.models import (
    ATTENDANCE_STATUSES,
    DECLINED,
    PENDING_APPROVAL,
    REGISTERED,
    SessionRegistration,
    TrainingSession,
)
from lms.courses.sessions.queries import attendance_sheet, qr_sign_ins, registrations_of
from lms.courses.sessions.services import (
    cancel_registration,
    half_days,
    local_zone,
    record_sheet,
    register,
    schedule_session,
    seats_taken,
    set_capacity,
)
from lms.courses.web import bp, cohort_or_404, my_enrollment_or_404, page_context, session_or_404
from lms.extensions import db


@bp.post("/cohorts/<int:cohort_id>/sessions")
@role_required(*STAFF_ROLES)
def schedule(cohort_id: int) -> Any:
    """Schedule a session of one of the program's workshops or trainings."""
    c = cohort_or_404(cohort_id)
    module = db.session.get(Module, form_int(request.form.get("module_id")) or 0)
    zone = local_zone()
    starts = form_datetime(request.form.get("day"), request.form.get("start"), zone)
    ends = form_datetime(request.form.get("end_day") or request.form.get("day"),
                         request.form.get("end"), zone)
    trainer = db.session.get(Membership, form_int(request.form.get("trainer_id")) or 0)
    if module is None or starts is None or ends is None:
        flash(_("Choose a module, a day and start and end times."), "error")
        return redirect(url_for(".cohort", cohort_id=c.id))
    session = commit_or_flash(lambda: schedule_session(
        cohort=c, module=module, starts_at=starts, ends_at=ends,
        place=request.form.get("place"), virtual_link=request.form.get("virtual_link"),
        capacity=form_int(request.form.get("capacity")), trainer=trainer),
        success=lambda made: _("The session is scheduled on %(when)s.",
                               when=local(made.starts_at)))
    if session is None:
        return redirect(url_for(".cohort", cohort_id=c.id))
    return redirect(url_for(".session", session_id=session.id))


@bp.get("/sessions/<int:session_id>")
@role_required(*STAFF_ROLES)
def session(session_id: int) -> Any:
    """A session: seats, waiting list, and learners of the cohort to register."""
    s = session_or_404(session_id)
    registered = {r.enrollment_id for r in s.registrations}
    candidates = [e for e in enrollments(s.cohort_id)
                  if e.id not in registered and e.status != WITHDRAWN]
    return render_template("courses/session.html", session=s, candidates=candidates,
                           seats=seats_taken(s), zone=local_zone(),
                           **page_context())


def _register(s: TrainingSession, enrollment: Enrollment) -> SessionRegistration | None:
    """Register a learner (a seat, the waiting list, or a request for approval, whose approver
    is told), for the staff or the learner; None when refused (the reason flashed).
    """
    registration = commit_or_flash(
        lambda: register(session=s, enrollment=enrollment, requested_by=current_user))
    if registration is not None and registration.status == PENDING_APPROVAL:
        approvals.notify_requested(registration)
    return registration


@bp.post("/sessions/<int:session_id>/register")
@role_required(*STAFF_ROLES)
def assign(session_id: int) -> Any:
    """Register a learner of the cohort (or put them on the waiting list)."""
    s = session_or_404(session_id)
    enrollment = get_or_404(Enrollment, request.form.get("enrollment_id", ""),
                            outside=lambda row: row.cohort_id != s.cohort_id)
    registration = _register(s, enrollment)
    if registration is not None and registration.status == PENDING_APPROVAL:
        flash(_("The registration waits for the approval of the learner's manager."), "info")
    return redirect(url_for(".session", session_id=s.id))


@bp.post("/sessions/<int:session_id>/capacity")
@role_required(*STAFF_ROLES)
def capacity(session_id: int) -> Any:
    """Change the capacity; waitlisted learners take the new seats in order."""
    s = session_or_404(session_id)
    try:
        promoted = set_capacity(session=s, capacity=form_int(request.form.get("capacity")))
    except DomainError as exc:
        flash_error(exc)
    else:
        db.session.commit()
        if promoted:
            flash(ngettext("%(num)d learner moved from the waiting list.",
                           "%(num)d learners moved from the waiting list.", len(promoted)),
                  "success")
    return redirect(url_for(".session", session_id=s.id))


def _registration(s: TrainingSession, registration_id: int) -> SessionRegistration:
    return get_or_404(SessionRegistration, registration_id,
                      outside=lambda row: row.session_id != s.id)


@bp.post("/sessions/<int:session_id>/registrations/<int:registration_id>/cancel")
@role_required(*STAFF_ROLES)
def cancel(session_id: int, registration_id: int) -> Any:
    """Free a seat; the first learner on the waiting list takes it."""
    s = session_or_404(session_id)
    promoted = cancel_registration(registration=_registration(s, registration_id))
    db.session.commit()
    if promoted is not None:
        flash(_("%(name)s moved from the waiting list to a seat.",
                name=promoted.enrollment.membership.user.display_name), "success")
    return redirect(url_for(".session", session_id=s.id))


@bp.route("/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def attendance(session_id: int) -> Any:
    """The sign-in sheet: present, absent or excused per learner and half-day."""
    s = session_or_404(session_id)
    halves = half_days(s)
    seated = [r.enrollment for r in s.registrations if r.status == REGISTERED]
    if request.method == "POST":
        marks = [(enrollment.id, day, half, value)
                 for enrollment in seated for day, half in halves
                 if (value := request.form.get(f"mark-{enrollment.id}-{day.isoformat()}-{half}"))
                 in ATTENDANCE_STATUSES]
        try:
            changed = record_sheet(session=s, marks=marks, recorded_by=current_user)
        except Conflict:
            db.session.rollback()
            flash(_("Someone changed this sheet meanwhile (a trainer or a learner signing in): "
                    "nothing was saved. Check the marks and save again."), "error")
            return redirect(url_for(".attendance", session_id=s.id))
        except DomainError as exc:
            db.session.rollback()
            flash_error(exc)
            return redirect(url_for(".attendance", session_id=s.id))
        db.session.commit()
        flash(ngettext("Attendance saved (%(num)d change).",
                       "Attendance saved (%(num)d changes).", changed), "success")
        return redirect(url_for(".attendance", session_id=s.id))
    return render_template("courses/attendance.html", session=s, halves=halves, seated=seated,
                           marks=attendance_sheet(s.id), statuses=ATTENDANCE_STATUSES,
                           qr=qr_sign_ins(s.id),
                           **page_context())


@bp.get("/sessions/<int:session_id>/registrations/<int:registration_id>/calendar.ics")
def ics(session_id: int, registration_id: int) -> Any:
    """The calendar file of one registration (for its learner and the staff)."""
    s = session_or_404(session_id)
    registration = _registration(s, registration_id)
    me = current_membership()
    if me.role not in STAFF_ROLES and registration.enrollment.membership_id != me.id:
        abort(404)
    module = s.module
    location = s.place or s.virtual_link
    data = icalendar(uid=f"relais-session-{s.id}-registration-{registration.id}@"
                         f"{request.host.split(':')[0]}",
                     starts_at=s.starts_at, ends_at=s.ends_at, summary=localized(module.title),
                     description=localized(module.description) + (
                         f"\n{s.virtual_link}" if s.virtual_link and s.place else ""),
                     location=location, url=s.virtual_link, stamp=utcnow())
    return Response(data, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="session-{s.id}.ics"'})


@bp.post("/training/<enrollment_id>/sessions/<int:session_id>/register")
@role_required(Role.LEARNER)
def self_register(enrollment_id: str, session_id: int) -> Any:
    """Take a seat in one of the cohort's sessions (or a place on the waiting list)."""
    enrollment = my_enrollment_or_404(enrollment_id)
    s = session_or_404(session_id)
    if s.starts_at <= utcnow():
        flash(_("This session has already started."), "error")
        return redirect(url_for(".my_program", enrollment_id=enrollment.id))
    registration = _register(s, enrollment)
    if registration is not None:
        flash(_("You have a seat.") if registration.status == REGISTERED
              else _("Your request waits for your manager's approval.")
              if registration.status == PENDING_APPROVAL
              else _("The session is full: you are on the waiting list."), "success")
    return redirect(url_for(".my_program", enrollment_id=enrollment.id))


@bp.post("/training/<enrollment_id>/sessions/<int:session_id>/cancel")
@role_required(Role.LEARNER)
def self_cancel(enrollment_id: str, session_id: int) -> Any:
    """Give up one's seat or waiting-list place."""
    enrollment = my_enrollment_or_404(enrollment_id)
    s = session_or_404(session_id)
    registration = registrations_of(enrollment.id).get(s.id)
    if registration is None or registration.status == DECLINED:  # a decision stays on record
        abort(404)
    if s.starts_at <= utcnow():
        flash(_("This session has already started."), "error")
        return redirect(url_for(".my_program", enrollment_id=enrollment.id))
    cancel_registration(registration=registration)
    db.session.commit()
    flash(_("Your registration was cancelled."), "success")
    return redirect(url_for(".my_program", enrollment_id=enrollment.id))
