"""Writes for accounts: organizations, people, memberships, invitations, API tokens, logins.

Every function flushes and never commits: the caller (a view, the API or the CLI) commits once.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, lru_cache
from typing import Any, NoReturn

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from lms.accounts import audit, devices, sessions
from lms.accounts.authz import check_can_grant
from lms.accounts.models import (
    ApiToken,
    Invitation,
    LoginFailure,
    Membership,
    Organization,
    Role,
    User,
)
from lms.accounts.signals import password_login
from lms.core.database import chunks
from lms.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    Text,
    ValidationFailed,
)
from lms.core.models import utcnow
from lms.extensions import db

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# zxcvbn scores 0 (guessed in under 10^3 tries) to 4 (over 10^10); below 3 is refused.
MIN_PASSWORD_SCORE = 3
# zxcvbn refuses longer input; a longer password is judged on its start, which is plenty.
_ZXCVBN_MAX_LENGTH = 72
# Requests for a reset e-mail are counted in the login-failure table under these prefixes, so
# they share its purge but never count against logins (nor logins against them).
RESET_PREFIX = "reset:"
_RESET_SALT = "relais-password-reset"
TOKEN_PREFIX = "rls_"



@cache
def _dummy_hash(method: str) -> str:
    """A hash checked when the e-mail is unknown, so a failed login takes as long either way."""
    return generate_password_hash("relais-timing-equaliser", method=method)


@cache
def _published_password_hash(password: str, method: str) -> str:
    """One hash, hence one salt, for every account given the demo's published password, made
    once a process: a salt protects a secret, which this password is not, and scrypt at
    production cost for each of the demo's ~30 people was a quarter of `relais demo`'s time.
    """
    return generate_password_hash(password, method=method)


def hash_password(password: str) -> str:
    """``password`` hashed with the instance's ``PASSWORD_HASH_METHOD``."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


class TooManyAttempts(DomainError, code="too_many_attempts", status=429):
    """Too many failed logins for this account or address (HTTP 429).

    ``retry_after`` is how many seconds until an attempt is allowed again (``Retry-After``).
    """

    def __init__(self, message: Text, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, retry_after)


class PasswordLoginRefused(DomainError, code="password_login_refused", status=403):
    """The password is right but this person must log in another way (HTTP 403)."""


class InvalidCredentials(DomainError, code="invalid_credentials", status=401):
    """E-mail or password is wrong (HTTP 401)."""


def hash_token(raw: str) -> str:
    """Return the SHA-256 hex digest under which a secret token is stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


def normalize_email(email: str, *, field: str = "email") -> str:
    """Return ``email`` lower-cased and checked for shape.

    :raise ValidationFailed: the address is not a valid e-mail address.
    """
    normalized = _valid_address(email.strip())
    if normalized is None:
        raise ValidationFailed(
            _l("%(email)s is not a valid e-mail address", email=repr(email)),
            fields={field: _l("Not a valid e-mail address.")}
        )
    return normalized


@lru_cache(maxsize=65536)
def _valid_address(email: str) -> str | None:
    """``email`` normalized and lower-cased, or None when it is not an address. Kept per
    process: an import checks each address several times (rows, managers), and the check
    is the costliest step of a row.
    """
    try:
        # Intranet domains are fine: companies often run their own.
        info = validate_email(email, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError:
        return None
    return info.normalized.lower()


def _check_role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailed(
            _l("unknown role %(role)s", role=repr(role)),
            fields={"role": _l("must be one of: %(roles)s", roles=allowed)}
        ) from exc


def _check_length(value: str | None, field: str, limit: int) -> None:
    # Checked here so an over-long value is a field error, not a database error on PostgreSQL.
    if value is not None and len(value.strip()) > limit:
        raise ValidationFailed(_l("%(field)s too long", field=field),
                               fields={field: _l("at most %(count)d characters", count=limit)})


def _check_locale(locale: str | None) -> None:
    if locale and locale not in current_app.config["LANGUAGES"]:
        allowed = ", ".join(current_app.config["LANGUAGES"])
        raise ValidationFailed(_l("unsupported locale"),
                               fields={"locale": _l("use one of: %(locales)s", locales=allowed)})


def _personal_words(email: str | None, name: str | None) -> set[str]:
    """The person's e-mail local part and name, whole and in pieces, lower-cased."""
    words: set[str] = set()
    for text in (email.split("@")[0] if email else None, name):
        if text and text.strip():
            words.add(text.strip().casefold())
            words.update(piece.casefold() for piece in re.split(r"[\W_\d]+", text) if piece)
    return words


def check_password(password: str, *, email: str | None = None, name: str | None = None) -> None:
    """Refuse a password as NIST SP 800-63B says: too short, common or guessable.

    No composition rules (capitals, digits, symbols): a minimum length (the setting
    ``PASSWORD_MIN_LENGTH``), then refused when it contains the person's e-mail local part or
    name, or when zxcvbn (dictionaries of common passwords, names and words; keyboard walks,
    repeats, dates) finds it guessable. Every place that sets a password calls this, through
    :func:`set_password` or before creating the account.

    :raise ValidationFailed: with the reason on the ``password`` field.
    """
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise ValidationFailed(
            _l("password too short"),
            fields={"password": _l("use at least %(count)d characters", count=minimum)},
        )
    personal = _personal_words(email, name)
    lowered = password.casefold()
    # Short pieces ("li", "ann") would refuse innocent words; zxcvbn still weighs them below.
    if any(len(word) >= 4 and word in lowered for word in personal):
        raise ValidationFailed(
            _l("password contains the name or e-mail address"),
            fields={"password": _l("Do not use your name or your e-mail address in your "
                                   "password.")},
        )
    score = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=sorted(personal))["score"]
    if score < MIN_PASSWORD_SCORE:
        raise ValidationFailed(
            _l("password too easy to guess"),
            fields={"password": _l("This password is too common or too easy to guess: a few "
                                   "unrelated words make a strong one.")},
        )


def create_organization(*, slug: str, name: str) -> Organization:
    """Create an organization.

    :raise ValidationFailed: the slug or name is malformed.
    :raise Conflict: the slug is taken.
    """
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise ValidationFailed(
            _l("invalid slug"),
            fields={"slug": _l("use lower-case letters, digits and dashes (at most 64)")},
        )
    if not name.strip():
        raise ValidationFailed(_l("name required"), fields={"name": _l("required")})
    _check_length(name, "name", 200)
    if db.session.scalar(select(Organization.id).where(Organization.slug == slug)):
        raise Conflict(_l("an organization with slug %(slug)s already exists", slug=repr(slug)),
                       fields={"slug": _l("already taken")})
    org = Organization(slug=slug, name=name.strip())
    db.session.add(org)
    db.session.flush()
    return org


def email_key(email: str) -> str:
    """The form of an address used to find people: normalized and lower-cased when valid.

    Used for lookups and for counting failed logins, so spellings of one address that
    normalize alike (case, Unicode forms) are one person and one rate limit.
    """
    try:
        return normalize_email(email)
    except ValidationFailed:
        return email.strip().lower()


def find_user(email: str) -> User | None:
    """Return the user with this e-mail (any case), or None."""
    return db.session.scalar(select(User).where(User.email == email_key(email)))


def find_member(*, organization_id: int, email: str) -> Membership | None:
    """The member of the organization with this e-mail (any case, spaces around it ignored),
    or None: one indexed query, however many members the organization has.
    """
    return db.session.scalar(select(Membership).join(User).where(
        Membership.organization_id == organization_id, User.email == email_key(email)))


def create_user(*, email: str, display_name: str | None = None, password: str | None = None,
                locale: str | None = None) -> User:
    """Create a person; without a password they can only log in after an invitation.

    :raise ValidationFailed: bad e-mail, password or locale.
    :raise Conflict: the e-mail is taken.
    """
    email = normalize_email(email)
    if find_user(email):
        raise Conflict(_l("a user with e-mail %(email)s already exists", email=email),
                       fields={"email": _l("already registered")})
    user = _new_user(email, display_name, locale)
    if password is not None:
        set_password(user, password)
    db.session.flush()
    return user


def _new_user(email: str, display_name: str | None, locale: str | None) -> User:
    """A new person (``email`` normalized and free), added to the session, not flushed.

    :raise ValidationFailed: bad locale or an over-long name.
    """
    _check_locale(locale)
    _check_length(display_name, "display_name", 200)
    user = User(**_new_user_values(email, display_name, locale))
    db.session.add(user)
    return user


def _new_user_values(email: str, display_name: str | None, locale: str | None
                     ) -> dict[str, Any]:
    """A new person's columns: their name defaults to their e-mail's local part."""
    return {"email": email, "display_name": (display_name or email.split("@")[0]).strip(),
            "locale": locale}


def _stripped(text: str | None) -> str | None:
    """``text`` without surrounding spaces, None when nothing is left (or nothing given)."""
    return (text.strip() or None) if text is not None else None


def set_password(user: User, password: str, *, check: bool = True) -> None:
    """Check (:func:`check_password`), hash and set ``user``'s password (scrypt, Werkzeug).

    :param check: False only for the demo's published password (see ``lms.demo``), which every
        account given it shares with one hash.
    :raise ValidationFailed: the password is refused by the policy.
    """
    if check:
        check_password(password, email=user.email, name=user.display_name)
        user.password_hash = hash_password(password)
    else:
        user.password_hash = _published_password_hash(
            password, current_app.config["PASSWORD_HASH_METHOD"])
    if user.id is not None:
        # A new password ends every session opened with the old one (a stolen cookie too).
        sessions.end_all(user)


def add_member(*, organization: Organization, user: User, role: str | Role,
               team: str | None = None, job_family: str | None = None) -> Membership:
    """Give ``user`` a role in ``organization``, updating an existing membership.

    :raise ValidationFailed: unknown role.
    """
    membership = db.session.scalar(
        select(Membership).where(Membership.organization_id == organization.id,
                                 Membership.user_id == user.id)
    )
    membership = _set_membership(organization, user, membership, role, team, job_family)
    db.session.flush()
    return membership


def _set_membership(organization: Organization, user: User, membership: Membership | None,
                    role: str | Role, team: str | None, job_family: str | None) -> Membership:
    """Create or update ``user``'s ``membership`` of ``organization`` (None: they have none);
    not flushed.

    :raise ValidationFailed: unknown role or an over-long field.
    :raise Conflict: the change would leave the organization without an administrator.
    """
    role = _check_role(role)
    _check_length(team, "team", 120)
    _check_length(job_family, "job_family", 64)
    if membership is None:
        membership = Membership(organization=organization, user=user, role=role)
        db.session.add(membership)
    elif membership.role == Role.ADMIN and role != Role.ADMIN:
        _keep_an_admin(membership)
    membership.role = role
    if team is not None:
        membership.team = _stripped(team)
    if job_family is not None:
        membership.job_family = _stripped(job_family)
    return membership


def set_manager(*, membership: Membership, manager: Membership | None,
                flush: bool = True) -> None:
    """Set (or clear, with None) a member's manager, who approves their session registrations.

    :param flush: False when the caller sets many and flushes once.

    :raise ValidationFailed: the manager is in another organization, is the member, or is one
        of the people the member manages (directly or not).
    """
    if manager is not None:
        if manager.organization_id != membership.organization_id:
            raise ValidationFailed(_l("The manager must be a member of the organization."),
                                   fields={"manager": _l("not a member of this organization")})
        seen: set[int] = set()
        boss: Membership | None = manager
        while boss is not None and boss.id not in seen:
            if boss.id == membership.id:
                raise ValidationFailed(_l("A member cannot be their own manager, even indirectly."),
                                       fields={"manager": _l("would make a loop")})
            seen.add(boss.id)
            boss = boss.manager
    membership.manager = manager
    if flush:
        db.session.flush()


def _champion_without_team() -> NoReturn:
    raise ValidationFailed(_l("A champion animates their team: give this member a team first."),
                           fields={"champion": _l("no team")})


def set_champion(*, membership: Membership, champion: bool) -> None:
    """Make a member their team's champion ("référent"), or stop it.

    :raise ValidationFailed: making a champion of a member without a team (a champion follows
        their team: see ``lms.accounts.groups``).
    """
    if champion and not membership.team:
        _champion_without_team()
    membership.champion = champion
    db.session.flush()


def find_manager(*, organization: Organization, email: str,
                 known: KnownPeople | None = None) -> Membership:
    """The member of ``organization`` with this e-mail, to be someone's manager.

    :param known: the people of a batch, loaded beforehand (see :class:`KnownPeople`).
    :raise ValidationFailed: nobody in the organization has this address.
    """
    user = known.find(email_key(email)) if known is not None else find_user(email)
    member = next((m for m in user.memberships if m.organization_id == organization.id),
                  None) if user else None
    if member is None:
        raise ValidationFailed(_l("The manager must be a member of the organization."),
                               fields={"manager_email": _l("%(email)s is not a member",
                                                                  email=email.strip())})
    return member


@dataclass(frozen=True)
class Provisioned:
    """Result of :func:`provision_member`."""

    membership: Membership
    created: bool


class KnownPeople:
    """People of a batch (an import's chunk) loaded once: users by e-mail with all their
    memberships, and those created since; :func:`provision_member` then runs no query and
    leaves the flush to the caller (one for the whole batch).
    """

    def __init__(self, emails: Sequence[str]) -> None:
        keys = sorted({email_key(e) for e in emails})
        self.checked = set(keys)
        self.users: dict[str, User] = {}
        for part in chunks(keys):
            for user in db.session.scalars(select(User).where(User.email.in_(part))
                                           .options(selectinload(User.memberships))):
                self.users[user.email] = user

        # People new to Relais, queued by import_member() for write(): by e-mail, the users
        # and memberships tables' values.
        self.new: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def find(self, email: str) -> User | None:
        """The user with this normalized e-mail (one query if it was not in the batch)."""
        if email in self.users or email in self.checked:
            return self.users.get(email)
        return find_user(email)

    def write(self, organization: Organization) -> None:
        """Insert the people queued by :func:`import_member` and their memberships of
        ``organization``: two multi-row INSERTs, no ORM object (the unit of work's
        bookkeeping was half an import's time). They are found by query from then on.
        """
        if not self.new:
            return
        users = [user for user, _member in self.new.values()]
        # Core INSERTs of the tables (the column types still convert the values).
        table, members = db.metadata.tables["users"], db.metadata.tables["memberships"]
        ids = {row.email: row.id for row in db.session.execute(
            insert(table).returning(table.c.id, table.c.email), users)}
        db.session.execute(insert(members), [
            {**member, "organization_id": organization.id, "user_id": ids[email]}
            for email, (_user, member) in self.new.items()])
        self.checked.difference_update(self.new)
        self.new = {}


def import_member(*, organization: Organization, email: str, role: str | Role,
                  display_name: str | None = None, team: str | None = None,
                  job_family: str | None = None, locale: str | None = None,
                  granted_by: Membership | None = None, champion: bool | None = None,
                  known: KnownPeople) -> bool:
    """:func:`provision_member` for a row of an import: a person Relais does not know yet is
    checked the same way, then queued in ``known`` and written with the batch's other new
    people by :meth:`KnownPeople.write`; anyone else goes through :func:`provision_member`.
    Returns whether the membership is new. Raises what :func:`provision_member` raises.
    """
    normalized = email_key(email)
    if normalized in known.new:
        # A second row for someone new in this batch: written first, then updated as usual.
        known.write(organization)
    if normalized not in known.checked or known.users.get(normalized) is not None:
        return provision_member(organization=organization, email=email, role=role,
                                display_name=display_name, team=team, job_family=job_family,
                                locale=locale, granted_by=granted_by, champion=champion,
                                known=known).created
    # Nobody has this address: provision_member's checks for a new person, in its order.
    role, email = _checked_member_fields(role, email, locale, display_name, team, job_family)
    _check_grant(granted_by, role, None, team, champion)
    now = utcnow()
    known.new[email] = (
        {**_new_user_values(email, display_name, locale), "active": True,
         "named_in_results": False, "created_at": now},
        {"role": role, "team": _stripped(team), "job_family": _stripped(job_family),
         "active": True, "champion": bool(champion), "created_at": now})
    return True


def _checked_member_fields(role: str | Role, email: str, locale: str | None,
                           display_name: str | None, team: str | None, job_family: str | None
                           ) -> tuple[Role, str]:
    """A member's role and e-mail, normalized, once every field given is checked.

    :raise ValidationFailed: bad e-mail, role, locale or an over-long field.
    """
    role = _check_role(role)
    email = normalize_email(email)
    _check_locale(locale)
    _check_length(display_name, "display_name", 200)
    _check_length(team, "team", 120)
    _check_length(job_family, "job_family", 64)
    return role, email


def _check_grant(granted_by: Membership | None, role: Role, current: Membership | None,
                 team: str | None, champion: bool | None) -> None:
    """Whether ``granted_by`` may make ``current`` (None: someone new) a ``role``, and a
    champion has a team (``team`` given, else the one they have).

    :raise ValidationFailed: a champion without a team.
    :raise Forbidden: ``granted_by`` may not grant ``role`` or change this member's role.
    """
    if champion and not (_stripped(team) if team is not None else current and current.team):
        _champion_without_team()
    if granted_by is not None:
        check_can_grant(granted_by, role, current)


def provision_member(*, organization: Organization, email: str, role: str | Role,
                     display_name: str | None = None, team: str | None = None,
                     job_family: str | None = None, locale: str | None = None,
                     granted_by: Membership | None = None,
                     champion: bool | None = None,
                     known: KnownPeople | None = None) -> Provisioned:
    """Create or update a person's membership, idempotent on e-mail (HR-system provisioning).

    The person's name and locale are only updated while they belong to no other organization:
    one organization must not rename someone another organization also knows.

    :param granted_by: the member acting (API, import), held to the roles they may grant;
        None for the server's operator (CLI, demo).
    :param champion: make the member their team's champion (True), stop it (False), or leave
        it as it is (None).
    :param known: the batch's people, loaded beforehand (see :class:`KnownPeople`): nothing is
        flushed, the caller flushes once the batch is done.
    :raise ValidationFailed: bad e-mail, role, locale or an over-long field; a champion
        without a team.
    :raise Forbidden: ``granted_by`` may not grant ``role`` or change this member's role.
    :raise Conflict: the change would leave the organization without an administrator.
    """
    # Every field is checked before anything is written: a bad row leaves nothing behind.
    role, email = _checked_member_fields(role, email, locale, display_name, team, job_family)
    user = known.find(email) if known is not None else find_user(email)
    current = next((m for m in user.memberships if m.organization_id == organization.id),
                   None) if user else None
    _check_grant(granted_by, role, current, team, champion)
    if user is None:
        # Without a password: they log in after an invitation (no hash to compute here).
        user = _new_user(email, display_name, locale)
        if known is not None:
            known.users[email] = user
    elif all(m.organization_id == organization.id for m in user.memberships):
        if display_name and display_name.strip():
            user.display_name = display_name.strip()
        if locale:
            user.locale = locale
    membership = _set_membership(organization, user, current, role, team, job_family)
    if champion is not None:
        membership.champion = champion
    elif membership.champion and not membership.team:
        membership.champion = False  # a champion who lost their team has no group left
    if known is None:
        db.session.flush()
    return Provisioned(membership=membership, created=current is None)


def set_member_active(*, membership: Membership, active: bool) -> None:
    """Deactivate or reactivate a member; their learning records stay either way.

    A deactivated member loses access to the organization at their next request; someone left
    with no active membership anywhere is deactivated altogether, which ends their sessions
    and API tokens.

    :raise Conflict: deactivating the organization's last administrator.
    """
    if membership.active == active:
        return
    if not active:
        _keep_an_admin(membership)
    membership.active = active
    user = membership.user
    if active:
        user.active = True
    elif not any(m.active for m in user.memberships if m.id != membership.id):
        user.active = False
    db.session.flush()


def _keep_an_admin(membership: Membership) -> None:
    """Refuse to take away the organization's last administrator.

    :raise Conflict: ``membership`` is the only admin left.
    """
    if membership.role != Role.ADMIN:
        return
    # Locking the admins' rows (PostgreSQL) makes two concurrent demotions wait for each
    # other, so they cannot both see "another admin is left".
    admins = db.session.scalars(
        select(Membership.id)
        .where(Membership.organization_id == membership.organization_id,
               Membership.role == Role.ADMIN, Membership.active.is_(True))
        .with_for_update()
    ).all()
    if len(admins) <= 1:
        raise Conflict(_l("An organization needs at least one administrator: "
                       "make someone else admin first."), fields={"role": _l("last administrator")})


def remove_member(*, membership: Membership) -> None:
    """Remove a person from an organization (their account stays).

    :raise Conflict: they are its last administrator.
    """
    _keep_an_admin(membership)
    db.session.delete(membership)
    db.session.flush()


# -- logins ------------------------------------------------------------------------------------

# A limit: the failures it counts (conditions on LoginFailure) and how many it allows.
_Limit = tuple[Sequence[ColumnElement[bool]], int]


def _wait_seconds(limits: Sequence[_Limit]) -> int:
    """Seconds until every limit is under its count again (0: an attempt is allowed now).

    A limit is over when it counts as many recent failures as it allows; it is under again
    once enough of them have aged out of ``LOGIN_WINDOW_SECONDS``.
    """
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    now = utcnow()
    wait = 0.0
    for conditions, allowed in limits:
        recent = (*conditions, LoginFailure.at >= now - window)
        count = db.session.scalar(select(func.count()).select_from(LoginFailure)
                                  .where(*recent)) or 0
        if count < allowed:
            continue
        oldest_to_go = db.session.scalar(select(LoginFailure.at).where(*recent)
                                         .order_by(LoginFailure.at)
                                         .offset(count - allowed).limit(1))
        if oldest_to_go is not None:
            wait = max(wait, (oldest_to_go + window - now).total_seconds())
    return math.ceil(wait)


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def check_login_allowed(*, email: str, address: str, device: str | None = None) -> None:
    """Refuse a login attempt (password or second-factor code) when too many recent ones failed.

    A stranger is held by the failures for this account from this address, from this address
    for any account, and for this account from every unknown device together; a known device
    (``device``, see :mod:`lms.accounts.devices`) only by the failures made with it, so nobody
    can lock the owner out of their own browser by guessing wrong on purpose.

    :param device: this browser's device id for the account, None for a stranger.
    :raise TooManyAttempts: a limit is reached; ``retry_after`` says for how long.
    """
    cfg = current_app.config
    key = email_key(email)
    limits: list[_Limit]
    if device:
        limits = [((LoginFailure.device == device,), cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"])]
    else:
        limits = [
            ((LoginFailure.email == key, LoginFailure.address == address),
             cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
            ((LoginFailure.address == address,), cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
            ((LoginFailure.email == key, LoginFailure.device.is_(None)),
             cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_ADDRESSES"]),
        ]
    wait = _wait_seconds(limits)
    if wait:
        raise TooManyAttempts(_l("Too many failed logins. Try again in %(minutes)d minutes.",
                                 minutes=_minutes(wait)), retry_after=wait)


def record_login_failure(*, email: str, address: str, device: str | None = None) -> None:
    """Count one failed attempt (a wrong password or code) for the limits above (flushed)."""
    db.session.add(LoginFailure(email=email_key(email)[:254], address=address[:64],
                                device=device))
    db.session.flush()


def device_for(user: User | None, device_cookie: str | None) -> str | None:
    """This browser's known-device id for ``user`` (from its cookie), or None."""
    return devices.device_id(device_cookie, user.id) if user is not None else None


def authenticate(*, email: str, password: str, address: str,
                 device_cookie: str | None = None) -> User:
    """Check the password step of a login, recording failures for the limits.

    A person with a second factor is not logged in yet: the caller asks for their code next.

    :param device_cookie: the browser's known-device cookie (:mod:`lms.accounts.devices`).
    :raise TooManyAttempts: too many recent failures (checked before the password).
    :raise InvalidCredentials: wrong e-mail or password, or the account is disabled.
    :raise PasswordLoginRefused: the person must log in through single sign-on.
    """
    user = find_user(email)
    device = device_for(user, device_cookie)
    check_login_allowed(email=email, address=address, device=device)
    stored = (user.password_hash if user and user.password_hash
              else _dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]))
    ok = check_password_hash(stored, password)
    if not (ok and user and user.password_hash and user.active):
        record_login_failure(email=email, address=address, device=device)
        raise InvalidCredentials(_l("Wrong e-mail or password."))
    # Higher modules (single sign-on) may turn passwords off for some people.
    for _receiver, refusal in password_login.send(user):
        if refusal:
            raise PasswordLoginRefused(str(refusal))
    return user


def login_succeeded(*, user: User, address: str, device_cookie: str | None) -> None:
    """Forget the failures of this account from this address and this device (flushed).

    Called once the login is complete (after the second factor): a typo earlier does not count
    against later, while a stranger's failures elsewhere keep counting.
    """
    device = device_for(user, device_cookie)
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == user.email,
                                                  LoginFailure.address == address[:64]))
    if device:
        db.session.execute(delete(LoginFailure).where(LoginFailure.device == device))


def purge_login_failures() -> int:
    """Delete failures older than the window; returns how many went."""
    since = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    result = db.session.execute(delete(LoginFailure).where(LoginFailure.at < since))
    return result.rowcount or 0  # type: ignore[attr-defined]


# -- forgotten passwords ------------------------------------------------------------------------

def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT)


def _password_fingerprint(user: User) -> str:
    # Changes with every new password (each hash has its own salt): a link stops working once
    # used, and so does one sent before any other change of password.
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:32]


def request_password_reset(*, email: str, address: str) -> tuple[User, str] | None:
    """Record a "forgot password" request; returns the person and their reset token, or None.

    None when nobody who logs in with a password has this address: the caller answers the same
    either way, so the form does not tell who has an account. Requests are limited per e-mail
    and per client address (counted whether or not the account exists).

    :raise TooManyAttempts: too many recent requests for this e-mail or from this address.
    """
    cfg = current_app.config
    key, client = (RESET_PREFIX + email_key(email))[:254], (RESET_PREFIX + address)[:64]
    wait = _wait_seconds([((LoginFailure.email == key,), cfg["PASSWORD_RESET_MAX_PER_ACCOUNT"]),
                          ((LoginFailure.address == client,),
                           cfg["PASSWORD_RESET_MAX_PER_ADDRESS"])])
    if wait:
        raise TooManyAttempts(_l("Too many requests. Try again in %(minutes)d minutes.",
                                 minutes=_minutes(wait)), retry_after=wait)
    db.session.add(LoginFailure(email=key, address=client))
    db.session.flush()
    user = find_user(email)
    if user is None or not user.password_hash or not user.active:
        return None
    # Someone whose organization requires single sign-on has no use for a password.
    if any(refusal for _receiver, refusal in password_login.send(user)):
        return None
    return user, str(_reset_serializer().dumps({"u": user.id, "p": _password_fingerprint(user)}))


def user_for_reset_token(token: str, *, lock: bool = False) -> User:
    """The person a reset link is for.

    :param lock: lock their row until commit (PostgreSQL), so one link cannot be used twice
        by two requests at once.
    :raise NotFound: the link is malformed, older than ``PASSWORD_RESET_TTL_SECONDS``, or
        used (the password changed since it was sent).
    """
    invalid = NotFound(_l("This link is invalid or has expired."))
    try:
        data = _reset_serializer().loads(
            token, max_age=current_app.config["PASSWORD_RESET_TTL_SECONDS"])
    except BadData:
        raise invalid from None
    if not (isinstance(data, dict) and isinstance(data.get("u"), int)
            and isinstance(data.get("p"), str)):
        raise invalid
    user = db.session.get(User, data["u"], with_for_update=lock)
    if (user is None or not user.active or not user.password_hash
            or not hmac.compare_digest(data["p"], _password_fingerprint(user))):
        raise invalid
    return user


def reset_password(*, token: str, password: str) -> User:
    """Set a new password through a reset link; every session of the person ends.

    :raise NotFound: the link is invalid, expired or used.
    :raise ValidationFailed: the password is refused by the policy.
    """
    user = user_for_reset_token(token, lock=True)
    set_password(user, password)
    # Whoever proved they hold the mailbox should not stay locked out by failed guesses.
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    db.session.flush()
    return user


def password_reset_url(token: str) -> str:
    """Return the public link that opens the reset page."""
    return f"{current_app.config['BASE_URL']}/password/reset/{token}"


# -- invitations --------------------------------------------------------------------------------

def invite(*, organization: Organization, email: str, role: str | Role,
           invited_by: User | None) -> tuple[Invitation, str]:
    """Invite a person to ``organization``; returns the invitation and its one-time token.

    A member provisioned without a password (by the API or the CLI) may be invited again: the
    link lets them set their password, and keeps the role they have.

    :raise ValidationFailed: bad e-mail or role.
    :raise Conflict: the person is already a member with a password.
    """
    role = _check_role(role)
    email = normalize_email(email)
    user = find_user(email)
    member = next((m for m in user.memberships if m.organization_id == organization.id),
                  None) if user else None
    if member is not None:
        if user is not None and user.password_hash is not None:
            raise Conflict(_l("%(email)s is already a member of %(organization)s", email=email,
                              organization=organization.name),
                           fields={"email": _l("already a member")})
        return invite_existing(membership=member, invited_by=invited_by)
    return _new_invitation(organization=organization, email=email, role=role,
                           invited_by=invited_by)


def invite_existing(*, membership: Membership, invited_by: User | None = None
                    ) -> tuple[Invitation, str]:
    """Create a set-your-password link for a member provisioned without a password."""
    return _new_invitation(organization=membership.organization, email=membership.user.email,
                           role=membership.role, invited_by=invited_by)


def _new_invitation(*, organization: Organization, email: str, role: Role,
                    invited_by: User | None) -> tuple[Invitation, str]:
    raw = secrets.token_urlsafe(32)
    ttl = timedelta(days=current_app.config["INVITATION_TTL_DAYS"])
    invitation = Invitation(organization=organization, email=email, role=role,
                            token_hash=hash_token(raw), invited_by=invited_by,
                            expires_at=utcnow() + ttl)
    db.session.add(invitation)
    db.session.flush()
    return invitation, raw


def invitation_for_token(raw: str, *, lock: bool = False) -> Invitation:
    """Return the pending invitation for a token.

    :param lock: lock its row until commit (PostgreSQL), so two acceptances of one link
        cannot both go through.
    :raise NotFound: unknown, used or expired token.
    """
    stmt = select(Invitation).where(Invitation.token_hash == hash_token(raw))
    invitation = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at < utcnow():
        raise NotFound(_l("This invitation link is unknown, already used or expired."))
    return invitation


def invitation_needs_login(invitation: Invitation) -> bool:
    """Whether the invited address already has an account with a password.

    Such a person accepts by logging in: the link must never let whoever holds it (the
    inviter sees it when no mail server is configured) choose a new password for an account
    that may belong to other organizations.
    """
    user = find_user(invitation.email)
    return user is not None and user.password_hash is not None


def accept_invitation(*, token: str, display_name: str, password: str) -> User:
    """Accept an invitation by setting a password: create or complete the account, join.

    :raise NotFound: the token is unknown, used or expired.
    :raise Forbidden: the address already has a password (log in and use :func:`join`).
    :raise ValidationFailed: the password is refused by the policy or the name too long.
    """
    invitation = invitation_for_token(token, lock=True)
    if invitation_needs_login(invitation):
        raise Forbidden(_l("This address already has an account: log in to accept."))
    check_password(password, email=invitation.email, name=display_name)
    _check_length(display_name, "display_name", 200)
    user = find_user(invitation.email)
    if user is None:
        user = create_user(email=invitation.email, display_name=display_name or None)
    elif display_name.strip():
        user.display_name = display_name.strip()
    set_password(user, password)
    _join(invitation, user)
    return user


def join(*, token: str, user: User) -> Invitation:
    """Accept an invitation as the logged-in ``user`` it was sent to.

    :raise NotFound: the token is unknown, used or expired.
    :raise Forbidden: the invitation was sent to another address.
    """
    invitation = invitation_for_token(token, lock=True)
    if invitation.email != user.email:
        raise Forbidden(_l("This invitation was sent to %(email)s: log in as that person.",
                           email=invitation.email))
    _join(invitation, user)
    return invitation


def _join(invitation: Invitation, user: User) -> None:
    # An invitation adds a membership; it never changes the role of someone already a member.
    if not any(m.organization_id == invitation.organization_id for m in user.memberships):
        add_member(organization=invitation.organization, user=user, role=invitation.role)
    invitation.accepted_at = utcnow()
    db.session.flush()


def invitation_url(raw_token: str) -> str:
    """Return the public link that accepts an invitation."""
    return f"{current_app.config['BASE_URL']}/invitations/{raw_token}"


# -- API tokens ---------------------------------------------------------------------------------

def issue_api_token(*, user: User, name: str = "API token", by: User | None = None
                    ) -> tuple[ApiToken, str]:
    """Create a personal API token; the raw value is returned once and never stored.

    :param by: who creates it (the audit log's actor), None from the command line.
    """
    _check_length(name, "name", 100)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name.strip() or "API token", prefix=raw[:12],
                     token_hash=hash_token(raw))
    db.session.add(token)
    db.session.flush()
    # Tokens belong to a person, not to an organization: the entry has none.
    audit.record(action="api_token.create", actor=by, organization=None,
                 target=f"api_token:{token.id}", details={"user_id": user.id})
    return token, raw


def revoke_api_token(*, token: ApiToken, by: User | None = None) -> None:
    """Revoke a token; later requests with it get 401.

    :param by: who revokes it (the audit log's actor), None from the command line.
    """
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        audit.record(action="api_token.revoke", actor=by, organization=None,
                     target=f"api_token:{token.id}", details={"user_id": token.user_id})


def user_for_api_token(raw: str) -> User | None:
    """Return the active user owning a valid, unrevoked token, recording its use."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    # Refreshed at most every five minutes so reads do not turn every API call into a write.
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return token.user
