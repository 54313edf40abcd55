"""Surveys over the API: the surveys offered, rules on programs, a person's invitations and
answers, results per cohort or program; and the results to share.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from lms.accounts.authz import MANAGER_ROLES, STAFF_ROLES
from lms.accounts.models import Membership
from lms.advocacy.models import Campaign
from lms.api.base import body_int, body_text, bp, in_org, json_body, org_member
from lms.api.openapi import ORG, PATHS, SCHEMAS, errors, path_param, ref, returns
from lms.assessments.models import Survey
from lms.assessments.surveys import Results, csv_rows, visible_surveys
from lms.core.errors import BadRequest, NotFound, ValidationFailed
from lms.core.web import form_date
from lms.courses.cohorts.models import Cohort
from lms.courses.programs.models import Program
from lms.courses.surveys import queries, services
from lms.courses.surveys.models import SurveyInvitation, SurveyRule
from lms.extensions import db
from lms.reports import sharing


def survey_json(s: Survey) -> dict[str, Any]:
    """A survey with its items."""
    return {"id": s.id, "key": s.key, "kind": s.kind, "anonymous": s.anonymous,
            "built_in": s.organization_id is None, "title": s.title,
            "description": s.description, "items": s.items}


def rule_json(r: SurveyRule) -> dict[str, Any]:
    """A survey rule of a program."""
    return {"id": r.id, "program_id": r.program_id, "survey_id": r.survey_id,
            "trigger": r.trigger, "module_id": r.module_id, "days": r.days}


def invitation_json(i: SurveyInvitation) -> dict[str, Any]:
    """An invitation to answer a survey."""
    return {"id": i.id, "survey": survey_json(i.survey), "cohort_id": i.cohort_id,
            "module_id": i.module_id, "session_id": i.session_id,
            "created_at": i.created_at.isoformat(),
            "answered_at": i.answered_at.isoformat() if i.answered_at else None}


def results_json(results: Results) -> dict[str, Any]:
    """Results: counts per answer and means, none below the minimum."""
    return {"answers": results.answers, "minimum": results.minimum, "shown": results.shown,
            "items": [{"key": r.item["key"], "type": r.item["type"], "answered": r.answered,
                       "mean": round(r.mean, 2) if r.mean is not None else None,
                       "counts": [{"value": v, "count": n} for v, _label, n in r.counts],
                       "texts": list(r.texts)} for r in results.items]}


def _query_int(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise BadRequest(_l("Invalid filter."), fields={name: _l("integer expected")})
    return int(raw)


@bp.get("/orgs/<org_slug>/surveys")
@org_member(*MANAGER_ROLES)
def list_surveys(membership: Membership) -> Any:
    """The built-in survey templates and the organization's own."""
    return {"items": [survey_json(s) for s in visible_surveys(membership.organization_id)]}


@bp.get("/orgs/<org_slug>/programs/<int:program_id>/survey-rules")
@org_member(*STAFF_ROLES)
def list_survey_rules(membership: Membership, program_id: int) -> Any:
    """The surveys a program sends, and when."""
    program = in_org(membership, Program, program_id, _l("No such program."))
    return {"items": [rule_json(r) for r in queries.rules(program)]}


@bp.post("/orgs/<org_slug>/programs/<int:program_id>/survey-rules")
@org_member(*STAFF_ROLES)
def create_survey_rule(membership: Membership, program_id: int) -> Any:
    """Add a rule sending a survey to the program's learners."""
    program = in_org(membership, Program, program_id, _l("No such program."))
    body = json_body()
    days = body.get("days", 0)
    rule = services.add_rule(program=program, survey_id=body_int(body, "survey_id"),
                             trigger=body_text(body, "trigger"),
                             module_id=body_int(body, "module_id"), days=days)
    db.session.commit()
    return rule_json(rule), 201


@bp.delete("/orgs/<org_slug>/survey-rules/<int:rule_id>")
@org_member(*STAFF_ROLES)
def delete_survey_rule(membership: Membership, rule_id: int) -> Any:
    """Stop sending a survey (answers already given stay)."""
    rule = in_org(membership, SurveyRule, rule_id, _l("No such survey rule."))
    services.delete_rule(rule)
    db.session.commit()
    return "", 204


@bp.get("/orgs/<org_slug>/survey-invitations")
@org_member()
def list_survey_invitations(membership: Membership) -> Any:
    """The surveys waiting for the caller's answer."""
    return {"items": [invitation_json(i) for i in queries.open_invitations(membership)]}


@bp.post("/orgs/<org_slug>/survey-invitations/<int:invitation_id>/answers")
@org_member()
def answer_survey(membership: Membership, invitation_id: int) -> Any:
    """Answer a survey the caller was invited to (once)."""
    invitation = services.invitation_for(membership, invitation_id)
    answers = json_body().get("answers")
    if not isinstance(answers, dict):
        raise ValidationFailed(_l("Some answers are missing or not valid."),
                               fields={"answers": _l("An object: item key → answer.")})
    services.answer(invitation=invitation, raw=answers)
    db.session.commit()
    return invitation_json(invitation), 201


@bp.get("/orgs/<org_slug>/surveys/<int:survey_id>/results")
@org_member(*MANAGER_ROLES)
def survey_results(membership: Membership, survey_id: int) -> Any:
    """A survey's results in the organization, per cohort or program."""
    survey = db.session.get(Survey, survey_id)
    if survey is None or survey.organization_id not in (None, membership.organization_id):
        raise NotFound(_l("No such survey."))
    cohort_id, program_id = _query_int("cohort"), _query_int("program")
    if cohort_id is not None:
        program_id = in_org(membership, Cohort, cohort_id, _l("No such cohort.")).program_id
    results = queries.results(survey, organization_id=membership.organization_id,
                              program_id=program_id, cohort_id=cohort_id)
    return {"survey_id": survey.id, "cohort_id": cohort_id, "program_id": program_id,
            **results_json(results), "csv_rows": csv_rows(results, "en")}


@bp.get("/orgs/<org_slug>/results-to-share")
@org_member(*MANAGER_ROLES)
def results_to_share(membership: Membership) -> Any:
    """The results to share of a cohort, a campaign or a period (the last 90 days)."""
    cohort_id, campaign_id = _query_int("cohort"), _query_int("campaign")
    if cohort_id is not None:
        sheet = sharing.for_cohort(in_org(membership, Cohort, cohort_id, _l("No such cohort.")))
    elif campaign_id is not None:
        sheet = sharing.for_campaign(
            in_org(membership, Campaign, campaign_id, _l("No such campaign.")))
    else:
        days = {}
        for name in ("since", "until"):
            raw = request.args.get(name)
            days[name] = form_date(raw)
            if raw and days[name] is None:
                raise BadRequest(_l("Invalid filter."), fields={name: _l("YYYY-MM-DD expected")})
        sheet = sharing.for_period(membership.organization, days["since"], days["until"])
    return sharing.as_dict(sheet)


SCHEMAS.update({
    "Survey": {"type": "object", "properties": {
        "id": {"type": "integer"}, "key": {"type": "string"},
        "kind": {"type": "string", "enum": ["satisfaction", "followup", "readiness"]},
        "anonymous": {"type": "boolean"}, "built_in": {"type": "boolean"},
        "title": {"type": "object"}, "description": {"type": ["object", "null"]},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "key": {"type": "string"},
            "type": {"type": "string", "enum": ["likert", "single", "multiple", "text"]},
            "text": {"type": "object"}, "options": {"type": "array"},
            "required": {"type": "boolean"}}}}}},
    "SurveyRule": {"type": "object", "properties": {
        "id": {"type": "integer"}, "program_id": {"type": "integer"},
        "survey_id": {"type": "integer"},
        "trigger": {"type": "string", "enum": ["after_session", "after_module", "before_start"]},
        "module_id": {"type": ["integer", "null"]}, "days": {"type": "integer"}}},
    "SurveyInvitation": {"type": "object", "properties": {
        "id": {"type": "integer"}, "survey": ref("Survey"), "cohort_id": {"type": "integer"},
        "module_id": {"type": ["integer", "null"]}, "session_id": {"type": ["integer", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "answered_at": {"type": ["string", "null"], "format": "date-time"}}},
})

_QUERY_INT = [{"name": n, "in": "query", "schema": {"type": "integer"}}
              for n in ("cohort", "program")]
PATHS.update({
    "/orgs/{org_slug}/surveys": {"get": {
        "operationId": "listSurveys", "summary": "Survey templates and the organization's "
                                                 "surveys (trainer, HR, admin)",
        "parameters": [ORG],
        "responses": {"200": returns({"type": "object", "properties": {
            "items": {"type": "array", "items": ref("Survey")}}}), **errors(401, 403, 404)}}},
    "/orgs/{org_slug}/programs/{program_id}/survey-rules": {
        "get": {"operationId": "listSurveyRules",
                "summary": "The surveys a program sends (trainer, admin)",
                "parameters": [ORG, path_param("program_id")],
                "responses": {"200": returns({"type": "object", "properties": {
                    "items": {"type": "array", "items": ref("SurveyRule")}}}),
                    **errors(401, 403, 404)}},
        "post": {"operationId": "createSurveyRule",
                 "summary": "Send a survey after each session attended, some days after a "
                            "module is completed, or before the cohort starts (trainer, admin)",
                 "parameters": [ORG, path_param("program_id")],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["survey_id", "trigger"], "properties": {
                         "survey_id": {"type": "integer"},
                         "trigger": {"type": "string", "enum": ["after_session", "after_module",
                                                                "before_start"]},
                         "module_id": {"type": ["integer", "null"]},
                         "days": {"type": "integer", "minimum": 0, "maximum": 365}}}}}},
                 "responses": {"201": returns(ref("SurveyRule"), "created"),
                               **errors(400, 401, 403, 404, 422)}}},
    "/orgs/{org_slug}/survey-rules/{rule_id}": {"delete": {
        "operationId": "deleteSurveyRule", "summary": "Stop sending a survey (trainer, admin)",
        "parameters": [ORG, path_param("rule_id")],
        "responses": {"204": {"description": "deleted"}, **errors(401, 403, 404)}}},
    "/orgs/{org_slug}/survey-invitations": {"get": {
        "operationId": "listSurveyInvitations",
        "summary": "The surveys waiting for the caller's answer",
        "parameters": [ORG],
        "responses": {"200": returns({"type": "object", "properties": {
            "items": {"type": "array", "items": ref("SurveyInvitation")}}}),
            **errors(401, 404)}}},
    "/orgs/{org_slug}/survey-invitations/{invitation_id}/answers": {"post": {
        "operationId": "answerSurvey",
        "summary": "Answer a survey once: Likert items 1-5, an option key, a list of option "
                   "keys, or a text",
        "parameters": [ORG, path_param("invitation_id")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["answers"],
            "properties": {"answers": {"type": "object"}}}}}},
        "responses": {"201": returns(ref("SurveyInvitation"), "answered"),
                      **errors(400, 401, 404, 409, 422)}}},
    "/orgs/{org_slug}/surveys/{survey_id}/results": {"get": {
        "operationId": "getSurveyResults",
        "summary": "A survey's results per cohort or program, only from the minimum number "
                   "of answers (trainer, HR, admin)",
        "parameters": [ORG, path_param("survey_id"), *_QUERY_INT],
        "responses": {"200": returns({"type": "object"}), **errors(400, 401, 403, 404)}}},
    "/orgs/{org_slug}/results-to-share": {"get": {
        "operationId": "getResultsToShare",
        "summary": "Headline figures, best content, people who agreed to be named and what "
                   "changed, for a cohort, a campaign or a period (trainer, HR, admin)",
        "parameters": [ORG, *[{"name": n, "in": "query", "schema": {"type": "integer"}}
                              for n in ("cohort", "campaign")],
                       *[{"name": n, "in": "query", "schema": {"type": "string",
                                                               "format": "date"}}
                         for n in ("since", "until")]],
        "responses": {"200": returns({"type": "object"}), **errors(400, 401, 403, 404, 422)}}},
})
