"""On-the-job exercise pages on the courses blueprint: the learner's exercise page, the
trainers' review queue and review page, the exercise settings in the builder, and the AFEST
records (tutor, analysis of the work situation, journal).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from lms.accounts.authz import STAFF_ROLES, current_membership, current_organization, role_required
from lms.accounts.models import Membership, Role
from lms.charter import services as charter
from lms.core.errors import DomainError
from lms.core.markdown import render_markdown
from lms.core.web import form_date, form_int, get_or_404
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.cohorts.queries import cohorts
from lms.courses.exercises.models import RUBRIC_LEVELS, AfestPlan, ExerciseSubmission
from lms.courses.exercises.queries import (
    NOT_SUBMITTED,
    afest_cohorts,
    afest_page,
    afest_plan,
    due_on,
    latest_submission,
    queue_query,
    screenshot_file,
    screenshot_limit,
    settings_of,
    submissions_of,
    trains,
    tutor_suggestions,
)
from lms.courses.exercises.services import (
    add_journal_entry,
    review_submission,
    save_analysis,
    set_tutor,
    submit_evidence,
    update_settings,
)
from lms.courses.programs import definitions as defs
from lms.courses.programs.models import Module
from lms.courses.web import bp, module_or_404, my_enrollment_or_404, page_context, page_language
from lms.extensions import db

SUBMISSION_LABELS = {"not_submitted": _l("To do"), "submitted": _l("Awaiting review"),
                     "changes_requested": _l("Changes requested"), "approved": _l("Approved"),
                     "verified": _l("Verified from your activity")}
DECISION_LABELS = {"approved": _l("Approved"), "changes_requested": _l("Changes requested")}
LEVEL_LABELS = {"met": _l("Met"), "partly": _l("Partly met"), "not_met": _l("Not met yet")}
EVIDENCE_LABELS = {"url": _l("Link to the post"), "screenshot": _l("Screenshot"),
                   "reflection": _l("Reflection")}
NEED_LABELS = {"": _l("Not asked"), "optional": _l("Optional"), "required": _l("Required")}
JOURNAL_LABELS = {"work_situation": _l("Work situation"),
                  "reflective_phase": _l("Reflective phase")}
KIND_NAMES = {"post": _l("post"), "share": _l("share"), "comment": _l("comment"),
              "reaction": _l("reaction")}
NETWORK_NAMES = {"linkedin": "LinkedIn", "x": "X", "facebook": "Facebook",
                 "instagram": "Instagram", "tiktok": "TikTok", "youtube": "YouTube",
                 "other": _l("other network")}
PER_PAGE = 25


LABELS = {"submission_labels": SUBMISSION_LABELS, "decision_labels": DECISION_LABELS,
          "level_labels": LEVEL_LABELS, "evidence_labels": EVIDENCE_LABELS,
          "need_labels": NEED_LABELS, "journal_labels": JOURNAL_LABELS,
          "kind_names": KIND_NAMES, "network_names": NETWORK_NAMES,
          "evidence_kinds": defs.EVIDENCE_KINDS, "networks": defs.VERIFY_NETWORKS,
          "verify_kinds": defs.VERIFY_KINDS}


def _labels() -> dict[str, Any]:
    return {**LABELS, "markdown": render_markdown, "today": date.today()}


@bp.app_context_processor
def _exercise_helpers() -> dict[str, Any]:
    # For the settings form included in the module edit page (rendered by programs/views.py).
    return {"exercise_settings": settings_of, "exercise_ui": LABELS,
            "afest_tutor": _is_tutor, "exercise_status": _status}


def _status(enrollment: Enrollment, module: Module) -> dict[str, Any]:
    """Where a learner stands in an exercise, for My training: label, due date, overdue."""
    latest = latest_submission(enrollment.id, module.id)
    status = latest.status if latest is not None else NOT_SUBMITTED
    due = due_on(enrollment, module)
    return {"label": SUBMISSION_LABELS[status], "due": due,
            "overdue": bool(due and due < date.today()
                            and status in (NOT_SUBMITTED, "changes_requested"))}


def _is_tutor() -> bool:
    """Whether the current member tutors someone in AFEST (a learner sees a "Tutoring" link)."""
    me = getattr(g, "membership", None)
    return me is not None and db.session.scalar(
        select(AfestPlan.id).where(AfestPlan.tutor_id == me.id).limit(1)) is not None


def _exercise_of(enrollment: Enrollment, module_id: int) -> Module:
    module = db.session.get(Module, module_id)
    if module is None or module.kind != "exercise" or \
            module.program_id != enrollment.cohort.program_id:
        abort(404)
    return module


def _saved(action: Callable[[], Any], message: str) -> dict[str, str]:
    """Run one logical change: commit and flash ``message`` when it succeeds (no errors), or
    roll back and return its field errors for the form.
    """
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        return exc.fields or {"form": exc.message}
    db.session.commit()
    flash(message, "success")
    return {}


# --- learner --------------------------------------------------------------------------------


@bp.route("/training/<enrollment_id>/exercises/<int:module_id>", methods=["GET", "POST"])
@role_required(Role.LEARNER)
def exercise(enrollment_id: str, module_id: int) -> Any:
    """An exercise: instructions, due date, evidence form, review history, AFEST journal."""
    enrollment = my_enrollment_or_404(enrollment_id)
    module = _exercise_of(enrollment, module_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        upload = request.files.get("screenshot")
        # One byte over the limit is enough for the service to refuse it.
        data = upload.read(screenshot_limit() + 1) \
            if upload and upload.filename else None
        errors = _saved(lambda: submit_evidence(
            enrollment=enrollment, module=module, post_url=request.form.get("url"),
            reflection=request.form.get("reflection"), screenshot=data),
            _("Your evidence was handed in: your trainer will review it."))
        if not errors:
            return redirect(url_for(".exercise", enrollment_id=enrollment.id,
                                    module_id=module.id))
    return _exercise_page(enrollment, module, errors), 422 if errors else 200


def _exercise_page(enrollment: Enrollment, module: Module, errors: dict[str, str],
                   journal_errors: dict[str, str] | None = None) -> str:
    settings = settings_of(module)
    history = submissions_of(enrollment.id, module.id)
    latest = history[0] if history else None
    status = latest.status if latest else NOT_SUBMITTED
    plan = afest_plan(enrollment, module) if settings.get("afest") else None
    return render_template(
        "courses/exercise.html", enrollment=enrollment, module=module, settings=settings,
        history=history, status=status, due=due_on(enrollment, module), plan=plan,
        can_submit=enrollment.status != WITHDRAWN and status in (
            NOT_SUBMITTED, "changes_requested"),
        errors=errors, journal_errors=journal_errors or {},
        charter_needed=charter.gates(enrollment.membership, "exercises"),
        **_labels(), **page_context())


@bp.post("/training/<enrollment_id>/exercises/<int:module_id>/journal")
@role_required(Role.LEARNER)
def my_journal(enrollment_id: str, module_id: int) -> Any:
    """The learner adds an entry to their AFEST journal (typically a reflective phase)."""
    enrollment = my_enrollment_or_404(enrollment_id)
    module = _exercise_of(enrollment, module_id)
    errors = _saved(lambda: _add_entry(enrollment, module), _("The journal entry was saved."))
    if errors:
        return _exercise_page(enrollment, module, {}, errors), 422
    return redirect(url_for(".exercise", enrollment_id=enrollment.id, module_id=module.id,
                            _anchor="journal"))


def _add_entry(enrollment: Enrollment, module: Module) -> None:
    add_journal_entry(
        enrollment=enrollment, module=module, kind=request.form.get("kind", ""),
        day=form_date(request.form.get("day")),
        duration_minutes=form_int(request.form.get("duration_minutes")),
        notes=request.form.get("notes", ""), recorded_by=current_user)


@bp.get("/exercises/submissions/<int:submission_id>/screenshot")
def screenshot(submission_id: int) -> Any:
    """A hand-in's screenshot, for its learner, the staff and the learner's AFEST tutor."""
    submission = db.session.get(ExerciseSubmission, submission_id)
    me = current_membership()
    if submission is None or submission.organization_id != me.organization_id:
        abort(404)
    plan = afest_plan(submission.enrollment, submission.module)
    allowed = me.role in STAFF_ROLES or submission.enrollment.membership_id == me.id or (
        plan is not None and plan.tutor_id == me.id)
    path = screenshot_file(submission)
    if not allowed or path is None or not path.is_file():
        abort(404)
    return send_file(path, mimetype=submission.screenshot_type, max_age=0,
                     download_name=f"exercise-{submission.id}{path.suffix}")


# --- review -------------------------------------------------------------------------------


def _cohort_choice(me: Membership) -> tuple[str, int | None, Membership | None]:
    """The queue's cohort filter: "mine" (a trainer's cohorts), "all", or a cohort id."""
    mine = me.role == Role.TRAINER and bool(trains(me))
    choice = request.args.get("cohort") or ("mine" if mine else "all")
    if choice == "mine":
        return choice, None, me
    cohort_id = form_int(choice)
    if cohort_id is not None:
        get_or_404(Cohort, cohort_id, outside=lambda row: row.organization_id != me.organization_id)
        return str(cohort_id), cohort_id, None
    return "all", None, None


@bp.get("/exercises/review")
@role_required(*STAFF_ROLES)
def review_queue() -> Any:
    """Hand-ins awaiting review, oldest first, by cohort."""
    me = current_membership()
    choice, cohort_id, trainer = _cohort_choice(me)
    page = max(1, form_int(request.args.get("page")) or 1)
    pagination = db.paginate(queue_query(me.organization_id, trainer=trainer,
                                         cohort_id=cohort_id),
                             page=page, per_page=PER_PAGE, error_out=False)
    return render_template("courses/review_queue.html", pagination=pagination, choice=choice,
                           cohorts=cohorts(me.organization_id), **_labels(),
                           **page_context())


def _submission(submission_id: int) -> ExerciseSubmission:
    return get_or_404(ExerciseSubmission, submission_id,
                      outside=lambda row: row.organization_id != current_organization().id)


@bp.route("/exercises/submissions/<int:submission_id>", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def review(submission_id: int) -> Any:
    """Review a hand-in against the rubric: approve, or ask for changes with a comment."""
    submission = _submission(submission_id)
    module = submission.module
    settings = settings_of(module)
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = _saved(lambda: review_submission(
            submission=submission, reviewer=current_membership(),
            decision=request.form.get("decision", ""), comment=request.form.get("comment", ""),
            rubric={c["key"]: request.form.get(f"rubric-{c['key']}", "")
                    for c in settings["rubric"]}),
            _("The review was saved and the learner can see it."))
        if not errors:
            return redirect(url_for(".review_queue"))
    history = submissions_of(submission.enrollment_id, module.id)
    return render_template("courses/review.html", submission=submission, module=module,
                           settings=settings, history=history, errors=errors,
                           due=due_on(submission.enrollment, module),
                           plan=afest_plan(submission.enrollment, module),
                           levels=RUBRIC_LEVELS, **_labels(), **page_context()), \
        422 if errors else 200


# --- builder --------------------------------------------------------------------------------


def _settings_from_form() -> dict[str, Any]:
    keys = request.form.getlist("rubric_key")
    labels = request.form.getlist("rubric_label")
    verification = None
    if request.form.get("verify") == "on":
        verification = {"network": request.form.get("network"),
                        "kinds": request.form.getlist("kinds"),
                        "count": form_int(request.form.get("count")),
                        "own_comment": request.form.get("own_comment") == "on",
                        "within_days": form_int(request.form.get("within_days"))}
    return {"instructions": request.form.get("instructions", ""),
            "evidence": {k: request.form.get(f"evidence_{k}", "") for k in defs.EVIDENCE_KINDS},
            "due_days": form_int(request.form.get("due_days")),
            "afest": request.form.get("afest") == "on",
            "rubric": list(zip(keys, labels, strict=False)), "verification": verification}


@bp.route("/programs/<int:program_id>/modules/<int:module_id>/exercise",
          methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def exercise_settings(program_id: int, module_id: int) -> Any:
    """Edit an exercise's instructions, evidence, due date, rubric, AFEST and verification."""
    module = module_or_404(program_id, module_id, kind="exercise")
    lang = page_language()
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = _saved(lambda: update_settings(module=module, language=lang,
                                                **_settings_from_form()),
                        _("The exercise settings were saved."))
        if not errors:
            return redirect(url_for(".edit_module", program_id=program_id, module_id=module.id))
    return render_template("courses/exercise_settings.html", program=module.program, module=module,
                           lang=lang, errors=errors, **_labels(), **page_context()), \
        422 if errors else 200


# --- AFEST ------------------------------------------------------------------------------------


@bp.get("/exercises/afest")
def afest_list() -> Any:
    """AFEST records: for staff, every learner of the AFEST exercises (of one cohort, without a
    tutor yet); for a tutor, theirs; a search on names and e-mail addresses; a page at a time.
    """
    me = current_membership()
    staff = me.role in STAFF_ROLES
    search = request.args.get("q", "").strip()[:100]
    choice = form_int(request.args.get("cohort")) if staff else None
    untutored = staff and request.args.get("untutored") == "1"
    result = afest_page(me.organization_id, tutor_id=None if staff else me.id, cohort_id=choice,
                        search=search, untutored=untutored,
                        page=form_int(request.args.get("page")) or 1, per_page=PER_PAGE)
    return render_template("courses/afest_list.html", result=result, staff=staff,
                           cohorts=afest_cohorts(me.organization_id) if staff else [],
                           choice=choice, search=search, untutored=untutored,
                           filtered=bool(search or choice is not None or untutored),
                           **_labels(), **page_context())


def _afest_target(enrollment_id: str, module_id: int) -> tuple[Enrollment, Module,
                                                               AfestPlan | None]:
    enrollment = db.session.get(Enrollment, enrollment_id)
    me = current_membership()
    if enrollment is None or enrollment.organization_id != me.organization_id:
        abort(404)
    module = _exercise_of(enrollment, module_id)
    if not settings_of(module).get("afest"):
        abort(404)
    plan = afest_plan(enrollment, module)
    if me.role not in STAFF_ROLES and (plan is None or plan.tutor_id != me.id):
        abort(404)
    return enrollment, module, plan


def _afest_page(enrollment: Enrollment, module: Module, plan: AfestPlan | None,
                errors: dict[str, str]) -> str:
    staff = current_membership().role in STAFF_ROLES
    # Staff name the tutor by e-mail, with a few suggestions: never a list of every member.
    return render_template("courses/afest.html", enrollment=enrollment, module=module,
                           plan=plan, errors=errors, staff=staff,
                           suggestions=tutor_suggestions(enrollment, plan) if staff else [],
                           settings=settings_of(module), **_labels(), **page_context())


@bp.route("/exercises/afest/<enrollment_id>/<int:module_id>", methods=["GET", "POST"])
def afest(enrollment_id: str, module_id: int) -> Any:
    """An AFEST record: the tutor (staff name them), the analysis of the work situation, and
    the journal of work situations and reflective phases (staff and the tutor write them).
    """
    enrollment, module, plan = _afest_target(enrollment_id, module_id)
    if request.method == "POST":
        action = request.form.get("action")
        me = current_membership()
        try:
            if action == "tutor":
                if me.role not in STAFF_ROLES:
                    abort(403)
                set_tutor(enrollment=enrollment, module=module,
                          email=request.form.get("tutor_email", ""))
                message = _("The tutor was saved.")
            elif action == "analysis":
                save_analysis(enrollment=enrollment, module=module,
                              analysis=request.form.get("analysis", ""))
                message = _("The analysis of the work situation was saved.")
            else:
                _add_entry(enrollment, module)
                message = _("The journal entry was saved.")
        except DomainError as exc:
            db.session.rollback()
            return _afest_page(enrollment, module, plan, exc.fields or {"form": exc.message}), \
                422
        db.session.commit()
        flash(message, "success")
        return redirect(url_for(".afest", enrollment_id=enrollment.id, module_id=module.id))
    return _afest_page(enrollment, module, plan, {})
