"""A member's personal data: export (ZIP) and erasure (GDPR art. 15, 17, 20), HR and admins."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from lms.accounts import audit
from lms.accounts.models import Membership, Role
from lms.api.base import bp, current_api_user, org_member
from lms.api.openapi import MEMBER_ID, ORG, PATHS, errors, returns
from lms.core.errors import Conflict, NotFound
from lms.extensions import db
from lms.privacy import export, services


def _member(membership: Membership, member_id: int) -> Membership:
    """A membership of the caller's organization.

    :raise NotFound: no such member here.
    """
    member = db.session.get(Membership, member_id)
    if member is None or member.organization_id != membership.organization_id:
        raise NotFound("No such member in this organization.")
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
        raise Conflict("You cannot erase yourself.")
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
