"""Personal-data export (GDPR art. 15 and 20): one ZIP with a JSON file per kind of data, the
person's xAPI statements as JSON Lines, their hand-in screenshots and certificate PDFs, and an
``index.html`` a person can read, in their language.

Like erasure, the export reads each lower module's tables directly (privacy sits above them).
"""

from __future__ import annotations

import enum
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import inspect, select

from lms.accounts.models import Membership, Nudge, Organization, User
from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent
from lms.assessments.models import Attempt, LevelValidation, SkillLevel
from lms.certificates.models import Certificate
from lms.certificates.rendering import pdf_bytes
from lms.charter import queries as charter_queries
from lms.coaching.models import ActionItem, FollowUp
from lms.core.models import utcnow
from lms.courses.cohorts.models import Enrollment, ModuleProgress
from lms.courses.elearning.models import LessonView, QuizAttempt
from lms.courses.exercises.models import AfestEntry, AfestPlan, ExerciseReview, ExerciseSubmission
from lms.courses.exercises.queries import screenshot_file
from lms.courses.sessions.models import Attendance, SessionRegistration
from lms.courses.surveys.models import SurveyInvitation, SurveyResponse
from lms.courses.volunteers.models import Volunteer
from lms.extensions import db
from lms.notifications.models import DigestPreference
from lms.privacy.labels import EXPORT_LABELS
from lms.privacy.statements import agent_hashes, person_keys
from lms.xapi.models import Statement, StatementIndex

Progress = Callable[[int, int], None]

# Never exported: they are secrets or only the means of checking one.
_SECRET_COLUMNS = {"password_hash", "token_hash", "secret_hash", "draft_key", "idem_key"}

# File name → the kind of data it holds (the index lists them in this order).
KINDS = ("account", "charter", "skill_attempts", "enrollments", "attendance", "hand_ins",
         "journal", "coaching", "advocacy", "certificates", "statements")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def as_dict(row: Any) -> dict[str, Any]:
    """A model instance's columns as JSON-ready values (secrets left out)."""
    return {attr.key: _plain(getattr(row, attr.key))
            for attr in inspect(row).mapper.column_attrs if attr.key not in _SECRET_COLUMNS}


def _all(stmt: Any) -> list[dict[str, Any]]:
    return [as_dict(row) for row in db.session.scalars(stmt)]


def _memberships(user: User, organization: Organization | None) -> list[Membership]:
    stmt = select(Membership).where(Membership.user_id == user.id)
    if organization is not None:
        stmt = stmt.where(Membership.organization_id == organization.id)
    return list(db.session.scalars(stmt.order_by(Membership.id)))


def collect(user: User, organization: Organization | None = None,
            progress: Progress | None = None
            ) -> tuple[dict[str, Any], dict[str, bytes], list[str]]:
    """Gather what Relais holds about ``user`` (in ``organization``, or in all of theirs).

    :param progress: called with ``(kinds done, kinds in all)`` as each kind is gathered.
    :return: JSON documents by kind, attached files by path, statements as JSON lines.
    """
    step = progress or (lambda _done, _total: None)
    memberships = _memberships(user, organization)
    member_ids = [m.id for m in memberships]
    org_ids = [m.organization_id for m in memberships]
    enrollments = select(Enrollment.id).where(Enrollment.membership_id.in_(member_ids))
    files: dict[str, bytes] = {}
    data: dict[str, Any] = {}
    data["account"] = {
        "user": as_dict(user),
        "memberships": [{**as_dict(m), "organization": m.organization.name} for m in memberships],
        # What their manager or their team's champion wrote to them.
        "nudges_received": _all(select(Nudge).where(Nudge.recipient_id.in_(member_ids))),
    }
    step(1, len(KINDS))
    pref = db.session.get(DigestPreference, user.id)
    data["charter"] = {
        "acceptances": [{**as_dict(a), "version": a.version.number}
                        for a in charter_queries.acceptances_of(member_ids)],
        "digest_preference": as_dict(pref) if pref is not None else None,
    }
    data["skill_attempts"] = {
        "attempts": _all(select(Attempt).where(Attempt.membership_id.in_(member_ids))),
        "levels": _all(select(SkillLevel).where(SkillLevel.membership_id.in_(member_ids))),
        "validations": _all(select(LevelValidation).where(
            LevelValidation.membership_id.in_(member_ids))),
    }
    data["enrollments"] = {
        "enrollments": _all(select(Enrollment).where(Enrollment.membership_id.in_(member_ids))),
        "module_progress": _all(select(ModuleProgress).where(
            ModuleProgress.enrollment_id.in_(enrollments))),
        "lessons_viewed": _all(select(LessonView).where(
            LessonView.enrollment_id.in_(enrollments))),
        "quiz_attempts": _all(select(QuizAttempt).where(
            QuizAttempt.enrollment_id.in_(enrollments))),
        "volunteering": _all(select(Volunteer).where(Volunteer.membership_id.in_(member_ids))),
        # Answers to anonymous surveys are kept without the person: only the invitations (and
        # the answers to named surveys) are theirs.
        "survey_invitations": _all(select(SurveyInvitation).where(
            SurveyInvitation.membership_id.in_(member_ids))),
        "survey_answers": _all(select(SurveyResponse).where(
            SurveyResponse.membership_id.in_(member_ids))),
    }
    step(3, len(KINDS))
    data["attendance"] = {
        "attendance": _all(select(Attendance).where(Attendance.enrollment_id.in_(enrollments))),
        "session_registrations": _all(select(SessionRegistration).where(
            SessionRegistration.enrollment_id.in_(enrollments))),
    }
    submissions = list(db.session.scalars(select(ExerciseSubmission).where(
        ExerciseSubmission.enrollment_id.in_(enrollments)).order_by(ExerciseSubmission.id)))
    for submission in submissions:
        path = screenshot_file(submission)
        if path is not None and path.is_file():
            files[f"hand_ins/{submission.id}-{path.name}"] = path.read_bytes()
    data["hand_ins"] = {
        "hand_ins": [as_dict(s) for s in submissions],
        "reviews": _all(select(ExerciseReview).where(
            ExerciseReview.submission_id.in_([s.id for s in submissions]))),
    }
    plans = select(AfestPlan.id).where(AfestPlan.enrollment_id.in_(enrollments))
    data["journal"] = {
        "plans": _all(select(AfestPlan).where(AfestPlan.enrollment_id.in_(enrollments))),
        "entries": _all(select(AfestEntry).where(AfestEntry.plan_id.in_(plans))),
    }
    followups = select(FollowUp.id).where(FollowUp.enrollment_id.in_(enrollments))
    data["coaching"] = {
        "followups": _all(select(FollowUp).where(FollowUp.enrollment_id.in_(enrollments))),
        "action_items": _all(select(ActionItem).where(ActionItem.followup_id.in_(followups))),
    }
    step(7, len(KINDS))
    data["advocacy"] = {
        "events": _all(select(AdvocacyEvent).where(AdvocacyEvent.user_id == user.id,
                                                   AdvocacyEvent.organization_id.in_(org_ids))
                       .order_by(AdvocacyEvent.occurred_at)),
        "consents": _all(select(AdvocacyConsent).where(
            AdvocacyConsent.user_id == user.id, AdvocacyConsent.organization_id.in_(org_ids))),
    }
    certificates = list(db.session.scalars(select(Certificate).where(
        Certificate.user_id == user.id, Certificate.organization_id.in_(org_ids))))
    for certificate in certificates:
        files[f"certificates/{certificate.code}.pdf"] = pdf_bytes(certificate)
    data["certificates"] = [as_dict(c) for c in certificates]
    step(9, len(KINDS))
    lines = list(_statement_lines(user, org_ids))
    step(len(KINDS), len(KINDS))
    return data, files, lines


def _statement_lines(user: User, org_ids: Iterable[int]) -> Iterable[str]:
    pks = select(StatementIndex.statement_pk).where(
        StatementIndex.organization_id.in_(list(org_ids)),
        StatementIndex.key_hash.in_(list(agent_hashes(person_keys(user)))))
    yield from db.session.scalars(select(Statement.data).where(Statement.pk.in_(pks))
                                  .order_by(Statement.pk))


def build_zip(user: User, organization: Organization | None = None,
              progress: Progress | None = None) -> bytes:
    """The export as ZIP bytes (see the module docstring).

    :param progress: see :func:`collect`.
    """
    data, files, lines = collect(user, organization, progress)
    counts = {kind: _count(value) for kind, value in data.items()}
    counts["statements"] = len(lines)
    lang = user.locale or "fr"
    with force_locale(lang):
        # The environment's template directly: no request context processors (the command
        # line has no request, and the page needs none of them).
        index = current_app.jinja_env.get_template("privacy/export_index.html").render(
            user=user, counts=counts,
                                kinds=KINDS, files=sorted(files), labels=EXPORT_LABELS,
                                lang=lang, now_date=utcnow().date().isoformat())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", index)
        for kind, value in data.items():
            archive.writestr(f"{kind}.json", json.dumps(value, ensure_ascii=False, indent=2,
                                                        default=str))
        archive.writestr("statements.jsonl", "".join(line + "\n" for line in lines))
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _count(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        return sum(len(v) for v in value.values() if isinstance(v, list)) or len(value)
    return 1
