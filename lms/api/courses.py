"""Blended programs over the API: programs, cohorts, enrolments and progress, session sign-in
sheets and manager approvals.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_babel import lazy_gettext as _l

from lms.accounts.authz import MANAGER_ROLES, STAFF_ROLES
from lms.accounts.models import Membership
from lms.api.base import body_date, bp, in_org, json_body, org_member, paged
from lms.api.openapi import (
    ORG,
    PAGING,
    PATHS,
    SCHEMAS,
    errors,
    page_of,
    path_param,
    ref,
    returns,
)
from lms.core.errors import BadRequest, NotFound, ValidationFailed
from lms.courses.cohorts import services as cohort_services
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.cohorts.queries import cohorts, enrollments_by_name, progress_by_module
from lms.courses.cohorts.services import enrol
from lms.courses.programs.models import Program
from lms.courses.programs.queries import programs
from lms.courses.sessions import approvals, sign_in_sheet
from lms.courses.sessions.models import SessionRegistration, TrainingSession
from lms.extensions import db


def module_json(m: Any) -> dict[str, Any]:
    """A module as listed in its program."""
    return {"id": m.id, "key": m.key, "position": m.position, "kind": m.kind, "title": m.title,
            "description": m.description, "required": m.required,
            "duration_minutes": m.duration_minutes, "competencies": m.competencies,
            "prerequisites": m.prerequisites, "completion": m.completion,
            "lessons": len(m.lessons), "quizzes": len(m.quizzes),
            # Exercise settings (instructions, evidence, due_days, rubric, afest,
            # verification), None for other kinds.
            "exercise": m.exercise}


def program_json(p: Program, *, modules: bool = False) -> dict[str, Any]:
    """A program; with its modules when asked."""
    out: dict[str, Any] = {"id": p.id, "slug": p.slug, "source_slug": p.source_slug,
                           "version": p.version, "language": p.language, "title": p.title,
                           "description": p.description,
                           "approval_required": p.approval_required}
    if modules:
        out["modules"] = [module_json(m) for m in p.modules]
    return out


def cohort_json(c: Cohort) -> dict[str, Any]:
    """A cohort."""
    return {"id": c.id, "program_id": c.program_id, "name": c.name, "pilot": c.pilot,
            "starts_on": c.starts_on.isoformat() if c.starts_on else None,
            "ends_on": c.ends_on.isoformat() if c.ends_on else None,
            "trainer_ids": [t.id for t in c.trainers]}


def enrollment_json(e: Enrollment) -> dict[str, Any]:
    """An enrolment; its id is the xAPI registration of the learner's statements."""
    return {"id": e.id, "cohort_id": e.cohort_id, "member_id": e.membership_id,
            "status": e.status, "enrolled_at": e.enrolled_at.isoformat(),
            "completed_at": e.completed_at.isoformat() if e.completed_at else None}


def cohort_in_org(membership: Membership, cohort_id: int) -> Cohort:
    """A cohort of the caller's organization.

    :raise NotFound: no such cohort there.
    """
    return in_org(membership, Cohort, cohort_id, _l("No such cohort."))


@bp.get("/orgs/<org_slug>/programs")
@org_member(*MANAGER_ROLES)
def list_programs(membership: Membership) -> Any:
    """The organization's programs."""
    return {"items": [program_json(p) for p in programs(membership.organization_id)]}


@bp.get("/orgs/<org_slug>/programs/<int:program_id>")
@org_member(*MANAGER_ROLES)
def get_program(membership: Membership, program_id: int) -> Any:
    """One program with its modules in order."""
    program = in_org(membership, Program, program_id, _l("No such program."))
    return program_json(program, modules=True)


@bp.get("/orgs/<org_slug>/cohorts")
@org_member(*MANAGER_ROLES)
def list_cohorts(membership: Membership) -> Any:
    """The organization's cohorts."""
    return {"items": [cohort_json(c) for c in cohorts(membership.organization_id)]}


@bp.post("/orgs/<org_slug>/cohorts")
@org_member(*STAFF_ROLES)
def create_cohort(membership: Membership) -> Any:
    """Open a cohort of one of the organization's programs."""
    body = json_body()
    program_id = body.get("program_id")
    if not isinstance(program_id, int):
        raise ValidationFailed(_l("program_id is required."),
                               fields={"program_id": _l("An integer.")})
    program = in_org(membership, Program, program_id, _l("No such program."))
    cohort = cohort_services.create_cohort(program=program, name=str(body.get("name") or ""),
                                           starts_on=body_date(body, "starts_on"),
                                           ends_on=body_date(body, "ends_on"),
                                           pilot=bool(body.get("pilot", False)))
    db.session.commit()
    return cohort_json(cohort), 201


@bp.get("/orgs/<org_slug>/cohorts/<int:cohort_id>/enrolments")
@org_member(*MANAGER_ROLES)
def list_enrolments(membership: Membership, cohort_id: int) -> Any:
    """A cohort's enrolments by learner name, a page at a time (``page``, ``per_page``)."""
    cohort = cohort_in_org(membership, cohort_id)
    return paged(enrollments_by_name(cohort.id), enrollment_json)


@bp.post("/orgs/<org_slug>/cohorts/<int:cohort_id>/enrolments")
@org_member(*STAFF_ROLES)
def create_enrolment(membership: Membership, cohort_id: int) -> Any:
    """Enrol a learner (``{"member_id": …}``); records the xAPI "registered" statement."""
    cohort = cohort_in_org(membership, cohort_id)
    member_id = json_body().get("member_id")
    member = db.session.get(Membership, member_id) if isinstance(member_id, int) else None
    if member is None or member.organization_id != membership.organization_id:
        raise ValidationFailed(_l("No such member."), fields={"member_id": _l("No such member.")})
    enrollment = enrol(cohort=cohort, membership=member)
    db.session.commit()
    return enrollment_json(enrollment), 201


@bp.get("/orgs/<org_slug>/enrolments/<enrollment_id>/progress")
@org_member()
def get_progress(membership: Membership, enrollment_id: str) -> Any:
    """Module states of one enrolment (its learner; trainers, HR and admins)."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.organization_id != membership.organization_id or (
            enrollment.membership_id != membership.id and membership.role not in MANAGER_ROLES):
        raise NotFound(_l("No such enrolment."))
    return {**enrollment_json(enrollment), "modules": modules_progress(enrollment)}


def modules_progress(enrollment: Enrollment) -> list[dict[str, Any]]:
    """The state of each module of the enrolment's program, in order."""
    progress = progress_by_module(enrollment.id)
    modules = []
    for m in enrollment.cohort.program.modules:
        p = progress.get(m.id)
        modules.append({"module_id": m.id, "key": m.key, "state": p.state if p else
                        "not_started", "score": p.score if p else None,
                        "percent": p.percent if p else 0,
                        "updated_at": p.updated_at.isoformat() if p else None})
    return modules


# --- OpenAPI ---------------------------------------------------------------------------------

SCHEMAS.update({
    "Program": {"type": "object", "properties": {
        "id": {"type": "integer"}, "slug": {"type": "string"},
        "source_slug": {"type": ["string", "null"]}, "version": {"type": "integer"},
        "language": {"type": "string"}, "title": {"type": "object"},
        "description": {"type": "object"},
        "approval_required": {"type": "boolean", "description": "registrations to its "
                               "sessions wait for the learner's manager"},
        "modules": {"type": "array", "items": {"type": "object"}}}},
    "Cohort": {"type": "object", "properties": {
        "id": {"type": "integer"}, "program_id": {"type": "integer"}, "name": {"type": "string"},
        "pilot": {"type": "boolean"}, "starts_on": {"type": ["string", "null"]},
        "ends_on": {"type": ["string", "null"]},
        "trainer_ids": {"type": "array", "items": {"type": "integer"}}}},
    "Enrolment": {"type": "object", "properties": {
        "id": {"type": "string", "description": "UUID; the xAPI registration"},
        "cohort_id": {"type": "integer"}, "member_id": {"type": "integer"},
        "status": {"type": "string", "enum": ["invited", "active", "withdrawn", "completed"]},
        "enrolled_at": {"type": "string"}, "completed_at": {"type": ["string", "null"]},
        "modules": {"type": "array", "items": {"type": "object"}}}},
})
PATHS.update({
    "/orgs/{org_slug}/programs": {"get": {
        "operationId": "listPrograms", "summary": "The organization's programs (trainer, HR, "
                                                  "admin)", "parameters": [ORG],
        "responses": {"200": returns({"type": "object"}), **errors(401, 403, 404)}}},
    "/orgs/{org_slug}/programs/{program_id}": {"get": {
        "operationId": "getProgram", "summary": "A program with its modules in order",
        "parameters": [ORG, path_param("program_id")],
        "responses": {"200": returns(ref("Program")), **errors(401, 403, 404)}}},
    "/orgs/{org_slug}/cohorts": {
        "get": {"operationId": "listCohorts", "summary": "The organization's cohorts",
                "parameters": [ORG],
                "responses": {"200": returns({"type": "object"}), **errors(401, 403, 404)}},
        "post": {"operationId": "createCohort",
                 "summary": "Open a cohort (trainer, admin): {program_id, name, starts_on?, "
                            "ends_on?, pilot?}", "parameters": [ORG],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["program_id", "name"]}}}},
                 "responses": {"201": returns(ref("Cohort")),
                               **errors(400, 401, 403, 404, 422)}}},
    "/orgs/{org_slug}/cohorts/{cohort_id}/enrolments": {
        "get": {"operationId": "listEnrolments",
                "summary": "A cohort's enrolments by learner name, a page at a time",
                "parameters": [ORG, path_param("cohort_id"), *PAGING],
                "responses": {"200": returns(page_of(ref("Enrolment"))),
                              **errors(400, 401, 403, 404)}},
        "post": {"operationId": "createEnrolment",
                 "summary": "Enrol a learner: {member_id} (records xAPI \"registered\")",
                 "parameters": [ORG, path_param("cohort_id")],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["member_id"]}}}},
                 "responses": {"201": returns(ref("Enrolment")),
                               **errors(400, 401, 403, 404, 409, 422)}}},
    "/orgs/{org_slug}/enrolments/{enrollment_id}/progress": {"get": {
        "operationId": "getEnrolmentProgress",
        "summary": "Module states of an enrolment (its learner; trainers, HR, admins)",
        "parameters": [ORG, path_param("enrollment_id", "string")],
        "responses": {"200": returns(ref("Enrolment")), **errors(401, 404)}}},
})


# --- sessions: sign-in sheet, approvals --------------------------------------------------------


def approval_json(r: SessionRegistration) -> dict[str, Any]:
    """A registration waiting for (or given) a manager's decision."""
    s = r.session
    learner = r.enrollment.membership
    return {"id": r.id, "status": r.status, "session_id": s.id, "module_id": s.module_id,
            "program_id": s.cohort.program_id, "cohort_id": s.cohort_id,
            "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(),
            "place": s.place, "member_id": learner.id, "enrollment_id": r.enrollment_id,
            "learner": learner.user.display_name, "requested_at": r.created_at.isoformat(),
            "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "decided_by": r.decided_by.display_name if r.decided_by else None,
            "decline_reason": r.decline_reason}


@bp.get("/orgs/<org_slug>/sessions/<int:session_id>/sign-in-sheet.pdf")
@org_member(*MANAGER_ROLES)
def get_sign_in_sheet(membership: Membership, session_id: int) -> Any:
    """The session's printable sign-in sheet (PDF)."""
    found = in_org(membership, TrainingSession, session_id, _l("No such session."))
    return Response(sign_in_sheet.render_pdf(found), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{sign_in_sheet.filename(found)}"'})


@bp.get("/orgs/<org_slug>/approvals")
@org_member()
def list_approvals(membership: Membership) -> Any:
    """Requests the caller may decide (as manager, HR or admin): pending, or ``?status=decided``."""
    status = request.args.get("status", "pending")
    if status not in ("pending", "decided"):
        raise BadRequest(_l("Unknown status."), fields={"status": _l("pending or decided")})
    return paged(approvals.requests_for(membership, pending=status == "pending"), approval_json)


@bp.post("/orgs/<org_slug>/approvals/<int:registration_id>")
@org_member()
def decide_approval(membership: Membership, registration_id: int) -> Any:
    """Approve (``{"decision": "approve"}``) or decline (with a ``reason``) one request."""
    body = json_body()
    registration = approvals.get_for(membership, registration_id)
    decision = body.get("decision")
    if decision == "approve":
        approvals.approve(registration=registration, by=membership)
    elif decision == "decline":
        reason = body.get("reason")
        approvals.decline(registration=registration, by=membership,
                          reason=reason if isinstance(reason, str) else "")
    else:
        raise ValidationFailed(_l("Say approve or decline."),
                               fields={"decision": _l("approve or decline")})
    db.session.commit()
    approvals.notify_decided(registration)
    return approval_json(registration)


SCHEMAS["Approval"] = {"type": "object", "properties": {
    "id": {"type": "integer", "description": "the registration id"},
    "status": {"type": "string", "enum": ["pending_approval", "registered", "waitlisted",
                                          "declined"]},
    "session_id": {"type": "integer"}, "module_id": {"type": "integer"},
    "program_id": {"type": "integer"}, "cohort_id": {"type": "integer"},
    "starts_at": {"type": "string"}, "ends_at": {"type": "string"},
    "place": {"type": ["string", "null"]}, "member_id": {"type": "integer"},
    "enrollment_id": {"type": "string"}, "learner": {"type": "string"},
    "requested_at": {"type": "string"}, "decided_at": {"type": ["string", "null"]},
    "decided_by": {"type": ["string", "null"]}, "decline_reason": {"type": ["string", "null"]}}}
PATHS.update({
    "/orgs/{org_slug}/sessions/{session_id}/sign-in-sheet.pdf": {"get": {
        "operationId": "getSignInSheet",
        "summary": "The session's printable sign-in sheet (trainer, HR, admin)",
        "parameters": [ORG, path_param("session_id")],
        "responses": {"200": {"description": "the PDF", "content": {"application/pdf": {
            "schema": {"type": "string", "format": "binary"}}}}, **errors(401, 403, 404)}}},
    "/orgs/{org_slug}/approvals": {"get": {
        "operationId": "listApprovals",
        "summary": "Session registrations the caller may approve (their reports as manager; "
                   "everyone's for HR and admins)",
        "parameters": [ORG, {"name": "status", "in": "query", "schema": {
            "type": "string", "enum": ["pending", "decided"], "default": "pending"}},
            *PAGING],
        "responses": {"200": returns({"type": "object", "properties": {
            "items": {"type": "array", "items": ref("Approval")},
            "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "total": {"type": "integer"}}}), **errors(400, 401, 404)}}},
    "/orgs/{org_slug}/approvals/{registration_id}": {"post": {
        "operationId": "decideApproval",
        "summary": "Approve or decline a request: {decision: approve|decline, reason?} "
                   "(approval gives a seat or the waiting list)",
        "parameters": [ORG, path_param("registration_id")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["decision"], "properties": {
                "decision": {"type": "string", "enum": ["approve", "decline"]},
                "reason": {"type": "string", "maxLength": 500,
                           "description": "required to decline; shown to the learner"}}}}}},
        "responses": {"200": returns(ref("Approval")), **errors(400, 401, 404, 409, 422)}}},
})
