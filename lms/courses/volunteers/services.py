"""Calls for volunteers, writes: a trainer opens or edits a cohort's call, people volunteer
while it is open, the trainer accepts (enrolling them through the cohorts' one enrolment path)
or declines.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms.accounts.models import Membership, Role
from lms.core.errors import Conflict, ValidationFailed, checked_text
from lms.core.models import utcnow
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.cohorts.services import enrol
from lms.courses.sessions.services import local_zone
from lms.courses.volunteers import statements as xs
from lms.courses.volunteers.models import ACCEPTED, DECLINED, WAITING, Volunteer, VolunteerCall
from lms.extensions import db
from lms.xapi.record import record

TEXT_MAX = 4000
NOTE_MAX = 1000
SEATS_MAX = 1000


def today() -> date:
    """Today in the organization's time zone (a call is open through its deadline's day)."""
    return utcnow().astimezone(local_zone()).date()


def is_open(call: VolunteerCall) -> bool:
    """Whether people may still volunteer: before or on the deadline, and seats left."""
    return call.deadline >= today() and accepted_count(call) < call.seats


def accepted_count(call: VolunteerCall) -> int:
    """How many volunteers the trainer accepted."""
    return db.session.scalar(select(func.count(Volunteer.id)).where(
        Volunteer.call_id == call.id, Volunteer.status == ACCEPTED)) or 0


def save_call(*, cohort: Cohort, text: str, criteria: str, deadline: date | None,
              seats: int | None, by: Membership) -> VolunteerCall:
    """Open the cohort's call for volunteers, or edit it (one call per cohort).

    :raise ValidationFailed: an empty or over-long text, no deadline or one in the past, seats
        not between 1 and 1,000 or fewer than the volunteers already accepted.
    """
    call = db.session.scalar(select(VolunteerCall).where(VolunteerCall.cohort_id == cohort.id))
    errors = {}
    text = (text or "").strip()
    criteria = (criteria or "").strip()
    if not text:
        errors["text"] = _l("Say what the pilot group is about.")
    elif len(text) > TEXT_MAX:
        errors["text"] = _l("At most %(num)d characters.", num=TEXT_MAX)
    if len(criteria) > TEXT_MAX:
        errors["criteria"] = _l("At most %(num)d characters.", num=TEXT_MAX)
    if deadline is None:
        errors["deadline"] = _l("Give a deadline.")
    elif deadline < today() and (call is None or deadline != call.deadline):
        errors["deadline"] = _l("The deadline is in the past.")
    if seats is None or not 1 <= seats <= SEATS_MAX:
        errors["seats"] = _l("Between 1 and %(num)d seats.", num=SEATS_MAX)
    elif call is not None and seats < accepted_count(call):
        errors["seats"] = _l("%(num)d volunteers are accepted already.",
                             num=accepted_count(call))
    if errors:
        raise ValidationFailed(_l("The call for volunteers cannot be saved."), fields=errors)
    assert deadline is not None and seats is not None
    if call is None:
        call = VolunteerCall(organization_id=cohort.organization_id, cohort_id=cohort.id,
                             created_by_id=by.id, text=text, criteria=criteria,
                             deadline=deadline, seats=seats)
        db.session.add(call)
    else:
        call.text, call.criteria, call.deadline, call.seats = text, criteria, deadline, seats
    db.session.flush()
    return call


def volunteer(*, call: VolunteerCall, membership: Membership, note: str = "") -> Volunteer:
    """Volunteer for a call (records "volunteered").

    :raise ValidationFailed: not a learner of the organization, or an over-long note.
    :raise Conflict: the call is closed, the person volunteered already or is in the cohort.
    """
    if membership.organization_id != call.organization_id or membership.role != Role.LEARNER:
        raise ValidationFailed(_l("Only the organization's learners can volunteer."),
                               fields={"membership": _l("not a learner here")})
    note = checked_text(note, field="note", max_length=NOTE_MAX,
                        too_long=_l("The note is too long."))
    if not is_open(call):
        raise Conflict(_l("This call for volunteers is closed."))
    if db.session.scalar(select(Volunteer.id).where(Volunteer.call_id == call.id,
                                                   Volunteer.membership_id == membership.id)):
        raise Conflict(_l("You have already volunteered."))
    if db.session.scalar(select(Enrollment.id).where(
            Enrollment.cohort_id == call.cohort_id, Enrollment.membership_id == membership.id,
            Enrollment.status != WITHDRAWN)):
        raise Conflict(_l("You are already in this cohort."))
    row = Volunteer(organization_id=call.organization_id, call=call, membership=membership,
                    note=note)
    db.session.add(row)
    db.session.flush()
    record([xs.volunteered(row)], organization_id=call.organization_id)
    return row


def _check_waiting(row: Volunteer) -> None:
    if row.status != WAITING:
        raise Conflict(_l("This volunteer was already answered."))


def accept(*, volunteer: Volunteer, by: Membership) -> Enrollment:
    """Accept a volunteer into the call's cohort: enrols them (records "registered") and
    records "accepted".

    :raise Conflict: already answered, or every seat is taken.
    """
    _check_waiting(volunteer)
    call = volunteer.call
    # Locking the call's row (PostgreSQL) makes two trainers accepting at once wait for each
    # other, so the seats are never exceeded.
    db.session.execute(select(VolunteerCall.id).where(VolunteerCall.id == call.id)
                       .with_for_update())
    if accepted_count(call) >= call.seats:
        raise Conflict(_l("Every seat of the pilot group is taken."),
                       fields={"seats": _l("no seat left")})
    enrollment = enrol(cohort=call.cohort, membership=volunteer.membership)
    volunteer.status, volunteer.decided_at, volunteer.decided_by_id = ACCEPTED, utcnow(), by.id
    db.session.flush()
    record([xs.accepted(volunteer, by, enrollment)], organization_id=call.organization_id)
    return enrollment


def decline(*, volunteer: Volunteer, by: Membership) -> None:
    """Decline a volunteer (they stay free to join a later wave).

    :raise Conflict: already answered.
    """
    _check_waiting(volunteer)
    volunteer.status, volunteer.decided_at, volunteer.decided_by_id = DECLINED, utcnow(), by.id
    db.session.flush()
