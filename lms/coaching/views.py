"""Coaching pages under /o/<slug>/: the coaches' list of follow-ups, a learner's coaching page,
one follow-up (hold, move, cancel, notes, action items), "My follow-ups" for learners and a
calendar file per follow-up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from lms.accounts import authz
from lms.accounts.models import Membership, Role
from lms.coaching import queries, services
from lms.coaching.models import ACTION_STATUSES, ActionItem, FollowUp
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.core.web import PostForm, commit_or_flash, form_date, form_datetime, form_int, localized
from lms.courses.cohorts import queries as cohort_queries
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.cohorts.queries import trainers
from lms.courses.programs.models import Module
from lms.courses.sessions.calendar import icalendar, local
from lms.courses.sessions.services import local_zone
from lms.extensions import db

bp = authz.org_blueprint("coaching", __name__)

STATUS_LABELS = {"scheduled": _l("Scheduled"), "held": _l("Held"),
                 "cancelled": _l("Cancelled"), "missed": _l("Missed")}
ACTION_LABELS = {"open": _l("To do"), "done": _l("Done"), "dropped": _l("Dropped")}
SHOW_LABELS = {"open": _l("To hold"), "recorded": _l("Recorded"), "all": _l("All")}
# Empty rows offered for action items when recording a follow-up.
ACTION_ROWS = 3
PER_PAGE = 25


@bp.app_context_processor
def _coaching_links() -> dict[str, Any]:
    # Lets the courses pages link to coaching without courses importing coaching.
    return {"coaching_summary": _summary, "coaching_cohort_url": _cohort_url}


def _summary(enrollment: Enrollment, module: Module) -> dict[str, Any]:
    """What My training shows on a coaching module: held/required and the next follow-up."""
    followups = services.followups_of(enrollment, module)
    now = utcnow()
    coming = [f for f in followups if f.status == "scheduled" and f.ends_at > now]
    return {"held": sum(1 for f in followups if f.status == "held"),
            "required": services.required_count(module),
            "next": coming[0] if coming else None,
            "url": url_for("coaching.mine", _anchor=f"module-{module.id}")}


def _cohort_url(cohort_id: int) -> str:
    return url_for("coaching.followups", cohort=cohort_id)


def _common() -> dict[str, Any]:
    return {"local": local, "t": localized, "status_labels": STATUS_LABELS,
            "action_labels": ACTION_LABELS, "post_form": PostForm(), "now": utcnow(),
            "today": utcnow().astimezone(local_zone()).date(),
            "is_overdue": queries.is_overdue, "action_overdue": queries.action_overdue,
            "zone": local_zone()}


def _scheduled(made: list[FollowUp]) -> str:
    return ngettext("%(num)d follow-up scheduled.", "%(num)d follow-ups scheduled.", len(made))


def _me() -> Any:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _when(day: str | None, time: str | None) -> datetime | None:
    return form_datetime(day, time, local_zone())


def _coach(value: str | None) -> Membership | None:
    member = db.session.get(Membership, form_int(value) or 0)
    if member is None or member.organization_id != authz.current_organization().id:
        return None
    return member


def _followup(followup_id: int) -> FollowUp:
    return authz.get_in_org_or_404(FollowUp, followup_id)


def _change_followup(followup_id: int, change: Callable[[FollowUp], object],
                     success: str | None = None, *, anchor: str | None = None) -> Any:
    """Make ``change`` to a follow-up of the organization and commit it, or flash why it was
    refused; then back to the follow-up's page.
    """
    item = _followup(followup_id)
    commit_or_flash(lambda: change(item), success)
    return redirect(url_for(".followup", followup_id=item.id, _anchor=anchor))


def _enrollment(enrollment_id: str) -> Enrollment:
    return authz.get_in_org_or_404(Enrollment, enrollment_id)


# --- coaches ----------------------------------------------------------------------------------


@bp.get("/coaching")
@authz.role_required(*authz.STAFF_ROLES)
def followups() -> Any:
    """The follow-ups to hold, overdue first; filters by cohort, coach and state."""
    org = authz.current_organization()
    cohort_id = form_int(request.args.get("cohort"))
    coach_arg = request.args.get("coach", "all")
    coach_id = authz.current_membership().id if coach_arg == "me" else form_int(coach_arg)
    show = request.args.get("show", "open")
    show = show if show in SHOW_LABELS else "open"
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = db.paginate(queries.listing(org.id, coach_id=coach_id, cohort_id=cohort_id,
                                             show=show),
                             page=page, per_page=PER_PAGE, error_out=False)
    overdue, coming = queries.due_counts(org.id, coach=coach_id)
    args = {k: v for k, v in request.args.items() if k != "page"}
    cohorts = cohort_queries.cohorts(org.id)
    targets = [(f"{c.id}:{m.id}", f"{c.name} — {localized(m.title)}") for c in cohorts
               for m in c.program.modules if m.kind == "coaching"]
    return render_template("coaching/followups.html", pagination=pagination,
                           cohorts=cohorts, targets=targets,
                           tomorrow=utcnow().astimezone(local_zone()).date()
                           + timedelta(days=1),
                           coaches=trainers(org.id), cohort_id=cohort_id,
                           coach_arg=coach_arg, show=show, show_labels=SHOW_LABELS, args=args,
                           overdue=overdue, coming=coming, **_common())


@bp.post("/coaching/round")
@authz.role_required(*authz.STAFF_ROLES)
def schedule_round() -> Any:
    """Schedule a round of follow-ups for a cohort's learners, one after the other."""
    cohort_id, _sep, module_id = request.form.get("target", "").partition(":")
    cohort = db.session.get(Cohort, form_int(cohort_id) or 0)
    module = db.session.get(Module, form_int(module_id) or 0)
    if cohort is None or cohort.organization_id != authz.current_organization().id or \
            module is None or module.program_id != cohort.program_id:
        flash(_("Choose a cohort and one of its coaching modules."), "error")
        return redirect(url_for(".followups"))
    made = commit_or_flash(lambda: services.schedule_round(
        cohort=cohort, module=module, coach=_coach(request.form.get("coach_id")),
        start=_when(request.form.get("day"), request.form.get("time")),
        place=request.form.get("place"), video_link=request.form.get("video_link"),
        gap_minutes=form_int(request.form.get("gap_minutes")) or 0,
        together=request.form.get("together") == "on"), _scheduled)
    return redirect(url_for(".followups", cohort=cohort.id) if made is not None
                    else url_for(".followups"))


@bp.get("/coaching/learners/<enrollment_id>")
@authz.role_required(*authz.STAFF_ROLES)
def learner(enrollment_id: str) -> Any:
    """A learner's coaching: each coaching module's plan, follow-ups, notes and actions."""
    enrollment = _enrollment(enrollment_id)
    modules = queries.coaching_modules(enrollment.cohort.program_id)
    mine = queries.of_enrollment(enrollment.id)
    proposals = {m.id: services.propose_dates(enrollment=enrollment, module=m)[0]
                 for m in modules}
    plans = {m.id: services.plan_of(m) for m in modules}
    return render_template("coaching/learner.html", enrollment=enrollment, modules=modules,
                           followups=mine, proposals=proposals, plans=plans,
                           required={m.id: services.required_count(m) for m in modules},
                           coaches=trainers(enrollment.organization_id),
                           **_common())


@bp.post("/coaching/learners/<enrollment_id>/schedule")
@authz.role_required(*authz.STAFF_ROLES)
def schedule(enrollment_id: str) -> Any:
    """Schedule one follow-up, or every follow-up left in the module's plan."""
    enrollment = _enrollment(enrollment_id)
    module = db.session.get(Module, form_int(request.form.get("module_id")) or 0)
    back = redirect(url_for(".learner", enrollment_id=enrollment.id))
    if module is None or module.program_id != enrollment.cohort.program_id:
        flash(_("Choose a coaching module of the learner's program."), "error")
        return back
    coach = _coach(request.form.get("coach_id"))
    when = _when(request.form.get("day"), request.form.get("time"))
    if request.form.get("how") == "plan":
        commit_or_flash(lambda: services.schedule_plan(
            enrollment=enrollment, module=module, coach=coach, start=when,
            place=request.form.get("place"), video_link=request.form.get("video_link")),
            _scheduled)
    else:
        commit_or_flash(lambda: [services.schedule(
            enrollment=enrollment, module=module, coach=coach, scheduled_at=when,
            duration_minutes=form_int(request.form.get("duration_minutes")),
            place=request.form.get("place"), video_link=request.form.get("video_link"))],
            _scheduled)
    return back


@bp.get("/coaching/followups/<int:followup_id>")
@authz.role_required(*authz.STAFF_ROLES)
def followup(followup_id: int) -> Any:
    """One follow-up: record it as held, move it, cancel it; notes and action items."""
    item = _followup(followup_id)
    return render_template("coaching/followup.html", followup=item, rows=range(ACTION_ROWS),
                           coaches=trainers(item.organization_id),
                           statuses=ACTION_STATUSES, **_common())


@bp.post("/coaching/followups/<int:followup_id>/hold")
@authz.role_required(*authz.STAFF_ROLES)
def hold(followup_id: int) -> Any:
    """Record the follow-up as held, with notes, action items and the next date."""
    texts = request.form.getlist("action_text")
    dues = request.form.getlist("action_due")
    actions = [(text, form_date(dues[i]) if i < len(dues) else None)
               for i, text in enumerate(texts)]
    held_at = _when(request.form.get("held_day"), request.form.get("held_time"))
    return _change_followup(followup_id, lambda item: services.record_held(
        followup=item, notes=request.form.get("notes"), actions=actions,
        next_followup_on=form_date(request.form.get("next_followup_on")), held_at=held_at),
        _("The follow-up was recorded; the learner sees the notes and action items."))


@bp.post("/coaching/followups/<int:followup_id>/reschedule")
@authz.role_required(*authz.STAFF_ROLES)
def reschedule(followup_id: int) -> Any:
    """Move a scheduled follow-up (date, length, place, link, coach)."""
    return _change_followup(followup_id, lambda item: services.reschedule(
        followup=item, scheduled_at=_when(request.form.get("day"), request.form.get("time")),
        duration_minutes=form_int(request.form.get("duration_minutes")),
        place=request.form.get("place"), video_link=request.form.get("video_link"),
        coach=_coach(request.form.get("coach_id"))),
        _("The follow-up was moved."))


@bp.route("/coaching/followups/<int:followup_id>/close", methods=["GET", "POST"])
@authz.role_required(*authz.STAFF_ROLES)
def close(followup_id: int) -> Any:
    """Confirm, then cancel a follow-up or record that the learner missed it."""
    item = _followup(followup_id)
    outcome = request.values.get("outcome", "cancelled")
    if outcome not in ("cancelled", "missed"):
        abort(404)
    if request.method == "POST":
        if outcome == "missed":
            commit_or_flash(lambda: services.mark_missed(followup=item),
                            _("The follow-up was recorded as missed."))
        else:
            commit_or_flash(lambda: services.cancel(followup=item),
                            _("The follow-up was cancelled."))
        return redirect(url_for(".learner", enrollment_id=item.enrollment_id))
    return render_template("coaching/close.html", followup=item, outcome=outcome, **_common())


@bp.route("/coaching/followups/<int:followup_id>/reopen", methods=["GET", "POST"])
@authz.role_required(*authz.STAFF_ROLES)
def reopen(followup_id: int) -> Any:
    """Confirm, then undo a follow-up recorded as held by mistake."""
    item = _followup(followup_id)
    if request.method == "POST":
        commit_or_flash(
            lambda: services.reopen(followup=item, by=_me()),
            _("The follow-up is scheduled again; its record was withdrawn."))
        return redirect(url_for(".followup", followup_id=item.id))
    return render_template("coaching/reopen.html", followup=item, **_common())


@bp.post("/coaching/followups/<int:followup_id>/notes")
@authz.role_required(*authz.STAFF_ROLES)
def notes(followup_id: int) -> Any:
    """Amend the notes and next date of a held follow-up."""
    return _change_followup(followup_id, lambda item: services.update_notes(
        followup=item, notes=request.form.get("notes"),
        next_followup_on=form_date(request.form.get("next_followup_on"))),
        _("The notes were saved."))


@bp.post("/coaching/followups/<int:followup_id>/actions")
@authz.role_required(*authz.STAFF_ROLES)
def add_action(followup_id: int) -> Any:
    """Add an action item to a held follow-up."""
    return _change_followup(followup_id, lambda item: services.add_action(
        followup=item, text=request.form.get("text", ""),
        due_on=form_date(request.form.get("due_on"))), anchor="actions")


def _action(item_id: int) -> ActionItem:
    try:
        return services.get_action(authz.current_organization().id, item_id)
    except DomainError:
        abort(404)


@bp.post("/coaching/actions/<int:item_id>")
@authz.role_required(*authz.STAFF_ROLES)
def action_status(item_id: int) -> Any:
    """A coach ticks an action item done, drops it or opens it again."""
    item = _action(item_id)
    commit_or_flash(lambda: services.set_action_status(
        item=item, status=request.form.get("status", ""), by=_me()))
    return redirect(url_for(".followup", followup_id=item.followup_id, _anchor="actions"))


# --- learners ---------------------------------------------------------------------------------


@bp.get("/my/followups")
@authz.role_required(Role.LEARNER)
def mine() -> Any:
    """My follow-ups: coming meetings, notes of past ones and my action items."""
    me = authz.current_membership()
    items = queries.of_membership(me.id)
    return render_template("coaching/mine.html", followups=items,
                           next=queries.next_followup(me),
                           actions=queries.open_actions(me.id), **_common())


@bp.post("/my/actions/<int:item_id>")
@authz.role_required(Role.LEARNER)
def tick(item_id: int) -> Any:
    """The learner ticks one of their action items done (or not done after all)."""
    item = _action(item_id)
    if item.followup.enrollment.membership_id != authz.current_membership().id:
        abort(404)
    status = request.form.get("status", "")
    if status not in ("open", "done"):
        abort(400)
    commit_or_flash(lambda: services.set_action_status(item=item, status=status, by=_me()),
                    _("Well done: the action is ticked.") if status == "done" else None)
    return redirect(url_for(".mine", _anchor=f"action-{item.id}"))


@bp.get("/coaching/followups/<int:followup_id>/calendar.ics")
@authz.role_required(Role.LEARNER, *authz.STAFF_ROLES)
def ics(followup_id: int) -> Any:
    """The calendar file of a follow-up (for its learner and the coaches)."""
    item = _followup(followup_id)
    me = authz.current_membership()
    if me.role not in authz.STAFF_ROLES and item.enrollment.membership_id != me.id:
        abort(404)
    who = item.enrollment.membership.user.display_name
    coach = item.coach.user.display_name if item.coach else ""
    summary = _("Coaching follow-up: %(module)s", module=localized(item.module.title))
    description = "\n".join(part for part in (
        _("Learner: %(name)s", name=who), _("Coach: %(name)s", name=coach) if coach else "",
        item.video_link if item.video_link and item.place else "") if part)
    data = icalendar(uid=f"relais-coaching-{item.id}@{request.host.split(':')[0]}",
                     starts_at=item.scheduled_at, ends_at=item.ends_at, summary=summary,
                     description=description, location=item.place or item.video_link,
                     url=item.video_link, stamp=utcnow())
    return Response(data, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="follow-up-{item.id}.ics"'})


def proposal_fields(when: datetime) -> dict[str, str]:
    """A proposed date as the day and time fields of a form, in local time."""
    local_when = when.astimezone(local_zone())
    return {"day": local_when.date().isoformat(), "time": local_when.strftime("%H:%M")}


bp.add_app_template_global(proposal_fields, "coaching_proposal")
