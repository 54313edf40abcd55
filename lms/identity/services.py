"""Writes for single sign-on settings (OpenID Connect, SAML), just-in-time accounts, SCIM tokens.

Every function flushes and never commits: the caller (a view, the SCIM API or the CLI) commits.
People and memberships are only ever written through ``lms.accounts.services``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from lms.accounts import audit
from lms.accounts import services as accounts
from lms.accounts.models import Membership, Organization, Role, User
from lms.core import crypto
from lms.core.errors import DomainError, ValidationFailed
from lms.core.models import utcnow
from lms.extensions import db
from lms.identity.models import (
    OidcDomain,
    OidcSettings,
    SamlDomain,
    SamlSettings,
    ScimToken,
    SsoPolicy,
)

SECRET_PURPOSE = "identity-oidc-client-secret"
SCIM_TOKEN_PREFIX = "scim_"
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
# The more a role may do, the later it comes: several mapped groups give the strongest role.
ROLE_RANK = [Role.LEARNER, Role.TRAINER, Role.HR, Role.ADMIN]


class SsoFailed(DomainError, code="sso_failed", status=400):
    """A single sign-on that cannot complete; ``code`` says why, the status what HTTP answers."""


def failure(code: str, status: int, message: str) -> SsoFailed:
    """An :class:`SsoFailed` with its code and the HTTP status the page answers with."""
    exc = SsoFailed(message, code=code)
    exc.status = status
    return exc


# -- settings ----------------------------------------------------------------------------------

def settings_for(organization: Organization) -> OidcSettings | None:
    """The organization's OpenID Connect settings, or None."""
    return db.session.scalar(
        select(OidcSettings).where(OidcSettings.organization_id == organization.id))


def parse_domains(text: str) -> list[str]:
    """The e-mail domains in ``text`` (separated by commas, spaces or lines), lower-cased.

    :raise ValidationFailed: one is not a domain name.
    """
    domains = []
    for raw in re.split(r"[\s,;]+", text.strip().lower()):
        domain = raw.lstrip("@")
        if not domain:
            continue
        if not DOMAIN_RE.match(domain):
            raise ValidationFailed(_l("“%(value)s” is not a domain name.", value=raw),
                                   fields={"allowed_domains": _l(
                                       "“%(value)s” is not a domain name.", value=raw)})
        if domain not in domains:
            domains.append(domain)
    return domains


def parse_role_mapping(text: str) -> dict[str, str]:
    """The ``group = role`` lines of ``text`` as a dict.

    :raise ValidationFailed: a line has no ``=`` or names an unknown role.
    """
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        group, sep, role = line.rpartition("=")
        group, role = group.strip(), role.strip().lower()
        if not sep or not group:
            raise ValidationFailed(_l("The group mapping is not valid."), fields={
                "role_mapping": _l("Line %(line)d: write “group = role”.", line=number)})
        if role not in {r.value for r in Role}:
            allowed = ", ".join(r.value for r in Role)
            raise ValidationFailed(_l("The group mapping is not valid."), fields={
                "role_mapping": _l("Line %(line)d: unknown role “%(role)s” (use %(allowed)s).",
                                   line=number, role=role, allowed=allowed)})
        mapping[group] = role
    return mapping


def check_issuer(issuer: str) -> str:
    """The issuer URL without a trailing slash.

    :raise ValidationFailed: not an https URL (plain http only on this machine, for tests).
    """
    issuer = issuer.strip().rstrip("/")
    parts = urlsplit(issuer)
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if not parts.netloc or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        raise ValidationFailed(_l("The issuer is not valid."),
                               fields={"issuer": _l("Use the provider's https URL.")})
    return issuer


@dataclass(frozen=True)
class Policy:
    """The checked shared part of a settings form: domains, roles, require-SSO."""

    domains: list[str]
    default_role: Role
    role_mapping: dict[str, str]
    require_sso: bool
    break_glass_user: User | None


def check_policy(*, organization: Organization, allowed_domains: str, default_role: str | Role,
                 role_mapping: str, require_sso: bool, break_glass_user: User | None,
                 fields: dict[str, Any]) -> Policy:
    """The shared settings of any SSO protocol, checked; problems are added to ``fields``.

    A domain belongs to one organization only, whichever protocol claims it, so one company's
    identity provider can never sign anyone into another organization.
    """
    try:
        domains = parse_domains(allowed_domains)
        if not domains:
            fields["allowed_domains"] = _l("Give at least one domain.")
        taken = {*db.session.scalars(
            select(OidcDomain.domain).join(OidcSettings)
            .where(OidcDomain.domain.in_(domains),
                   OidcSettings.organization_id != organization.id)),
                 *db.session.scalars(
            select(SamlDomain.domain).join(SamlSettings)
            .where(SamlDomain.domain.in_(domains),
                   SamlSettings.organization_id != organization.id))}
        if taken:
            fields["allowed_domains"] = _l("Already used by another organization: %(domains)s.",
                                           domains=", ".join(sorted(taken)))
    except ValidationFailed as exc:
        fields.update(exc.fields)
        domains = []
    try:
        mapping = parse_role_mapping(role_mapping)
    except ValidationFailed as exc:
        fields.update(exc.fields)
        mapping = {}
    try:
        role = Role(default_role)
    except ValueError:
        fields["default_role"] = _l("Unknown role.")
        role = Role.LEARNER
    if require_sso:
        admin = break_glass_user and next(
            (m for m in break_glass_user.memberships
             if m.organization_id == organization.id and m.role == Role.ADMIN), None)
        if not admin:
            fields["break_glass_user_id"] = _l("Choose an administrator who keeps a password.")
    return Policy(domains=domains, default_role=role, role_mapping=mapping,
                  require_sso=require_sso, break_glass_user=break_glass_user)


def apply_policy(settings: OidcSettings | SamlSettings, policy: Policy, *,
                 enabled: bool) -> None:
    """Write the checked shared settings, keeping the domain rows that stay."""
    settings.enabled = enabled
    settings.default_role = policy.default_role
    settings.role_mapping = policy.role_mapping
    settings.require_sso = policy.require_sso
    settings.break_glass_user = policy.break_glass_user if policy.require_sso else None
    have = set(settings.domain_names)
    for row in [d for d in settings.domains if d.domain not in policy.domains]:
        settings.domains.remove(row)  # type: ignore[arg-type]
    for domain in policy.domains:
        if domain not in have:
            kind = OidcDomain if isinstance(settings, OidcSettings) else SamlDomain
            settings.domains.append(kind(domain=domain))  # type: ignore[arg-type]


def save_settings(*, organization: Organization, issuer: str, client_id: str,
                  client_secret: str | None, allowed_domains: str, default_role: str | Role,
                  groups_claim: str = "groups", role_mapping: str = "",
                  team_claim: str | None = None, require_sso: bool = False,
                  break_glass_user: User | None = None, enabled: bool = True,
                  by: User | None = None) -> OidcSettings:
    """Create or update the organization's OpenID Connect settings (recorded in the audit log).

    :param client_secret: None or empty keeps the stored secret.
    :param by: who changes them (the audit log's actor).
    :raise ValidationFailed: a field is malformed, a domain belongs to another organization,
        or SSO is required without a break-glass administrator.
    """
    fields: dict[str, Any] = {}
    settings = settings_for(organization)
    try:
        issuer = check_issuer(issuer)
    except ValidationFailed as exc:
        fields.update(exc.fields)
    client_id = client_id.strip()
    if not client_id or len(client_id) > 255:
        fields["client_id"] = _l("Required, at most 255 characters.")
    if not client_secret and settings is None:
        fields["client_secret"] = _l("Required.")
    policy = check_policy(organization=organization, allowed_domains=allowed_domains,
                          default_role=default_role, role_mapping=role_mapping,
                          require_sso=require_sso, break_glass_user=break_glass_user,
                          fields=fields)
    if fields:
        raise ValidationFailed(_l("The single sign-on settings are not valid."), fields=fields)
    if settings is None:
        settings = OidcSettings(organization=organization, client_secret_encrypted="")
        db.session.add(settings)
    settings.issuer = issuer
    settings.client_id = client_id
    if client_secret:
        settings.client_secret_encrypted = crypto.encrypt_secret(client_secret,
                                                                 purpose=SECRET_PURPOSE)
    settings.groups_claim = (groups_claim or "groups").strip()[:100]
    settings.team_claim = (team_claim or "").strip()[:100] or None
    apply_policy(settings, policy, enabled=enabled)
    db.session.flush()
    # What was set, without the client secret (only whether a new one was given).
    audit.record(action="sso.settings", actor=by, organization=organization,
                 target=f"organization:{organization.id}",
                 details={"enabled": enabled, "issuer": issuer, "client_id": client_id,
                          "new_client_secret": bool(client_secret),
                          "allowed_domains": sorted(policy.domains),
                          "default_role": policy.default_role.value,
                          "require_sso": require_sso})
    return settings


def client_secret(settings: OidcSettings) -> str:
    """The decrypted client secret.

    :raise SsoFailed: it cannot be decrypted (SECRET_KEY changed): an admin must enter it again.
    """
    try:
        return crypto.decrypt_secret(settings.client_secret_encrypted, purpose=SECRET_PURPOSE)
    except crypto.SecretUnreadable:
        raise SsoFailed(_l("Single sign-on is misconfigured: an administrator must enter the "
                           "client secret again."), code="secret_unreadable") from None


def saml_settings_for(organization: Organization) -> SamlSettings | None:
    """The organization's SAML settings, or None."""
    return db.session.scalar(
        select(SamlSettings).where(SamlSettings.organization_id == organization.id))


def policy_for(organization: Organization) -> OidcSettings | SamlSettings | None:
    """The organization's enabled SSO settings (SAML first, as discovery does), else any."""
    found = [s for s in (saml_settings_for(organization), settings_for(organization)) if s]
    return next((s for s in found if s.enabled), found[0] if found else None)


def settings_for_email(email: str) -> OidcSettings | SamlSettings | None:
    """The enabled settings whose allowed domains include ``email``'s domain, or None.

    An organization that set up both protocols for a domain signs in through SAML.
    """
    domain = email.strip().lower().rpartition("@")[2]
    if not domain:
        return None
    return db.session.scalar(
        select(SamlSettings).join(SamlDomain)
        .where(SamlDomain.domain == domain, SamlSettings.enabled.is_(True))
    ) or db.session.scalar(
        select(OidcSettings).join(OidcDomain)
        .where(OidcDomain.domain == domain, OidcSettings.enabled.is_(True)))


def password_refusal(user: User) -> str | None:
    """Why ``user`` may not log in with a password (an organization requires SSO), or None."""
    org_ids = [m.organization_id for m in user.memberships if m.active]
    if not org_ids:
        return None
    kinds: tuple[type[OidcSettings] | type[SamlSettings], ...] = (OidcSettings, SamlSettings)
    for kind in kinds:
        rows: list[OidcSettings | SamlSettings] = db.session.scalars(
            select(kind).where(kind.organization_id.in_(org_ids), kind.enabled.is_(True),
                               kind.require_sso.is_(True))).all()  # type: ignore[assignment]
        for settings in rows:
            if settings.break_glass_user_id != user.id:
                return f"{settings.organization.name} requires single sign-on"
    return None


# -- just-in-time accounts -----------------------------------------------------------------------

@dataclass(frozen=True)
class SignedIn:
    """The person an identity provider vouched for, and their membership."""

    user: User
    membership: Membership


@dataclass(frozen=True)
class Asserted:
    """What an identity provider vouched for, whatever the protocol (ID token or assertion)."""

    email: str | None
    name: str | None = None
    groups: tuple[str, ...] = ()
    team: str | None = None
    # False only when the provider says so (OIDC's email_verified); SAML IdPs vouch for it.
    email_verified: bool = True


def asserted_from_claims(settings: OidcSettings, claims: dict[str, Any]) -> Asserted:
    """What validated ID-token ``claims`` say, read with the organization's claim names."""
    email = claims.get("email") or claims.get("preferred_username")
    groups = claims.get(settings.groups_claim) or []
    team = claims.get(settings.team_claim) if settings.team_claim else None
    name = claims.get("name")
    return Asserted(
        email=email if isinstance(email, str) else None,
        name=name if isinstance(name, str) else None,
        groups=tuple(g for g in ([groups] if isinstance(groups, str) else groups)
                     if isinstance(g, str)),
        team=team if isinstance(team, str) else None,
        email_verified=claims.get("email_verified") is not False)


def _mapped_role(settings: SsoPolicy, groups: tuple[str, ...]) -> Role | None:
    roles = [Role(settings.role_mapping[g]) for g in groups if g in settings.role_mapping]
    return max(roles, key=ROLE_RANK.index) if roles else None


def sign_in(*, settings: OidcSettings | SamlSettings, person: Asserted) -> SignedIn:
    """Find or create the person an identity provider vouched for, and their membership.

    A new person gets the mapped role (or the default role); an existing member gets the mapped
    role when a group maps, and the team from the team claim or attribute.

    :raise SsoFailed: no usable e-mail, an unverified one, a domain that is not allowed, or the
        member was deactivated.
    """
    email = person.email or ""
    if "@" not in email:
        raise SsoFailed(_l("Your company's sign-in service did not send your e-mail address."),
                        code="no_email")
    if not person.email_verified:
        raise SsoFailed(_l("Your company's sign-in service says this e-mail address is not "
                           "verified."), code="email_unverified")
    try:
        email = accounts.normalize_email(email)
    except ValidationFailed:
        raise SsoFailed(_l("Your company's sign-in service sent an invalid e-mail address."),
                        code="no_email") from None
    domain = email.rpartition("@")[2]
    if domain not in settings.domain_names:
        exc = SsoFailed(_l("This e-mail address's domain is not allowed to sign in to this "
                           "organization."), code="domain_not_allowed")
        exc.status = 403
        raise exc
    organization = settings.organization
    user = accounts.find_user(email)
    member = next((m for m in user.memberships if m.organization_id == organization.id),
                  None) if user else None
    # Checked before any write: a failure is committed by the caller (to use up the state).
    if (member is not None and not member.active) or (user is not None and not user.active):
        exc = SsoFailed(_l("Your access to this organization has been deactivated."),
                        code="member_deactivated")
        exc.status = 403
        raise exc
    mapped = _mapped_role(settings, person.groups)
    role = mapped or (member.role if member else settings.default_role)
    # Cut to the columns' lengths: a provider's long value must not stop the sign-in.
    team = person.team.strip()[:120] or None if person.team else None
    name = person.name.strip()[:200] or None if person.name else None
    try:
        result = accounts.provision_member(
            organization=organization, email=email, role=role, display_name=name,
            team=team)
    except DomainError:
        # Demoting the last administrator is refused: keep their role, sign them in.
        if member is None:
            raise
        result = accounts.Provisioned(membership=member, created=False)
    return SignedIn(user=result.membership.user, membership=result.membership)


# -- SCIM tokens ---------------------------------------------------------------------------------

def issue_scim_token(*, organization: Organization, days: int | None = 365,
                     by: User | None = None) -> tuple[ScimToken, str]:
    """Issue the organization's SCIM token, revoking earlier ones; the raw value is returned once.

    :param days: how long it is valid; None for no expiry.
    :param by: who issues it (the audit log's actor), None from the command line.
    """
    now = utcnow()
    db.session.execute(
        update(ScimToken).where(ScimToken.organization_id == organization.id,
                                ScimToken.revoked_at.is_(None)).values(revoked_at=now))
    raw = SCIM_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ScimToken(organization=organization, prefix=raw[:12],
                      token_hash=accounts.hash_token(raw),
                      expires_at=now + timedelta(days=days) if days else None)
    db.session.add(token)
    db.session.flush()
    audit.record(action="scim_token.issue", actor=by, organization=organization,
                 target=f"scim_token:{token.id}", details={"days": days})
    return token, raw


def revoke_scim_tokens(*, organization: Organization, by: User | None = None) -> None:
    """Revoke every SCIM token of the organization.

    :param by: who revokes them (the audit log's actor).
    """
    result = db.session.execute(
        update(ScimToken).where(ScimToken.organization_id == organization.id,
                                ScimToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    db.session.flush()
    audit.record(action="scim_token.revoke", actor=by, organization=organization,
                 target=f"organization:{organization.id}",
                 details={"revoked": int(getattr(result, "rowcount", 0) or 0)})


def organization_for_scim_token(raw: str, org_slug: str) -> Organization | None:
    """The organization ``org_slug`` when ``raw`` is its valid SCIM token, else None."""
    token = db.session.scalar(
        select(ScimToken).where(ScimToken.token_hash == accounts.hash_token(raw)))
    now = utcnow()
    if (token is None or token.revoked_at is not None
            or (token.expires_at is not None and token.expires_at <= now)
            or token.organization.slug != org_slug):
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return token.organization
