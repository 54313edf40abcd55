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
    "/me": {"get": {"operationId": "getMe",
                    "summary": "The authenticated user and their memberships",
                    "responses": {"200": returns({"type": "object"}), **errors(401)}}},
    "/orgs/{org_slug}/members": {
        "get": {"operationId": "listMembers", "summary": "List members (trainer, HR, admin)",
                "parameters": [ORG,
                               *PAGING],
                "responses": {"200": returns({"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Member"}},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"},
                    "total": {"type": "integer"}}}), **errors(400, 401, 403, 404)}},
        "post": {"operationId": "provisionMember",
                 "summary": "Create or update a member by e-mail (idempotent; HR, admin)",
                 "description": "HR may grant learner, trainer and hr, and may not change an "
                                "admin; only an admin grants admin. The last admin cannot be "
                                "demoted (409).",
                 "parameters": [ORG],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["email", "role"],
                     "properties": {"email": {"type": "string"}, "role": {"type": "string"},
                                    "display_name": {"type": "string"},
                                    "team": {"type": "string"}, "job_family": {"type": "string"},
                                    "locale": {"type": "string", "enum": ["en", "fr"]},
                                    "manager_email": {
                                        "type": ["string", "null"],
                                        "description": "The manager's e-mail (a member); "
                                                       "null or \"\" for none; absent: "
                                                       "unchanged"},
                                    "champion": {
                                        "type": ["boolean", "null"],
                                        "description": "Make the member their team's "
                                                       "champion (needs a team); absent or "
                                                       "null: unchanged"}}}}}},
                 "responses": {"200": returns({"$ref": "#/components/schemas/Member"}, "updated"),
                               "201": returns({"$ref": "#/components/schemas/Member"}, "created"),
                               **errors(400, 401, 403, 404, 409, 422)}},
    },
    "/orgs/{org_slug}/members/{member_id}": {
        "get": {"operationId": "getMember", "summary": "One member (trainer, HR, admin)",
                "parameters": [ORG, MEMBER_ID],
                "responses": {"200": returns({"$ref": "#/components/schemas/Member"}),
                              **errors(401, 403, 404)}},
        "delete": {"operationId": "deleteMember",
                   "summary": "Remove a member from the organization (admin); the account stays",
                   "parameters": [ORG, MEMBER_ID],
                   "responses": {"204": {"description": "removed"},
                                 **errors(401, 403, 404, 409)}},
    },
    # Skill mapping (lms/api/assessments.py); answers never reveal the keyed best answer.
    "/orgs/{org_slug}/questionnaires": {
        "get": {"operationId": "listQuestionnaires",
                "summary": "Skill-mapping questionnaires offered in the organization",
                "parameters": [ORG],
                "responses": {"200": returns({"type": "object"}), **errors(401, 404)}}},
    "/orgs/{org_slug}/questionnaires/{key}/attempts": {
        "post": {"operationId": "startAttempt",
                 "summary": "Start an attempt (201) or resume the open draft (200)",
                 "parameters": [ORG, {"name": "key", "in": "path", "required": True,
                                      "schema": {"type": "string"}}],
                 "responses": {"200": returns({"$ref": "#/components/schemas/Attempt"}),
                               "201": returns({"$ref": "#/components/schemas/Attempt"}),
                               **errors(401, 404)}}},
    "/orgs/{org_slug}/attempts/{attempt_id}": {
        "get": {"operationId": "getAttempt",
                "summary": "One attempt (its owner; trainers, HR and admins)",
                "parameters": [ORG, ATTEMPT_ID],
                "responses": {"200": returns({"$ref": "#/components/schemas/Attempt"}),
                              **errors(401, 404)}}},
    "/orgs/{org_slug}/attempts/{attempt_id}/answers": {
        "post": {"operationId": "answerAttempt",
                 "summary": "Answer the questions asked now (several screens at once allowed)",
                 "description": "Body: {\"answers\": {question key: answer}}. can_do answers: "
                                "never, with_help, alone, teach; frequency: never, rarely, "
                                "monthly, weekly, daily; single_choice: an option key; "
                                "multiple_choice: a list of option keys. All or nothing: "
                                "422 names each bad answer in fields; 409 once submitted.",
                 "parameters": [ORG, ATTEMPT_ID],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["answers"],
                     "properties": {"answers": {"type": "object"}}}}}},
                 "responses": {"200": returns({"$ref": "#/components/schemas/Attempt"}),
                               **errors(400, 401, 404, 409, 422)}}},
    "/orgs/{org_slug}/attempts/{attempt_id}/submit": {
        "post": {"operationId": "submitAttempt",
                 "summary": "Submit a finished attempt (once); answers the skill profile",
                 "parameters": [ORG, ATTEMPT_ID],
                 "responses": {"200": returns({"$ref": "#/components/schemas/SkillProfile"}),
                               **errors(401, 404, 409, 422)}}},
    "/orgs/{org_slug}/attempts/{attempt_id}/results": {
        "get": {"operationId": "getAttemptResults",
                "summary": "Results of a submitted attempt (owner; trainers, HR and admins)",
                "parameters": [ORG, ATTEMPT_ID],
                "responses": {"200": returns({"$ref": "#/components/schemas/SkillProfile"}),
                              **errors(401, 404, 409)}}},
    "/orgs/{org_slug}/members/{member_id}/skills": {
        "get": {"operationId": "getMemberSkills",
                "summary": "A member's skill profile and history (themselves; trainers, HR, "
                           "admins)",
                "parameters": [ORG, MEMBER_ID],
                "responses": {"200": returns({"$ref": "#/components/schemas/SkillProfile"}),
                              **errors(401, 404)}}},
    "/orgs/{org_slug}/skill-map": {
        "get": {"operationId": "getSkillMap",
                "summary": "A page of learners' levels per competency (trainer, HR, admin)",
                "description": "Learners by name, answered or not, `per_page` at a time "
                               "(default 50); `total`, `answered` and the averages cover "
                               "everyone selected. A page past the end has no items.",
                "parameters": [ORG, {"name": "team", "in": "query", "schema": {"type": "string"}},
                               {"name": "job_family", "in": "query",
                                "schema": {"type": "string"}},
                               {"name": "cohort", "in": "query", "schema": {"type": "integer"},
                                "description": "Only the learners enrolled in this cohort"},
                               *PAGING],
                "responses": {"200": returns(ref("SkillMap")), **errors(400, 401, 403, 404)}}},
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
