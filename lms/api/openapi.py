"""GET /api/v1/openapi.json: the OpenAPI 3 description of this API.

Each resource file adds its paths to ``PATHS``; the document is assembled on request.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from lms.api.base import bp
from lms.core.inputs import MAX_INT

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "fields"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "fields": {"type": "object", "additionalProperties": {"type": "string"}}},
    }},
}
MEMBER = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "user_id": {"type": "integer"},
                   "email": {"type": "string", "format": "email"},
                   "display_name": {"type": "string"},
                   "role": {"type": "string", "enum": ["learner", "trainer", "hr", "admin"]},
                   "team": {"type": ["string", "null"]},
                   "job_family": {"type": ["string", "null"]},
                   "manager_id": {"type": ["integer", "null"],
                                  "description": "The member's manager (a member id); set it "
                                                 "with manager_email on POST."},
                   "champion": {"type": "boolean",
                                "description": "The member is their team's champion "
                                               "(\"référent\"): they follow the other members "
                                               "of their team."}},
}


def errors(*codes: int) -> dict[str, Any]:
    """The responses entries of ``codes``, each with the error envelope."""
    return {str(c): {"description": "error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}} for c in codes}


def returns(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    """A response (or request body) entry holding JSON of ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def ref(name: str) -> dict[str, Any]:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def path_param(name: str, kind: str = "integer") -> dict[str, Any]:
    """A required path parameter of type ``kind``."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def operation(operation_id: str, summary: str, parameters: list[dict[str, Any]],
              responses: dict[str, Any], *, body: dict[str, Any] | None = None,
              description: str | None = None) -> dict[str, Any]:
    """One operation of a path; ``body`` is the schema of its required JSON request body."""
    op: dict[str, Any] = {"operationId": operation_id, "summary": summary,
                          "parameters": parameters, "responses": responses}
    if description is not None:
        op["description"] = description
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def page_of(item: dict[str, Any]) -> dict[str, Any]:
    """A page of a list (lms/api/base.py ``paged``): its ``items`` and where it stands."""
    return {"type": "object", "properties": {
        "items": {"type": "array", "items": item}, "page": {"type": "integer"},
        "per_page": {"type": "integer"}, "total": {"type": "integer"}}}


# Page-by-page lists (lms/api/base.py page_args).
PAGING = [{"name": "page", "in": "query",
           "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000}},
          {"name": "per_page", "in": "query",
           "schema": {"type": "integer", "minimum": 1, "maximum": 200}}]
ORG = {"name": "org_slug", "in": "path", "required": True, "schema": {"type": "string"}}
MEMBER_ID = {"name": "member_id", "in": "path", "required": True,
             "schema": {"type": "integer"}, "description": "The member's id (a membership id)."}

ATTEMPT_ID = {"name": "attempt_id", "in": "path", "required": True,
              "schema": {"type": "integer"}}
ATTEMPT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "uuid": {"type": "string"}, "questionnaire": {"type": "string"},
    "member_id": {"type": "integer"}, "status": {"type": "string", "enum": ["draft", "submitted"]},
    "progress": {"type": "number"}, "finished": {"type": "boolean"},
    "next": {"type": "array", "items": {"type": "object"}},
    "levels": {"type": ["object", "null"]}}}
SKILL_PROFILE = {"type": "object", "properties": {
    "member_id": {"type": "integer"}, "job_family": {"type": ["string", "null"]},
    "attempt_id": {"type": ["integer", "null"]},
    "competencies": {"type": "array", "items": {"type": "object"}},
    "gaps": {"type": "array", "items": {"type": "object"}}}}

PATHS: dict[str, Any] = {
    "/me": {"get": operation("getMe", "The authenticated user and their memberships", [],
                             {"200": returns({"type": "object"}), **errors(401)})},
    "/orgs/{org_slug}/members": {
        "get": operation("listMembers", "List members (trainer, HR, admin)", [ORG, *PAGING],
                         {"200": returns(page_of(ref("Member"))),
                          **errors(400, 401, 403, 404)}),
        "post": operation(
            "provisionMember", "Create or update a member by e-mail (idempotent; HR, admin)",
            [ORG], {"200": returns(ref("Member"), "updated"),
                    "201": returns(ref("Member"), "created"),
                    **errors(400, 401, 403, 404, 409, 422)},
            description="HR may grant learner, trainer and hr, and may not change an admin; "
                        "only an admin grants admin. The last admin cannot be demoted (409).",
            body={"type": "object", "required": ["email", "role"], "properties": {
                "email": {"type": "string"}, "role": {"type": "string"},
                "display_name": {"type": "string"},
                "team": {"type": "string"}, "job_family": {"type": "string"},
                "locale": {"type": "string", "enum": ["en", "fr"]},
                "manager_email": {
                    "type": ["string", "null"],
                    "description": "The manager's e-mail (a member); null or \"\" for none; "
                                   "absent: unchanged"},
                "champion": {
                    "type": ["boolean", "null"],
                    "description": "Make the member their team's champion (needs a team); "
                                   "absent or null: unchanged"}}}),
    },
    "/orgs/{org_slug}/members/{member_id}": {
        "get": operation("getMember", "One member (trainer, HR, admin)", [ORG, MEMBER_ID],
                         {"200": returns(ref("Member")), **errors(401, 403, 404)}),
        "delete": operation(
            "deleteMember", "Remove a member from the organization (admin); the account stays",
            [ORG, MEMBER_ID], {"204": {"description": "removed"}, **errors(401, 403, 404, 409)}),
    },
    # Skill mapping (lms/api/assessments.py); answers never reveal the keyed best answer.
    "/orgs/{org_slug}/questionnaires": {"get": operation(
        "listQuestionnaires", "Skill-mapping questionnaires offered in the organization", [ORG],
        {"200": returns({"type": "object"}), **errors(401, 404)})},
    "/orgs/{org_slug}/questionnaires/{key}/attempts": {"post": operation(
        "startAttempt", "Start an attempt (201) or resume the open draft (200)",
        [ORG, path_param("key", "string")],
        {"200": returns(ref("Attempt")), "201": returns(ref("Attempt")), **errors(401, 404)})},
    "/orgs/{org_slug}/attempts/{attempt_id}": {"get": operation(
        "getAttempt", "One attempt (its owner; trainers, HR and admins)", [ORG, ATTEMPT_ID],
        {"200": returns(ref("Attempt")), **errors(401, 404)})},
    "/orgs/{org_slug}/attempts/{attempt_id}/answers": {"post": operation(
        "answerAttempt", "Answer the questions asked now (several screens at once allowed)",
        [ORG, ATTEMPT_ID], {"200": returns(ref("Attempt")), **errors(400, 401, 404, 409, 422)},
        description="Body: {\"answers\": {question key: answer}}. can_do answers: never, "
                    "with_help, alone, teach; frequency: never, rarely, monthly, weekly, daily; "
                    "single_choice: an option key; multiple_choice: a list of option keys. All "
                    "or nothing: 422 names each bad answer in fields; 409 once submitted.",
        body={"type": "object", "required": ["answers"],
              "properties": {"answers": {"type": "object"}}})},
    "/orgs/{org_slug}/attempts/{attempt_id}/submit": {"post": operation(
        "submitAttempt", "Submit a finished attempt (once); answers the skill profile",
        [ORG, ATTEMPT_ID], {"200": returns(ref("SkillProfile")), **errors(401, 404, 409, 422)})},
    "/orgs/{org_slug}/attempts/{attempt_id}/results": {"get": operation(
        "getAttemptResults", "Results of a submitted attempt (owner; trainers, HR and admins)",
        [ORG, ATTEMPT_ID], {"200": returns(ref("SkillProfile")), **errors(401, 404, 409)})},
    "/orgs/{org_slug}/members/{member_id}/skills": {"get": operation(
        "getMemberSkills",
        "A member's skill profile and history (themselves; trainers, HR, admins)",
        [ORG, MEMBER_ID], {"200": returns(ref("SkillProfile")), **errors(401, 404)})},
    "/orgs/{org_slug}/skill-map": {"get": operation(
        "getSkillMap", "A page of learners' levels per competency (trainer, HR, admin)",
        [ORG, {"name": "team", "in": "query", "schema": {"type": "string"}},
         {"name": "job_family", "in": "query", "schema": {"type": "string"}},
         {"name": "cohort", "in": "query", "schema": {"type": "integer"},
          "description": "Only the learners enrolled in this cohort"},
         *PAGING],
        {"200": returns(ref("SkillMap")), **errors(400, 401, 403, 404)},
        description="Learners by name, answered or not, `per_page` at a time (default 50); "
                    "`total`, `answered` and the averages cover everyone selected. A page "
                    "past the end has no items.")},
}

LEVELS = {"type": ["object", "null"], "additionalProperties": {"type": "integer"},
          "description": "Competency code → level (null: not answered yet)"}
AVERAGES = {"type": "object", "additionalProperties": {"type": "number"}}
SKILL_MAP = {"type": "object", "required": ["items", "page", "per_page", "total"], "properties": {
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "member_id": {"type": "integer"}, "name": {"type": "string"},
        "team": {"type": ["string", "null"]}, "job_family": {"type": ["string", "null"]},
        "answered": {"type": "boolean"},
        "submitted_at": {"type": ["string", "null"], "format": "date-time"},
        "levels": LEVELS, "targets": LEVELS}}},
    "page": {"type": "integer"}, "per_page": {"type": "integer"},
    "total": {"type": "integer", "description": "Learners selected, answered or not"},
    "answered": {"type": "integer", "description": "Of them, those who answered"},
    "averages": {**AVERAGES, "description": "Average shown level per competency over "
                                            "everyone selected who answered"},
    "average_targets": {**AVERAGES, "description": "Their average target per competency"}}}

SCHEMAS: dict[str, Any] = {"Error": ERROR, "Member": MEMBER, "Attempt": ATTEMPT,
                           "SkillProfile": SKILL_PROFILE, "SkillMap": SKILL_MAP}


# What any operation may answer besides its own statuses: a malformed or unknown query
# parameter (lms/api/query.py), no valid token, too many requests (lms/core/ratelimit.py), the
# database out of reach (lms/core/outage.py); with a body, one too large or of the wrong type.
COMMON_ERRORS = (400, 401, 429, 503)
BODY_ERRORS = (413, 415)


def _complete(paths: dict[str, Any]) -> dict[str, Any]:
    """``paths`` with the statuses every operation shares, and integer path ids bounded as the
    URLs accept them (32-bit; a larger number is no id, so a 404).
    """
    out: dict[str, Any] = {}
    for path, operations in paths.items():
        out[path] = {}
        for method, op in operations.items():
            op = dict(op)
            codes = COMMON_ERRORS + (BODY_ERRORS if "requestBody" in op else ())
            op["responses"] = {**errors(*codes), **errors(404), **op["responses"]} \
                if "{" in path else {**errors(*codes), **op["responses"]}
            op["parameters"] = [
                {**p, "schema": {**p["schema"], "minimum": 0, "maximum": MAX_INT}}
                if p.get("in") == "path" and p.get("schema", {}).get("type") == "integer"
                else p for p in op.get("parameters", [])]
            out[path][method] = op
    return out


@bp.get("/openapi.json")
def openapi_document() -> Any:
    """The OpenAPI 3.1 document (no authentication needed)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Relais API", "version": "1"},
        "servers": [{"url": current_app.config["BASE_URL"] + "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _complete(PATHS),
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
