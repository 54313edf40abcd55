"""Survey pages: a learner answers; trainers set a program's rules; staff and HR read results
(per cohort or program) and download them as CSV.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.accounts import authz
from lms.assessments.models import Survey
from lms.assessments.surveys import KIND_LABELS, LIKERT_LABELS, Results, csv_rows, min_answers
from lms.assessments.surveys import visible_surveys as surveys_of
from lms.core import csvexport
from lms.core.errors import DomainError, NotFound
from lms.core.web import committed, current_language, form_int, get_or_404
from lms.courses.cohorts.models import Cohort
from lms.courses.surveys import queries, services
from lms.courses.surveys.models import TRIGGERS, SurveyRule
from lms.courses.web import bp, page_context, program_or_404
from lms.extensions import db

TRIGGER_LABELS = {"after_session": _l("After each session attended"),
                  "after_module": _l("Some days after the module is completed"),
                  "before_start": _l("Before the cohort starts")}


@bp.route("/surveys/answer/<int:invitation_id>", methods=["GET", "POST"])
def survey_answer(invitation_id: int) -> Any:
    """Answer a survey you were invited to."""
    try:
        invitation = services.invitation_for(authz.current_membership(), invitation_id)
    except NotFound:
        abort(404)
    errors: dict[str, Any] = {}
    typed: dict[str, list[str]] = {}
    if request.method == "POST":
        typed = {item["key"]: request.form.getlist(f"q-{item['key']}")
                 for item in invitation.survey.items}
        try:
            services.answer(invitation=invitation, raw=dict(typed))
        except DomainError as exc:
            db.session.rollback()
            errors = dict(exc.fields) or {"": exc.message}
        else:
            db.session.commit()
            flash(_("Thank you: your answers are recorded."), "success")
            return redirect(url_for("reports.dashboard"))
    return render_template("courses/survey_answer.html", invitation=invitation,
                           survey=invitation.survey, errors=errors, typed=typed,
                           likert=LIKERT_LABELS, **page_context()), 422 if errors else 200


@bp.get("/programs/<int:program_id>/surveys")
@authz.role_required(*authz.STAFF_ROLES)
def program_surveys(program_id: int) -> Any:
    """The surveys a program sends, and when."""
    program = program_or_404(program_id)
    return render_template("courses/program_surveys.html", program=program,
                           rules=queries.rules(program),
                           surveys=surveys_of(authz.current_organization().id),
                           triggers=TRIGGERS, trigger_labels=TRIGGER_LABELS,
                           survey_kinds=KIND_LABELS, errors={}, typed={}, **page_context())


@bp.post("/programs/<int:program_id>/surveys")
@authz.role_required(*authz.STAFF_ROLES)
def add_survey_rule(program_id: int) -> Any:
    """Add a rule sending a survey to the program's learners."""
    program = program_or_404(program_id)
    form = request.form
    days = form_int(form.get("days") or "0")
    try:
        services.add_rule(program=program, survey_id=form_int(form.get("survey_id")),
                          trigger=form.get("trigger"),
                          module_id=form_int(form.get("module_id")) if form.get("module_id")
                          else None, days=days if days is not None else -1)
    except DomainError as exc:
        db.session.rollback()
        return render_template(
            "courses/program_surveys.html", program=program, rules=queries.rules(program),
            surveys=surveys_of(authz.current_organization().id), triggers=TRIGGERS,
            trigger_labels=TRIGGER_LABELS, survey_kinds=KIND_LABELS, errors=exc.fields,
            typed=form, **page_context()), 422
    db.session.commit()
    flash(_("The survey rule is added. The periodic work sends the surveys when they are due."),
          "success")
    return redirect(url_for("courses.program_surveys", program_id=program.id))


@bp.post("/programs/<int:program_id>/surveys/<int:rule_id>/delete")
@authz.role_required(*authz.STAFF_ROLES)
def delete_survey_rule(program_id: int, rule_id: int) -> Any:
    """Stop sending a survey (answers already given stay)."""
    program = program_or_404(program_id)
    rule = get_or_404(SurveyRule, rule_id, outside=lambda r: r.program_id != program.id)
    committed(lambda: services.delete_rule(rule), _("The survey rule is deleted."))
    return redirect(url_for("courses.program_surveys", program_id=program.id))


@bp.get("/surveys")
@authz.role_required(*authz.MANAGER_ROLES)
def survey_overview() -> Any:
    """Every survey sent, per cohort: how many were asked and answered."""
    return render_template("courses/surveys.html",
                           groups=queries.groups(authz.current_organization().id),
                           survey_kinds=KIND_LABELS, minimum=min_answers(), **page_context())


def _results(survey_id: int) -> tuple[Survey, Cohort | None, int | None, Results]:
    """The survey and its results for the ``cohort`` or ``program`` the query string names
    (404 for another organization's).
    """
    survey = get_or_404(Survey, survey_id, outside=lambda s: s.organization_id not in (
        None, authz.current_organization().id))
    cohort_id = form_int(request.args.get("cohort"))
    cohort = authz.get_in_org_or_404(Cohort, cohort_id) if cohort_id is not None else None
    program_id = cohort.program_id if cohort is not None else form_int(request.args.get("program"))
    results = queries.results(survey, organization_id=authz.current_organization().id,
                              program_id=program_id,
                              cohort_id=cohort.id if cohort is not None else None)
    return survey, cohort, program_id, results


@bp.get("/surveys/<int:survey_id>/results")
@authz.role_required(*authz.MANAGER_ROLES)
def survey_results(survey_id: int) -> Any:
    """A survey's results, for a cohort or a program, from the minimum number of answers."""
    survey, cohort, program_id, results = _results(survey_id)
    return render_template("courses/survey_results.html", survey=survey, cohort=cohort,
                           program_id=program_id, results=results, survey_kinds=KIND_LABELS,
                           **page_context())


@bp.get("/surveys/<int:survey_id>/results.csv")
@authz.role_required(*authz.MANAGER_ROLES)
def survey_results_csv(survey_id: int) -> Any:
    """The results as CSV (formula-safe); empty below the minimum number of answers."""
    survey, cohort, _program_id, results = _results(survey_id)
    header = [_("item"), _("question"), _("type"), _("value"), _("answer"), _("count"),
              _("mean")]
    name = f"survey-{survey.key}" + (f"-cohort-{cohort.id}" if cohort else "") + ".csv"
    return csvexport.download(name, header, csv_rows(results, current_language()))
