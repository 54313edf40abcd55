"""Blended program pages under /o/<slug>/: programs and cohorts for trainers, "My training" for
learners.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from lms.accounts.authz import (
    STAFF_ROLES,
    current_membership,
    current_organization,
    role_required,
)
from lms.accounts.models import Membership, Role
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.core.web import (
    flash_error,
    form_date,
    form_int,
)
from lms.courses import definitions as defs
from lms.courses import queries, services
from lms.courses.elearning.queries import viewed_lessons
from lms.courses.elearning.rendering import render_markdown
from lms.courses.models import (
    KINDS,
    SESSION_KINDS,
    WITHDRAWN,
    Cohort,
    Enrollment,
    Lesson,
    Program,
)
from lms.courses.sessions import queries as session_queries
from lms.courses.sessions.queries import registrations_of
from lms.courses.sessions.services import local_zone
from lms.courses.web import (
    bp,
    cohort_or_404,
    module_or_404,
    my_enrollment_or_404,
    page_context,
    page_language,
    program_or_404,
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
                           sessions=session_queries.sessions(c.id), session_modules=session_modules,
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
    sessions = session_queries.sessions(enrollment.cohort_id)
    return render_template("courses/my_program.html", enrollment=enrollment, program=prog,
                           progress=progress, viewed=viewed_lessons(enrollment.id),
                           resume=queries.resume_point(prog, progress).module,
                           sessions=sessions, registrations=registrations_of(
                               enrollment.id), zone=local_zone(), now=utcnow(),
                           **page_context())
