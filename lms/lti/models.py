"""LTI 1.3 platforms registered per organization, the tool's signing keys, pending launches,
and what launches taught Relais: people, courses (contexts) and links into modules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organization, OrganizationOwned, User
from lms.core.models import Base, TimestampMixin


class LtiPlatform(OrganizationOwned, TimestampMixin, Base):
    """An LMS (Moodle, Canvas…) that launches Relais: an organization's registration of it.

    ``(issuer, client_id)`` is unique across organizations: a launch names only those two, and
    they must lead to exactly one organization.
    """

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    # The deployment ids the platform may launch with (a launch naming another is refused).
    deployment_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    auth_login_url: Mapped[str] = mapped_column(String(500))
    auth_token_url: Mapped[str] = mapped_column(String(500))
    jwks_url: Mapped[str] = mapped_column(String(500))

    organization: Mapped[Organization] = relationship()


class PlatformOwned:
    """A row of what one platform's launches taught Relais: its own ``id`` and ``platform_id``,
    deleted with the platform.
    """

    # First in the table, as the migrations created them (a mixin's columns otherwise go last).
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"),
                                             index=True, sort_order=-1)


class LtiKey(TimestampMixin, Base):
    """One of the tool's RS256 key pairs; the private key is encrypted at rest.

    The newest unretired key signs. A retired key stays in the JWKS until ``published_until``,
    so platforms that cached it can still check what it signed.
    """

    __tablename__ = "lti_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    retired_at: Mapped[datetime | None] = mapped_column()
    published_until: Mapped[datetime | None] = mapped_column()


class LtiLaunchState(TimestampMixin, Base):
    """A login sent to the platform and not yet back: the state (hashed) and the nonce.

    Deleted when the launch arrives, so a replayed launch finds nothing.
    """

    __tablename__ = "lti_launch_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"),
                                             index=True)
    nonce: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LtiUser(PlatformOwned, TimestampMixin, Base):
    """A platform's user (its ``sub``) and the Relais person it is."""

    __tablename__ = "lti_users"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    sub: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship()


class LtiContext(PlatformOwned, TimestampMixin, Base):
    """A course of the platform that holds Relais links, and the cohort its learners join."""

    __tablename__ = "lti_contexts"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    # Names and Role Provisioning: where the platform serves the course's roster.
    memberships_url: Mapped[str | None] = mapped_column(String(1000))
    program_id: Mapped[int | None] = mapped_column(
        ForeignKey("programs.id", ondelete="SET NULL"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(
        ForeignKey("cohorts.id", ondelete="SET NULL"), index=True)

    platform: Mapped[LtiPlatform] = relationship()


class LtiResourceLink(PlatformOwned, TimestampMixin, Base):
    """A link in a platform's course to a Relais module or program, with its grade column."""

    __tablename__ = "lti_resource_links"
    __table_args__ = (UniqueConstraint("platform_id", "resource_link_id"),)

    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_contexts.id", ondelete="SET NULL"), index=True)
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    module_id: Mapped[int | None] = mapped_column(
        ForeignKey("program_modules.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[int | None] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    # Assignment and Grade Services: the line item scores are posted to, when the platform
    # offers one, and the scopes it grants.
    lineitem_url: Mapped[str | None] = mapped_column(String(1000))
    ags_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)

    platform: Mapped[LtiPlatform] = relationship()


class LtiLinkLearner(Base):
    """A person who launched a link as a learner: their completion is sent back to it."""

    __tablename__ = "lti_link_learners"
    __table_args__ = (UniqueConstraint("link_id", "lti_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("lti_resource_links.id", ondelete="CASCADE"),
                                         index=True)
    lti_user_id: Mapped[int] = mapped_column(ForeignKey("lti_users.id", ondelete="CASCADE"),
                                             index=True)

    link: Mapped[LtiResourceLink] = relationship()
    lti_user: Mapped[LtiUser] = relationship()


class LtiDeepLink(TimestampMixin, Base):
    """A teacher's pending choice of a Relais module for the platform (Deep Linking)."""

    __tablename__ = "lti_deep_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    return_url: Mapped[str] = mapped_column(String(1000))
    # The platform's opaque ``data``, echoed back as the specification requires.
    data: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    platform: Mapped[LtiPlatform] = relationship()
