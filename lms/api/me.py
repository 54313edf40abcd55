"""GET /api/v1/me: who the token belongs to and their organizations."""

from __future__ import annotations

from typing import Any

from lms.api.base import bp, current_api_user


@bp.get("/me")
def me() -> Any:
    """The authenticated user and their memberships."""
    user = current_api_user()
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "locale": user.locale,
        "memberships": [
            {"organization": {"slug": m.organization.slug, "name": m.organization.name},
             "role": m.role.value, "team": m.team, "job_family": m.job_family}
            for m in sorted(user.memberships, key=lambda m: m.organization.slug)
        ],
    }
