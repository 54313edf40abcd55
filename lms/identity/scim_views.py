"""SCIM 2.0 endpoints under ``/scim/v2/<org-slug>/``, authenticated by the organization's token.

Each request resolves the organization from its slug and checks the bearer token belongs to it:
another organization's token, an unknown, revoked or expired one all get 401 in SCIM's format.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, g, request
from werkzeug.exceptions import HTTPException

from lms.extensions import csrf, db
from lms.identity import scim, scim_schemas
from lms.identity.scim import ScimError
from lms.identity.services import organization_for_scim_token

bp = Blueprint("scim", __name__, url_prefix="/scim/v2/<org_slug>")
csrf.exempt(bp)
MEDIA_TYPE = "application/scim+json"


def _json(body: Any, status: int = 200, **headers: str) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype=MEDIA_TYPE, headers=headers)


@bp.url_value_preprocessor
def _pull_org(endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.scim_org_slug = (values or {}).pop("org_slug", None)


@bp.before_request
def _authenticate() -> Response | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, raw = header.partition(" ")
    organization = None
    if scheme.lower() == "bearer" and raw.strip():
        organization = organization_for_scim_token(raw.strip(), g.scim_org_slug or "")
    if organization is None:
        error = ScimError(401, "A valid SCIM bearer token of this organization is required.")
        return _json(error.body(), 401, **{"WWW-Authenticate": 'Bearer realm="scim"'})
    g.scim_organization = organization
    return None


@bp.errorhandler(ScimError)
def _scim_error(exc: ScimError) -> Response:
    db.session.rollback()
    return _json(exc.body(), exc.status)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    db.session.rollback()
    return _json(ScimError(exc.code or 500, exc.description or exc.name).body(), exc.code or 500)


def _base() -> str:
    return f"{request.host_url.rstrip('/')}/scim/v2/{g.scim_organization.slug}"


def _body() -> dict[str, Any]:
    try:
        data = orjson.loads(request.get_data())
    except orjson.JSONDecodeError:
        raise ScimError(400, "the body is not valid JSON", "invalidSyntax") from None
    if not isinstance(data, dict):
        raise ScimError(400, "the body must be a JSON object", "invalidSyntax")
    return data


def _user(member_link: tuple[Any, Any], status: int = 200) -> Response:
    db.session.commit()
    member, link = member_link
    resource = scim.user_resource(member, link, _base())
    return _json(resource, status, Location=resource["meta"]["location"])


def _group(group: Any, status: int = 200) -> Response:
    db.session.commit()
    resource = scim.group_resource(group, _base())
    return _json(resource, status, Location=resource["meta"]["location"])


# -- Users -------------------------------------------------------------------------------------

@bp.get("/Users")
def users() -> Response:
    """List users, with ``filter``, ``startIndex`` and ``count``."""
    start, count = scim.page_args(request.args.get("startIndex"), request.args.get("count"))
    body = scim.list_users(g.scim_organization, filter_text=request.args.get("filter"),
                           start=start, count=count, base=_base())
    db.session.commit()  # the token's last use
    return _json(body)


@bp.post("/Users")
def create_user() -> Response:
    """Provision a member."""
    return _user(scim.create_user(g.scim_organization, _body()), 201)


@bp.get("/Users/<user_id>")
def user(user_id: str) -> Response:
    """One user."""
    return _user(scim.get_member(g.scim_organization, user_id))


@bp.put("/Users/<user_id>")
def replace_user(user_id: str) -> Response:
    """Replace a user's attributes."""
    return _user(scim.replace_user(g.scim_organization, user_id, _body()))


@bp.patch("/Users/<user_id>")
def patch_user(user_id: str) -> Response:
    """Change some of a user's attributes (``active: false`` ends their access)."""
    return _user(scim.patch_user(g.scim_organization, user_id, _body()))


@bp.delete("/Users/<user_id>")
def delete_user(user_id: str) -> Response:
    """Deprovision a user: access ends, learning records stay."""
    scim.delete_user(g.scim_organization, user_id)
    db.session.commit()
    return Response(status=204)


# -- Groups ------------------------------------------------------------------------------------

def _without_members() -> bool:
    excluded = (request.args.get("excludedAttributes") or "").lower().split(",")
    return "members" in [e.strip() for e in excluded]


@bp.get("/Groups")
def groups() -> Response:
    """List groups (teams)."""
    start, count = scim.page_args(request.args.get("startIndex"), request.args.get("count"))
    body = scim.list_groups(g.scim_organization, filter_text=request.args.get("filter"),
                            start=start, count=count, base=_base(),
                            members=not _without_members())
    db.session.commit()
    return _json(body)


@bp.post("/Groups")
def create_group() -> Response:
    """Create a group (a team) with its members."""
    return _group(scim.create_group(g.scim_organization, _body()), 201)


@bp.get("/Groups/<group_id>")
def group(group_id: str) -> Response:
    """One group."""
    found = scim.get_group(g.scim_organization, group_id)
    return _json(scim.group_resource(found, _base(), members=not _without_members()))


@bp.put("/Groups/<group_id>")
def replace_group(group_id: str) -> Response:
    """Rename a group and set its members."""
    return _group(scim.replace_group(g.scim_organization, group_id, _body()))


@bp.patch("/Groups/<group_id>")
def patch_group(group_id: str) -> Response:
    """Add or remove a group's members, or rename it."""
    return _group(scim.patch_group(g.scim_organization, group_id, _body()))


@bp.delete("/Groups/<group_id>")
def delete_group(group_id: str) -> Response:
    """Delete a group; its members keep their accounts, without a team."""
    scim.delete_group(g.scim_organization, group_id)
    db.session.commit()
    return Response(status=204)


# -- discovery ---------------------------------------------------------------------------------

@bp.get("/ServiceProviderConfig")
def service_provider_config() -> Response:
    """What this SCIM server supports."""
    return _json(scim_schemas.service_provider_config(_base()))


@bp.get("/ResourceTypes")
def resource_types() -> Response:
    """The User and Group resource types."""
    items = scim_schemas.resource_types(_base())
    return _json(scim.list_response(items, len(items), 1))


@bp.get("/ResourceTypes/<name>")
def resource_type(name: str) -> Response:
    """One resource type."""
    found = [r for r in scim_schemas.resource_types(_base()) if r["id"] == name]
    if not found:
        raise ScimError(404, f"ResourceType {name} not found")
    return _json(found[0])


@bp.get("/Schemas")
def schemas() -> Response:
    """The schemas of User, the enterprise extension and Group."""
    items = scim_schemas.schemas(_base())
    return _json(scim.list_response(items, len(items), 1))


@bp.get("/Schemas/<path:schema_id>")
def schema(schema_id: str) -> Response:
    """One schema."""
    found = [s for s in scim_schemas.schemas(_base()) if s["id"] == schema_id]
    if not found:
        raise ScimError(404, f"Schema {schema_id} not found")
    return _json(found[0])


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    """Anything else under the SCIM root: a SCIM 404."""
    raise ScimError(404, f"no SCIM endpoint {rest}")
