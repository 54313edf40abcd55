"""SCIM 2.0 endpoints under ``/scim/v2/<org-slug>/``, authenticated by the organization's token.

Each request resolves the organization from its slug and checks the bearer token belongs to it:
another organization's token, an unknown, revoked or expired one all get 401 in SCIM's format.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import orjson
from flask import Blueprint, Response, g, request
from flask.views import MethodView
from werkzeug.exceptions import HTTPException

from lms.accounts.models import Organization
from lms.extensions import csrf, db
from lms.identity import scim
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


class Resource(MethodView):
    """One user or group at ``/<type>/<id>``: SCIM (RFC 7644, 3.4 to 3.6) reads, replaces,
    patches and deletes both types alike; each type brings its own functions.
    """

    init_every_request = False

    def __init__(self, *, read: Callable[[str], Response],
                 replace: Callable[[Organization, str, dict[str, Any]], Any],
                 patch: Callable[[Organization, str, dict[str, Any]], Any],
                 delete: Callable[[Organization, str], None],
                 answer: Callable[[Any], Response]) -> None:
        self.read, self.replacing, self.patching, self.deleting, self.answer = (
            read, replace, patch, delete, answer)

    def get(self, ident: str) -> Response:
        """The resource."""
        return self.read(ident)

    def put(self, ident: str) -> Response:
        """Replace the resource's attributes with the body's."""
        return self.answer(self.replacing(g.scim_organization, ident, _body()))

    def patch(self, ident: str) -> Response:
        """Change the attributes the body's operations name."""
        return self.answer(self.patching(g.scim_organization, ident, _body()))

    def delete(self, ident: str) -> Response:
        """Delete the resource: 204."""
        self.deleting(g.scim_organization, ident)
        db.session.commit()
        return Response(status=204)


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


def _read_user(user_id: str) -> Response:
    return _user(scim.get_member(g.scim_organization, user_id))


# One user: read; replace its attributes; patch some (``active: false`` ends their access);
# delete (deprovision: access ends, learning records stay).
bp.add_url_rule("/Users/<ident>", view_func=Resource.as_view(
    "user", read=_read_user, replace=scim.replace_user, patch=scim.patch_user,
    delete=scim.delete_user, answer=_user))


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


def _read_group(group_id: str) -> Response:
    found = scim.get_group(g.scim_organization, group_id)
    return _json(scim.group_resource(found, _base(), members=not _without_members()))


# One group (a team): read; replace (rename it and set its members); patch (add or remove
# members, or rename it); delete (its members keep their accounts, without a team).
bp.add_url_rule("/Groups/<ident>", view_func=Resource.as_view(
    "group", read=_read_group, replace=scim.replace_group, patch=scim.patch_group,
    delete=scim.delete_group, answer=_group))


# -- discovery ---------------------------------------------------------------------------------

def _schemas() -> ModuleType:
    """The discovery documents' module, imported at the first discovery request: scim2_models
    builds its models when imported (about 0.3 s of CPU), which every process loading the app
    (the CLI, each worker) would otherwise pay.
    """
    from lms.identity import scim_schemas

    return scim_schemas


@bp.get("/ServiceProviderConfig")
def service_provider_config() -> Response:
    """What this SCIM server supports."""
    return _json(_schemas().service_provider_config(_base()))


class Discovery(MethodView):
    """What the server describes of itself (RFC 7644, 4): every description, or one by its id."""

    init_every_request = False

    def __init__(self, described: str, kind: str) -> None:
        # The name of the function of scim_schemas that gives the descriptions.
        self.described, self.kind = described, kind

    def get(self, ident: str | None = None) -> Response:
        """Every description, or the one whose id is ``ident``."""
        items: list[dict[str, Any]] = getattr(_schemas(), self.described)(_base())
        if ident is None:
            return _json(scim.list_response(items, len(items), 1))
        found = next((item for item in items if item["id"] == ident), None)
        if found is None:
            raise ScimError(404, f"{self.kind} {ident} not found")
        return _json(found)


# The User and Group resource types; the schemas of User, the enterprise extension and Group.
for _rule, _ident, _endpoint, _described, _kind in (
        ("/ResourceTypes", "<ident>", "resource_type", "resource_types", "ResourceType"),
        ("/Schemas", "<path:ident>", "schema", "schemas", "Schema")):
    bp.add_url_rule(_rule, view_func=Discovery.as_view(f"{_endpoint}s", _described, _kind))
    bp.add_url_rule(f"{_rule}/{_ident}",
                    view_func=Discovery.as_view(_endpoint, _described, _kind))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    """Anything else under the SCIM root: a SCIM 404."""
    raise ScimError(404, f"no SCIM endpoint {rest}")
