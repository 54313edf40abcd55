"""Manager approval of session registrations, for programs with ``approval_required``.

A registration to a session of such a program starts as ``pending_approval`` and holds no seat.
The learner's manager (``Membership.manager_id``), or anyone with the HR or admin role, approves
it — it then takes a seat, or a place on the waiting list when the session is full, exactly as
a registration without approval — or declines it with a reason; a declined registration is
kept (the learner sees why) and cannot be requested again unless a trainer cancels it.

Approving and declining are administrative decisions, not learning events: they are kept on
the registration (who, when, why) and recorded as no xAPI statement. The learning record starts
with the sign-in (``attended``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from lms.accounts import groups
from lms.accounts.models import Membership, Role
from lms.core.errors import Conflict, NotFound, ValidationFailed, checked_text
from lms.core.mail import send_mail
from lms.core.models import utcnow
from lms.core.web import absolute_url, localized
from lms.courses.cohorts.models import Enrollment
from lms.courses.programs.models import Program
from lms.courses.sessions.models import (
    DECLINED,
    PENDING_APPROVAL,
    REGISTERED,
    WAITLISTED,
    SessionRegistration,
    TrainingSession,
)
from lms.courses.sessions.services import _lock_seats, local_zone, seats_taken
from lms.extensions import db

DECIDERS = (Role.HR, Role.ADMIN)
REASON_MAX = 500


manages_someone = groups.manages_someone


def may_see_approvals(member: Membership) -> bool:
    """Whether the Approvals page concerns ``member`` (HR, admins, and managers)."""
    return member.role in DECIDERS or manages_someone(member)


def may_decide(member: Membership, registration: SessionRegistration) -> bool:
    """Whether ``member`` may approve or decline ``registration``."""
    learner = registration.enrollment.membership
    if learner.organization_id != member.organization_id or learner.id == member.id:
        return False
    return member.role in DECIDERS or learner.manager_id == member.id


def _visible(member: Membership) -> Select[Any]:
    learner = aliased(Membership)
    stmt = (select(SessionRegistration)
            .join(Enrollment, SessionRegistration.enrollment_id == Enrollment.id)
            .join(learner, Enrollment.membership_id == learner.id)
            .join(TrainingSession, SessionRegistration.session_id == TrainingSession.id)
            .where(Enrollment.organization_id == member.organization_id,
                   learner.id != member.id))
    if member.role not in DECIDERS:
        stmt = stmt.where(learner.manager_id == member.id)
    return stmt


def requests_for(member: Membership, *, pending: bool = True) -> Select[Any]:
    """The registrations ``member`` may decide: pending ones (soonest session first), or those
    already decided (latest decision first).
    """
    stmt = _visible(member)
    if pending:
        return stmt.where(SessionRegistration.status == PENDING_APPROVAL).order_by(
            TrainingSession.starts_at, SessionRegistration.id)
    return stmt.where(SessionRegistration.decided_at.is_not(None)).order_by(
        SessionRegistration.decided_at.desc(), SessionRegistration.id.desc())


def pending_count(member: Membership) -> int:
    """How many requests wait for ``member``'s decision."""
    return db.session.scalar(select(func.count()).select_from(
        requests_for(member).order_by(None).subquery())) or 0


def get_for(member: Membership, registration_id: int) -> SessionRegistration:
    """A registration ``member`` may decide.

    :raise NotFound: no such registration, or not one of theirs to decide.
    """
    registration = db.session.get(SessionRegistration, registration_id)
    if registration is None or not may_decide(member, registration):
        raise NotFound(_l("No such request for approval."))
    return registration


def _check_pending(registration: SessionRegistration) -> None:
    if registration.status != PENDING_APPROVAL:
        raise Conflict(_l("This request was already decided."))
    if registration.session.ends_at <= utcnow():
        raise ValidationFailed(_l("This session is over."), fields={"session": _l("Already held.")})


def approve(*, registration: SessionRegistration, by: Membership) -> SessionRegistration:
    """Approve a request: the learner takes a seat, or the waiting list when it is full.

    :raise NotFound: ``by`` may not decide it.
    :raise Conflict: it is not pending any more.
    :raise ValidationFailed: the session is over.
    """
    if not may_decide(by, registration):
        raise NotFound(_l("No such request for approval."))
    _check_pending(registration)
    session = registration.session
    _lock_seats(session)  # noqa: SLF001  (the same lock every seat change takes)
    full = session.capacity is not None and seats_taken(session) >= session.capacity
    registration.status = WAITLISTED if full else REGISTERED
    registration.decided_by_id, registration.decided_at = by.user_id, utcnow()
    db.session.flush()
    return registration


def decline(*, registration: SessionRegistration, by: Membership,
            reason: str) -> SessionRegistration:
    """Decline a request, with the reason the learner will read.

    :raise NotFound: ``by`` may not decide it.
    :raise Conflict: it is not pending any more.
    :raise ValidationFailed: no reason, or one over 500 characters.
    """
    if not may_decide(by, registration):
        raise NotFound(_l("No such request for approval."))
    reason = checked_text(reason, field="reason", max_length=REASON_MAX,
                          too_long=_l("The reason is too long."),
                          required=(_l("Say why the request is declined."), _l("Required.")))
    _check_pending(registration)
    registration.status = DECLINED
    registration.decline_reason = reason
    registration.decided_by_id, registration.decided_at = by.user_id, utcnow()
    db.session.flush()
    return registration


def set_approval_required(*, program: Program, required: bool) -> None:
    """Turn manager approval on or off for a program's future registrations.

    Requests already waiting keep waiting: turning approval off does not approve them.
    """
    if program.approval_required != required:
        program.approval_required = required
        program.updated_at = utcnow()
        db.session.flush()


# --- e-mails (sent after the commit, by the caller) --------------------------------------------


def _when(registration: SessionRegistration) -> str:
    return registration.session.starts_at.astimezone(local_zone()).strftime(
        "%d/%m/%Y %H:%M")


def notify_requested(registration: SessionRegistration) -> bool:
    """E-mail the learner's manager that a request waits for them; False when not sent (no
    manager, or no mail server). Call it after the commit.
    """
    learner = registration.enrollment.membership
    manager = learner.manager
    if manager is None:
        return False
    lang = manager.user.locale or "fr"
    link = absolute_url(f"/o/{learner.organization.slug}/approvals")
    with force_locale(lang):
        return send_mail(
            to=manager.user.email,
            subject=gettext("%(name)s asks to attend a session", name=learner.user.display_name),
            body=gettext("%(name)s asks to attend “%(module)s” on %(when)s. Approve or decline "
                         "the request here: %(link)s", name=learner.user.display_name,
                         module=localized(registration.session.module.title, lang),
                         when=_when(registration), link=link))


def notify_decided(registration: SessionRegistration) -> bool:
    """E-mail the learner the decision on their request; False when not sent. Call it after the
    commit.
    """
    user = registration.enrollment.membership.user
    lang = user.locale or "fr"
    module = localized(registration.session.module.title, lang)
    with force_locale(lang):
        if registration.status == DECLINED:
            body = gettext("Your request to attend “%(module)s” on %(when)s was declined: "
                           "%(reason)s", module=module, when=_when(registration),
                           reason=registration.decline_reason or "")
        elif registration.status == WAITLISTED:
            body = gettext("Your request to attend “%(module)s” on %(when)s was approved. The "
                           "session is full: you are on the waiting list.", module=module,
                           when=_when(registration))
        else:
            body = gettext("Your request to attend “%(module)s” on %(when)s was approved: you "
                           "have a seat.", module=module, when=_when(registration))
        return send_mail(to=user.email, subject=gettext("Your session request"), body=body)
