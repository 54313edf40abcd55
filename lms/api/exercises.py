"""On-the-job exercises over the API: a learner's own hand-ins, the review queue, reviews."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from lms.accounts.authz import STAFF_ROLES
from lms.accounts.models import Membership, Role
from lms.api.base import bp, json_body, org_member, page_args
from lms.api.openapi import ORG, PAGING, PATHS, SCHEMAS, errors, ref, returns
from lms.api.query import query_value
from lms.core.errors import BadRequest, NotFound, ValidationFailed
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.exercises.models import ExerciseReview, ExerciseSubmission
from lms.courses.exercises.queries import queue_query
from lms.courses.exercises.services import review_submission, submit_evidence
from lms.courses.programs.models import Module
from lms.extensions import db


def review_json(r: ExerciseReview) -> dict[str, Any]:
    """A review of a hand-in."""
    return {"id": r.id, "decision": r.decision, "comment": r.comment, "rubric": r.rubric,
            "reviewer_id": r.reviewer_id, "created_at": r.created_at.isoformat()}


def submission_json(s: ExerciseSubmission) -> dict[str, Any]:
    """A hand-in (or an automatic verification) with its reviews."""
    return {"id": s.id, "enrollment_id": s.enrollment_id, "module_id": s.module_id,
            "member_id": s.enrollment.membership_id, "attempt": s.attempt, "status": s.status,
            "post_url": s.post_url, "reflection": s.reflection,
            "has_screenshot": bool(s.screenshot_path), "verification": s.verification,
            "submitted_at": s.submitted_at.isoformat(),
            "decided_at": s.decided_at.isoformat() if s.decided_at else None,
            "reviews": [review_json(r) for r in s.reviews]}


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(_l("Invalid field."), fields={name: _l("A string.")})
    return value


@bp.get("/orgs/<org_slug>/exercises/submissions")
@org_member()
def list_exercise_submissions(membership: Membership) -> Any:
    """The caller's own hand-ins, newest first (``?module_id=`` to narrow)."""
    mine = db.session.scalars(db.select(Enrollment.id).where(
        Enrollment.membership_id == membership.id)).all()
    stmt = db.select(ExerciseSubmission).where(ExerciseSubmission.enrollment_id.in_(mine))
    module_id = request.args.get("module_id")
    if module_id is not None:
        if not module_id.isdigit():
            raise BadRequest(_l("module_id must be an integer."),
                             fields={"module_id": _l("integer")})
        stmt = stmt.where(ExerciseSubmission.module_id == int(module_id))
    items = db.session.scalars(stmt.order_by(ExerciseSubmission.id.desc()))
    return {"items": [submission_json(s) for s in items]}


@bp.post("/orgs/<org_slug>/exercises/submissions")
@org_member(Role.LEARNER)
def create_exercise_submission(membership: Membership) -> Any:
    """Hand in evidence: ``{enrollment_id, module_id, post_url?, reflection?, screenshot?}``
    (the screenshot as base64); records the xAPI "submitted" statement.
    """
    body = json_body()
    enrollment = db.session.get(Enrollment, str(body.get("enrollment_id") or ""))
    if enrollment is None or enrollment.membership_id != membership.id:
        raise NotFound(_l("No such enrolment of yours."))
    module_id = body.get("module_id")
    module = db.session.get(Module, module_id) if isinstance(module_id, int) else None
    if module is None:
        raise NotFound(_l("No such exercise in your program."))
    raw = _text(body, "screenshot")
    try:
        screenshot = base64.b64decode(raw, validate=True) if raw else None
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed(_l("Invalid screenshot."),
                               fields={"screenshot": _l("Base64-encoded image bytes.")}) from exc
    submission = submit_evidence(enrollment=enrollment, module=module,
                                 post_url=_text(body, "post_url"),
                                 reflection=_text(body, "reflection"),
                                 screenshot=screenshot)
    db.session.commit()
    return submission_json(submission), 201


@bp.get("/orgs/<org_slug>/exercises/reviews")
@org_member(*STAFF_ROLES)
def list_exercises_to_review(membership: Membership) -> Any:
    """Hand-ins awaiting review, oldest first (``?cohort_id=``, ``?mine=true`` for the
    cohorts one trains, ``page``, ``per_page``).
    """
    page, per_page = page_args(default_size=50, max_size=200)
    cohort_id = request.args.get("cohort_id")
    if cohort_id is not None:
        cohort = db.session.get(Cohort, int(cohort_id)) if cohort_id.isdigit() else None
        if cohort is None or cohort.organization_id != membership.organization_id:
            raise NotFound(_l("No such cohort."))
    trainer = membership if query_value("mine", False) else None
    pagination = db.paginate(queue_query(
        membership.organization_id, trainer=trainer,
        cohort_id=int(cohort_id) if cohort_id else None),
        page=page, per_page=per_page, error_out=False)
    return {"items": [submission_json(s) for s in pagination.items], "page": page,
            "per_page": per_page, "total": pagination.total}


@bp.post("/orgs/<org_slug>/exercises/submissions/<int:submission_id>/reviews")
@org_member(*STAFF_ROLES)
def create_exercise_review(membership: Membership, submission_id: int) -> Any:
    """Review a hand-in: ``{decision: approved|changes_requested, comment, rubric}``; an
    approval completes the module (xAPI "reviewed" and "completed").
    """
    submission = db.session.get(ExerciseSubmission, submission_id)
    if submission is None or submission.organization_id != membership.organization_id:
        raise NotFound(_l("No such hand-in."))
    body = json_body()
    rubric = body.get("rubric") or {}
    if not isinstance(rubric, dict) or not all(isinstance(v, str) for v in rubric.values()):
        raise ValidationFailed(_l("Invalid rubric."),
                               fields={"rubric": _l("An object of criterion key → level.")})
    review = review_submission(submission=submission, reviewer=membership,
                               decision=str(body.get("decision") or ""),
                               comment=_text(body, "comment") or "", rubric=rubric)
    db.session.commit()
    return review_json(review), 201


# --- OpenAPI ---------------------------------------------------------------------------------

_REF = ref("ExerciseSubmission")

SCHEMAS.update({
    "ExerciseSubmission": {"type": "object", "properties": {
        "id": {"type": "integer"}, "enrollment_id": {"type": "string"},
        "module_id": {"type": "integer"}, "member_id": {"type": "integer"},
        "attempt": {"type": "integer"},
        "status": {"type": "string",
                   "enum": ["submitted", "changes_requested", "approved", "verified"]},
        "post_url": {"type": ["string", "null"]}, "reflection": {"type": ["string", "null"]},
        "has_screenshot": {"type": "boolean"}, "verification": {"type": ["object", "null"]},
        "submitted_at": {"type": "string"}, "decided_at": {"type": ["string", "null"]},
        "reviews": {"type": "array", "items": {"$ref": "#/components/schemas/ExerciseReview"}}}},
    "ExerciseReview": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "decision": {"type": "string", "enum": ["approved", "changes_requested"]},
        "comment": {"type": "string"},
        "rubric": {"type": "object", "additionalProperties": {
            "type": "string", "enum": ["met", "partly", "not_met"]}},
        "reviewer_id": {"type": ["integer", "null"]}, "created_at": {"type": "string"}}},
})
PATHS.update({
    "/orgs/{org_slug}/exercises/submissions": {
        "get": {"operationId": "listExerciseSubmissions",
                "summary": "The caller's own exercise hand-ins, newest first",
                "parameters": [ORG, {"name": "module_id", "in": "query",
                                      "schema": {"type": "integer"}}],
                "responses": {"200": returns({"type": "object", "properties": {
                    "items": {"type": "array", "items": _REF}}}),
                    **errors(400, 401, 404)}},
        "post": {"operationId": "createExerciseSubmission",
                 "summary": "Hand in evidence (learner): {enrollment_id, module_id, post_url?, "
                            "reflection?, screenshot? (base64)}",
                 "parameters": [ORG],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["enrollment_id", "module_id"],
                                "properties": {"enrollment_id": {"type": "string"},
                                               "module_id": {"type": "integer"},
                                               "post_url": {"type": "string"},
                                               "reflection": {"type": "string"},
                                               "screenshot": {"type": "string",
                                                              "format": "byte"}}}}}},
                 "responses": {"201": returns(_REF), **errors(400, 401, 403, 404, 409, 422)}}},
    "/orgs/{org_slug}/exercises/reviews": {"get": {
        "operationId": "listExercisesToReview",
        "summary": "Hand-ins awaiting review, oldest first (trainer, admin)",
        "parameters": [ORG,
                       {"name": "cohort_id", "in": "query", "schema": {"type": "integer"}},
                       {"name": "mine", "in": "query", "schema": {"type": "boolean"},
                        "description": "Only the cohorts the caller trains."},
                       *PAGING],
        "responses": {"200": returns({"type": "object", "properties": {
            "items": {"type": "array", "items": _REF}, "page": {"type": "integer"},
            "per_page": {"type": "integer"}, "total": {"type": "integer"}}}),
            **errors(400, 401, 403, 404)}}},
    "/orgs/{org_slug}/exercises/submissions/{submission_id}/reviews": {"post": {
        "operationId": "createExerciseReview",
        "summary": "Approve a hand-in or ask for changes, against the rubric (trainer, admin)",
        "parameters": [ORG, {"name": "submission_id", "in": "path", "required": True,
                              "schema": {"type": "integer"}}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"type": "object", "required": ["decision"], "properties": {
                "decision": {"type": "string", "enum": ["approved", "changes_requested"]},
                "comment": {"type": "string"},
                "rubric": {"type": "object", "additionalProperties": {"type": "string"}}}}}}},
        "responses": {"201": returns({"$ref": "#/components/schemas/ExerciseReview"}),
                      **errors(400, 401, 403, 404, 409, 422)}}},
})
