"""People, organizations and what each person may do in each organization."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    true,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship, validates

from lms.core.database import contains_text, folded
from lms.core.models import Base, TimestampMixin, utcnow, values_enum


class Role(enum.StrEnum):
    """A person's role in one organization."""

    LEARNER = "learner"
    TRAINER = "trainer"
    HR = "hr"
    ADMIN = "admin"


ROLE_ENUM = values_enum(Role, "role")


class Organization(TimestampMixin, Base):
    """A client company; every record that belongs to a company points here."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Admins and HR who log in with a password must use a second factor (single sign-on is
    # exempt: the company's identity provider does its own multi-factor authentication).
    require_second_factor: Mapped[bool] = mapped_column(default=False, server_default=false())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Organization {self.slug}>"


class OrganizationOwned:
    """A row of one organization's data: its own ``id``, and ``organization_id``, deleted with
    the organization.

    ``organization_id`` gets an index of its own unless the class sets ``organization_indexed``
    to False (its table has a unique constraint or an index that starts with it). A table that
    bulk imports fill row by row may set ``organization_foreign_key`` to False: no foreign key
    for the database to check on every row, and its own module deletes its rows when an
    organization is deleted (a listener on the organization's delete) instead of the cascade.
    """

    organization_indexed: ClassVar[bool] = True
    organization_foreign_key: ClassVar[bool] = True

    # First in the table, as the migrations created them (a mixin's columns otherwise go last).
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)

    @declared_attr
    def organization_id(cls) -> Mapped[int]:
        """The organization the row belongs to."""
        if not cls.organization_foreign_key:
            return mapped_column(Integer, index=cls.organization_indexed, sort_order=-1)
        return mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                             index=cls.organization_indexed, sort_order=-1)


class User(UserMixin, TimestampMixin, Base):
    """A person. ``email`` is stored lower-cased so it is unique without regard to case."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # The name folded (lms.core.database.folded: no accents, no case), which lists of people
    # sort by and searches match, so "Émilie" comes before "Zoé" and "helene" finds "Hélène" on
    # either database; set with the name (below).
    name_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    locale: Mapped[str | None] = mapped_column(String(8))
    # None until the person sets a password through their invitation.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The person agreed to be named in the results shared internally (newsletter, management
    # meeting); off until they tick it on their profile.
    named_in_results: Mapped[bool] = mapped_column(default=False, server_default=false())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @validates("display_name")
    def _fold_name(self, _key: str, name: str) -> str:
        self.name_key = folded(name or "")[:200]
        return name

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        """Whether the person may sign in (their account is active)."""
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.email}>"


def person_matches(search: str) -> ColumnElement[bool]:
    """People whose name (accents and case aside: "helene" finds "Hélène") or e-mail address
    holds ``search``: the condition of every search box that finds people.
    """
    return contains_text(folded(search), User.name_key, User.email)


class Membership(OrganizationOwned, TimestampMixin, Base):
    """A person's role in one organization, with the team and job family of a learner."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id"),
        # A team's people (migration 0041_membership_team): the advocacy dashboard's team
        # filter reads them from the index alone, in user order, instead of every member.
        Index("ix_memberships_organization_team_user", "organization_id", "team", "user_id"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(ROLE_ENUM)
    team: Mapped[str | None] = mapped_column(String(120))
    job_family: Mapped[str | None] = mapped_column(String(64))
    # The member's manager in the same organization (approves their session registrations).
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), index=True)
    # False once the company's directory deactivates the member (SCIM): access to the
    # organization ends while their learning records stay.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # A champion ("référent") animates the advocacy of their team: they follow its members'
    # progress and activity and may nudge them (lms.accounts.groups says who is in the group).
    champion: Mapped[bool] = mapped_column(default=False, server_default=false())

    organization: Mapped[Organization] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")
    manager: Mapped[Membership | None] = relationship(remote_side="Membership.id")


class Nudge(OrganizationOwned, Base):
    """A short e-mail a champion or a manager sent to someone they follow, kept so the daily
    limit holds and the person can see who wrote to them.
    """

    __tablename__ = "nudges"
    __table_args__ = (Index("ix_nudges_recipient_sent_at", "recipient_id", "sent_at"),)

    sender_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL"), index=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"))
    # Why the sender may write: "manager" (a direct report) or "champion" (their group).
    as_role: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    sender: Mapped[Membership | None] = relationship(foreign_keys=[sender_id])
    recipient: Mapped[Membership] = relationship(foreign_keys=[recipient_id])


class Invitation(OrganizationOwned, TimestampMixin, Base):
    """An invitation to join an organization; only the hash of its token is stored."""

    __tablename__ = "invitations"

    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(ROLE_ENUM)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column()

    organization: Mapped[Organization] = relationship()
    invited_by: Mapped[User | None] = relationship()


class ApiToken(TimestampMixin, Base):
    """A personal API token; only its SHA-256 is stored, the prefix helps people tell them apart."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """One failed login, kept in the database so every app process shares the limit."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
        Index("ix_login_failures_device_at", "device", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    # The SHA-256 of the known-device cookie's nonce the attempt came with (None: a stranger):
    # a known device is limited on its own failures, never on a stranger's.
    device: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """One sensitive action, appended and never changed: who, when, what, on what, from where.

    ``actor_id`` and ``target`` are ids, never names or e-mail addresses, so that erasing a
    person leaves no personal data here; ``details`` holds counts and settings, never a secret.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_org_at", "organization_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    # The log is evidence: once written, an entry is never changed nor removed by the app.
    raise RuntimeError("audit events are append-only")


class UserSession(Base):
    """One logged-in browser: its cookie holds a random id whose SHA-256 is the key here.

    Deleting the row ends the session on the server (logout, log out everywhere, password
    change, account disabled), whatever copy of the cookie is left in a browser.
    """

    __tablename__ = "user_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How the person logged in: "password" (then an organization may require a second factor)
    # or "sso" (the identity provider did its own multi-factor authentication).
    method: Mapped[str] = mapped_column(String(16), default="password", server_default="password")


class SecondFactor(TimestampMixin, Base):
    """A person's authenticator app (TOTP, RFC 6238): its secret, encrypted at rest.

    ``confirmed_at`` is None while the person is enrolling (the secret is shown, no code has
    confirmed it yet); only a confirmed one is asked for at login.
    """

    __tablename__ = "user_second_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column()
    # The time step of the last code accepted: a code (or an older one) is never taken twice.
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Base):
    """A single-use recovery code, for when the authenticator app is lost; only a keyed hash
    of it is stored (``lms.accounts.second_factor``).
    """

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column()
