"""Writes: issue (on completion or by hand), re-issue, revoke; the frozen snapshot.

Functions flush, never commit; each records its xAPI statement in the caller's transaction.
"""

from __future__ import annotations

import base64
import calendar
import secrets
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts import audit
from lms.accounts.models import User
from lms.certificates import definitions, rendering
from lms.certificates import statements as cs
from lms.certificates.models import Certificate, CertificateSettings
from lms.charter import services as charter
from lms.charter.models import CharterAcceptance
from lms.core.errors import Conflict, ValidationFailed
from lms.core.models import utcnow
from lms.courses.cohorts.models import COMPLETED, Cohort, Enrollment, ModuleProgress
from lms.courses.programs.models import KINDS, Program
from lms.extensions import db

DEFAULT_TEMPLATE = "default"

# What the evaluation consisted of, by the module kinds the program has.
_METHOD_PARTS = {
    "questionnaire": ("questionnaire de positionnement avant et après la formation "
                      "(niveaux 1 à 5)",
                      "skill-mapping questionnaire before and after the training (levels 1 to 5)"),
    "elearning": ("quiz des modules en ligne", "quizzes of the online modules"),
    "exercise": ("mises en pratique examinées par le formateur",
                 "on-the-job exercises reviewed by the trainer"),
    "coaching": ("suivi individuel par un coach", "individual follow-up by a coach"),
}


def _levels(enrollment: Enrollment) -> list[dict[str, Any]]:
    """Skill levels per competency: the attempt before the training and the latest one."""
    from lms.assessments.models import SUBMITTED, Attempt

    attempts = list(db.session.scalars(select(Attempt).where(
        Attempt.membership_id == enrollment.membership_id, Attempt.status == SUBMITTED)
        .order_by(Attempt.submitted_at, Attempt.id)))
    if not attempts:
        return []
    started = enrollment.enrolled_at
    before_attempts = [a for a in attempts if a.submitted_at and a.submitted_at <= started]
    before = before_attempts[-1] if before_attempts else attempts[0]
    after = attempts[-1] if attempts[-1] is not before else None
    codes = sorted(set(before.levels or {}) | set((after.levels if after else None) or {}))
    return [{"code": c, "before": (before.levels or {}).get(c),
             "after": ((after.levels or {}).get(c) if after else None)} for c in codes]


def _competency_names(organization_id: int) -> dict[str, dict[str, str]]:
    from lms.assessments.models import Competency
    from lms.assessments.queries import default_framework

    framework = default_framework(organization_id)
    if framework is None:
        return {}
    return {c.code: dict(c.name) for c in db.session.scalars(
        select(Competency).where(Competency.framework_id == framework.id))}


def build_snapshot(enrollment: Enrollment, *, issued_by: User | None) -> dict[str, Any]:
    """Everything the certificate states, frozen now (Code du travail, art. L.6353-1: the
    objectives, nature and duration of the training, and the results of the assessment).
    """
    cohort = enrollment.cohort
    program = cohort.program
    learner = enrollment.membership.user
    done = set(db.session.scalars(select(ModuleProgress.module_id).where(
        ModuleProgress.enrollment_id == enrollment.id, ModuleProgress.state == COMPLETED)))
    modules: list[dict[str, Any]] = []
    by_kind: dict[str, float] = {}
    for module in program.modules:
        if module.id not in done:
            continue
        hours = round((module.duration_minutes or 0) / 60, 2)
        modules.append({"key": module.key, "title": dict(module.title), "kind": module.kind,
                        "hours": hours})
        by_kind[module.kind] = round(by_kind.get(module.kind, 0) + hours, 2)
    by_kind = {k: by_kind[k] for k in KINDS if k in by_kind}
    names = _competency_names(enrollment.cohort.organization_id)
    codes = sorted({c for m in program.modules if m.id in done for c in m.competencies})
    levels = _levels(enrollment)
    parts = (["questionnaire"] if levels else []) + [
        k for k in ("elearning", "exercise", "coaching") if k in by_kind]
    method = {"fr": (", ".join(_METHOD_PARTS[p][0] for p in parts)
                     or "relevé d'assiduité").capitalize() + ".",
              "en": (", ".join(_METHOD_PARTS[p][1] for p in parts)
                     or "attendance record").capitalize() + "."}
    trainers = [m.user.display_name for m in cohort.trainers]
    now = utcnow()
    start = cohort.starts_on.isoformat() if cohort.starts_on else \
        enrollment.enrolled_at.date().isoformat()
    end = (enrollment.completed_at or now).date().isoformat()
    return {
        "learner": {"name": learner.display_name},
        "program": {"title": dict(program.title), "version": program.version},
        "cohort": {"name": cohort.name},
        "dates": {"start": start, "end": end},
        "issued_on": now.date().isoformat(),
        "hours": {"total": round(sum(by_kind.values()), 2), "by_kind": by_kind},
        "modules": modules,
        "objectives": [{"code": c, "name": names.get(c, {"fr": c, "en": c})} for c in codes],
        "evaluation": {"method": method, "levels": levels,
                       "completed": enrollment.status == COMPLETED},
        "issuer": {"organization": enrollment.membership.organization.name,
                   "signatory": issued_by.display_name if issued_by is not None
                   else (trainers[0] if trainers else
                         enrollment.membership.organization.name)},
    }


def _language(user: User, program_language: str) -> str:
    languages = current_app.config["LANGUAGES"]
    if user.locale in languages:
        return str(user.locale)
    return program_language if program_language in languages else "en"


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus ``months`` calendar months (31 January + 1 month = 28/29 February)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def settings_for(program_id: int | None) -> CertificateSettings | None:
    """The program's certificate settings, if it has any."""
    return db.session.get(CertificateSettings, program_id) if program_id is not None else None


def _renewed(enrollment: Enrollment) -> Certificate | None:
    """The certificate a completion renews: the one whose refresher this enrolment is, else
    the learner's latest valid certificate of the same program from another enrolment.
    """
    found = db.session.scalar(select(Certificate).where(
        Certificate.refresher_enrollment_id == enrollment.id)
        .order_by(Certificate.id.desc()).limit(1))
    if found is not None:
        return found
    return db.session.scalar(select(Certificate).where(
        Certificate.user_id == enrollment.membership.user_id,
        Certificate.program_id == enrollment.cohort.program_id,
        Certificate.enrollment_id != enrollment.id, Certificate.revoked_at.is_(None))
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc()).limit(1))


def _create(enrollment: Enrollment, *, issued_by: User | None, reason: str | None,
            replaces: Certificate | None = None) -> Certificate:
    settings = settings_for(enrollment.cohort.program_id)
    if replaces is not None:
        template_key = replaces.template_key  # a correction keeps the look it had
    else:
        template_key = settings.template_key if settings is not None else DEFAULT_TEMPLATE
    template = definitions.load(template_key)
    learner = enrollment.membership.user
    snapshot = build_snapshot(enrollment, issued_by=issued_by)
    code = secrets.token_urlsafe(16)
    now = utcnow()
    if replaces is not None:
        # A correction is not a renewal: the validity stays what it was.
        valid_until, renews_id = replaces.valid_until, replaces.renews_id
        refresher = replaces.refresher_enrollment_id
    else:
        valid_until = add_months(now, settings.validity_months) \
            if settings is not None and settings.validity_months else None
        renews = _renewed(enrollment)
        renews_id, refresher = (renews.id if renews is not None else None), None
    certificate = Certificate(
        organization_id=enrollment.organization_id, enrollment_id=enrollment.id,
        user_id=learner.id, program_id=enrollment.cohort.program_id,
        cohort_id=enrollment.cohort_id, template_key=template.key,
        language=_language(learner, enrollment.cohort.program.language), code=code,
        issued_at=now, issued_by_id=issued_by.id if issued_by else None, reason=reason,
        snapshot=snapshot, replaces=replaces, valid_until=valid_until,
        renews_id=renews_id, refresher_enrollment_id=refresher, pdf_key="")
    certificate.pdf_key = rendering.key_for(certificate, settings)
    db.session.add(certificate)
    db.session.flush()
    _record(certificate, cs.build(certificate, learner, "earned", instructor=issued_by,
                                  reason=reason))
    return certificate


def current_for(enrollment: Enrollment) -> Certificate | None:
    """The enrolment's valid certificate, if any."""
    return db.session.scalar(select(Certificate).where(
        Certificate.enrollment_id == enrollment.id, Certificate.revoked_at.is_(None))
        .order_by(Certificate.id.desc()).limit(1))


def issue_on_completion(enrollment: Enrollment) -> None:
    """Receiver of :data:`lms.courses.signals.enrollment_completed`: issue the certificate of
    a completed enrolment, unless it already holds a valid one (a completion taken back then
    given again).
    """
    if current_for(enrollment) is not None:
        return
    if charter.gates(enrollment.membership, "certificates"):
        # Held back until the learner accepts the charter: :func:`issue_after_charter`.
        return
    try:
        _create(enrollment, issued_by=None, reason=None)
    except definitions.ContentError:
        # A broken template must not reject the statement that completed the program: the
        # completion stands, and a trainer issues the certificate by hand once it is fixed.
        current_app.logger.exception("certificate not issued for enrolment %s", enrollment.id)


def issue_manually(*, enrollment: Enrollment, issued_by: User, reason: str) -> Certificate:
    """Issue a certificate by hand (a trainer's decision), whatever the progress says.

    :raise ValidationFailed: no reason given.
    :raise Conflict: the enrolment already has a valid certificate (re-issue it instead).
    :raise Forbidden: the organization waits for the learner to accept its charter.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Give the reason for issuing by hand."),
                               fields={"reason": _l("required")})
    if current_for(enrollment) is not None:
        raise Conflict(_l("This learner already has a valid certificate for this cohort: "
                       "re-issue it instead."))
    charter.require_accepted(enrollment.membership, "certificates")
    return _create(enrollment, issued_by=issued_by, reason=reason)


def issue_after_charter(acceptance: CharterAcceptance) -> None:
    """Receiver of :data:`lms.charter.signals.charter_accepted`: issue the certificates the
    charter gate held back (completed enrolments of the member without a valid one).
    """
    for enrollment in db.session.scalars(select(Enrollment).where(
            Enrollment.membership_id == acceptance.membership_id,
            Enrollment.status == COMPLETED).order_by(Enrollment.completed_at)):
        issue_on_completion(enrollment)


def revoke(*, certificate: Certificate, revoked_by: User | None, reason: str) -> Certificate:
    """Revoke a certificate: verification then says so, and its PDF is marked.

    :raise ValidationFailed: no reason given.
    :raise Conflict: already revoked.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Give the reason for the revocation."),
                               fields={"reason": _l("required")})
    if certificate.revoked:
        raise Conflict(_l("This certificate is already revoked."))
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = revoked_by.id if revoked_by else None
    certificate.revocation_reason = reason
    certificate.pdf_key = rendering.key_for(certificate)
    db.session.flush()
    # The reason is free text that may name people: the log keeps ids only.
    audit.record(action="certificate.revoke", actor=revoked_by,
                 organization=certificate.organization,
                 target=f"certificate:{certificate.id}")
    if revoked_by is not None:
        _record(certificate, cs.build(certificate, revoked_by, "revoked", reason=reason))
    return certificate


def reissue(*, certificate: Certificate, issued_by: User, reason: str) -> Certificate:
    """Issue a new certificate replacing ``certificate`` (revoked, never re-dated), from the
    enrolment as it is now.

    :raise ValidationFailed: no reason, or the enrolment no longer exists.
    :raise Conflict: the certificate was already replaced or revoked.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Give the reason for the re-issue."),
                               fields={"reason": _l("required")})
    enrollment = db.session.get(Enrollment, certificate.enrollment_id) \
        if certificate.enrollment_id else None
    if enrollment is None:
        raise ValidationFailed(_l("The enrolment of this certificate no longer exists."))
    revoke(certificate=certificate, revoked_by=issued_by, reason=f"Re-issued: {reason}")
    return _create(enrollment, issued_by=issued_by, reason=reason, replaces=certificate)


MAX_LOGO_BYTES = 256 * 1024
_LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def logo_data_uri(data: bytes) -> str:
    """A PNG or JPEG logo as a ``data:`` URI (SVG is refused: it may load other files).

    :raise ValidationFailed: not a PNG or JPEG, or larger than 256 KB.
    """
    kind = next((t for magic, t in _LOGO_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise ValidationFailed(_l("The logo must be a PNG or JPEG image."),
                               fields={"logo": _l("PNG or JPEG expected")})
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationFailed(_l("The logo must be 256 KB at most."),
                               fields={"logo": _l("too large")})
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def update_settings(*, program: Program, template_key: str, validity_months: int | None,
                    renewal_lead_days: int, refresher_cohort: Cohort | None,
                    accent_color: str | None, logo: bytes | None = None,
                    remove_logo: bool = False,
                    apply_to_issued: bool = False) -> CertificateSettings:
    """Set a program's certificate settings.

    :param apply_to_issued: also give the new template to the program's valid certificates
        (their content stays frozen; only the look changes, and their PDFs are re-rendered).
    :raise ValidationFailed: unknown template, a period or lead time out of range, a colour
        that is not ``#RRGGBB``, a refresher cohort of another program, a bad logo.
    """
    errors: dict[str, str] = {}
    try:
        definitions.load(template_key)
    except definitions.ContentError:
        errors["template"] = _l("Unknown template.")
    if validity_months is not None and not 1 <= validity_months <= 120:
        errors["validity_months"] = _l("Between 1 and 120 months.")
    if not 0 <= renewal_lead_days <= 365:
        errors["renewal_lead_days"] = _l("Between 0 and 365 days.")
    if accent_color and not definitions.COLOR.match(accent_color):
        errors["accent_color"] = _l("A colour like #2d5b8a.")
    if refresher_cohort is not None and refresher_cohort.program_id != program.id:
        errors["refresher_cohort"] = _l("Choose a cohort of this program.")
    if errors:
        raise ValidationFailed(_l("The certificate settings cannot be saved."), fields=errors)
    settings = settings_for(program.id)
    if settings is None:
        assert program.organization_id is not None
        settings = CertificateSettings(program_id=program.id,
                                       organization_id=program.organization_id)
        db.session.add(settings)
    settings.template_key = template_key
    settings.validity_months = validity_months
    settings.renewal_lead_days = renewal_lead_days
    settings.refresher_cohort_id = refresher_cohort.id if refresher_cohort else None
    settings.accent_color = accent_color.lower() if accent_color else None
    if logo:
        settings.logo = logo_data_uri(logo)
    elif remove_logo:
        settings.logo = None
    db.session.flush()
    if apply_to_issued:
        for certificate in db.session.scalars(select(Certificate).where(
                Certificate.program_id == program.id, Certificate.revoked_at.is_(None),
                Certificate.template_key != template_key)):
            certificate.template_key = template_key
            certificate.pdf_key = rendering.key_for(certificate, settings)
        db.session.flush()
    return settings


def record_download(*, certificate: Certificate, user: User) -> None:
    """Record that ``user`` downloaded the certificate's PDF."""
    _record(certificate, cs.build(certificate, user, "downloaded"))


def _record(certificate: Certificate, statement: dict[str, Any]) -> None:
    from lms.xapi.record import record

    record([statement], organization_id=certificate.organization_id)
