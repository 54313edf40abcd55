"""Blended programs over the API: programs, cohorts, enrolments and progress."""

from __future__ import annotations

from datetime import date
from typing import Any

from lms.accounts.authz import MANAGER_ROLES, STAFF_ROLES
from lms.accounts.models import Membership
from lms.api.base import bp, json_body, org_member
from lms.api.openapi import PATHS, SCHEMAS, _errors, _json
from lms.core.errors import NotFound, ValidationFailed
from lms.courses import queries, services
from lms.courses.models import Cohort, Enrollment, Program
from lms.extensions import db


def module_json(m: Any) -> dict[str, Any]:
    """A module as listed in its program."""
    return {"id": m.id, "key": m.key, "position": m.position, "kind": m.kind, "title": m.title,
            "description": m.description, "required": m.required,
            "duration_minutes": m.duration_minutes, "competencies": m.competencies,
            "prerequisites": m.prerequisites, "completion": m.completion,
            "lessons": len(m.lessons), "quizzes": len(m.quizzes)}


def program_json(p: Program, *, modules: bool = False) -> dict[str, Any]:
    """A program; with its modules when asked."""
    out: dict[str, Any] = {"id": p.id, "slug": p.slug, "source_slug": p.source_slug,
                           "version": p.version, "language": p.language, "title": p.title,
                           "description": p.description}
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


def _program(membership: Membership, program_id: int) -> Program:
    program = db.session.get(Program, program_id)
    if program is None or program.organization_id != membership.organization_id:
        raise NotFound("No such program.")
    return program


def _cohort(membership: Membership, cohort_id: int) -> Cohort:
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None or cohort.organization_id != membership.organization_id:
        raise NotFound("No such cohort.")
    return cohort


def _date(body: dict[str, Any], name: str) -> date | None:
    value = body.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationFailed("Invalid date.", fields={name: "Use YYYY-MM-DD."}) from exc


@bp.get("/orgs/<org_slug>/programs")
@org_member(*MANAGER_ROLES)
def list_programs(membership: Membership) -> Any:
    """The organization's programs."""
    return {"items": [program_json(p) for p in queries.programs(membership.organization_id)]}


@bp.get("/orgs/<org_slug>/programs/<int:program_id>")
@org_member(*MANAGER_ROLES)
def get_program(membership: Membership, program_id: int) -> Any:
    """One program with its modules in order."""
    return program_json(_program(membership, program_id), modules=True)


@bp.get("/orgs/<org_slug>/cohorts")
@org_member(*MANAGER_ROLES)
def list_cohorts(membership: Membership) -> Any:
    """The organization's cohorts."""
    return {"items": [cohort_json(c) for c in queries.cohorts(membership.organization_id)]}


@bp.post("/orgs/<org_slug>/cohorts")
@org_member(*STAFF_ROLES)
def create_cohort(membership: Membership) -> Any:
    """Open a cohort of one of the organization's programs."""
    body = json_body()
    program_id = body.get("program_id")
    if not isinstance(program_id, int):
        raise ValidationFailed("program_id is required.", fields={"program_id": "An integer."})
    program = _program(membership, program_id)
    cohort = services.create_cohort(program=program, name=str(body.get("name") or ""),
                                    starts_on=_date(body, "starts_on"),
                                    ends_on=_date(body, "ends_on"),
                                    pilot=bool(body.get("pilot", False)))
    db.session.commit()
    return cohort_json(cohort), 201


@bp.get("/orgs/<org_slug>/cohorts/<int:cohort_id>/enrolments")
@org_member(*MANAGER_ROLES)
def list_enrolments(membership: Membership, cohort_id: int) -> Any:
    """A cohort's enrolments."""
    cohort = _cohort(membership, cohort_id)
    return {"items": [enrollment_json(e) for e in queries.enrollments(cohort.id)]}


@bp.post("/orgs/<org_slug>/cohorts/<int:cohort_id>/enrolments")
@org_member(*STAFF_ROLES)
def create_enrolment(membership: Membership, cohort_id: int) -> Any:
    """Enrol a learner (``{"member_id": …}``); records the xAPI "registered" statement."""
    cohort = _cohort(membership, cohort_id)
    member_id = json_body().get("member_id")
    member = db.session.get(Membership, member_id) if isinstance(member_id, int) else None
    if member is None or member.organization_id != membership.organization_id:
        raise ValidationFailed("No such member.", fields={"member_id": "No such member."})
    enrollment = services.enrol(cohort=cohort, membership=member)
    db.session.commit()
    return enrollment_json(enrollment), 201


@bp.get("/orgs/<org_slug>/enrolments/<enrollment_id>/progress")
@org_member()
def get_progress(membership: Membership, enrollment_id: str) -> Any:
    """Module states of one enrolment (its learner; trainers, HR and admins)."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.organization_id != membership.organization_id or (
            enrollment.membership_id != membership.id and membership.role not in MANAGER_ROLES):
        raise NotFound("No such enrolment.")
    progress = queries.progress_by_module(enrollment.id)
    modules = []
    for m in enrollment.cohort.program.modules:
        p = progress.get(m.id)
        modules.append({"module_id": m.id, "key": m.key, "state": p.state if p else
                        "not_started", "score": p.score if p else None,
                        "percent": p.percent if p else 0,
                        "updated_at": p.updated_at.isoformat() if p else None})
    return {**enrollment_json(enrollment), "modules": modules}


# --- OpenAPI ---------------------------------------------------------------------------------

_ORG = {"name": "org_slug", "in": "path", "required": True, "schema": {"type": "string"}}


def _id(name: str, kind: str = "integer") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS.update({
    "Program": {"type": "object", "properties": {
        "id": {"type": "integer"}, "slug": {"type": "string"},
        "source_slug": {"type": ["string", "null"]}, "version": {"type": "integer"},
        "language": {"type": "string"}, "title": {"type": "object"},
        "description": {"type": "object"},
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
                                                  "admin)", "parameters": [_ORG],
        "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)}}},
    "/orgs/{org_slug}/programs/{program_id}": {"get": {
        "operationId": "getProgram", "summary": "A program with its modules in order",
        "parameters": [_ORG, _id("program_id")],
        "responses": {"200": _json(_ref("Program")), **_errors(401, 403, 404)}}},
    "/orgs/{org_slug}/cohorts": {
        "get": {"operationId": "listCohorts", "summary": "The organization's cohorts",
                "parameters": [_ORG],
                "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)}},
        "post": {"operationId": "createCohort",
                 "summary": "Open a cohort (trainer, admin): {program_id, name, starts_on?, "
                            "ends_on?, pilot?}", "parameters": [_ORG],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["program_id", "name"]}}}},
                 "responses": {"201": _json(_ref("Cohort")),
                               **_errors(400, 401, 403, 404, 422)}}},
    "/orgs/{org_slug}/cohorts/{cohort_id}/enrolments": {
        "get": {"operationId": "listEnrolments", "summary": "A cohort's enrolments",
                "parameters": [_ORG, _id("cohort_id")],
                "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)}},
        "post": {"operationId": "createEnrolment",
                 "summary": "Enrol a learner: {member_id} (records xAPI \"registered\")",
                 "parameters": [_ORG, _id("cohort_id")],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["member_id"]}}}},
                 "responses": {"201": _json(_ref("Enrolment")),
                               **_errors(400, 401, 403, 404, 409, 422)}}},
    "/orgs/{org_slug}/enrolments/{enrollment_id}/progress": {"get": {
        "operationId": "getEnrolmentProgress",
        "summary": "Module states of an enrolment (its learner; trainers, HR, admins)",
        "parameters": [_ORG, _id("enrollment_id", "string")],
        "responses": {"200": _json(_ref("Enrolment")), **_errors(401, 404)}}},
})
