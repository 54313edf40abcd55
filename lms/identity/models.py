"""Single sign-on settings per organization, pending sign-ins, SCIM tokens and SCIM links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from lms.accounts.models import ROLE_ENUM, Organization, OrganizationOwned, Role, User
from lms.core.models import Base, TimestampMixin


class SsoPolicy:
    """What every single sign-on protocol shares: who may sign in and with which role.

    OpenID Connect and SAML settings both carry these columns, so one just-in-time sign-in
    (``services.sign_in``) and one password check serve both.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), unique=True)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    default_role: Mapped[Role] = mapped_column(ROLE_ENUM, default=Role.LEARNER)
    # {group: role} for the provider's groups that map to a role.
    role_mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Passwords are refused for the organization's members, except the break-glass admin's.
    require_sso: Mapped[bool] = mapped_column(default=False, server_default=false())
    break_glass_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    @declared_attr
    def organization(cls) -> Mapped[Organization]:
        """The organization these settings sign people into."""
        return relationship(Organization)

    @declared_attr
    def break_glass_user(cls) -> Mapped[User | None]:
        """The administrator who keeps a password when SSO is required."""
        return relationship(User)

    @declared_attr
    def domains(cls: Any) -> Mapped[list[SsoDomain]]:
        """The allowed e-mail domains' rows (``OidcDomain`` for ``OidcSettings``…)."""
        domain = cls.__name__.replace("Settings", "Domain")
        return relationship(domain, back_populates="settings", cascade="all, delete-orphan",
                            order_by=f"{domain}.domain")

    @property
    def domain_names(self) -> list[str]:
        """The allowed e-mail domains."""
        return [d.domain for d in self.domains]


class SsoDomain:
    """What the e-mail domains of both protocols share: a domain (in one organization's
    settings only) and its settings (table ``identity_oidc_domains`` → ``identity_oidc_settings``).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    @declared_attr
    def settings_id(cls: Any) -> Mapped[int]:
        """The settings (OpenID Connect or SAML) the domain signs in through."""
        table = cls.__tablename__.replace("_domains", "_settings")
        return mapped_column(ForeignKey(f"{table}.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def settings(cls: Any) -> Mapped[SsoPolicy]:
        """The settings the domain belongs to (``OidcSettings`` for ``OidcDomain``…)."""
        return relationship(cls.__name__.replace("Domain", "Settings"), back_populates="domains")


class OidcSettings(TimestampMixin, SsoPolicy, Base):
    """An organization's OpenID Connect provider (Entra ID, Google Workspace, Okta…).

    The client secret is stored encrypted (``lms.core.crypto``) and never shown again.
    """

    __tablename__ = "identity_oidc_settings"

    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    # The ID-token claim listing the person's groups.
    groups_claim: Mapped[str] = mapped_column(String(100), default="groups",
                                              server_default="groups")
    # The claim whose value becomes the member's team (e.g. "department"); None: teams untouched.
    team_claim: Mapped[str | None] = mapped_column(String(100))


class OidcDomain(SsoDomain, Base):
    """An e-mail domain whose people sign in through one organization's provider (only one)."""

    __tablename__ = "identity_oidc_domains"


class OidcRequest(TimestampMixin, Base):
    """A sign-in sent to the provider and not yet back: its state (hashed), nonce, PKCE verifier.

    Deleted when the provider answers, so a replayed answer finds nothing.
    """

    __tablename__ = "identity_oidc_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SamlSettings(TimestampMixin, SsoPolicy, Base):
    """An organization's SAML 2.0 identity provider, and Relais' own key pair as its SP.

    The IdP is known by its metadata (pasted, or fetched once from a URL and kept here). The SP
    key is generated for the organization and stored encrypted (``lms.core.crypto``); its
    certificate is published in the SP metadata.
    """

    __tablename__ = "identity_saml_settings"

    idp_entity_id: Mapped[str] = mapped_column(String(500))
    idp_metadata: Mapped[str] = mapped_column(Text)
    # Where the metadata was fetched from (None: pasted); shown again, never fetched again.
    idp_metadata_url: Mapped[str | None] = mapped_column(String(500))
    sp_private_key_encrypted: Mapped[str] = mapped_column(Text)
    sp_certificate: Mapped[str] = mapped_column(Text)
    # Names of the assertion's attributes (the NameID is used when the e-mail one is absent).
    email_attribute: Mapped[str] = mapped_column(String(200), default="email",
                                                 server_default="email")
    name_attribute: Mapped[str | None] = mapped_column(String(200))
    groups_attribute: Mapped[str] = mapped_column(String(200), default="groups",
                                                  server_default="groups")
    team_attribute: Mapped[str | None] = mapped_column(String(200))


class SamlDomain(SsoDomain, Base):
    """An e-mail domain whose people sign in through one organization's SAML IdP."""

    __tablename__ = "identity_saml_domains"


class SamlRequest(TimestampMixin, Base):
    """An AuthnRequest sent to the IdP and not yet answered; deleted by its answer (single use)."""

    __tablename__ = "identity_saml_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(String(100), unique=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    next_url: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SamlAssertion(Base):
    """An assertion already used to sign in, kept until it expires: a replay is refused."""

    __tablename__ = "identity_saml_assertions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the IdP's entity id and the assertion's ID (IDs are only unique per IdP).
    assertion_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ScimToken(OrganizationOwned, TimestampMixin, Base):
    """An organization's SCIM bearer token; only its SHA-256 is stored."""

    __tablename__ = "identity_scim_tokens"

    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    organization: Mapped[Organization] = relationship()


class ScimUser(OrganizationOwned, TimestampMixin, Base):
    """What the company's directory knows of one member beyond accounts: its own identifiers."""

    __tablename__ = "identity_scim_users"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),
                      UniqueConstraint("organization_id", "external_id"))

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    employee_number: Mapped[str | None] = mapped_column(String(64))
    # Set when the directory deletes the user: the membership is deactivated (learning records
    # stay) and SCIM no longer shows it; creating the same userName again brings it back.
    deleted_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class ScimGroup(OrganizationOwned, TimestampMixin, Base):
    """A directory group provisioned by SCIM; its members are the members of the same team."""

    __tablename__ = "identity_scim_groups"
    __table_args__ = (UniqueConstraint("organization_id", "display_name"),)

    display_name: Mapped[str] = mapped_column(String(120))
    external_id: Mapped[str | None] = mapped_column(String(255))
