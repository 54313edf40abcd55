"""Cohorts, writes: opening a cohort, enrolling learners (one, a team, a CSV file), withdrawing."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import Membership, Role, User
from lms.core.errors import Conflict, ValidationFailed, joined
from lms.core.models import utcnow
from lms.courses import statements as xs
from lms.courses.cohorts.models import ACTIVE, WITHDRAWN, Cohort, CohortTrainer, Enrollment
from lms.courses.programs.models import Program
from lms.courses.sessions.models import SessionRegistration
from lms.courses.sessions.services import cancel_registration
from lms.extensions import db
from lms.xapi.record import record

# --- cohorts and enrolments -----------------------------------------------------------------


def create_cohort(*, program: Program, name: str, starts_on: date | None = None,
                  ends_on: date | None = None, pilot: bool = False,
                  trainers: Iterable[Membership] = ()) -> Cohort:
    """Open a cohort of an organization's program.

    :raise ValidationFailed: empty name, end before start, a trainer who is not staff there.
    """
    errors = {}
    if not (name or "").strip():
        errors["name"] = _l("Give the cohort a name.")
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _l("The end date is before the start date.")
    trainers = list(trainers)
    if any(t.organization_id != program.organization_id
           or t.role not in (Role.TRAINER, Role.ADMIN) for t in trainers):
        errors["trainers"] = _l("Trainers must be trainers or admins of this organization.")
    if program.organization_id is None:
        errors["program"] = _l("Copy the catalogue program into the organization first.")
    if errors:
        raise ValidationFailed(_l("The cohort cannot be created."), fields=errors)
    cohort = Cohort(organization_id=program.organization_id, program=program, name=name.strip(),
                    starts_on=starts_on, ends_on=ends_on, pilot=pilot)
    db.session.add(cohort)
    db.session.flush()
    for trainer in trainers:
        db.session.add(CohortTrainer(cohort_id=cohort.id, membership_id=trainer.id))
    db.session.flush()
    return cohort


def enrol(*, cohort: Cohort, membership: Membership) -> Enrollment:
    """Enrol a learner; records "registered". Re-enrolling a withdrawn learner reactivates them.

    :raise ValidationFailed: the person is not a learner of the cohort's organization.
    :raise Conflict: already enrolled.
    """
    if membership.organization_id != cohort.organization_id:
        raise ValidationFailed(_l("This person is not a member of the organization."),
                               fields={"membership": _l("Not a member of this organization.")})
    if membership.role != Role.LEARNER:
        raise ValidationFailed(_l("Only learners can be enrolled."),
                               fields={"membership": _l("Only learners can be enrolled.")})
    existing = db.session.scalar(select(Enrollment).where(
        Enrollment.cohort_id == cohort.id, Enrollment.membership_id == membership.id))
    if existing is not None:
        if existing.status != WITHDRAWN:
            raise Conflict(_l("%(name)s is already enrolled in this cohort.",
                              name=membership.user.display_name))
        existing.status, existing.withdrawn_at = ACTIVE, None
        enrollment = existing
    else:
        enrollment = Enrollment(organization_id=cohort.organization_id, cohort=cohort,
                                membership=membership, status=ACTIVE)
        db.session.add(enrollment)
    db.session.flush()
    record([xs.registered(enrollment)], organization_id=cohort.organization_id)
    return enrollment


def enrol_team(*, cohort: Cohort, team: str) -> list[Enrollment]:
    """Enrol every learner of a team who is not enrolled yet.

    :raise ValidationFailed: no learner in this team.
    """
    members = list(db.session.scalars(select(Membership).where(
        Membership.organization_id == cohort.organization_id, Membership.role == Role.LEARNER,
        Membership.team == team)))
    if not members:
        raise ValidationFailed(_l("No learner in this team."),
                               fields={"team": _l("No learner here.")})
    enrolled = {e.membership_id for e in cohort.enrollments if e.status != WITHDRAWN}
    return [enrol(cohort=cohort, membership=m) for m in members if m.id not in enrolled]


def enrol_csv(*, cohort: Cohort, text: str) -> list[Enrollment]:
    """Enrol learners listed by e-mail in a CSV (a header ``email``; other columns ignored).

    All or nothing: any bad row rejects the file and nothing is written.

    :raise ValidationFailed: ``fields["file"]`` lists "line N: problem" for every bad row.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        raise ValidationFailed(_l("The file needs an \"email\" column."),
                               fields={"file": _l("line 1: no \"email\" column in the header")})
    column = next(f for f in reader.fieldnames if f.strip().lower() == "email")
    errors, found, seen = [], [], set()
    enrolled = {e.membership_id for e in cohort.enrollments if e.status != WITHDRAWN}
    for row in reader:
        line = reader.line_num
        email = (row.get(column) or "").strip().lower()
        if not email:
            errors.append(_l("line %(line)d: no e-mail address", line=line))
            continue
        if email in seen:
            errors.append(_l("line %(line)d: %(email)s appears twice", line=line, email=email))
            continue
        seen.add(email)
        member = db.session.scalar(select(Membership).join(User).where(
            Membership.organization_id == cohort.organization_id, User.email == email))
        if member is None:
            errors.append(_l("line %(line)d: %(email)s is not a member of the organization",
                              line=line, email=email))
        elif member.role != Role.LEARNER:
            errors.append(_l("line %(line)d: %(email)s is not a learner", line=line, email=email))
        elif member.id in enrolled:
            errors.append(_l("line %(line)d: %(email)s is already enrolled", line=line,
                              email=email))
        else:
            found.append(member)
    if errors:
        raise ValidationFailed(_l("Nothing was enrolled: fix these rows and try again."),
                               fields={"file": joined(errors)})
    if not found:
        raise ValidationFailed(_l("The file lists nobody."), fields={"file": _l("no rows")})
    return [enrol(cohort=cohort, membership=m) for m in found]


@dataclass(frozen=True)
class Enrolled:
    """What :func:`enrol_many` did: the new enrolments, and how many were already enrolled."""

    enrollments: list[Enrollment]
    skipped: int


def split_emails(text: str) -> list[str]:
    """E-mail addresses pasted one per line or separated by commas or semicolons, lowercased,
    in order, each once.
    """
    found = (part.strip().lower() for part in re.split(r"[\s,;]+", text or ""))
    return list(dict.fromkeys(e for e in found if e))


def enrol_many(*, cohort: Cohort, memberships: Iterable[Membership] = (), team: str = "",
               emails: str = "") -> Enrolled:
    """Enrol chosen learners, a whole team and pasted e-mail addresses in one go.

    All or nothing: an unknown address or a non-learner refuses everything. People already
    enrolled are skipped and counted; a withdrawn learner is enrolled again.

    :raise ValidationFailed: nobody chosen, an empty team, or unknown addresses
        (``fields["emails"]`` names them).
    """
    chosen: dict[int, Membership] = {}
    for m in memberships:
        if m.organization_id != cohort.organization_id or m.role != Role.LEARNER:
            raise ValidationFailed(_l("Only learners can be enrolled."),
                                   fields={"membership_ids": _l("Only learners can be enrolled.")})
        chosen[m.id] = m
    if team:
        members = list(db.session.scalars(select(Membership).where(
            Membership.organization_id == cohort.organization_id,
            Membership.role == Role.LEARNER, Membership.team == team)))
        if not members:
            raise ValidationFailed(_l("No learner in this team."),
                                   fields={"team": _l("No learner here.")})
        chosen.update((m.id, m) for m in members)
    addresses = split_emails(emails)
    if addresses:
        by_email = {m.user.email.lower(): m for m in db.session.scalars(
            select(Membership).join(User).where(
                Membership.organization_id == cohort.organization_id,
                Membership.role == Role.LEARNER, User.email.in_(addresses)))}
        unknown = [a for a in addresses if a not in by_email]
        if unknown:
            raise ValidationFailed(
                _l("Nothing was enrolled: some addresses are not learners of the organization."),
                fields={"emails": _l("Not learners of the organization: %(emails)s",
                                     emails=", ".join(unknown))})
        chosen.update((m.id, m) for m in by_email.values())
    if not chosen:
        raise ValidationFailed(_l("Choose learners, a team or paste e-mail addresses."),
                               fields={"membership_ids": _l("Choose at least one learner.")})
    enrolled = {e.membership_id for e in cohort.enrollments if e.status != WITHDRAWN}
    done = [enrol(cohort=cohort, membership=m) for m in chosen.values() if m.id not in enrolled]
    return Enrolled(enrollments=done, skipped=len(chosen) - len(done))


def withdraw(*, enrollment: Enrollment) -> None:
    """Withdraw a learner: they keep their history; their session seats go to the waiting list.

    :raise Conflict: already withdrawn.
    """
    if enrollment.status == WITHDRAWN:
        raise Conflict(_l("This learner is already withdrawn."))
    enrollment.status, enrollment.withdrawn_at = WITHDRAWN, utcnow()
    for registration in list(db.session.scalars(select(SessionRegistration).where(
            SessionRegistration.enrollment_id == enrollment.id))):
        if registration.session.starts_at > utcnow():
            cancel_registration(registration=registration)
    db.session.flush()
