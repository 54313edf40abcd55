"""Writes for LTI platform registrations, and the people, courses and links launches bring.

Every function flushes and never commits: the caller (a page, a job or the CLI) commits.
People and memberships are only ever written through ``lms.accounts.services``, cohorts and
enrolments through the cohort services of ``lms.courses``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Membership, Organization, Role, User
from lms.core.errors import DomainError, ValidationFailed
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.models import Module, Program
from lms.extensions import db
from lms.lti import claims as c
from lms.lti.models import LtiContext, LtiLinkLearner, LtiPlatform, LtiResourceLink, LtiUser

# Roles that make a platform user a trainer in Relais; everyone else is a learner.
STAFF_ROLES = ("#Instructor", "#Administrator", "#ContentDeveloper", "#TeachingAssistant")


class LtiFailed(DomainError, code="lti_failed", status=400):
    """A launch, login or platform call that cannot complete; ``code`` says why."""

    def __init__(self, message: Any, *, code: str, status: int = 400) -> None:
        super().__init__(message, code=code)
        self.status = status


# -- registrations -------------------------------------------------------------------------------

def platforms_of(organization: Organization) -> list[LtiPlatform]:
    """The organization's registered platforms, by name."""
    return list(db.session.scalars(select(LtiPlatform).where(
        LtiPlatform.organization_id == organization.id).order_by(LtiPlatform.name)))


def _url(value: str, field: str, fields: dict[str, Any]) -> str:
    value = (value or "").strip()
    parts = urlsplit(value)
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if not parts.netloc or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        fields[field] = _l("Give the platform's https address.")
    elif len(value) > 500:
        fields[field] = _l("At most 500 characters.")
    return value


def parse_deployment_ids(text: str) -> list[str]:
    """The deployment ids in ``text`` (separated by commas, spaces or lines), in order."""
    found: list[str] = []
    for raw in re.split(r"[\s,;]+", (text or "").strip()):
        if raw and raw not in found:
            found.append(raw)
    return found


def save_platform(*, organization: Organization, platform: LtiPlatform | None = None,
                  name: str, issuer: str, client_id: str, deployment_ids: str,
                  auth_login_url: str, auth_token_url: str, jwks_url: str) -> LtiPlatform:
    """Register a platform for the organization, or update ``platform``.

    :raise ValidationFailed: a field is missing or malformed, or another registration
        (of any organization) has the same issuer and client id.
    """
    fields: dict[str, Any] = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        fields["name"] = _l("Required, at most 200 characters.")
    # Stored without a trailing slash; launches' "iss" is compared the same way (a slash typed
    # by mistake must not refuse every launch).
    issuer = _url((issuer or "").strip().rstrip("/"), "issuer", fields)
    client_id = (client_id or "").strip()
    if not client_id or len(client_id) > 255:
        fields["client_id"] = _l("Required, at most 255 characters.")
    ids = parse_deployment_ids(deployment_ids)
    if not ids:
        fields["deployment_ids"] = _l("Give at least one deployment ID.")
    elif any(len(i) > 255 for i in ids):
        fields["deployment_ids"] = _l("A deployment ID has at most 255 characters.")
    urls = {name_: _url(value, name_, fields) for name_, value in (
        ("auth_login_url", auth_login_url), ("auth_token_url", auth_token_url),
        ("jwks_url", jwks_url))}
    if "issuer" not in fields and "client_id" not in fields:
        other = db.session.scalar(select(LtiPlatform).where(
            LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id))
        if other is not None and other is not platform:
            fields["client_id"] = _l("This issuer and client ID are already registered.")
    if fields:
        raise ValidationFailed(_l("The platform registration is not valid."), fields=fields)
    if platform is None:
        platform = LtiPlatform(organization=organization)
        db.session.add(platform)
    platform.name, platform.issuer, platform.client_id = name, issuer, client_id
    platform.deployment_ids = ids
    platform.auth_login_url = urls["auth_login_url"]
    platform.auth_token_url = urls["auth_token_url"]
    platform.jwks_url = urls["jwks_url"]
    db.session.flush()
    return platform


def delete_platform(*, platform: LtiPlatform) -> None:
    """Remove a registration (its links and contexts go with it; cohorts and people stay)."""
    db.session.delete(platform)
    db.session.flush()


def find_platform(issuer: str, client_id: str | None) -> LtiPlatform | None:
    """The registration a login names; without a client id, the issuer's only one."""
    stmt = select(LtiPlatform).where(LtiPlatform.issuer == (issuer or "").rstrip("/"))
    if client_id:
        return db.session.scalar(stmt.where(LtiPlatform.client_id == client_id))
    found = db.session.scalars(stmt.limit(2)).all()
    return found[0] if len(found) == 1 else None


def contexts_of(platform: LtiPlatform) -> list[LtiContext]:
    """The platform's courses that hold Relais links, newest first."""
    return list(db.session.scalars(select(LtiContext).where(
        LtiContext.platform_id == platform.id).order_by(LtiContext.id.desc())))


# -- the person ----------------------------------------------------------------------------------

def relais_role(roles: Any) -> Role:
    """The Relais role of a platform user's LTI roles: instructors train, others learn."""
    roles = roles if isinstance(roles, list) else []
    staff = any(isinstance(r, str) and (r.endswith(STAFF_ROLES) or r in {
        s.lstrip("#") for s in STAFF_ROLES}) for r in roles)
    return Role.TRAINER if staff else Role.LEARNER


def _text(value: Any, limit: int) -> str | None:
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else None


def person(*, platform: LtiPlatform, sub: Any, email: Any, name: Any,
           role: Role) -> Membership:
    """Find or create the member a platform user is: by their ``sub`` on this platform, else
    by e-mail; a new member gets ``role``, an existing one keeps theirs.

    :raise LtiFailed: no ``sub``, no e-mail for a person Relais does not know yet, or the
        member was deactivated.
    """
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise LtiFailed(_l("The platform did not say who is launching."), code="no_subject")
    organization = platform.organization
    link = db.session.scalar(select(LtiUser).where(LtiUser.platform_id == platform.id,
                                                   LtiUser.sub == sub))
    user: User | None = link.user if link else None
    address = None
    if isinstance(email, str) and "@" in email:
        try:
            address = accounts.normalize_email(email)
        except ValidationFailed:
            address = None
    if user is None and address:
        user = accounts.find_user(address)
    if user is None and address is None:
        raise LtiFailed(_l("The platform did not send the person's e-mail address."),
                        code="no_email", status=403)
    member = next((m for m in user.memberships if m.organization_id == organization.id),
                  None) if user else None
    if (member is not None and not member.active) or (user is not None and not user.active):
        raise LtiFailed(_l("This person's access to the organization was deactivated."),
                        code="member_deactivated", status=403)
    if member is None:
        member = accounts.provision_member(
            organization=organization, email=user.email if user else str(address), role=role,
            display_name=_text(name, 200)).membership
    if link is None:
        db.session.add(LtiUser(platform_id=platform.id, sub=sub, user_id=member.user_id))
        db.session.flush()
    return member


def lti_user(platform: LtiPlatform, user: User) -> LtiUser | None:
    """The platform's ``sub`` for ``user``, if they ever came from it."""
    return db.session.scalar(select(LtiUser).where(LtiUser.platform_id == platform.id,
                                                   LtiUser.user_id == user.id))


# -- what a launch is about ----------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """What a link opens: a module (and its program) or a whole program."""

    program: Program
    module: Module | None


def target_of(*, platform: LtiPlatform, launch: dict[str, Any]) -> Target:
    """The module or program a resource-link launch opens, from the custom parameters the
    deep-linking answer set, else from what the link opened before.

    :raise LtiFailed: the link names nothing, or something outside the platform's organization.
    """
    custom = launch.get(c.CUSTOM) or {}
    custom = custom if isinstance(custom, dict) else {}
    org_id = platform.organization_id
    module_ref, program_ref = custom.get(c.CUSTOM_MODULE), custom.get(c.CUSTOM_PROGRAM)
    if module_ref is None and program_ref is None:
        link_id = (launch.get(c.RESOURCE_LINK) or {}).get("id")
        known = db.session.scalar(select(LtiResourceLink).where(
            LtiResourceLink.platform_id == platform.id,
            LtiResourceLink.resource_link_id == str(link_id))) if link_id else None
        module_ref = known.module_id if known else None
        program_ref = known.program_id if known and known.module_id is None else None
    if module_ref is not None:
        module = db.session.get(Module, int(module_ref)) if str(module_ref).isdigit() else None
        if module is not None and module.program.organization_id == org_id:
            return Target(program=module.program, module=module)
    elif program_ref is not None:
        program = db.session.get(Program, int(program_ref)) \
            if str(program_ref).isdigit() else None
        if program is not None and program.organization_id == org_id:
            return Target(program=program, module=None)
    else:
        raise LtiFailed(_l("This link does not open any Relais module yet."),
                        code="no_target", status=404)
    raise LtiFailed(_l("This link opens a module that does not exist in this organization."),
                    code="unknown_target", status=404)


def remember_launch(*, platform: LtiPlatform, launch: dict[str, Any], target: Target,
                    member: Membership) -> tuple[LtiResourceLink, LtiContext | None]:
    """Record the link, its course, its grade column and roster URL, and who launched it."""
    context = None
    claim = launch.get(c.CONTEXT) or {}
    if isinstance(claim, dict) and claim.get("id"):
        context = context_for(platform=platform, context_id=str(claim["id"])[:255])
        context.title = _text(claim.get("title") or claim.get("label"), 255) or context.title
        context.program_id = target.program.id
        nrps = launch.get(c.NRPS) or {}
        if isinstance(nrps, dict) and isinstance(nrps.get("context_memberships_url"), str):
            context.memberships_url = nrps["context_memberships_url"][:1000]
    link_claim = launch.get(c.RESOURCE_LINK) or {}
    link_id = str(link_claim.get("id") or "")[:255]
    if not link_id:
        raise LtiFailed(_l("The platform did not name the link being launched."),
                        code="invalid_token", status=400)
    link = db.session.scalar(select(LtiResourceLink).where(
        LtiResourceLink.platform_id == platform.id, LtiResourceLink.resource_link_id == link_id))
    if link is None:
        link = LtiResourceLink(platform_id=platform.id, resource_link_id=link_id)
        db.session.add(link)
    link.context_pk = context.id if context else None
    link.title = _text(link_claim.get("title"), 255)
    link.module_id = target.module.id if target.module else None
    link.program_id = target.program.id if target.module is None else None
    ags = launch.get(c.AGS) or {}
    if isinstance(ags, dict):
        scopes = [s for s in ags.get("scope") or [] if isinstance(s, str)]
        if isinstance(ags.get("lineitem"), str) and c.SCOPE_SCORE in scopes:
            link.lineitem_url = ags["lineitem"][:1000]
            link.ags_scopes = scopes
    db.session.flush()
    if member.role == Role.LEARNER:
        who = lti_user(platform, member.user)
        if who is not None and db.session.scalar(select(LtiLinkLearner.id).where(
                LtiLinkLearner.link_id == link.id, LtiLinkLearner.lti_user_id == who.id)) is None:
            db.session.add(LtiLinkLearner(link_id=link.id, lti_user_id=who.id))
            db.session.flush()
    return link, context


def context_for(*, platform: LtiPlatform, context_id: str) -> LtiContext:
    """The platform's course ``context_id`` (created on first sight)."""
    context = db.session.scalar(select(LtiContext).where(
        LtiContext.platform_id == platform.id, LtiContext.context_id == context_id))
    if context is None:
        context = LtiContext(platform_id=platform.id, context_id=context_id)
        db.session.add(context)
        db.session.flush()
    return context


def context_cohort(context: LtiContext) -> Cohort:
    """The cohort of the course's learners in its program (opened on first need).

    :raise LtiFailed: no Relais link was launched from this course yet (no program).
    """
    cohort = db.session.get(Cohort, context.cohort_id) if context.cohort_id else None
    if cohort is not None and cohort.program_id == context.program_id:
        return cohort
    program = db.session.get(Program, context.program_id) if context.program_id else None
    if program is None:
        raise LtiFailed(_l("No Relais link was opened from this course yet: open one, then "
                           "import the roster."), code="no_program", status=409)
    platform = context.platform
    name = f"{context.title or context.context_id} ({platform.name})"[:200]
    cohort = create_cohort(program=program, name=name)
    context.cohort_id = cohort.id
    db.session.flush()
    return cohort


def enrollment_for(*, member: Membership, program: Program,
                   context: LtiContext | None) -> Enrollment:
    """The learner's enrolment in ``program``: an existing active one, else one in the
    course's cohort (the learner joins it on their first launch).

    :raise LtiFailed: the launch names no course, so there is no cohort to join.
    """
    existing = db.session.scalars(
        select(Enrollment).join(Cohort).where(Enrollment.membership_id == member.id,
                                              Cohort.program_id == program.id)
        .order_by(Enrollment.enrolled_at.desc())).all()
    active = [e for e in existing if e.status != WITHDRAWN]
    if active:
        return active[0]
    if context is None:
        raise LtiFailed(_l("The platform did not say which course this link is in."),
                        code="no_context", status=400)
    return join_cohort(member=member, cohort=context_cohort(context))


def join_cohort(*, member: Membership, cohort: Cohort) -> Enrollment:
    """Enrol a learner in ``cohort`` unless they already are (a withdrawn one comes back)."""
    existing = db.session.scalar(select(Enrollment).where(
        Enrollment.cohort_id == cohort.id, Enrollment.membership_id == member.id))
    if existing is not None and existing.status != WITHDRAWN:
        return existing
    return enrol(cohort=cohort, membership=member)
