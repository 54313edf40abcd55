"""SCIM 2.0 (RFC 7643/7644) resources over accounts: Users are members, Groups are teams.

Every write goes through ``lms.accounts.services`` (the same path as the member import and the
API): ``provision_member`` creates or updates, ``set_manager``, ``set_member_active``. Functions
flush and never commit. Errors are :class:`ScimError`, which the views answer in SCIM's format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.accounts import services as accounts
from lms.accounts.models import Membership, Organization, Role, User
from lms.core.errors import Conflict, DomainError
from lms.core.models import utcnow
from lms.extensions import db
from lms.identity.models import ScimGroup, ScimUser
from lms.identity.services import policy_for

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
MAX_COUNT = 200


class ScimError(Exception):
    """A SCIM error response: HTTP ``status``, optional ``scim_type`` (RFC 7644 §3.12)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type

    def body(self) -> dict[str, Any]:
        """The error as SCIM JSON."""
        body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status),
                                "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


def _from_domain(exc: DomainError) -> ScimError:
    detail = exc.message + "".join(f"; {k}: {v}" for k, v in exc.fields.items())
    if isinstance(exc, Conflict):
        return ScimError(409, detail, "uniqueness")
    if exc.status == 403:
        return ScimError(403, detail)
    return ScimError(400, detail, "invalidValue")


def _iso(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


# -- filters and paging ----------------------------------------------------------------------------

FILTER_RE = re.compile(
    r'^\s*(?P<attr>[A-Za-z0-9:._]+(?:\[\s*type\s+eq\s+"(?P<type>[^"]*)"\s*\](?:\.value)?)?)'
    r'\s+(?P<op>eq|sw|co)\s+"(?P<value>(?:[^"\\]|\\.)*)"\s*$', re.I)


@dataclass(frozen=True)
class Filter:
    """One ``attribute op "value"`` comparison (the forms identity providers send)."""

    attribute: str
    op: str
    value: str


def parse_filter(text: str | None, allowed: set[str]) -> Filter | None:
    """Parse a SCIM filter such as ``userName eq "a@b.c"``.

    :raise ScimError: 400 invalidFilter when it is not one supported comparison.
    """
    if not text:
        return None
    match = FILTER_RE.match(text)
    if not match:
        raise ScimError(400, f"unsupported filter: {text}", "invalidFilter")
    attribute = match["attr"].lower()
    if attribute.startswith(ENTERPRISE_SCHEMA.lower() + ":"):
        attribute = attribute[len(ENTERPRISE_SCHEMA) + 1:]
    elif attribute.startswith(USER_SCHEMA.lower() + ":"):
        attribute = attribute[len(USER_SCHEMA) + 1:]
    attribute = re.sub(r"\[.*\]", "", attribute)
    if attribute == "emails":
        attribute = "emails.value"
    if attribute not in allowed:
        raise ScimError(400, f"filtering on {match['attr']} is not supported", "invalidFilter")
    value = re.sub(r"\\(.)", r"\1", match["value"])
    return Filter(attribute=attribute, op=match["op"].lower(), value=value)


def _compare(column: Any, flt: Filter, *, case_insensitive: bool = True,
             stored_lower: bool = False) -> Any:
    # E-mails are stored lower-cased: comparing the bare column keeps its unique index usable.
    col = func.lower(column) if case_insensitive and not stored_lower else column
    value = flt.value.lower() if case_insensitive else flt.value
    if flt.op == "eq":
        return col == value
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"{escaped}%" if flt.op == "sw" else f"%{escaped}%"
    return col.like(pattern, escape="\\")


def page_args(start_index: str | None, count: str | None) -> tuple[int, int]:
    """``startIndex`` (1-based, at least 1) and ``count`` (0 to MAX_COUNT) from the query."""
    try:
        start = max(int(start_index or 1), 1)
        size = min(max(int(count if count not in (None, "") else 100), 0), MAX_COUNT)
    except ValueError:
        raise ScimError(400, "startIndex and count must be integers", "invalidValue") from None
    return start, size


def list_response(resources: list[dict[str, Any]], total: int, start: int) -> dict[str, Any]:
    """A SCIM ListResponse."""
    return {"schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start,
            "itemsPerPage": len(resources), "Resources": resources}


# -- Users ---------------------------------------------------------------------------------------

def _user_rows(organization: Organization) -> Any:  # a Select of (Membership, ScimUser)
    return (select(Membership, ScimUser).join(User, Membership.user_id == User.id)
            .outerjoin(ScimUser, (ScimUser.organization_id == Membership.organization_id)
                       & (ScimUser.user_id == Membership.user_id))
            .where(Membership.organization_id == organization.id, ScimUser.deleted_at.is_(None)))


def _group_ids(organization_id: int) -> dict[str, int]:
    return {name: gid for gid, name in db.session.execute(
        select(ScimGroup.id, ScimGroup.display_name)
        .where(ScimGroup.organization_id == organization_id))}


def user_resource(member: Membership, link: ScimUser | None, base: str,
                  group_ids: dict[str, int] | None = None) -> dict[str, Any]:
    """A member as a SCIM User with the enterprise extension.

    :param group_ids: the organization's group ids by name, when rendering many users.
    """
    user = member.user
    if group_ids is None:
        group_ids = _group_ids(member.organization_id)
    group_id = group_ids.get(member.team) if member.team else None
    enterprise: dict[str, Any] = {}
    if member.team:
        enterprise["department"] = member.team
    if link and link.employee_number:
        enterprise["employeeNumber"] = link.employee_number
    if member.manager is not None:
        enterprise["manager"] = {"value": str(member.manager.user_id),
                                 "$ref": f"{base}/Users/{member.manager.user_id}",
                                 "displayName": member.manager.user.display_name}
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA] + ([ENTERPRISE_SCHEMA] if enterprise else []),
        "id": str(user.id),
        "userName": user.email,
        "name": {"formatted": user.display_name},
        "displayName": user.display_name,
        "emails": [{"value": user.email, "type": "work", "primary": True}],
        "active": bool(member.active and user.active),
        "roles": [{"value": member.role.value, "primary": True}],
        "meta": {"resourceType": "User", "created": _iso(member.created_at),
                 "lastModified": _iso(max(member.created_at, link.created_at) if link
                                      else member.created_at),
                 "location": f"{base}/Users/{user.id}"},
    }
    if link and link.external_id:
        resource["externalId"] = link.external_id
    if user.locale:
        resource["locale"] = user.locale
    if group_id is not None:
        resource["groups"] = [{"value": str(group_id), "display": member.team,
                               "$ref": f"{base}/Groups/{group_id}"}]
    if enterprise:
        resource[ENTERPRISE_SCHEMA] = enterprise
    return resource


USER_FILTERS = {"username", "externalid", "emails.value", "id", "displayname",
                "employeenumber", "department"}


def list_users(organization: Organization, *, filter_text: str | None, start: int, count: int,
               base: str) -> dict[str, Any]:
    """A page of the organization's users, filtered."""
    stmt = _user_rows(organization)
    flt = parse_filter(filter_text, USER_FILTERS)
    if flt is not None:
        column: Any = {"username": User.email, "emails.value": User.email,
                       "externalid": ScimUser.external_id, "displayname": User.display_name,
                       "employeenumber": ScimUser.employee_number,
                       "department": Membership.team, "id": User.id}[flt.attribute]
        if flt.attribute == "id":
            stmt = stmt.where(func.cast(User.id, db.String) == flt.value)
        else:
            # externalId is case-exact (RFC 7643 §3.1); e-mails and names are not.
            stmt = stmt.where(_compare(column, flt,
                                       case_insensitive=flt.attribute != "externalid",
                                       stored_lower=column is User.email))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    # One query for the page with each member's person and manager, one for the groups.
    rows = db.session.execute(
        stmt.options(joinedload(Membership.user),
                     joinedload(Membership.manager).joinedload(Membership.user))
        .order_by(Membership.id).offset(start - 1).limit(count)).all()
    group_ids = _group_ids(organization.id)
    return list_response([user_resource(m, link, base, group_ids) for m, link in rows], total,
                         start)


def get_member(organization: Organization, user_id: str) -> tuple[Membership, ScimUser | None]:
    """The member behind a SCIM User id in this organization.

    :raise ScimError: 404 when there is none (or it belongs to another organization).
    """
    if not user_id.isdigit():
        raise ScimError(404, f"User {user_id} not found")
    row = db.session.execute(_user_rows(organization).where(User.id == int(user_id))).first()
    if row is None:
        raise ScimError(404, f"User {user_id} not found")
    return row[0], row[1]


def _as_bool(value: Any, name: str) -> bool:
    # Entra ID sends "True"/"False" as strings in PATCH operations.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ScimError(400, f"{name} must be a boolean", "invalidValue")


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ScimError(400, f"{name} must be a string", "invalidValue")
    return str(value)


def _email_of(data: dict[str, Any]) -> str | None:
    emails = data.get("emails")
    if isinstance(emails, list):
        chosen = [e for e in emails if isinstance(e, dict) and e.get("primary")] or [
            e for e in emails if isinstance(e, dict) and e.get("type") == "work"] or [
            e for e in emails if isinstance(e, dict)]
        if chosen and isinstance(chosen[0].get("value"), str):
            return str(chosen[0]["value"])
    return None


def attributes_from_resource(data: dict[str, Any]) -> dict[str, Any]:
    """The attributes Relais keeps, read from a full User resource (POST or PUT)."""
    if not isinstance(data, dict):
        raise ScimError(400, "the body must be a JSON object", "invalidSyntax")
    attrs: dict[str, Any] = {}
    user_name = _text(data.get("userName"), "userName")
    attrs["email"] = user_name if user_name and "@" in user_name else _email_of(data)
    if not attrs["email"]:
        raise ScimError(400, "userName (an e-mail address) is required", "invalidValue")
    name: dict[str, Any] = data["name"] if isinstance(data.get("name"), dict) else {}
    display = (_text(data.get("displayName"), "displayName") or _text(name.get("formatted"),
                                                                       "name.formatted")
               or " ".join(p for p in (_text(name.get("givenName"), "name.givenName"),
                                       _text(name.get("familyName"), "name.familyName")) if p))
    attrs["display_name"] = display or None
    attrs["external_id"] = _text(data.get("externalId"), "externalId")
    attrs["active"] = _as_bool(data.get("active", True), "active")
    roles = data.get("roles")
    if isinstance(roles, list) and roles and isinstance(roles[0], dict):
        attrs["role"] = roles[0].get("value")
    locale = _text(data.get("locale") or data.get("preferredLanguage"), "locale")
    attrs["locale"] = locale[:2].lower() if locale else None
    ext: dict[str, Any] = (data[ENTERPRISE_SCHEMA]
                           if isinstance(data.get(ENTERPRISE_SCHEMA), dict) else {})
    # Absent extension attributes leave the team and manager as they are (teams may come from
    # Groups instead); present and empty ones clear them.
    if "employeeNumber" in ext:
        attrs["employee_number"] = _text(ext.get("employeeNumber"), "employeeNumber")
    if "department" in ext:
        attrs["department"] = _text(ext.get("department"), "department") or ""
    if "manager" in ext:
        manager = ext.get("manager")
        attrs["manager"] = _text(manager.get("value") if isinstance(manager, dict) else manager,
                                 "manager")
    return attrs


def _default_role(organization: Organization) -> Role:
    settings = policy_for(organization)
    return settings.default_role if settings else Role.LEARNER


def _write(organization: Organization, attrs: dict[str, Any], *,
           member: Membership | None) -> tuple[Membership, ScimUser]:
    """Apply ``attrs`` to a new or existing member through the accounts services."""
    role = attrs.get("role") or (member.role if member else _default_role(organization))
    if attrs.get("role") and attrs["role"] not in {r.value for r in Role}:
        # Directories send job titles as roles; only Relais's own role names change the role.
        role = member.role if member else _default_role(organization)
    email = attrs["email"] if member is None else member.user.email
    if member is not None and attrs.get("email") and \
            accounts.email_key(attrs["email"]) != member.user.email:
        raise ScimError(400, "userName (the e-mail address) cannot be changed through SCIM",
                        "mutability")
    locale = attrs.get("locale")
    if locale and locale not in {"en", "fr"}:
        locale = None
    try:
        result = accounts.provision_member(
            organization=organization, email=email, role=role,
            display_name=attrs.get("display_name"), team=attrs.get("department"),
            locale=locale)
        membership = result.membership
        if "manager" in attrs:
            manager = None
            if attrs["manager"]:
                manager, _link = get_member(organization, attrs["manager"])
            accounts.set_manager(membership=membership, manager=manager)
        accounts.set_member_active(membership=membership, active=attrs.get("active", True))
    except DomainError as exc:
        raise _from_domain(exc) from exc
    link = db.session.scalar(select(ScimUser).where(ScimUser.organization_id == organization.id,
                                                    ScimUser.user_id == membership.user_id))
    if link is None:
        link = ScimUser(organization_id=organization.id, user_id=membership.user_id)
        db.session.add(link)
    external_id = attrs.get("external_id")
    if external_id and db.session.scalar(
            select(ScimUser.id).where(ScimUser.organization_id == organization.id,
                                      ScimUser.external_id == external_id,
                                      ScimUser.user_id != membership.user_id)):
        raise ScimError(409, f"externalId {external_id} is already used", "uniqueness")
    if "external_id" in attrs:
        link.external_id = external_id
    if "employee_number" in attrs:
        link.employee_number = attrs["employee_number"]
    link.deleted_at = None
    db.session.flush()
    return membership, link


def create_user(organization: Organization, data: dict[str, Any]) -> tuple[Membership, ScimUser]:
    """POST /Users: provision a member.

    :raise ScimError: 409 when the person is already a member, 400 on bad values.
    """
    attrs = attributes_from_resource(data)
    try:
        email = accounts.normalize_email(attrs["email"])
    except DomainError as exc:
        raise ScimError(400, f"userName: {exc.message}", "invalidValue") from exc
    user = accounts.find_user(email)
    existing = next((m for m in user.memberships if m.organization_id == organization.id),
                    None) if user else None
    if existing is not None:
        link = db.session.scalar(select(ScimUser).where(
            ScimUser.organization_id == organization.id, ScimUser.user_id == existing.user_id))
        if link is None or link.deleted_at is None:
            raise ScimError(409, f"{email} is already a member", "uniqueness")
    attrs["email"] = email
    return _write(organization, attrs, member=existing)


def replace_user(organization: Organization, user_id: str,
                 data: dict[str, Any]) -> tuple[Membership, ScimUser]:
    """PUT /Users/{id}: replace the member's attributes."""
    member, _link = get_member(organization, user_id)
    return _write(organization, attributes_from_resource(data), member=member)


PATH_TO_ATTR = {
    "username": "email", "displayname": "display_name", "name.formatted": "display_name",
    "externalid": "external_id", "active": "active", "locale": "locale",
    "preferredlanguage": "locale",
    'emails[type eq "work"].value': "email", "emails.value": "email",
    "employeenumber": "employee_number", "department": "department", "manager": "manager",
    "manager.value": "manager", "roles": "role",
}


def _current_attrs(member: Membership, link: ScimUser | None) -> dict[str, Any]:
    return {"email": member.user.email, "display_name": member.user.display_name,
            "external_id": link.external_id if link else None,
            "active": bool(member.active and member.user.active), "role": member.role.value,
            "locale": member.user.locale,
            "employee_number": link.employee_number if link else None,
            "department": member.team or "",
            "manager": str(member.manager.user_id) if member.manager else None}


def _patch_value(attr: str, value: Any, path: str) -> Any:
    if attr == "active":
        return _as_bool(value, "active")
    if attr == "role":
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return value[0].get("value")
        return _text(value, path)
    if attr == "manager" and isinstance(value, dict):
        return _text(value.get("value"), path)
    if attr == "email" and isinstance(value, list):
        return _email_of({"emails": value})
    return _text(value, path)


def patch_user(organization: Organization, user_id: str,
               data: dict[str, Any]) -> tuple[Membership, ScimUser]:
    """PATCH /Users/{id}: add, replace or remove attributes (RFC 7644 §3.5.2)."""
    member, link = get_member(organization, user_id)
    attrs = _current_attrs(member, link)
    for op, path, value in _operations(data):
        if path is None:
            if not isinstance(value, dict):
                raise ScimError(400, "an operation without path needs an object value",
                                "invalidValue")
            items: list[tuple[str, Any]] = []
            for key, item in value.items():
                if key == ENTERPRISE_SCHEMA and isinstance(item, dict):
                    items.extend(item.items())
                elif key == "name" and isinstance(item, dict) and "formatted" in item:
                    items.append(("name.formatted", item["formatted"]))
                else:
                    items.append((key, item))
        else:
            items = [(path, value)]
        for key, item in items:
            attr = PATH_TO_ATTR.get(_strip_schema(key))
            if attr is None:
                continue  # attributes Relais does not keep are accepted and ignored
            if op == "remove":
                if attr in {"email", "active"}:
                    raise ScimError(400, f"{key} cannot be removed", "mutability")
                attrs[attr] = "" if attr == "department" else None
            else:
                attrs[attr] = _patch_value(attr, item, key)
    if attrs.get("role") is None:
        attrs["role"] = member.role.value
    return _write(organization, attrs, member=member)


def _strip_schema(path: str) -> str:
    lowered = path.strip().lower()
    for schema in (ENTERPRISE_SCHEMA, USER_SCHEMA, GROUP_SCHEMA):
        if lowered.startswith(schema.lower() + ":"):
            return lowered[len(schema) + 1:]
    return lowered


def _operations(data: dict[str, Any]) -> list[tuple[str, str | None, Any]]:
    if not isinstance(data, dict) or PATCH_SCHEMA not in (data.get("schemas") or []):
        raise ScimError(400, f"a PATCH body must use the {PATCH_SCHEMA} schema", "invalidSyntax")
    operations = data.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, "Operations must be a non-empty list", "invalidSyntax")
    result = []
    for operation in operations:
        if not isinstance(operation, dict):
            raise ScimError(400, "each operation must be an object", "invalidSyntax")
        op = str(operation.get("op", "")).lower()
        if op not in {"add", "replace", "remove"}:
            raise ScimError(400, f"unknown op {operation.get('op')!r}", "invalidSyntax")
        path = operation.get("path")
        if path is not None and not isinstance(path, str):
            raise ScimError(400, "path must be a string", "invalidPath")
        if op == "remove" and not path:
            raise ScimError(400, "remove needs a path", "noTarget")
        result.append((op, path, operation.get("value")))
    return result


def delete_user(organization: Organization, user_id: str) -> None:
    """DELETE /Users/{id}: end access; the member's learning records stay."""
    member, link = get_member(organization, user_id)
    try:
        accounts.set_member_active(membership=member, active=False)
    except DomainError as exc:
        raise _from_domain(exc) from exc
    if link is None:
        link = ScimUser(organization_id=organization.id, user_id=member.user_id)
        db.session.add(link)
    link.deleted_at = utcnow()
    db.session.flush()


# -- Groups (teams) ------------------------------------------------------------------------------

def group_resource(group: ScimGroup, base: str, *, members: bool = True) -> dict[str, Any]:
    """A team as a SCIM Group."""
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA], "id": str(group.id), "displayName": group.display_name,
        "meta": {"resourceType": "Group", "created": _iso(group.created_at),
                 "lastModified": _iso(group.created_at),
                 "location": f"{base}/Groups/{group.id}"}}
    if group.external_id:
        resource["externalId"] = group.external_id
    if members:
        rows = db.session.execute(
            select(User.id, User.display_name).join(Membership)
            .where(Membership.organization_id == group.organization_id,
                   Membership.team == group.display_name).order_by(User.id)).all()
        resource["members"] = [{"value": str(r.id), "display": r.display_name,
                                "$ref": f"{base}/Users/{r.id}", "type": "User"} for r in rows]
    return resource


def list_groups(organization: Organization, *, filter_text: str | None, start: int, count: int,
                base: str, members: bool) -> dict[str, Any]:
    """A page of the organization's groups, filtered."""
    stmt = select(ScimGroup).where(ScimGroup.organization_id == organization.id)
    flt = parse_filter(filter_text, {"displayname", "externalid", "id"})
    if flt is not None:
        if flt.attribute == "id":
            stmt = stmt.where(func.cast(ScimGroup.id, db.String) == flt.value)
        else:
            column = ScimGroup.display_name if flt.attribute == "displayname" \
                else ScimGroup.external_id
            stmt = stmt.where(_compare(column, flt,
                                       case_insensitive=flt.attribute == "displayname"))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    groups = db.session.scalars(stmt.order_by(ScimGroup.id).offset(start - 1).limit(count)).all()
    return list_response([group_resource(g, base, members=members) for g in groups], total,
                         start)


def get_group(organization: Organization, group_id: str) -> ScimGroup:
    """The group with this id in this organization.

    :raise ScimError: 404 otherwise.
    """
    group = db.session.get(ScimGroup, int(group_id)) if group_id.isdigit() else None
    if group is None or group.organization_id != organization.id:
        raise ScimError(404, f"Group {group_id} not found")
    return group


def _set_team(organization: Organization, user_id: str, team: str) -> None:
    member, _link = get_member(organization, user_id)
    try:
        accounts.add_member(organization=organization, user=member.user, role=member.role,
                            team=team)
    except DomainError as exc:
        raise _from_domain(exc) from exc


def _group_name(value: Any) -> str:
    name = _text(value, "displayName")
    if not name or not name.strip():
        raise ScimError(400, "displayName is required", "invalidValue")
    if len(name.strip()) > 120:
        raise ScimError(400, "displayName: at most 120 characters", "invalidValue")
    return name.strip()


def _member_ids(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    ids = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            raise ScimError(400, "members must be objects with a value", "invalidValue")
        ids.append(item["value"])
    return ids


def _rename(group: ScimGroup, name: str) -> None:
    if name == group.display_name:
        return
    if db.session.scalar(select(ScimGroup.id).where(
            ScimGroup.organization_id == group.organization_id,
            ScimGroup.display_name == name)):
        raise ScimError(409, f"a group named {name} exists", "uniqueness")
    organization = db.session.get(Organization, group.organization_id)
    assert organization is not None
    members = db.session.scalars(select(Membership).where(
        Membership.organization_id == group.organization_id,
        Membership.team == group.display_name)).all()
    for member in members:
        _set_team(organization, str(member.user_id), name)
    group.display_name = name


def _current_member_ids(group: ScimGroup) -> set[str]:
    return {str(uid) for uid in db.session.scalars(select(Membership.user_id).where(
        Membership.organization_id == group.organization_id,
        Membership.team == group.display_name))}


def _set_members(organization: Organization, group: ScimGroup, wanted: set[str]) -> None:
    current = _current_member_ids(group)
    for user_id in sorted(current - wanted):
        _set_team(organization, user_id, "")
    for user_id in sorted(wanted - current):
        _set_team(organization, user_id, group.display_name)


def create_group(organization: Organization, data: dict[str, Any]) -> ScimGroup:
    """POST /Groups: a team, with its members (a member is in one team at a time)."""
    if not isinstance(data, dict):
        raise ScimError(400, "the body must be a JSON object", "invalidSyntax")
    name = _group_name(data.get("displayName"))
    if db.session.scalar(select(ScimGroup.id).where(ScimGroup.organization_id == organization.id,
                                                    ScimGroup.display_name == name)):
        raise ScimError(409, f"a group named {name} exists", "uniqueness")
    group = ScimGroup(organization_id=organization.id, display_name=name,
                      external_id=_text(data.get("externalId"), "externalId"))
    db.session.add(group)
    db.session.flush()
    for user_id in _member_ids(data.get("members")):
        _set_team(organization, user_id, name)
    db.session.flush()
    return group


def replace_group(organization: Organization, group_id: str, data: dict[str, Any]) -> ScimGroup:
    """PUT /Groups/{id}: rename and set the members."""
    group = get_group(organization, group_id)
    if not isinstance(data, dict):
        raise ScimError(400, "the body must be a JSON object", "invalidSyntax")
    _rename(group, _group_name(data.get("displayName")))
    if "externalId" in data:
        group.external_id = _text(data.get("externalId"), "externalId")
    _set_members(organization, group, set(_member_ids(data.get("members"))))
    db.session.flush()
    return group


MEMBER_PATH_RE = re.compile(r'^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$', re.I)


def patch_group(organization: Organization, group_id: str, data: dict[str, Any]) -> ScimGroup:
    """PATCH /Groups/{id}: add or remove members, rename."""
    group = get_group(organization, group_id)
    for op, path, value in _operations(data):
        key = (path or "").strip()
        one = MEMBER_PATH_RE.match(key)
        if one and op == "remove":
            if one[1] in _current_member_ids(group):
                _set_team(organization, one[1], "")
        elif key.lower() == "members":
            ids = set(_member_ids(value))
            if op == "add":
                for user_id in sorted(ids - _current_member_ids(group)):
                    _set_team(organization, user_id, group.display_name)
            elif op == "remove":
                targets = ids or _current_member_ids(group)
                for user_id in sorted(targets & _current_member_ids(group)):
                    _set_team(organization, user_id, "")
            else:
                _set_members(organization, group, ids)
        elif key.lower() == "displayname":
            _rename(group, _group_name(value))
        elif key.lower() == "externalid":
            group.external_id = None if op == "remove" else _text(value, "externalId")
        elif not key and isinstance(value, dict):
            if "displayName" in value:
                _rename(group, _group_name(value["displayName"]))
            if "externalId" in value:
                group.external_id = _text(value["externalId"], "externalId")
            if "members" in value:
                ids = set(_member_ids(value["members"]))
                if op == "add":
                    for user_id in sorted(ids - _current_member_ids(group)):
                        _set_team(organization, user_id, group.display_name)
                else:
                    _set_members(organization, group, ids)
        else:
            raise ScimError(400, f"unsupported path {path!r}", "invalidPath")
    db.session.flush()
    return group


def delete_group(organization: Organization, group_id: str) -> None:
    """DELETE /Groups/{id}: the team's members are left without a team."""
    group = get_group(organization, group_id)
    _set_members(organization, group, set())
    db.session.delete(group)
    db.session.flush()
