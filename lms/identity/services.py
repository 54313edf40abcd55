"""Writes for single sign-on settings, just-in-time accounts and SCIM tokens.

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

from sqlalchemy import select, update

from lms.accounts import audit
from lms.accounts import services as accounts
from lms.accounts.models import Membership, Organization, Role, User
from lms.core import crypto
from lms.core.errors import DomainError, ValidationFailed
from lms.core.models import utcnow
from lms.extensions import db
from lms.identity.models import OidcDomain, OidcSettings, ScimToken

SECRET_PURPOSE = "identity-oidc-client-secret"
SCIM_TOKEN_PREFIX = "scim_"
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
# The more a role may do, the later it comes: several mapped groups give the strongest role.
ROLE_RANK = [Role.LEARNER, Role.TRAINER, Role.HR, Role.ADMIN]


class SsoFailed(DomainError):
    """A single sign-on that cannot complete; ``code`` says why, the status what HTTP answers."""

    code = "sso_failed"
    status = 400


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
            raise ValidationFailed(f"{raw} is not a domain",
                                   fields={"allowed_domains": f"“{raw}” is not a domain name"})
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
            raise ValidationFailed("bad mapping line", fields={
                "role_mapping": f"line {number}: write “group = role”"})
        if role not in {r.value for r in Role}:
            allowed = ", ".join(r.value for r in Role)
            raise ValidationFailed("unknown role", fields={
                "role_mapping": f"line {number}: unknown role “{role}” (use {allowed})"})
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
        raise ValidationFailed("bad issuer", fields={"issuer": "use the provider's https URL"})
    return issuer


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
    fields: dict[str, str] = {}
    settings = settings_for(organization)
    try:
        issuer = check_issuer(issuer)
    except ValidationFailed as exc:
        fields.update(exc.fields)
    client_id = client_id.strip()
    if not client_id or len(client_id) > 255:
        fields["client_id"] = "required, at most 255 characters"
    if not client_secret and settings is None:
        fields["client_secret"] = "required"
    try:
        domains = parse_domains(allowed_domains)
        if not domains:
            fields["allowed_domains"] = "give at least one domain"
        taken = db.session.scalars(
            select(OidcDomain.domain).join(OidcSettings)
            .where(OidcDomain.domain.in_(domains),
                   OidcSettings.organization_id != organization.id)).all()
        if taken:
            fields["allowed_domains"] = (f"already used by another organization: "
                                         f"{', '.join(sorted(taken))}")
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
        fields["default_role"] = "unknown role"
        role = Role.LEARNER
    if require_sso:
        admin = break_glass_user and next(
            (m for m in break_glass_user.memberships
             if m.organization_id == organization.id and m.role == Role.ADMIN), None)
        if not admin:
            fields["break_glass_user_id"] = "choose an administrator who keeps a password"
    if fields:
        raise ValidationFailed("The single sign-on settings are not valid.", fields=fields)
    if settings is None:
        settings = OidcSettings(organization=organization, client_secret_encrypted="")
        db.session.add(settings)
    settings.enabled = enabled
    settings.issuer = issuer
    settings.client_id = client_id
    if client_secret:
        settings.client_secret_encrypted = crypto.encrypt_secret(client_secret,
                                                                 purpose=SECRET_PURPOSE)
    settings.default_role = role
    settings.groups_claim = (groups_claim or "groups").strip()[:100]
    settings.role_mapping = mapping
    settings.team_claim = (team_claim or "").strip()[:100] or None
    settings.require_sso = require_sso
    settings.break_glass_user = break_glass_user if require_sso else None
    settings.domains = [d for d in settings.domains if d.domain in domains]
    have = {d.domain for d in settings.domains}
    settings.domains.extend(OidcDomain(domain=d) for d in domains if d not in have)
    db.session.flush()
    # What was set, without the client secret (only whether a new one was given).
    audit.record(action="sso.settings", actor=by, organization=organization,
                 target=f"organization:{organization.id}",
                 details={"enabled": enabled, "issuer": issuer, "client_id": client_id,
                          "new_client_secret": bool(client_secret),
                          "allowed_domains": sorted(domains), "default_role": role.value,
                          "require_sso": require_sso})
    return settings


def client_secret(settings: OidcSettings) -> str:
    """The decrypted client secret.

    :raise SsoFailed: it cannot be decrypted (SECRET_KEY changed): an admin must enter it again.
    """
    try:
        return crypto.decrypt_secret(settings.client_secret_encrypted, purpose=SECRET_PURPOSE)
    except crypto.SecretUnreadable:
        raise SsoFailed("The stored client secret cannot be read: an administrator must enter "
                        "it again.", code="secret_unreadable") from None


def settings_for_email(email: str) -> OidcSettings | None:
    """The enabled settings whose allowed domains include ``email``'s domain, or None."""
    domain = email.strip().lower().rpartition("@")[2]
    if not domain:
        return None
    return db.session.scalar(
        select(OidcSettings).join(OidcDomain)
        .where(OidcDomain.domain == domain, OidcSettings.enabled.is_(True)))


def password_refusal(user: User) -> str | None:
    """Why ``user`` may not log in with a password (an organization requires SSO), or None."""
    org_ids = [m.organization_id for m in user.memberships if m.active]
    if not org_ids:
        return None
    rows = db.session.scalars(
        select(OidcSettings).where(OidcSettings.organization_id.in_(org_ids),
                                   OidcSettings.enabled.is_(True),
                                   OidcSettings.require_sso.is_(True))).all()
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


def _mapped_role(settings: OidcSettings, claims: dict[str, Any]) -> Role | None:
    groups = claims.get(settings.groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    roles = [Role(settings.role_mapping[g]) for g in groups
             if isinstance(g, str) and g in settings.role_mapping]
    return max(roles, key=ROLE_RANK.index) if roles else None


def sign_in(*, settings: OidcSettings, claims: dict[str, Any]) -> SignedIn:
    """Find or create the person of validated ID-token ``claims`` and their membership.

    A new person gets the mapped role (or the default role); an existing member gets the mapped
    role when a group maps, and the team from the team claim.

    :raise SsoFailed: no usable e-mail, an unverified one, a domain that is not allowed, or the
        member was deactivated.
    """
    email = claims.get("email") or claims.get("preferred_username") or ""
    if not isinstance(email, str) or "@" not in email:
        raise SsoFailed("The provider did not send an e-mail address.", code="no_email")
    if claims.get("email_verified") is False:
        raise SsoFailed("The provider says this e-mail address is not verified.",
                        code="email_unverified", )
    try:
        email = accounts.normalize_email(email)
    except ValidationFailed:
        raise SsoFailed("The provider sent an invalid e-mail address.", code="no_email") from None
    domain = email.rpartition("@")[2]
    if domain not in {d.domain for d in settings.domains}:
        exc = SsoFailed(f"{domain} is not an allowed domain", code="domain_not_allowed")
        exc.status = 403
        raise exc
    organization = settings.organization
    user = accounts.find_user(email)
    member = next((m for m in user.memberships if m.organization_id == organization.id),
                  None) if user else None
    # Checked before any write: a failure is committed by the caller (to use up the state).
    if (member is not None and not member.active) or (user is not None and not user.active):
        exc = SsoFailed("deactivated", code="member_deactivated")
        exc.status = 403
        raise exc
    mapped = _mapped_role(settings, claims)
    role = mapped or (member.role if member else settings.default_role)
    # Cut to the columns' lengths: a provider's long value must not stop the sign-in.
    team = claims.get(settings.team_claim) if settings.team_claim else None
    team = team.strip()[:120] if isinstance(team, str) else None
    name = claims.get("name")
    name = name.strip()[:200] if isinstance(name, str) else None
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
