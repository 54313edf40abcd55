"""The e-mail digest: per-person frequency, the one-click unsubscribe link, what a person's
next digest holds, and the periodic sending of the digests that are due.

A digest is sent only when it has something to say; a due digest with nothing in it is marked
done all the same, so each person is considered at most once per period. Sending claims the
person first (a conditional UPDATE, committed), then mails: two runners never send the same
digest, and a mail server that refuses gives the digest back for the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Membership, Organization, User
from lms.core.errors import ValidationFailed
from lms.core.mail import mail_configured, send_message
from lms.core.models import utcnow
from lms.extensions import db
from lms.notifications.models import DAILY, FREQUENCIES, NEVER, WEEKLY, DigestPreference
from lms.notifications.sections import SECTIONS, Section, absolute

log = logging.getLogger("relais.notifications")

PERIODS = {DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}
# The periodic run comes about hourly: a digest due within the hour goes now, so a daily
# digest keeps its time of day instead of drifting later each day.
SLACK = timedelta(hours=1)
FREQUENCY_LABELS = {WEEKLY: _l("Weekly"), DAILY: _l("Daily"), NEVER: _l("Never")}
_SALT = "relais-digest-unsubscribe"


# --- preferences ------------------------------------------------------------------------------


def preference_of(user: User) -> DigestPreference:
    """The person's preference (weekly, unsaved, when never set)."""
    return db.session.get(DigestPreference, user.id) or DigestPreference(
        user_id=user.id, frequency=WEEKLY)


def set_frequency(*, user: User, frequency: str) -> DigestPreference:
    """Choose how often the digest comes.

    :raise ValidationFailed: not weekly, daily or never.
    """
    if frequency not in FREQUENCIES:
        raise ValidationFailed(_l("The preference was not saved."),
                               fields={"frequency": _l("Choose weekly, daily or never.")})
    pref = db.session.get(DigestPreference, user.id)
    if pref is None:
        pref = DigestPreference(user_id=user.id)
        db.session.add(pref)
    pref.frequency = frequency
    pref.unsubscribed_at = utcnow() if frequency == NEVER else None
    db.session.flush()
    return pref


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.config["SECRET_KEY"]), salt=_SALT)


def unsubscribe_token(user: User) -> str:
    """A signed token naming the person, for the unsubscribe link (no login needed)."""
    return str(_serializer().dumps(user.id))


def unsubscribe_url(user: User) -> str:
    """The one-click unsubscribe address of the person's digests."""
    return absolute(f"/notifications/unsubscribe/{unsubscribe_token(user)}")


def user_for_token(token: str) -> User | None:
    """The person a token names, or None when it is forged, altered or the person is gone."""
    try:
        user_id = _serializer().loads(token)
    except BadSignature:
        return None
    return db.session.get(User, user_id) if isinstance(user_id, int) else None


def unsubscribe(*, user: User) -> DigestPreference:
    """Stop the person's digests (their preference becomes "never")."""
    return set_frequency(user=user, frequency=NEVER)


# --- content ----------------------------------------------------------------------------------


@dataclass
class OrganizationDigest:
    """The sections of one organization the person belongs to."""

    organization: Organization
    sections: list[Section]


def build(user: User, now: datetime | None = None) -> list[OrganizationDigest]:
    """What the person's digest holds now, per organization (in the current language)."""
    now = now or utcnow()
    found = []
    memberships = sorted((m for m in user.memberships if m.active),
                         key=lambda m: m.organization.name)
    for membership in memberships:
        sections = [s for s in (fn(membership, now) for fn in SECTIONS) if s and s.items]
        if sections:
            found.append(OrganizationDigest(membership.organization,
                                            sorted(sections, key=lambda s: s.order)))
    return found


def next_due(pref: DigestPreference) -> datetime | None:
    """When the person's next digest is due (None: never)."""
    if pref.frequency == NEVER:
        return None
    if pref.last_digest_at is None:
        return utcnow()
    return pref.last_digest_at + PERIODS[pref.frequency]


# --- sending ----------------------------------------------------------------------------------


def _message(user: User, digests: list[OrganizationDigest]) -> EmailMessage:
    with force_locale(user.locale or "fr"):
        link = unsubscribe_url(user)
        context = {"user": user, "digests": digests, "unsubscribe": link,
                   "preferences": absolute("/account/notifications")}
        msg = EmailMessage()
        msg["Subject"] = ngettext("Your Relais digest: %(num)d thing to do",
                                  "Your Relais digest: %(num)d things to do",
                                  sum(len(s.items) for d in digests for s in d.sections))
        # The environment's templates directly: the periodic run has no request, so no
        # request context processors.
        env = current_app.jinja_env
        msg.set_content(env.get_template("notifications/digest_plain.html").render(**context))
        msg.add_alternative(env.get_template("notifications/digest_mail.html").render(**context),
                            subtype="html")
    msg["To"] = user.email
    # RFC 2369 and RFC 8058: mail clients show an "unsubscribe" button that POSTs to the link.
    msg["List-Unsubscribe"] = f"<{link}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return msg


def _due_users(now: datetime, limit: int) -> list[User]:
    p = DigestPreference
    due_before = {f: now + SLACK - period for f, period in PERIODS.items()}
    stmt = (select(User).outerjoin(p, p.user_id == User.id)
            .where(User.active.is_(True),
                   User.id.in_(select(Membership.user_id).where(Membership.active.is_(True))),
                   or_(p.user_id.is_(None),
                       (p.frequency != NEVER) & or_(
                           p.last_digest_at.is_(None),
                           (p.frequency == DAILY) & (p.last_digest_at <= due_before[DAILY]),
                           (p.frequency == WEEKLY) & (p.last_digest_at <= due_before[WEEKLY]))))
            .order_by(User.id).limit(limit))
    return list(db.session.scalars(stmt))


def _claim(user: User, now: datetime) -> datetime | None | bool:
    """Mark the person's digest as done now, unless another runner did; returns the previous
    mark (to give it back if the mail fails), or False when another runner has it.
    """
    pref = db.session.get(DigestPreference, user.id)
    if pref is None:
        db.session.add(DigestPreference(user_id=user.id, frequency=WEEKLY, last_digest_at=now))
        db.session.flush()
        return None
    previous = pref.last_digest_at
    claimed = db.session.execute(
        update(DigestPreference).where(
            DigestPreference.user_id == user.id,
            DigestPreference.last_digest_at.is_(None) if previous is None
            else DigestPreference.last_digest_at == previous)
        .values(last_digest_at=now).execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    return previous if claimed == 1 else False


def send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Send the digests that are due (at most ``limit`` people per run); returns how many
    were sent. Commits per person: the periodic run calls it; no mail goes before its claim
    is committed.
    """
    if not mail_configured():
        return 0
    now = now or utcnow()
    sent = 0
    for user in _due_users(now, limit):
        try:
            previous = _claim(user, now)
            db.session.commit()
        except IntegrityError:  # another runner created the row at the same moment
            db.session.rollback()
            continue
        if previous is False:
            continue
        with force_locale(user.locale or "fr"):
            digests = build(user, now)
        if not digests:
            continue
        try:
            send_message(_message(user, digests))
        except OSError:
            log.exception("digest not sent to user %s", user.id)
            db.session.execute(update(DigestPreference).where(
                DigestPreference.user_id == user.id).values(last_digest_at=previous)
                .execution_options(synchronize_session=False))
            db.session.commit()
            continue
        sent += 1
    return sent
