"""Organization members: list, and create-or-update for HR-system provisioning."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from lms.accounts import services
from lms.accounts.authz import MANAGER_ROLES
from lms.accounts.models import Membership, Role, User
from lms.api.base import bp, json_body, org_member, page_args
from lms.core.errors import ValidationFailed
from lms.extensions import db


def member_json(m: Membership) -> dict[str, Any]:
    """The API representation of a membership."""
    return {"id": m.id, "user_id": m.user_id, "email": m.user.email,
            "display_name": m.user.display_name, "role": m.role.value, "team": m.team,
            "job_family": m.job_family}


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


@bp.post("/orgs/<org_slug>/members")
@org_member(Role.ADMIN, Role.HR)
def provision_member(membership: Membership) -> Any:
    """Create or update a member by e-mail (idempotent): 201 when created, 200 when updated."""
    data = json_body()
    fields: dict[str, str] = {}
    for key in ("email", "role"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            fields[key] = "required string"
    for key in ("display_name", "team", "job_family", "locale"):
        if data.get(key) is not None and not isinstance(data[key], str):
            fields[key] = "string expected"
    if fields:
        raise ValidationFailed("invalid member", fields=fields)
    result = services.provision_member(
        organization=membership.organization, email=data["email"], role=data["role"],
        display_name=data.get("display_name"), team=data.get("team"),
        job_family=data.get("job_family"), locale=data.get("locale"),
    )
    db.session.commit()
    return member_json(result.membership), 201 if result.created else 200
