"""Authorization in one place: who may see which organization, with which role.

Pages, the JSON API and the CLI all go through these functions, so the rule "a person outside
an organization gets 404 for its objects, a member without the role gets 403" lives here only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, select

from lms.accounts.models import Membership, Organization, Role, User
from lms.core.errors import Forbidden, NotFound
from lms.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M")

# Roles that may manage a cohort's learners and content; HR may read reports and certificates.
STAFF_ROLES = (Role.TRAINER, Role.ADMIN)
MANAGER_ROLES = (Role.TRAINER, Role.HR, Role.ADMIN)

# Which roles a member may give others (by invitation or provisioning): never more than one's
# own reach, so a trainer cannot make an accomplice an administrator.
GRANTABLE_ROLES: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.HR: frozenset({Role.LEARNER, Role.TRAINER, Role.HR}),
    Role.TRAINER: frozenset({Role.LEARNER, Role.TRAINER}),
    Role.LEARNER: frozenset(),
}

# Attribute set on views by the role decorators, so tests (the authorization matrix) can read
# which roles each endpoint admits.
REQUIRED_ROLES_ATTR = "required_roles"


def membership_for(user: User, org_slug: str) -> Membership:
    """Return ``user``'s membership in the organization ``org_slug``.

    :raise NotFound: no such organization, or the user is not an active member (the same
        answer, so nobody can probe which organizations exist).
    """
    membership = db.session.scalar(
        select(Membership).join(Organization)
        .where(Organization.slug == org_slug, Membership.user_id == user.id,
               Membership.active.is_(True))
    )
    if membership is None:
        raise NotFound(_l("No such organization."))
    return membership


def check_role(membership: Membership, roles: Iterable[str | Role]) -> None:
    """Check that a membership holds one of ``roles``.

    :raise Forbidden: it does not.
    """
    allowed = {Role(r) for r in roles}
    if membership.role not in allowed:
        raise Forbidden(_l("Your role in this organization does not allow this."))


def check_can_grant(membership: Membership, role: str | Role,
                    target: Membership | None = None) -> None:
    """Check that ``membership`` may give ``role`` to someone (and change ``target``'s role).

    :raise Forbidden: the role is above what this member may grant, or ``target`` holds one.
    """
    try:
        wanted = Role(role)
    except ValueError:
        return  # not a role at all: the service answers that with a field error
    grantable = GRANTABLE_ROLES[membership.role]
    if wanted not in grantable or (target is not None and target.role not in grantable):
        raise Forbidden(_l("Your role in this organization cannot grant or change this role."))


def current_organization() -> Organization:
    """The organization of the current request (set by an organization blueprint or the API)."""
    return g.organization  # type: ignore[no-any-return]


def current_membership() -> Membership:
    """The current user's membership in the current organization."""
    return g.membership  # type: ignore[no-any-return]


def member_test(test: Callable[[Membership], bool]) -> Callable[[], bool]:
    """A template function answering ``test`` for the current member; False outside an
    organization (no current member), e.g. for a menu entry.
    """
    def answer() -> bool:
        try:
            return test(current_membership())
        except AttributeError:  # outside an organization
            return False

    return answer


def scoped(stmt: Select[Any], model: type[Any]) -> Select[Any]:
    """Restrict ``stmt`` to rows of ``model`` that belong to the current organization."""
    return stmt.where(model.organization_id == current_organization().id)


def get_in_org_or_404(model: type[M], ident: Any) -> M:
    """Load one row of an organization-owned model, or abort with 404 if it is elsewhere."""
    obj = db.session.get(model, ident)
    if obj is None or obj.organization_id != current_organization().id:  # type: ignore[attr-defined]
        abort(404)
    return obj


def org_blueprint(name: str, import_name: str, **kwargs: Any) -> Blueprint:
    """Create a blueprint whose pages live under ``/o/<org_slug>`` and need membership.

    Before each view it loads ``g.organization`` and ``g.membership``: anonymous visitors go to
    the login page, non-members get 404. Views then add :func:`role_required` where needed.
    """
    bp = Blueprint(name, import_name, url_prefix="/o/<org_slug>", **kwargs)

    @bp.url_value_preprocessor
    def _pull_org(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.org_slug = (values or {}).pop("org_slug", None)

    @bp.url_defaults
    def _add_org(endpoint: str, values: dict[str, Any]) -> None:
        if "org_slug" not in values and getattr(g, "organization", None) is not None:
            values["org_slug"] = g.organization.slug

    @bp.before_request
    def _load_membership() -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        try:
            membership = membership_for(current_user, g.org_slug)
        except NotFound:
            abort(404)
        g.membership = membership
        g.organization = membership.organization
        return None

    return bp


def role_required(*roles: str | Role) -> Callable[[F], F]:
    """Decorate an organization page so members without one of ``roles`` get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                check_role(current_membership(), roles)
            except Forbidden:
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, REQUIRED_ROLES_ATTR, frozenset(Role(r) for r in roles))
        return wrapped  # type: ignore[return-value]

    return decorator
