"""Nudges: a champion or a manager sends a short e-mail to someone they follow.

A person receives at most ``NUDGES_PER_DAY`` nudges in 24 hours, whoever sends them, so being
followed by both a manager and a champion never means a flood of e-mails.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms.accounts import groups
from lms.accounts.models import Membership, Nudge
from lms.core.errors import Conflict, NotFound, checked_text
from lms.core.mail import send_mail
from lms.core.models import utcnow
from lms.core.web import absolute_url
from lms.extensions import db

MESSAGE_MAX = 500
NUDGES_PER_DAY = 1


def sent_today(recipient: Membership) -> int:
    """How many nudges ``recipient`` received in the last 24 hours."""
    since = utcnow() - timedelta(days=1)
    return db.session.scalar(select(func.count(Nudge.id)).where(
        Nudge.recipient_id == recipient.id, Nudge.sent_at > since)) or 0


def nudge(*, sender: Membership, recipient: Membership, message: str) -> Nudge:
    """Record a nudge from ``sender`` to ``recipient`` (send the e-mail after the commit with
    :func:`send`).

    :raise NotFound: ``sender`` does not follow ``recipient`` (the same answer as for someone
        who does not exist, so nobody learns who is in another group).
    :raise ValidationFailed: an empty or over-long message.
    :raise Conflict: the person was already nudged in the last 24 hours.
    """
    why = groups.follows(sender, recipient)
    if why is None:
        raise NotFound(_l("No such person in your team or group."))
    text = checked_text(message, field="message", max_length=MESSAGE_MAX,
                        too_long=_l("The message is too long."),
                        required=(_l("Write a short message."), _l("Write a short message.")))
    # Locking the recipient's row (PostgreSQL) makes two concurrent nudges wait for each other,
    # so they cannot both see "none today".
    db.session.execute(select(Membership.id).where(Membership.id == recipient.id)
                       .with_for_update())
    if sent_today(recipient) >= NUDGES_PER_DAY:
        raise Conflict(_l("%(name)s was already sent a nudge in the last 24 hours.",
                          name=recipient.user.display_name),
                       fields={"message": _l("Already nudged today.")})
    row = Nudge(organization_id=recipient.organization_id, sender_id=sender.id,
                recipient_id=recipient.id, as_role=why, message=text)
    db.session.add(row)
    db.session.flush()
    return row


def send(row: Nudge) -> bool:
    """Send the nudge's e-mail (after the commit); False when no mail server is set."""
    sender = row.sender.user.display_name if row.sender else ""
    org = row.recipient.organization
    user = row.recipient.user
    link = absolute_url(f"/o/{org.slug}/")
    with force_locale(user.locale or "fr"):
        return send_mail(
            to=user.email,
            subject=gettext("A word from %(name)s about your training", name=sender),
            body=gettext("%(name)s (%(org)s) writes to you:\n\n%(message)s\n\n"
                         "Your training: %(link)s\n\nYou receive this message because "
                         "%(name)s follows your training as your manager or your team's "
                         "champion.", name=sender, org=org.name, message=row.message,
                         link=link))


def received(recipient: Membership, *, limit: int = 20) -> list[Nudge]:
    """The nudges ``recipient`` received, latest first."""
    return list(db.session.scalars(select(Nudge).where(Nudge.recipient_id == recipient.id)
                                   .order_by(Nudge.sent_at.desc(), Nudge.id.desc())
                                   .limit(limit)))
