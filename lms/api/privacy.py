"""A member's personal data: export (ZIP) and erasure (GDPR art. 15, 17, 20), HR and admins."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_babel import lazy_gettext as _l

from lms.accounts import audit
from lms.accounts.models import Membership, Role
from lms.api.base import bp, current_api_user, json_body, org_member
from lms.api.openapi import MEMBER_ID, ORG, PATHS, errors, returns
from lms.core.errors import Conflict, NotFound
from lms.extensions import db
from lms.privacy import export, retention, services


def _member(membership: Membership, member_id: int) -> Membership:
    """A membership of the caller's organization.

    :raise NotFound: no such member here.
    """
    member = db.session.get(Membership, member_id)
    if member is None or member.organization_id != membership.organization_id:
        raise NotFound(_l("No such member in this organization."))
    return member


@bp.get("/orgs/<org_slug>/members/<int:member_id>/personal-data")
@org_member(Role.HR, Role.ADMIN)
def export_member(membership: Membership, member_id: int) -> Any:
    """The member's personal data in this organization, as a ZIP (built at once)."""
    member = _member(membership, member_id)
    data = export.build_zip(member.user, membership.organization)
    audit.record(action="personal_data.export", actor=current_api_user(),
                 organization=membership.organization, target=f"membership:{member.id}",
                 address=request.remote_addr, details={"by": "api"})
    db.session.commit()
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="relais-personal-data-{member.id}.zip"'})


@bp.route("/orgs/<org_slug>/members/<int:member_id>/erase", methods=["POST", "DELETE"])
@org_member(Role.HR, Role.ADMIN)
def erase_member(membership: Membership, member_id: int) -> Any:
    """Erase the member's personal data from this organization: 200 with what was done."""
    member = _member(membership, member_id)
    if member.id == membership.id:
        raise Conflict(_l("You cannot erase yourself."))
    result = services.erase_member(membership=member, by=current_api_user(),
                                   address=request.remote_addr)
    db.session.commit()
    services.remove_files(result.files)
    return {"member_id": member.id, "pseudonym": result.pseudonym, "counts": result.counts}


_ERASED = {"type": "object", "required": ["member_id", "pseudonym", "counts"], "properties": {
    "member_id": {"type": "integer"},
    "pseudonym": {"type": "string", "description": "The anonymous account now in the records"},
    "counts": {"type": "object", "additionalProperties": {"type": "integer"},
               "description": "What was deleted or pseudonymised, by kind"}}}
_ERASE = {
    "summary": "Erase a member's personal data from the organization (HR, admin)",
    "description": "Login refused and sessions ended; answers, hand-ins and files, journal, "
                   "coaching notes and action items, consents, API tokens, launch credentials "
                   "and LRS documents deleted; statements, progress and advocacy figures kept "
                   "under one pseudonymous account; certificates keep program, dates and "
                   "status without the name. One transaction. Copies already forwarded to an "
                   "external LRS must be erased by that LRS's owner.",
    "parameters": [ORG, MEMBER_ID],
    "responses": {"200": returns(_ERASED, "erased"), **errors(401, 403, 404, 409)}}
PATHS["/orgs/{org_slug}/members/{member_id}/erase"] = {
    "post": {"operationId": "eraseMember", **_ERASE},
    "delete": {"operationId": "eraseMemberDelete", **_ERASE},
}
PATHS["/orgs/{org_slug}/members/{member_id}/personal-data"] = {"get": {
    "operationId": "exportMemberPersonalData",
    "summary": "A member's personal data as a ZIP of JSON files, statements as JSON Lines, "
               "files and a readable index.html (HR, admin)",
    "parameters": [ORG, MEMBER_ID],
    "responses": {"200": {"description": "the ZIP", "content": {"application/zip": {}}},
                  **errors(401, 403, 404)}}}


def _retention(membership: Membership) -> dict[str, Any]:
    org = membership.organization
    settings = retention.settings_of(org)
    return {"periods": {kind.key: {"value": retention.period(settings, kind), "unit": kind.unit,
                                   "default": retention.default_period(kind)}
                        for kind in retention.KINDS},
            "last_run_at": settings.last_run_at.isoformat() if settings.last_run_at else None,
            "due": retention.plan(org)}


@bp.get("/orgs/<org_slug>/retention")
@org_member(Role.HR, Role.ADMIN)
def get_retention(membership: Membership) -> Any:
    """The organization's retention periods and how many records are past them now."""
    return _retention(membership)


@bp.route("/orgs/<org_slug>/retention", methods=["PUT", "PATCH"])
@org_member(Role.ADMIN)
def set_retention(membership: Membership) -> Any:
    """Change some retention periods (``{"hand_ins": 12}``); recorded in the audit log."""
    body = json_body(dates=False)
    retention.save_settings(organization=membership.organization, values=body,
                            by=current_api_user())
    db.session.commit()
    return _retention(membership)


_KIND_KEYS = [kind.key for kind in retention.KINDS]
_RETENTION = {"type": "object", "required": ["periods", "last_run_at", "due"], "properties": {
    "periods": {"type": "object", "description": "By kind of data: the period in force, its "
                "unit (months or days) and the instance's default",
                "properties": {key: {"type": "object", "required": ["value", "unit", "default"],
                                     "properties": {"value": {"type": "integer"},
                                                    "unit": {"type": "string",
                                                             "enum": ["months", "days"]},
                                                    "default": {"type": "integer"}}}
                               for key in _KIND_KEYS}},
    "last_run_at": {"type": ["string", "null"], "format": "date-time"},
    "due": {"type": "object", "additionalProperties": {"type": "integer"},
            "description": "Records older than their period now, by kind (the next run's work)"}}}
_SET_RETENTION = {
    "summary": "Change retention periods (admin); kinds left out keep theirs",
    "parameters": [ORG],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": False,
        "properties": {key: {"type": "integer", "minimum": 1,
                             "maximum": retention.MAX_MONTHS if kind.unit == "months"
                             else retention.MAX_DAYS} for kind in retention.KINDS
                       for key in [kind.key]}}}}},
    "responses": {"200": returns(_RETENTION), **errors(400, 401, 403, 404, 422)}}
PATHS["/orgs/{org_slug}/retention"] = {
    "get": {"operationId": "getRetention",
            "summary": "Retention periods and what is past them (HR, admin)",
            "parameters": [ORG], "responses": {"200": returns(_RETENTION),
                                               **errors(401, 403, 404)}},
    "put": {"operationId": "setRetention", **_SET_RETENTION},
    "patch": {"operationId": "patchRetention", **_SET_RETENTION},
}
