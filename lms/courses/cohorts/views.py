"""Cohort pages on the courses blueprint: cohorts and enrolment for trainers, "My training"
for learners.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from lms.accounts.authz import STAFF_ROLES, current_membership, current_organization, role_required
from lms.accounts.models import Membership, Role
from lms.core.errors import DomainError
from lms.core.formatting import colon
from lms.core.models import utcnow
from lms.core.web import (
    commit_or_flash,
    committed,
    flash_error,
    form_date,
    form_int,
    get_or_404,
    localized,
)
from lms.courses.cohorts import queries, services
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.elearning.queries import viewed_lessons
from lms.courses.programs.models import SESSION_KINDS, Program
from lms.courses.programs.queries import programs
from lms.courses.sessions import queries as session_queries
from lms.courses.sessions.queries import registrations_of
from lms.courses.sessions.services import local_zone
from lms.courses.web import (
    STATE_LABELS,
    bp,
    cohort_or_404,
    my_enrollment_or_404,
    page_context,
)
from lms.extensions import db

# --- cohorts --------------------------------------------------------------------------------


@bp.get("/cohorts")
@role_required(*STAFF_ROLES)
def cohorts() -> Any:
    """The organization's cohorts, and a form to open one."""
    org = current_organization()
    return render_template("courses/cohorts.html", cohorts=queries.cohorts(org.id),
                           programs=programs(org.id),
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
    cohort = commit_or_flash(lambda: services.create_cohort(
        program=prog, name=request.form.get("name", ""),
        starts_on=form_date(request.form.get("starts_on")),
        ends_on=form_date(request.form.get("ends_on")),
        pilot=request.form.get("pilot") == "on", trainers=chosen),
        success=lambda made: _("The cohort %(name)s is open.", name=made.name))
    if cohort is None:
        return redirect(url_for(".cohorts"))
    return redirect(url_for(".cohort", cohort_id=cohort.id))


@bp.get("/cohorts/<int:cohort_id>")
@role_required(*STAFF_ROLES)
def cohort(cohort_id: int) -> Any:
    """A cohort: learners × modules progress, enrolment, sessions."""
    return _cohort_page(cohort_or_404(cohort_id))


# Learners shown a page in the progress grid, and at most listed to choose from when enrolling
# (a search narrows a longer list): a company-wide cohort stays a page the browser can draw.
LEARNERS_A_PAGE = 50
CANDIDATES_LISTED = 200


def _cohort_page(c: Cohort, errors: dict[str, Any] | None = None, status: int = 200) -> Any:
    """The cohort page: its progress grid a page of learners at a time (``q`` searches names
    and e-mail addresses), the whole cohort's completion, and the enrolment forms (``find``
    narrows the learners to choose from); ``errors`` by field for the enrolment form, shown
    with what was typed.
    """
    search = request.args.get("q", "").strip()[:100]
    find = request.args.get("find", "").strip()[:100]
    pagination = queries.enrollments_page(
        c.id, search=search, page=max(request.args.get("page", 1, type=int), 1),
        per_page=LEARNERS_A_PAGE)
    if not pagination.items and pagination.total:  # past the last page (an old link)
        pagination = queries.enrollments_page(c.id, search=search, page=pagination.pages,
                                              per_page=LEARNERS_A_PAGE)
    enrollments = list(pagination.items)
    grid = {e.id: {p.module_id: p for p in e.progress} for e in enrollments}
    session_modules = [m for m in c.program.modules if m.kind in SESSION_KINDS]
    candidates = queries.learners_not_enrolled(c, search=find, limit=CANDIDATES_LISTED)
    candidates_total = (len(candidates) if len(candidates) < CANDIDATES_LISTED
                        else queries.count_not_enrolled(c, search=find))
    return render_template("courses/cohort.html", cohort=c, enrollments=enrollments, grid=grid,
                           pagination=pagination, search=search, find=find,
                           completion=queries.completion(c.id),
                           candidates=candidates, candidates_total=candidates_total,
                           state_text={s: str(label) for s, label in STATE_LABELS.items()},
                           module_heads=[colon(localized(m.title)) for m in c.program.modules],
                           teams=queries.teams(c.organization_id),
                           sessions=session_queries.sessions(c.id), session_modules=session_modules,
                           trainers=queries.trainers(c.organization_id), errors=errors or {},
                           typed=request.form if errors else {}, **page_context()), status


def _enrol_many(c: Cohort) -> Any:
    """Enrol the chosen learners, a team and pasted addresses in one transaction; refused, the
    page comes back with the error next to its field and what was typed.
    """
    ids = {form_int(v) for v in request.form.getlist("membership_ids")}
    chosen = [m for m in (db.session.get(Membership, i) for i in ids if i) if m is not None]
    try:
        result = services.enrol_many(cohort=c, memberships=chosen,
                                     team=request.form.get("team", ""),
                                     emails=request.form.get("emails", ""))
    except DomainError as exc:
        db.session.rollback()
        return _cohort_page(c, errors={"message": exc.message, **exc.fields}, status=422)
    db.session.commit()
    message = ngettext("%(num)d learner enrolled.", "%(num)d learners enrolled.",
                       len(result.enrollments))
    if result.skipped:
        message += " " + ngettext("%(num)d was already enrolled.",
                                  "%(num)d were already enrolled.", result.skipped)
    flash(message, "success")
    return redirect(url_for(".cohort", cohort_id=c.id))


@bp.post("/cohorts/<int:cohort_id>/enrol")
@role_required(*STAFF_ROLES)
def enrol(cohort_id: int) -> Any:
    """Enrol learners: several at once (chosen, a team, pasted e-mails), one, a whole team, or
    the learners of a CSV file.
    """
    c = cohort_or_404(cohort_id)
    how = request.form.get("how")
    if how == "many":
        return _enrol_many(c)
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
    return get_or_404(Enrollment, enrollment_id, outside=lambda row: row.cohort_id != c.id)


@bp.route("/cohorts/<int:cohort_id>/enrolments/<enrollment_id>/withdraw",
          methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def withdraw(cohort_id: int, enrollment_id: str) -> Any:
    """Confirm, then withdraw a learner from a cohort."""
    c = cohort_or_404(cohort_id)
    enrollment = _enrollment_in(c, enrollment_id)
    if request.method == "POST":
        if committed(lambda: services.withdraw(enrollment=enrollment)):
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
