"""The social-media charter over the API: the version in force (and whether I accepted it),
accepting it, and who accepted a version (trainers, HR, admins).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from lms.accounts.authz import MANAGER_ROLES
from lms.accounts.models import Membership
from lms.api.base import body_int, bp, json_body, org_member, page_args
from lms.api.openapi import ORG, PAGING, PATHS, SCHEMAS, errors, ref, returns
from lms.charter import queries, services
from lms.charter.models import CharterAcceptance, CharterVersion
from lms.core.errors import BadRequest, NotFound
from lms.core.markdown import render_markdown
from lms.extensions import db


def version_json(version: CharterVersion) -> dict[str, Any]:
    """A version with its texts (Markdown and the HTML Relais shows)."""
    return {"number": version.number, "published_at": version.published_at.isoformat(),
            "summary": version.summary,
            "text": {"fr": version.body_fr, "en": version.body_en or None},
            "html": {"fr": str(render_markdown(version.body_fr)),
                     "en": str(render_markdown(version.body_en)) if version.body_en else None}}


def acceptance_json(acceptance: CharterAcceptance) -> dict[str, Any]:
    """One acceptance."""
    return {"member_id": acceptance.membership_id, "version": acceptance.version.number,
            "accepted_at": acceptance.accepted_at.isoformat(),
            "statement_id": acceptance.statement_id}


@bp.get("/orgs/<org_slug>/charter")
@org_member()
def get_charter(membership: Membership) -> Any:
    """The charter in force (null before the first version), my acceptance of it, and what
    acceptance gates.
    """
    version = queries.current_version(membership.organization_id)
    mine = queries.acceptance(membership.id, version.id) if version is not None else None
    settings = queries.settings_for(membership.organization_id)
    return {"current": version_json(version) if version is not None else None,
            "my_acceptance": acceptance_json(mine) if mine else None,
            "gates": {gate: bool(getattr(settings, f"gate_{gate}")) for gate in services.GATES}}


@bp.post("/orgs/<org_slug>/charter/acceptances")
@org_member()
def accept_charter(membership: Membership) -> Any:
    """Accept the charter in force (201; 200 when already accepted)."""
    body = json_body()
    number = body_int(body, "version")
    before = queries.to_accept(membership)
    acceptance = services.accept(membership=membership, number=number)
    db.session.commit()
    return acceptance_json(acceptance), (201 if before is not None else 200)


@bp.get("/orgs/<org_slug>/charter/acceptances")
@org_member(*MANAGER_ROLES)
def list_charter_acceptances(membership: Membership) -> Any:
    """Every active member with their acceptance of a version (the one in force by default),
    of one team or cohort when asked.
    """
    page, per_page = page_args()
    org_id = membership.organization_id
    raw = request.args.get("version")
    if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        raise BadRequest(_l("Invalid filter."), fields={"version": _l("integer expected")})
    version = (queries.version_by_number(org_id, int(raw)) if raw is not None
               else queries.current_version(org_id))
    if version is None and raw is not None:
        raise NotFound(_l("No such version of the charter."))
    if version is None:  # nothing published yet: nobody to count
        return {"version": None, "page": page, "per_page": per_page, "total": 0,
                "accepted": 0, "items": []}
    rows = queries.people(org_id, version, team=request.args.get("team") or None,
                          cohort=request.args.get("cohort") or None)
    chunk = rows[(page - 1) * per_page:page * per_page]
    return {"version": version.number, "page": page, "per_page": per_page, "total": len(rows),
            "accepted": sum(1 for r in rows if r.accepted_at is not None),
            "items": [{"member_id": r.membership.id, "name": r.membership.user.display_name,
                       "email": r.membership.user.email, "team": r.membership.team,
                       "cohorts": r.cohorts,
                       "accepted_at": r.accepted_at.isoformat() if r.accepted_at else None}
                      for r in chunk]}


SCHEMAS["CharterVersion"] = {"type": "object", "properties": {
    "number": {"type": "integer"}, "published_at": {"type": "string", "format": "date-time"},
    "summary": {"type": ["string", "null"]},
    "text": {"type": "object", "description": "Markdown per language (en may be null: the "
                                               "French text is shown then)",
             "properties": {"fr": {"type": "string"}, "en": {"type": ["string", "null"]}}},
    "html": {"type": "object", "description": "The text as Relais shows it (sanitised HTML)",
             "properties": {"fr": {"type": "string"}, "en": {"type": ["string", "null"]}}}}}
SCHEMAS["CharterAcceptance"] = {"type": "object", "properties": {
    "member_id": {"type": "integer"}, "version": {"type": "integer"},
    "accepted_at": {"type": "string", "format": "date-time"},
    "statement_id": {"type": ["string", "null"],
                     "description": "The xAPI statement (verb accepted) in the LRS"}}}
PATHS["/orgs/{org_slug}/charter"] = {"get": {
    "operationId": "getCharter",
    "summary": "The social-media charter in force, my acceptance of it and what it gates",
    "parameters": [ORG],
    "responses": {"200": returns({"type": "object", "properties": {
        "current": {"oneOf": [ref("CharterVersion"), {"type": "null"}],
                    "description": "The version in force; null before the first"},
        "my_acceptance": {"oneOf": [ref("CharterAcceptance"), {"type": "null"}]},
        "gates": {"type": "object", "properties": {
            g: {"type": "boolean"} for g in services.GATES}}}}),
                  **errors(401, 404)}}}
PATHS["/orgs/{org_slug}/charter/acceptances"] = {
    "post": {"operationId": "acceptCharter",
             "summary": "Accept the charter in force (recorded as an xAPI statement)",
             "parameters": [ORG],
             "requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "properties": {"version": {
                     "type": ["integer", "null"],
                     "description": "The version read; 409 when a newer one is in force"}}}}}},
             "responses": {"201": returns(ref("CharterAcceptance"), "accepted"),
                           "200": returns(ref("CharterAcceptance"), "accepted before"),
                           **errors(401, 404, 409, 422)}},
    "get": {"operationId": "listCharterAcceptances",
            "summary": "Active members and their acceptance of a version (trainer, HR, admin)",
            "parameters": [ORG,
                           {"name": "version", "in": "query", "schema": {"type": "integer"},
                            "description": "The version number (the one in force by default)"},
                           {"name": "team", "in": "query", "schema": {"type": "string"}},
                           {"name": "cohort", "in": "query", "schema": {"type": "string"},
                            "description": "A cohort id"}, *PAGING],
            "responses": {"200": returns({"type": "object", "properties": {
                "version": {"type": ["integer", "null"],
                            "description": "null before the first version is published"},
                "total": {"type": "integer"},
                "accepted": {"type": "integer"}, "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "items": {"type": "array", "items": {"type": "object", "properties": {
                    "member_id": {"type": "integer"}, "name": {"type": "string"},
                    "email": {"type": "string"}, "team": {"type": ["string", "null"]},
                    "cohorts": {"type": "array", "items": {"type": "string"}},
                    "accepted_at": {"type": ["string", "null"], "format": "date-time"}}}}}}),
                **errors(401, 403, 404)}}}
