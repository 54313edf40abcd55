"""Organization members: list, read, remove, and create-or-update for HR-system provisioning."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms.accounts import audit, services
from lms.accounts.authz import MANAGER_ROLES
from lms.accounts.models import Membership, Role, User
from lms.api.base import bp, current_api_user, json_body, org_member, page_args
from lms.core.errors import NotFound, ValidationFailed
from lms.extensions import db


def member_json(m: Membership) -> dict[str, Any]:
    """The API representation of a membership."""
    return {"id": m.id, "user_id": m.user_id, "email": m.user.email,
            "display_name": m.user.display_name, "role": m.role.value, "team": m.team,
            "job_family": m.job_family, "manager_id": m.manager_id,
            "champion": m.champion}


def _member_or_404(membership: Membership, member_id: int) -> Membership:
    """A membership of the caller's organization, by id.

    :raise NotFound: no such membership in this organization.
    """
    member = db.session.get(Membership, member_id)
    if member is None or member.organization_id != membership.organization_id:
        raise NotFound(_l("No such member in this organization."))
    return member


@bp.get("/orgs/<org_slug>/members")
@org_member(*MANAGER_ROLES)
def list_members(membership: Membership) -> Any:
    """Members of the organization, page by page, sorted by e-mail."""
    page, per_page = page_args()
    base = select(Membership).where(Membership.organization_id == membership.organization_id)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.scalars(
        base.join(User).order_by(User.email).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return {"items": [member_json(m) for m in rows], "page": page, "per_page": per_page,
            "total": total}


@bp.get("/orgs/<org_slug>/members/<int:member_id>")
@org_member(*MANAGER_ROLES)
def get_member(membership: Membership, member_id: int) -> Any:
    """One member of the organization."""
    return member_json(_member_or_404(membership, member_id))


@bp.delete("/orgs/<org_slug>/members/<int:member_id>")
@org_member(Role.ADMIN)
def delete_member(membership: Membership, member_id: int) -> Any:
    """Remove a member from the organization (their account stays): 204."""
    member = _member_or_404(membership, member_id)
    services.remove_member(membership=member)
    db.session.commit()
    return "", 204


@bp.post("/orgs/<org_slug>/members")
@org_member(Role.ADMIN, Role.HR)
def provision_member(membership: Membership) -> Any:
    """Create or update a member by e-mail (idempotent): 201 when created, 200 when updated."""
    data = json_body()
    fields: dict[str, str] = {}
    for key in ("email", "role"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            fields[key] = _l("required string")
    for key in ("display_name", "team", "job_family", "locale", "manager_email"):
        if data.get(key) is not None and not isinstance(data[key], str):
            fields[key] = _l("string expected")
    if data.get("champion") is not None and not isinstance(data["champion"], bool):
        fields["champion"] = _l("true or false expected")
    if fields:
        raise ValidationFailed(_l("invalid member"), fields=fields)
    # The role before, for the audit log (a role change is a sensitive action).
    old_role = db.session.scalar(select(Membership.role).join(User).where(
        Membership.organization_id == membership.organization_id,
        User.email == data["email"].strip().lower()))
    result = services.provision_member(
        organization=membership.organization, email=data["email"], role=data["role"],
        display_name=data.get("display_name"), team=data.get("team"),
        job_family=data.get("job_family"), locale=data.get("locale"), granted_by=membership,
        champion=data.get("champion"),
    )
    if "manager_email" in data:  # absent: unchanged; null or "": no manager
        email = (data["manager_email"] or "").strip()
        services.set_manager(membership=result.membership, manager=services.find_manager(
            organization=membership.organization, email=email) if email else None)
    if old_role is not None and result.membership.role != old_role:
        audit.record(action="member.role_change", actor=current_api_user(),
                     organization=membership.organization,
                     target=f"membership:{result.membership.id}", address=request.remote_addr,
                     details={"from": old_role.value, "to": result.membership.role.value})
    db.session.commit()
    return member_json(result.membership), 201 if result.created else 200
