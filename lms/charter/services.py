"""Charter writes: publish a version, accept the version in force, choose the gates, check a
gate, remind those who have not accepted. Keyword-only, flush never commit; each acceptance is
recorded through ``lms.xapi.record.record``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Membership, Organization, User
from lms.charter import queries
from lms.charter import statements as cs
from lms.charter.models import CharterAcceptance, CharterSettings, CharterVersion
from lms.charter.signals import charter_accepted
from lms.core.errors import Conflict, Forbidden, ValidationFailed
from lms.core.mail import send_mail
from lms.core.models import utcnow
from lms.core.web import absolute_url
from lms.extensions import db
from lms.xapi.record import record

MAX_TEXT = 50_000
MAX_SUMMARY = 500
GATES = ("advocacy", "exercises", "certificates")


def publish(*, organization: Organization, body_fr: str, body_en: str | None,
            summary: str | None = None, by: User | None) -> CharterVersion:
    """Publish a new version of the charter: it is in force at once and everyone is asked to
    accept it (acceptances of earlier versions stay on record).

    :param body_en: the English text; the French one is shown when it is empty.
    :raise ValidationFailed: no French text, or a text or summary too long (by field).
    """
    body_fr = (body_fr or "").replace("\r\n", "\n").strip()
    body_en = (body_en or "").replace("\r\n", "\n").strip()
    summary = (summary or "").strip() or None
    errors = {}
    if not body_fr:
        errors["body_fr"] = _l("Write the charter in French.")
    for name, text in (("body_fr", body_fr), ("body_en", body_en)):
        if len(text) > MAX_TEXT:
            errors[name] = _l("Keep it under %(count)d characters.", count=MAX_TEXT)
    if summary and len(summary) > MAX_SUMMARY:
        errors["summary"] = _l("Keep it under %(count)d characters.", count=MAX_SUMMARY)
    if errors:
        raise ValidationFailed(_l("The charter was not published."), fields=errors)
    # Numbers follow each other per organization; the unique constraint settles a race.
    number = (db.session.scalar(select(func.max(CharterVersion.number)).where(
        CharterVersion.organization_id == organization.id)) or 0) + 1
    version = CharterVersion(organization_id=organization.id, number=number, body_fr=body_fr,
                             body_en=body_en, summary=summary, published_by=by,
                             published_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(version)
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_l("Another version was published at the same time: reload the page "
                          "and check it first.")) from exc
    return version


def accept(*, membership: Membership, number: int | None = None,
           at: datetime | None = None) -> CharterAcceptance:
    """The member accepts the version in force; records "accepted". Accepting again is a
    no-op that returns the first acceptance.

    :param number: the version the member read; refused when a newer one is in force.
    :param at: when it was accepted (now by default; the demo's history gives past dates).
    :raise ValidationFailed: the organization has no charter yet.
    :raise Conflict: ``number`` is not the version in force.
    """
    version = queries.current_version(membership.organization_id)
    if version is None:
        raise ValidationFailed(_l("This organization has not published a charter yet."),
                               fields={"version": _l("No charter yet.")})
    if number is not None and number != version.number:
        raise Conflict(_l("A newer version of the charter is in force: read version "
                          "%(number)d, then accept it.", number=version.number))
    existing = queries.acceptance(membership.id, version.id)
    if existing is not None:
        return existing
    done = CharterAcceptance(organization_id=membership.organization_id, version=version,
                             membership=membership, accepted_at=at or utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(done)
            db.session.flush()
    except IntegrityError:  # the same acceptance sent twice at once: the first stands
        first = queries.acceptance(membership.id, version.id)
        assert first is not None
        return first
    (done.statement_id,) = record([cs.accepted(done)],
                                  organization_id=membership.organization_id, validated=True)
    db.session.flush()
    charter_accepted.send(done)
    return done


def set_gates(*, organization: Organization, advocacy: bool, exercises: bool,
              certificates: bool) -> CharterSettings:
    """Choose what an accepted charter gates in the organization."""
    settings = db.session.get(CharterSettings, organization.id)
    if settings is None:
        settings = CharterSettings(organization_id=organization.id)
        db.session.add(settings)
    settings.gate_advocacy = bool(advocacy)
    settings.gate_exercises = bool(exercises)
    settings.gate_certificates = bool(certificates)
    db.session.flush()
    queries.forget_settings(organization.id)
    return settings


def gates(membership: Membership, gate: str) -> bool:
    """Whether ``gate`` (one of :data:`GATES`) holds ``membership`` back now: the organization
    turned it on, a charter is in force and the member has not accepted it.
    """
    settings = queries.settings_for(membership.organization_id)
    if not getattr(settings, f"gate_{gate}"):
        return False
    return not queries.accepted_current(membership)


def require_accepted(membership: Membership, gate: str) -> None:
    """Refuse what ``gate`` holds back until the member accepts the charter in force.

    :raise Forbidden: it is held back (code ``charter_not_accepted``).
    """
    if gates(membership, gate):
        raise Forbidden(_l("Accept your organization's social-media charter first: it says how "
                           "to post on your own accounts safely. Read it from your dashboard."),
                        code="charter_not_accepted")


def remind(*, organization: Organization, version: CharterVersion,
           members: Iterable[Membership]) -> int:
    """E-mail each member who has not accepted ``version`` a reminder, in their language;
    returns how many were sent. Writes nothing: call it after the page's own commit.
    """
    accepted = set(db.session.scalars(select(CharterAcceptance.membership_id).where(
        CharterAcceptance.version_id == version.id)))
    link = absolute_url(f"/o/{organization.slug}/charter")
    sent = 0
    for member in members:
        if member.id in accepted or not member.active or not member.user.active:
            continue
        with force_locale(member.user.locale or "fr"):
            subject = gettext("Please read and accept the social-media charter")
            body = gettext(
                "Hello %(name)s,\n\n%(org)s asks everyone to read and accept version "
                "%(number)d of its social-media charter: it says how to post about your work "
                "on your own accounts safely. It takes a few minutes: %(link)s",
                name=member.user.display_name, org=organization.name,
                number=version.number, link=link)
        if send_mail(to=member.user.email, subject=subject, body=body):
            sent += 1
    return sent
