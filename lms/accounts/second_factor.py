"""The optional second factor: TOTP codes (RFC 6238) from an authenticator app, recovery codes.

The TOTP secret is encrypted at rest (``lms.core.crypto``); recovery codes are stored as an
HMAC keyed from ``SECRET_KEY``, so a copy of the database alone reveals neither. A code is
accepted within one time step of drift either way and once only: a code of a step at or before
the last accepted one is refused, so a code seen over someone's shoulder cannot be replayed.
Wrong codes count as failed logins (``services.check_login_allowed``).

An organization may require a second factor of its administrators and HR people who log in
with a password; single sign-on is exempt (the identity provider does its own MFA).

Functions flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

import pyotp
import segno
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Exists, and_, delete, exists, func, select
from werkzeug.security import check_password_hash

from lms.accounts import audit, services
from lms.accounts.models import (
    Membership,
    Organization,
    RecoveryCode,
    Role,
    SecondFactor,
    User,
)
from lms.core.crypto import SecretUnreadable, decrypt_secret, encrypt_secret
from lms.core.errors import Conflict, DomainError, NotFound
from lms.core.models import utcnow
from lms.extensions import db

ISSUER = "Relais"
# Seconds per time step (RFC 6238's default, what every authenticator app uses).
STEP_SECONDS = 30
# Steps of clock drift accepted either way.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
# Letters and digits nobody confuses when copying (no 0/o, 1/l/i): 10 of them ≈ 49 bits.
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_RECOVERY_LENGTH = 10
_PURPOSE = "totp-secret"
# Roles an organization may require a second factor of.
REQUIRED_ROLES = (Role.HR, Role.ADMIN)

ENABLED = "second_factor.enable"
DISABLED = "second_factor.disable"
CODES_REGENERATED = "second_factor.recovery_codes"
REQUIREMENT_CHANGED = "organization.second_factor_requirement"


class CodeRefused(DomainError, code="invalid_code", status=401):
    """The code is wrong, expired or already used (HTTP 401)."""


def _refused() -> CodeRefused:
    return CodeRefused(_l("This code is not valid."),
                       fields={"code": _l("This code is wrong, expired or already used.")})


def _factor(user: User, *, confirmed: bool = True, lock: bool = False) -> SecondFactor | None:
    stmt = select(SecondFactor).where(SecondFactor.user_id == user.id)
    if confirmed:
        stmt = stmt.where(SecondFactor.confirmed_at.is_not(None))
    return db.session.scalar(stmt.with_for_update() if lock else stmt)


def is_enabled(user: User) -> bool:
    """Whether ``user`` has a confirmed second factor (asked for at every password login)."""
    return _factor(user) is not None


def _now_step() -> int:
    return int(utcnow().timestamp()) // STEP_SECONDS


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step (within the drift) whose code is ``code`` and is after ``after``."""
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now = _now_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step),
                                                                   code):
            return step
    return None


def _normalize(code: str) -> str:
    return re.sub(r"[\s-]+", "", code or "").lower()


def _is_totp(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


# -- enrolment ---------------------------------------------------------------------------------

def start_enrolment(user: User) -> str:
    """Give ``user`` a new secret to scan, pending until a code confirms it; returns it.

    :raise Conflict: a second factor is already on (turn it off first).
    """
    if is_enabled(user):
        raise Conflict(_l("A second factor is already set up."))
    secret = pyotp.random_base32()
    pending = _factor(user, confirmed=False)
    if pending is None:
        pending = SecondFactor(user_id=user.id, secret_encrypted="")
        db.session.add(pending)
    pending.secret_encrypted = encrypt_secret(secret, purpose=_PURPOSE)
    pending.last_step = None
    db.session.flush()
    return secret


def pending_secret(user: User) -> str | None:
    """The secret ``user`` is enrolling with (not yet confirmed), or None."""
    pending = _factor(user, confirmed=False)
    if pending is None or pending.confirmed_at is not None:
        return None
    try:
        return decrypt_secret(pending.secret_encrypted, purpose=_PURPOSE)
    except SecretUnreadable:
        return None


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=user.email,
                                                                      issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG (segno's own markup, no user text in it)."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, dark="#1d2733", light="#ffffff"))


def confirm_enrolment(*, user: User, code: str, address: str | None) -> list[str]:
    """Turn the second factor on once a code from the app proves the secret was scanned.

    :return: the ten recovery codes, to show once.
    :raise NotFound: no enrolment is under way.
    :raise CodeRefused: the code does not match the pending secret.
    """
    pending = _factor(user, confirmed=False, lock=True)
    secret = pending_secret(user)
    if pending is None or secret is None or pending.confirmed_at is not None:
        raise NotFound(_l("Start the set-up again."))
    step = _matching_step(secret, _normalize(code), None)
    if step is None:
        raise _refused()
    pending.confirmed_at = utcnow()
    pending.last_step = step
    codes = _new_recovery_codes(user)
    _audit(user, ENABLED, address, actor=user)
    return codes


# -- recovery codes ----------------------------------------------------------------------------

def _code_hash(user_id: int, code: str) -> str:
    key = hashlib.sha256(b"relais:recovery-code:"
                         + str(current_app.config["SECRET_KEY"]).encode()).digest()
    return hmac.new(key, f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_code_hash(user.id, raw)))
        half = _RECOVERY_LENGTH // 2
        codes.append(f"{raw[:half]}-{raw[half:]}")
    db.session.flush()
    return codes


def recovery_codes_left(user: User) -> int:
    """How many of ``user``'s recovery codes are still unused."""
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def regenerate_recovery_codes(*, user: User, address: str | None) -> list[str]:
    """Replace ``user``'s recovery codes with ten new ones (the old ones stop working).

    :raise NotFound: no second factor is set up.
    """
    if not is_enabled(user):
        raise NotFound(_l("No second factor is set up."))
    codes = _new_recovery_codes(user)
    _audit(user, CODES_REGENERATED, address, actor=user)
    return codes


# -- checking a code ---------------------------------------------------------------------------

def _accept(user: User, code: str) -> bool:
    """Whether ``code`` is a fresh TOTP code or an unused recovery code of ``user``; uses it."""
    factor = _factor(user, lock=True)
    if factor is None:
        return False
    code = _normalize(code)
    if _is_totp(code):
        try:
            secret = decrypt_secret(factor.secret_encrypted, purpose=_PURPOSE)
        except SecretUnreadable:
            current_app.logger.warning("second factor of user %s unreadable (SECRET_KEY "
                                       "changed?)", user.id)
            return False
        step = _matching_step(secret, code, factor.last_step)
        if step is None:
            return False
        factor.last_step = step
        db.session.flush()
        return True
    row = db.session.scalar(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
        RecoveryCode.code_hash == _code_hash(user.id, code)).with_for_update())
    if row is None:
        return False
    row.used_at = utcnow()
    db.session.flush()
    return True


def check_code(*, user: User, code: str, address: str, device: str | None = None) -> None:
    """The second step of a login: accept a code from the app or a recovery code, once.

    :param device: this browser's known-device id for ``user`` (see ``services.device_for``).
    :raise TooManyAttempts: too many recent failures (wrong passwords and codes alike).
    :raise CodeRefused: the code is wrong, expired or used; the failure is recorded.
    """
    services.check_login_allowed(email=user.email, address=address, device=device)
    if not _accept(user, code):
        services.record_login_failure(email=user.email, address=address, device=device)
        raise _refused()


def confirm_identity(*, user: User, secret: str, address: str) -> None:
    """Check that the person at the keyboard is ``user`` before a change to their second factor:
    their password or a code from their app (a recovery code when they have no password).

    :raise TooManyAttempts: too many recent failures.
    :raise CodeRefused: neither matches; the failure is recorded like a failed login.
    """
    services.check_login_allowed(email=user.email, address=address)
    code = _normalize(secret)
    if user.password_hash and check_password_hash(user.password_hash, secret):
        return
    if (_is_totp(code) or not user.password_hash) and _accept(user, code):
        return
    services.record_login_failure(email=user.email, address=address)
    raise CodeRefused(_l("This is neither your password nor a valid code."),
                      fields={"secret": _l("This is neither your password nor a valid code.")})


# -- turning it off ----------------------------------------------------------------------------

def remove(user: User) -> None:
    """Delete ``user``'s second factor and recovery codes, without an audit entry (erasure)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    db.session.flush()


def turn_off(*, user: User, actor: User | None, address: str | None) -> None:
    """Turn ``user``'s second factor off (by themselves, or by the server's operator).

    :param actor: who did it, None from the command line.
    :raise NotFound: none is set up.
    """
    if not is_enabled(user):
        raise NotFound(_l("No second factor is set up."))
    remove(user)
    _audit(user, DISABLED, address, actor=actor)


# -- the organization's requirement ------------------------------------------------------------

def _required(user_id: int) -> Exists:
    return exists().where(
        Membership.user_id == user_id, Membership.active.is_(True),
        Membership.role.in_(REQUIRED_ROLES), Membership.organization_id == Organization.id,
        Organization.require_second_factor.is_(True))


def is_required(user_id: int) -> bool:
    """Whether an organization of ``user_id`` requires a second factor of their role."""
    return bool(db.session.scalar(select(_required(user_id))))


def must_enrol(user_id: int) -> bool:
    """Whether ``user_id`` holds a role an organization requires a second factor of, without one.

    One query: it runs on every page of a password session (``lms.accounts.init_app``).
    """
    required = _required(user_id)
    enrolled = exists().where(SecondFactor.user_id == user_id,
                              SecondFactor.confirmed_at.is_not(None))
    return bool(db.session.scalar(select(and_(required, ~enrolled))))


def requirement_counts(organization: Organization) -> tuple[int, int]:
    """(active admins and HR, how many of them have a second factor) in ``organization``."""
    row = db.session.execute(
        select(func.count(Membership.id), func.count(SecondFactor.user_id))
        .select_from(Membership)
        .outerjoin(SecondFactor, and_(SecondFactor.user_id == Membership.user_id,
                                      SecondFactor.confirmed_at.is_not(None)))
        .where(Membership.organization_id == organization.id, Membership.active.is_(True),
               Membership.role.in_(REQUIRED_ROLES))).one()
    return int(row[0]), int(row[1])


def set_requirement(*, organization: Organization, required: bool, actor: User | None,
                    address: str | None) -> bool:
    """Require (or stop requiring) a second factor of the organization's admins and HR.

    :return: whether the setting changed (only a change is written to the audit log).
    """
    if organization.require_second_factor == required:
        return False
    organization.require_second_factor = required
    audit.record(action=REQUIREMENT_CHANGED, actor=actor, organization=organization,
                 target=f"organization:{organization.id}", address=address,
                 details={"required": required})
    db.session.flush()
    return True


def _audit(user: User, action: str, address: str | None, *, actor: User | None) -> None:
    """One entry per organization the person is an active member of, so each one's
    administrators see it on their audit page (one without organization for nobody's member).
    """
    memberships = [m for m in user.memberships if m.active]
    for membership in memberships:
        audit.record(action=action, actor=actor, organization=membership.organization,
                     target=f"membership:{membership.id}", address=address)
    if not memberships:
        audit.record(action=action, actor=actor, organization=None, target=f"user:{user.id}",
                     address=address)
