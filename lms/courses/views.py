"""Blended program pages under /o/<slug>/: programs and cohorts for trainers, "My training" for
learners.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from lms.accounts.authz import (
    STAFF_ROLES,
    current_membership,
    current_organization,
    role_required,
)
from lms.accounts.models import Membership, Role
from lms.core.errors import Conflict, DomainError
from lms.core.models import utcnow
from lms.core.web import (
    flash_error,
    form_date,
    form_datetime,
    form_int,
    localized,
)
from lms.courses import approvals, queries, services
from lms.courses import definitions as defs
from lms.courses.elearning.queries import viewed_lessons
from lms.courses.elearning.rendering import render_markdown
from lms.courses.models import (
    ATTENDANCE_STATUSES,
    DECLINED,
    KINDS,
    PENDING_APPROVAL,
    REGISTERED,
    SESSION_KINDS,
    WITHDRAWN,
    Cohort,
    Enrollment,
    Lesson,
    Module,
    Program,
    SessionRegistration,
    TrainingSession,
)
from lms.courses.rendering import icalendar
from lms.courses.web import (
    bp,
    cohort_or_404,
    module_or_404,
    my_enrollment_or_404,
    page_context,
    page_language,
    program_or_404,
    session_or_404,
)
from lms.extensions import db

# --- programs ---------------------------------------------------------------------------------


@bp.get("/programs")
@role_required(*STAFF_ROLES)
def programs() -> Any:
    """The organization's programs and the catalogue to copy from."""
    org = current_organization()
    return render_template("courses/programs.html", programs=queries.programs(org.id),
                           catalogue=queries.catalogue(), languages=defs.LANGUAGES,
                           **page_context())


@bp.post("/programs/copy")
@role_required(*STAFF_ROLES)
def copy_program() -> Any:
    """Copy a catalogue program into the organization."""
    try:
        program = services.copy_from_catalogue(organization=current_organization(),
                                               slug=request.form.get("slug", ""))
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for(".programs"))
    db.session.commit()
    flash(_("The program was copied; adapt it to the organization."), "success")
    return redirect(url_for(".program", program_id=program.id))


@bp.post("/programs/new")
@role_required(*STAFF_ROLES)
def new_program() -> Any:
    """Start a program from scratch."""
    try:
        program = services.create_blank_program(organization=current_organization(),
                                                title=request.form.get("title", ""),
                                                language=request.form.get("language", ""))
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for(".programs"))
    db.session.commit()
    return redirect(url_for(".program", program_id=program.id))


@bp.post("/programs/import")
@role_required(*STAFF_ROLES)
def import_program() -> Any:
    """Import a program exported as a zip (YAML + Markdown)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a zip file to import."), "error")
        return redirect(url_for(".programs"))
    try:
        program = services.import_program(organization=current_organization(),
                                          data=upload.read(20_000_001))
    except DomainError as exc:
        db.session.rollback()
        return render_template("courses/programs.html",
                               programs=queries.programs(current_organization().id),
                               catalogue=queries.catalogue(), languages=defs.LANGUAGES,
                               import_errors=exc.fields.get("file", exc.message).splitlines(),
                               **page_context()), 422
    db.session.commit()
    flash(_("The program was imported."), "success")
    return redirect(url_for(".program", program_id=program.id))


@bp.get("/programs/<int:program_id>")
@role_required(*STAFF_ROLES)
def program(program_id: int) -> Any:
    """A program's modules in order, with reordering and editing."""
    prog = program_or_404(program_id)
    return render_template("courses/program.html", program=prog,
                           cohorts=queries.cohorts(current_organization().id, prog.id),
                           kinds=KINDS, **page_context())


@bp.get("/programs/<int:program_id>/export.zip")
@role_required(*STAFF_ROLES)
def export_program(program_id: int) -> Any:
    """Download a program as a zip of program.yaml and lessons/*.md."""
    prog = program_or_404(program_id)
    data = defs.to_zip(services.definition_of(prog))
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{prog.slug}.zip"'})


@bp.post("/programs/<int:program_id>/modules")
@role_required(*STAFF_ROLES)
def add_module(program_id: int) -> Any:
    """Append a module."""
    prog = program_or_404(program_id)
    try:
        services.add_module(program=prog, kind=request.form.get("kind", ""),
                            title=request.form.get("title", ""))
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for(".program", program_id=prog.id))
    db.session.commit()
    return redirect(url_for(".program", program_id=prog.id))


@bp.post("/programs/<int:program_id>/modules/<int:module_id>/lessons")
@role_required(*STAFF_ROLES)
def add_lesson(program_id: int, module_id: int) -> Any:
    """Append a lesson to an e-learning module, then edit it."""
    prog = program_or_404(program_id)
    module = module_or_404(prog, module_id)
    try:
        lesson = services.add_lesson(module=module, title=request.form.get("title", ""))
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for(".program", program_id=prog.id, _anchor=f"module-{module.id}"))
    db.session.commit()
    return redirect(url_for(".edit_lesson", program_id=prog.id, lesson_id=lesson.id))


@bp.post("/programs/<int:program_id>/modules/<int:module_id>/move")
@role_required(*STAFF_ROLES)
def move_module(program_id: int, module_id: int) -> Any:
    """Move a module up or down."""
    prog = program_or_404(program_id)
    module = module_or_404(prog, module_id)
    services.move_module(module=module, direction=request.form.get("direction", ""))
    db.session.commit()
    return redirect(url_for(".program", program_id=prog.id, _anchor=f"module-{module.id}"))


def _rule_from_form() -> dict[str, Any] | None:
    """The completion rule posted with a module (its number only where the kind uses one)."""
    kind = request.form.get("completion")
    if kind is None:
        return None
    rule: dict[str, Any] = {"type": kind}
    if kind == "quiz_passed":
        rule["pass_mark"] = form_int(request.form.get("pass_mark"))
        if request.form.get("pass_mark", "").strip() and rule["pass_mark"] is None:
            rule["pass_mark"] = -1  # not a number: let the service refuse it
    elif kind == "followups_held":
        # A coaching plan's number of follow-ups, when posted, is the rule's count.
        rule["count"] = form_int(request.form.get("followups") or request.form.get("count")) or 1
    return rule


def _plan_from_form() -> dict[str, Any] | None:
    """The coaching plan posted with a coaching module (None when the form has none)."""
    if "followups" not in request.form:
        return None
    return {name: form_int(request.form.get(field)) for name, field in (
        ("followups", "followups"), ("spacing_days", "spacing_days"),
        ("duration_minutes", "followup_minutes"))}


@bp.route("/programs/<int:program_id>/modules/<int:module_id>", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def edit_module(program_id: int, module_id: int) -> Any:
    """Edit a module's title, description, requirement, duration and competencies."""
    prog = program_or_404(program_id)
    module = module_or_404(prog, module_id)
    lang = page_language()
    errors: dict[str, str] = {}
    if request.method == "POST":
        duration = request.form.get("duration_minutes", "").strip()
        try:
            services.update_module(
                module=module, language=lang, title=request.form.get("title", ""),
                description=request.form.get("description", ""),
                required=request.form.get("required") == "on",
                duration_minutes=form_int(duration) if duration else None,
                competencies=request.form.getlist("competencies"),
                completion=_rule_from_form(), coaching=_plan_from_form(),
                prerequisites=request.form.getlist("prerequisites"))
        except DomainError as exc:
            db.session.rollback()
            errors = exc.fields
        else:
            db.session.commit()
            flash(_("The module was saved."), "success")
            return redirect(url_for(".program", program_id=prog.id))
    return render_template("courses/edit_module.html", program=prog, module=module, lang=lang,
                           errors=errors, codes=defs.COMPETENCY_CODES, rules=defs.RULES,
                           earlier=[m for m in prog.modules if m.position < module.position],
                           **page_context()), \
        422 if errors else 200


@bp.route("/programs/<int:program_id>/lessons/<int:lesson_id>", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def edit_lesson(program_id: int, lesson_id: int) -> Any:
    """Edit a lesson's Markdown, with a preview rendered on the server."""
    prog = program_or_404(program_id)
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.module.program_id != prog.id:
        abort(404)
    lang = page_language()
    title = lesson.title.get(lang, "")
    body = lesson.body.get(lang, "")
    video = lesson.video_url or ""
    preview, errors = None, {}
    if request.method == "POST":
        title, body = request.form.get("title", ""), request.form.get("body", "")
        video = request.form.get("video_url", "")
        if request.form.get("action") == "preview":
            preview = render_markdown(body)
        else:
            try:
                services.update_lesson(lesson=lesson, language=lang, title=title, body=body,
                                       video_url=video)
            except DomainError as exc:
                db.session.rollback()
                errors = exc.fields
            else:
                db.session.commit()
                flash(_("The lesson was saved."), "success")
                return redirect(url_for(".program", program_id=prog.id))
    return render_template("courses/edit_lesson.html", program=prog, lesson=lesson, lang=lang,
                           title=title, body=body, video=video, preview=preview, errors=errors,
                           **page_context()), 422 if errors else 200


# --- cohorts --------------------------------------------------------------------------------


@bp.get("/cohorts")
@role_required(*STAFF_ROLES)
def cohorts() -> Any:
    """The organization's cohorts, and a form to open one."""
    org = current_organization()
    return render_template("courses/cohorts.html", cohorts=queries.cohorts(org.id),
                           programs=queries.programs(org.id),
                           trainers=queries.trainers(org.id), **page_context())


@bp.post("/cohorts/new")
@role_required(*STAFF_ROLES)
def new_cohort() -> Any:
    """Open a cohort of one of the organization's programs."""
    org = current_organization()
    prog = db.session.get(Program, form_int(request.form.get("program_id")) or 0)
    if prog is None or prog.organization_id != org.id:
        flash(_("Choose one of the organization's programs."), "error")
        return redirect(url_for(".cohorts"))
    trainer_ids = {form_int(v) for v in request.form.getlist("trainers")}
    chosen = [m for m in queries.trainers(org.id) if m.id in trainer_ids]
    try:
        cohort = services.create_cohort(program=prog, name=request.form.get("name", ""),
                                        starts_on=form_date(request.form.get("starts_on")),
                                        ends_on=form_date(request.form.get("ends_on")),
                                        pilot=request.form.get("pilot") == "on", trainers=chosen)
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for(".cohorts"))
    db.session.commit()
    return redirect(url_for(".cohort", cohort_id=cohort.id))


@bp.get("/cohorts/<int:cohort_id>")
@role_required(*STAFF_ROLES)
def cohort(cohort_id: int) -> Any:
    """A cohort: learners × modules progress, enrolment, sessions."""
    c = cohort_or_404(cohort_id)
    enrollments = queries.enrollments(c.id)
    grid = {e.id: {p.module_id: p for p in e.progress} for e in enrollments}
    session_modules = [m for m in c.program.modules if m.kind in SESSION_KINDS]
    return render_template("courses/cohort.html", cohort=c, enrollments=enrollments, grid=grid,
                           candidates=queries.learners_not_enrolled(c),
                           teams=queries.teams(c.organization_id),
                           sessions=queries.sessions(c.id), session_modules=session_modules,
                           trainers=queries.trainers(c.organization_id), **page_context())


@bp.post("/cohorts/<int:cohort_id>/enrol")
@role_required(*STAFF_ROLES)
def enrol(cohort_id: int) -> Any:
    """Enrol one learner, a whole team, or the learners of a CSV file."""
    c = cohort_or_404(cohort_id)
    how = request.form.get("how")
    try:
        if how == "team":
            done = services.enrol_team(cohort=c, team=request.form.get("team", ""))
        elif how == "csv":
            upload = request.files.get("file")
            raw = upload.read(5_000_001) if upload else b""
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                flash(_("The file is not UTF-8 text."), "error")
                return redirect(url_for(".cohort", cohort_id=c.id))
            done = services.enrol_csv(cohort=c, text=text)
        else:
            member = db.session.get(Membership, form_int(request.form.get("membership_id")) or 0)
            if member is None or member.organization_id != c.organization_id:
                flash(_("Choose a learner."), "error")
                return redirect(url_for(".cohort", cohort_id=c.id))
            done = [services.enrol(cohort=c, membership=member)]
    except DomainError as exc:
        db.session.rollback()
        report = exc.fields.get("file")
        if report:
            return render_template("courses/csv_report.html", cohort=c, message=exc.message,
                                   lines=report.splitlines(), **page_context()), 422
        flash_error(exc)
        return redirect(url_for(".cohort", cohort_id=c.id))
    db.session.commit()
    flash(ngettext("%(num)d learner enrolled.", "%(num)d learners enrolled.", len(done)),
          "success")
    return redirect(url_for(".cohort", cohort_id=c.id))


def _enrollment_in(c: Cohort, enrollment_id: str) -> Enrollment:
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.cohort_id != c.id:
        abort(404)
    return enrollment


@bp.route("/cohorts/<int:cohort_id>/enrolments/<enrollment_id>/withdraw",
          methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def withdraw(cohort_id: int, enrollment_id: str) -> Any:
    """Confirm, then withdraw a learner from a cohort."""
    c = cohort_or_404(cohort_id)
    enrollment = _enrollment_in(c, enrollment_id)
    if request.method == "POST":
        try:
            services.withdraw(enrollment=enrollment)
        except DomainError as exc:
            flash_error(exc)
        else:
            db.session.commit()
            flash(_("%(name)s was withdrawn from the cohort.",
                    name=enrollment.membership.user.display_name), "success")
        return redirect(url_for(".cohort", cohort_id=c.id))
    return render_template("courses/withdraw.html", cohort=c, enrollment=enrollment,
                           **page_context())


@bp.post("/cohorts/<int:cohort_id>/sessions")
@role_required(*STAFF_ROLES)
def schedule(cohort_id: int) -> Any:
    """Schedule a session of one of the program's workshops or trainings."""
    c = cohort_or_404(cohort_id)
    module = db.session.get(Module, form_int(request.form.get("module_id")) or 0)
    zone = services.local_zone()
    starts = form_datetime(request.form.get("day"), request.form.get("start"), zone)
    ends = form_datetime(request.form.get("end_day") or request.form.get("day"),
                         request.form.get("end"), zone)
    trainer = db.session.get(Membership, form_int(request.form.get("trainer_id")) or 0)
    if module is None or starts is None or ends is None:
        flash(_("Choose a module, a day and start and end times."), "error")
        return redirect(url_for(".cohort", cohort_id=c.id))
    try:
        session = services.schedule_session(
            cohort=c, module=module, starts_at=starts, ends_at=ends,
            place=request.form.get("place"), virtual_link=request.form.get("virtual_link"),
            capacity=form_int(request.form.get("capacity")), trainer=trainer)
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for(".cohort", cohort_id=c.id))
    db.session.commit()
    return redirect(url_for(".session", session_id=session.id))


@bp.get("/sessions/<int:session_id>")
@role_required(*STAFF_ROLES)
def session(session_id: int) -> Any:
    """A session: seats, waiting list, and learners of the cohort to register."""
    s = session_or_404(session_id)
    registered = {r.enrollment_id for r in s.registrations}
    candidates = [e for e in queries.enrollments(s.cohort_id)
                  if e.id not in registered and e.status != WITHDRAWN]
    return render_template("courses/session.html", session=s, candidates=candidates,
                           seats=services.seats_taken(s), zone=services.local_zone(),
                           **page_context())


@bp.post("/sessions/<int:session_id>/register")
@role_required(*STAFF_ROLES)
def assign(session_id: int) -> Any:
    """Register a learner of the cohort (or put them on the waiting list)."""
    s = session_or_404(session_id)
    enrollment = db.session.get(Enrollment, request.form.get("enrollment_id", ""))
    if enrollment is None or enrollment.cohort_id != s.cohort_id:
        abort(404)
    try:
        registration = services.register(session=s, enrollment=enrollment,
                                         requested_by=current_user)
    except DomainError as exc:
        flash_error(exc)
    else:
        db.session.commit()
        if registration.status == PENDING_APPROVAL:
            approvals.notify_requested(registration)
            flash(_("The registration waits for the approval of the learner's manager."),
                  "info")
    return redirect(url_for(".session", session_id=s.id))


@bp.post("/sessions/<int:session_id>/capacity")
@role_required(*STAFF_ROLES)
def capacity(session_id: int) -> Any:
    """Change the capacity; waitlisted learners take the new seats in order."""
    s = session_or_404(session_id)
    try:
        promoted = services.set_capacity(session=s, capacity=form_int(request.form.get("capacity")))
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
    registration = db.session.get(SessionRegistration, registration_id)
    if registration is None or registration.session_id != s.id:
        abort(404)
    return registration


@bp.post("/sessions/<int:session_id>/registrations/<int:registration_id>/cancel")
@role_required(*STAFF_ROLES)
def cancel(session_id: int, registration_id: int) -> Any:
    """Free a seat; the first learner on the waiting list takes it."""
    s = session_or_404(session_id)
    promoted = services.cancel_registration(registration=_registration(s, registration_id))
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
    halves = services.half_days(s)
    seated = [r.enrollment for r in s.registrations if r.status == REGISTERED]
    if request.method == "POST":
        marks = [(enrollment.id, day, half, value)
                 for enrollment in seated for day, half in halves
                 if (value := request.form.get(f"mark-{enrollment.id}-{day.isoformat()}-{half}"))
                 in ATTENDANCE_STATUSES]
        try:
            changed = services.record_sheet(session=s, marks=marks, recorded_by=current_user)
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
                           marks=queries.attendance_sheet(s.id), statuses=ATTENDANCE_STATUSES,
                           qr=queries.qr_sign_ins(s.id),
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


# --- learners -------------------------------------------------------------------------------


@bp.get("/training")
@role_required(Role.LEARNER)
def my_training() -> Any:
    """A learner's programs; straight to the program when there is only one."""
    mine = queries.my_enrollments(current_membership().id)
    active = [e for e in mine if e.status != WITHDRAWN]
    if len(active) == 1:
        return redirect(url_for(".my_program", enrollment_id=active[0].id))
    return render_template("courses/my_training.html", enrollments=mine, **page_context())


@bp.get("/training/<enrollment_id>")
@role_required(Role.LEARNER)
def my_program(enrollment_id: str) -> Any:
    """My program: modules in order with their state, and where to resume."""
    enrollment = my_enrollment_or_404(enrollment_id)
    prog = enrollment.cohort.program
    progress = queries.progress_by_module(enrollment.id)
    sessions = queries.sessions(enrollment.cohort_id)
    return render_template("courses/my_program.html", enrollment=enrollment, program=prog,
                           progress=progress, viewed=viewed_lessons(enrollment.id),
                           resume=queries.resume_point(prog, progress).module,
                           sessions=sessions, registrations=queries.registrations_of(
                               enrollment.id), zone=services.local_zone(), now=utcnow(),
                           **page_context())


@bp.post("/training/<enrollment_id>/sessions/<int:session_id>/register")
@role_required(Role.LEARNER)
def self_register(enrollment_id: str, session_id: int) -> Any:
    """Take a seat in one of the cohort's sessions (or a place on the waiting list)."""
    enrollment = my_enrollment_or_404(enrollment_id)
    s = session_or_404(session_id)
    if s.starts_at <= utcnow():
        flash(_("This session has already started."), "error")
        return redirect(url_for(".my_program", enrollment_id=enrollment.id))
    try:
        registration = services.register(session=s, enrollment=enrollment,
                                         requested_by=current_user)
    except DomainError as exc:
        flash_error(exc)
    else:
        db.session.commit()
        if registration.status == PENDING_APPROVAL:
            approvals.notify_requested(registration)
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
    registration = queries.registrations_of(enrollment.id).get(s.id)
    if registration is None or registration.status == DECLINED:  # a decision stays on record
        abort(404)
    if s.starts_at <= utcnow():
        flash(_("This session has already started."), "error")
        return redirect(url_for(".my_program", enrollment_id=enrollment.id))
    services.cancel_registration(registration=registration)
    db.session.commit()
    flash(_("Your registration was cancelled."), "success")
    return redirect(url_for(".my_program", enrollment_id=enrollment.id))
