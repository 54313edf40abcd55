"""Personal-data erasure (GDPR art. 17): :func:`erase_member` and the plan shown before it.

Why privacy calls each module's tables directly rather than through blinker signals: privacy
sits above every domain module it reaches (``… ← {coaching, advocacy, certificates} ← privacy``),
so a direct call already points the one allowed way. Signals are the tool for the other
direction (a lower module reacting to a higher one's event); here they would only hide, behind
a registry, which module erases what. The per-module steps are listed in one place,
:data:`STEPS`, each a small function over that module's public models, so a new module adds a
step here and a reviewer reads the whole erasure top to bottom.

What goes, what stays (shown on the confirmation page, see :func:`erasure_plan`):

- deleted: questionnaire and quiz answers, hand-in content and screenshot files, the AFEST
  journal, coaching notes and action items, advocacy post URLs (in events and in statements,
  where a post only the person's statements name gets an opaque IRI) and consents, API tokens,
  package launch credentials, State and Agent Profile documents, invitations, login failures,
  the LMS's (LTI) user id for the person;
- pseudonymised and kept, so that every aggregate stays exactly as it was: the membership
  (role, team), enrolments and progress, attendance, skill levels, advocacy metrics, xAPI
  statements (their agents become one ``anonymous-…`` account);
- kept for training law (Code du travail L.6353-1): the certificate's program, dates, hours and
  status, without the holder's name; its PDF is deleted.

Only flushes: the caller commits once (one transaction for the whole erasure).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, bindparam, delete, func, select, update

from lms.accounts import audit, second_factor
from lms.accounts import services as accounts_services
from lms.accounts.models import (
    ApiToken,
    Invitation,
    LoginFailure,
    Membership,
    Nudge,
    Organization,
    Role,
    User,
)
from lms.advocacy.models import (
    AdvocacyConsent,
    AdvocacyDailyFigure,
    AdvocacyEvent,
    AdvocacyPersonMonth,
    AdvocacyPersonTotal,
    AdvocacyTeamPerson,
)
from lms.assessments.models import Attempt, LevelValidation
from lms.certificates.models import Certificate
from lms.certificates.rendering import cache_dir
from lms.coaching.models import ActionItem, FollowUp
from lms.core.errors import Conflict
from lms.core.models import utcnow
from lms.courses.cohorts.models import Enrollment
from lms.courses.elearning.models import QuizAttempt
from lms.courses.exercises.models import AfestEntry, AfestPlan, ExerciseReview, ExerciseSubmission
from lms.courses.exercises.queries import screenshot_file
from lms.courses.sessions.models import SessionRegistration
from lms.courses.surveys.models import SurveyResponse
from lms.courses.volunteers.models import Volunteer
from lms.extensions import db
from lms.lti.models import LtiDeepLink, LtiPlatform, LtiUser
from lms.privacy import statements

ERASED_DOMAIN = "erased.invalid"


@dataclass
class Erasure:
    """The context of one erasure, passed to every step, and what each step did."""

    membership: Membership
    organization: Organization
    user: User
    pseudonym: str
    counts: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def enrollment_ids(self) -> Any:
        """The person's enrolments in the organization (a subquery)."""
        return select(Enrollment.id).where(Enrollment.membership_id == self.membership.id)

    def count(self, name: str, value: int) -> None:
        """Add ``value`` to the count ``name`` of the report."""
        self.counts[name] = self.counts.get(name, 0) + int(value or 0)


def _rows(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _assessments(e: Erasure) -> None:
    # The answers go; the levels they produced stay (team skill maps), under the pseudonym.
    e.count("questionnaire_answers", _rows(db.session.execute(
        update(Attempt).where(Attempt.membership_id == e.membership.id)
        .values(answers={}, declared={}, draft_key=None))))
    db.session.execute(update(LevelValidation).where(
        LevelValidation.membership_id == e.membership.id).values(note=None))


def _courses(e: Erasure) -> None:
    e.count("quiz_answers", _rows(db.session.execute(
        update(QuizAttempt).where(QuizAttempt.enrollment_id.in_(e.enrollment_ids))
        .values(answers={}))))
    db.session.execute(update(SessionRegistration).where(
        SessionRegistration.enrollment_id.in_(e.enrollment_ids)).values(decline_reason=None))
    # Answers to a named survey are the person's; anonymous ones were never tied to them.
    db.session.execute(delete(SurveyResponse).where(
        SurveyResponse.membership_id == e.membership.id))
    submissions = db.session.scalars(select(ExerciseSubmission).where(
        ExerciseSubmission.enrollment_id.in_(e.enrollment_ids))).all()
    clear_hand_ins(submissions, e.files)
    e.count("hand_ins", len(submissions))
    plans = select(AfestPlan.id).where(AfestPlan.enrollment_id.in_(e.enrollment_ids))
    e.count("journal_entries", _rows(db.session.execute(
        delete(AfestEntry).where(AfestEntry.plan_id.in_(plans)))))
    db.session.execute(update(AfestPlan).where(AfestPlan.enrollment_id.in_(e.enrollment_ids))
                       .values(analysis=""))


def clear_hand_ins(submissions: Sequence[ExerciseSubmission], files: list[Path]) -> None:
    """Delete what was handed in (URL, screenshot, reflection, verification, the review's
    comment and rubric), keeping each submission's status; screenshot files to remove after
    the commit are added to ``files``.

    The status row stays: review counts and module completion rest on it.
    """
    for submission in submissions:
        path = screenshot_file(submission)
        if path is not None:
            files.append(path)
        submission.post_url = None
        submission.screenshot_path = None
        submission.screenshot_type = None
        submission.reflection = None
        submission.verification = None
    if submissions:
        db.session.execute(update(ExerciseReview).where(
            ExerciseReview.submission_id.in_([s.id for s in submissions]))
            .values(comment="", rubric={}))
    db.session.flush()


def _coaching(e: Erasure) -> None:
    followups = select(FollowUp.id).where(FollowUp.enrollment_id.in_(e.enrollment_ids))
    e.count("action_items", _rows(db.session.execute(
        delete(ActionItem).where(ActionItem.followup_id.in_(followups)))))
    e.count("coaching_notes", _rows(db.session.execute(
        update(FollowUp).where(FollowUp.enrollment_id.in_(e.enrollment_ids),
                               FollowUp.notes.is_not(None)).values(notes=None))))


def _advocacy(e: Erasure) -> None:
    org_id = e.organization.id
    # The metrics stay (campaign and dashboard totals); the link to the person's post, its text
    # and the platform's ids go. The idempotency key is derived from those, so it is replaced too.
    events = db.session.execute(select(AdvocacyEvent.id).where(
        AdvocacyEvent.organization_id == org_id, AdvocacyEvent.user_id == e.user.id)).all()
    if events:
        table = cast(Table, AdvocacyEvent.__table__)
        db.session.connection().execute(
            update(table).where(table.c.id == bindparam("b_id"))
            .values(url=None, external_id=None, text=None, idem_key=bindparam("b_key")),
            [{"b_id": event_id,
              "b_key": hashlib.sha256(f"{e.pseudonym}:{event_id}".encode()).hexdigest()}
             for (event_id,) in events])
    e.count("advocacy_events", len(events))
    e.count("consents", _rows(db.session.execute(delete(AdvocacyConsent).where(
        AdvocacyConsent.organization_id == org_id, AdvocacyConsent.user_id == e.user.id))))


def _certificates(e: Erasure) -> None:
    certificates = db.session.scalars(select(Certificate).where(
        Certificate.organization_id == e.organization.id,
        Certificate.user_id == e.user.id)).all()
    for certificate in certificates:
        if certificate.pdf_key:
            e.files.append(cache_dir() / f"{certificate.pdf_key}.pdf")
        # What training law asks to keep (program, dates, hours, status), not who held it
        # nor their assessed levels.
        snapshot = dict(certificate.snapshot)
        snapshot["learner"] = {"name": "", "erased": True}
        if isinstance(snapshot.get("evaluation"), dict):
            snapshot["evaluation"] = {**snapshot["evaluation"], "levels": {}}
        certificate.snapshot = snapshot
        certificate.reason = None if certificate.reason is None else ""
    e.count("certificates_kept", len(certificates))


def _lrs(e: Erasure) -> None:
    org_id = e.organization.id
    e.count("launch_credentials", statements.delete_launch_credentials(
        organization_id=org_id, user=e.user))
    e.count("lrs_documents", statements.delete_documents(organization_id=org_id, user=e.user))
    e.count("statements_pseudonymised", statements.pseudonymise_statements(
        organization_id=org_id, user=e.user, name=e.pseudonym))
    e.count("post_urls_removed", statements.pseudonymise_post_urls(
        organization_id=org_id, name=e.pseudonym))


def _exports(e: Erasure) -> None:
    # Earlier personal-data exports of the person are their data too: their ZIPs go.
    from lms.jobs import services as jobs
    from lms.privacy.jobs import export_jobs_about

    for job in export_jobs_about(e.user):
        path = jobs.result_file(job)
        if path is not None:
            e.files.append(path)
            e.count("exports", 1)
        job.result_path = None


def _lti(e: Erasure) -> None:
    # The LMS's id for the person would tie their next launch to the pseudonymous account:
    # it goes (with the links they launched and pending choices), so a later launch starts
    # afresh.
    platforms = select(LtiPlatform.id).where(LtiPlatform.organization_id == e.organization.id)
    for model in (LtiUser, LtiDeepLink):
        db.session.execute(delete(model).where(model.platform_id.in_(platforms),
                                               model.user_id == e.user.id))


def _team(e: Erasure) -> None:
    # Nudges are words between two people: those the person received or sent go; so do the
    # notes they wrote when volunteering (the decisions stay, for the cohort's history).
    e.count("nudges", _rows(db.session.execute(delete(Nudge).where(
        (Nudge.recipient_id == e.membership.id) | (Nudge.sender_id == e.membership.id)))))
    db.session.execute(update(Volunteer).where(Volunteer.membership_id == e.membership.id)
                       .values(note=""))


# In dependency order; each step reads only what the steps before it left.
STEPS: list[Callable[[Erasure], None]] = [_lrs, _assessments, _courses, _team, _coaching,
                                          _advocacy, _certificates, _lti, _exports]

# Columns that point at a person, scoped to an organization: re-pointed to the pseudonymous
# account when the person stays a member elsewhere (see :func:`erase_member`).
_ORG_USER_COLUMNS: list[tuple[Any, Any]] = [
    (Attempt.user_id, Attempt.organization_id),
    (AdvocacyEvent.user_id, AdvocacyEvent.organization_id),
    # Their daily figures follow their events (lms.advocacy.figures).
    (AdvocacyDailyFigure.user_id, AdvocacyDailyFigure.organization_id),
    (AdvocacyPersonMonth.user_id, AdvocacyPersonMonth.organization_id),
    (AdvocacyPersonTotal.user_id, AdvocacyPersonTotal.organization_id),
    # The team their figures are summed into moves with them (their membership does too).
    (AdvocacyTeamPerson.user_id, AdvocacyTeamPerson.organization_id),
    (Certificate.user_id, Certificate.organization_id),
    (Certificate.issued_by_id, Certificate.organization_id),
    (Certificate.revoked_by_id, Certificate.organization_id),
    (LevelValidation.validated_by_id, LevelValidation.organization_id),
]


def other_memberships(user: User, organization: Organization) -> int:
    """How many organizations other than ``organization`` the person belongs to."""
    return db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.user_id == user.id, Membership.organization_id != organization.id)) or 0


@dataclass
class Plan:
    """What an erasure will delete and keep, for the confirmation page and the API."""

    deleted: dict[str, int]
    kept: dict[str, int]
    other_organizations: int


def erasure_plan(membership: Membership) -> Plan:
    """Count what :func:`erase_member` would delete and keep (nothing is changed)."""
    org_id = membership.organization_id
    user_id = membership.user_id
    enrollments = select(Enrollment.id).where(Enrollment.membership_id == membership.id)

    def count(model: Any, *where: Any) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    plans = select(AfestPlan.id).where(AfestPlan.enrollment_id.in_(enrollments))
    followups = select(FollowUp.id).where(FollowUp.enrollment_id.in_(enrollments))
    deleted = {
        "questionnaire_answers": count(Attempt, Attempt.membership_id == membership.id),
        "quiz_answers": count(QuizAttempt, QuizAttempt.enrollment_id.in_(enrollments)),
        "hand_ins": count(ExerciseSubmission,
                          ExerciseSubmission.enrollment_id.in_(enrollments)),
        "journal_entries": count(AfestEntry, AfestEntry.plan_id.in_(plans)),
        "coaching_notes": count(FollowUp, FollowUp.enrollment_id.in_(enrollments),
                                FollowUp.notes.is_not(None)),
        "action_items": count(ActionItem, ActionItem.followup_id.in_(followups)),
        "consents": count(AdvocacyConsent, AdvocacyConsent.organization_id == org_id,
                          AdvocacyConsent.user_id == user_id),
        "api_tokens": count(ApiToken, ApiToken.user_id == user_id),
    }
    kept = {
        "enrollments": count(Enrollment, Enrollment.membership_id == membership.id),
        "advocacy_events": count(AdvocacyEvent, AdvocacyEvent.organization_id == org_id,
                                 AdvocacyEvent.user_id == user_id),
        "certificates_kept": count(Certificate, Certificate.organization_id == org_id,
                                   Certificate.user_id == user_id),
    }
    return Plan(deleted=deleted, kept=kept,
                other_organizations=other_memberships(membership.user, membership.organization))


def _check_not_last_admin(membership: Membership) -> None:
    if membership.role != Role.ADMIN:
        return
    admins = db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.organization_id == membership.organization_id,
        Membership.role == Role.ADMIN)) or 0
    if admins <= 1:
        raise Conflict(_l("An organization needs at least one administrator: make someone else "
                          "admin first."), fields={"role": _l("The last administrator.")})


@dataclass
class Erased:
    """The result of :func:`erase_member`: counts by kind, the pseudonym, files to remove."""

    pseudonym: str
    counts: dict[str, int]
    files: list[Path]


def erase_member(*, membership: Membership, by: User | None, address: str | None = None
                 ) -> Erased:
    """Erase a person from one organization (GDPR art. 17); see the module's docstring.

    The person's login is refused and their sessions end: when they belong to no other
    organization their account itself is emptied and deactivated (Flask-Login then refuses
    the saved session); otherwise the membership and this organization's records move to a
    new deactivated pseudonymous account, and their own account loses this organization.
    Files (screenshots, certificate PDFs) are listed in the result for :func:`remove_files`
    after the commit, so that a rollback loses none.

    :param by: who erases (written to the audit log), None from the command line.
    :param address: their IP address, for the audit log.
    :raise Conflict: the person is the organization's last administrator.
    :return: what was deleted or pseudonymised, by kind, and the files to remove.
    """
    _check_not_last_admin(membership)
    organization = membership.organization
    user = membership.user
    name = statements.pseudonym(organization_id=organization.id, user_id=user.id)
    erasure = Erasure(membership=membership, organization=organization, user=user,
                      pseudonym=name)
    for step in STEPS:
        step(erasure)

    if other_memberships(user, organization):
        # The person stays elsewhere: this organization's records move to a pseudonymous
        # account that cannot log in; their own account keeps only their other memberships.
        holder = User(email=f"{name}@{ERASED_DOMAIN}", display_name=name, active=False)
        db.session.add(holder)
        db.session.flush()
        for column, org_column in _ORG_USER_COLUMNS:
            db.session.execute(update(column.class_).where(
                column == user.id, org_column == organization.id).values(
                {column.key: holder.id}))
        membership.user_id = holder.id
    else:
        holder = user
    # Tokens are personal and unscoped: all of them go (the API refuses them at once).
    erasure.count("api_tokens", _rows(db.session.execute(
        delete(ApiToken).where(ApiToken.user_id == user.id))))
    db.session.execute(delete(Invitation).where(Invitation.organization_id == organization.id,
                                                Invitation.email == user.email))
    if holder is user:
        db.session.execute(delete(LoginFailure).where(LoginFailure.email.in_(
            [user.email, (accounts_services.RESET_PREFIX + user.email)[:254]])))
        # The authenticator secret and recovery codes go with the account's login.
        second_factor.remove(user)
        user.email = f"{name}@{ERASED_DOMAIN}"
        user.display_name = name
        user.password_hash = None
        user.locale = None
        user.active = False
    # A revoked consent keeps the pseudonym off the leaderboard, as the person is gone.
    db.session.add(AdvocacyConsent(organization_id=organization.id, user_id=holder.id,
                                   opted_in_at=utcnow(), revoked_at=utcnow(),
                                   leaderboard_opt_out=True))
    audit.record(action="personal_data.erase", actor=by, organization=organization,
                 target=f"membership:{membership.id}", address=address,
                 details={"pseudonym": name, **erasure.counts})
    db.session.flush()
    return Erased(pseudonym=name, counts=erasure.counts, files=erasure.files)


def remove_files(files: list[Path]) -> int:
    """Delete the files of a committed erasure; returns how many existed."""
    removed = 0
    for path in files:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
