"""On-the-job exercises: settings, evidence hand-ins, reviews against a rubric, automatic
verification from advocacy activity, and AFEST records — plus the reads the dashboards use.

Writes are keyword-only functions that flush and never commit (one transaction per logical
change, at the edge). Every learning event goes through ``lms.xapi.record.record``: a hand-in,
a review decision, a verification, an AFEST journal entry. An approval or a verification also
records that the learner ``completed`` the module, so the progress projection completes it as
it would for an external package: progress stays derived from statements only.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Membership, User
from lms.accounts.services import find_member
from lms.charter import services as charter
from lms.core import quota
from lms.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lms.core.formatting import lazy_number
from lms.core.models import utcnow
from lms.courses.cohorts.models import WITHDRAWN, Enrollment
from lms.courses.exercises import statements as es
from lms.courses.exercises.models import (
    APPROVED,
    CHANGES_REQUESTED,
    DECISIONS,
    DONE_STATUSES,
    JOURNAL_KINDS,
    RUBRIC_LEVELS,
    SUBMITTED,
    VERIFIED,
    AfestEntry,
    AfestPlan,
    ExerciseReview,
    ExerciseSubmission,
)
from lms.courses.exercises.queries import (
    afest_plan,
    latest_submission,
    may_review,
    screenshot_folder,
    screenshot_limit,
    settings_of,
)
from lms.courses.programs import definitions as defs
from lms.courses.programs.models import Module
from lms.extensions import db
from lms.xapi.record import record

SCREENSHOT_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp",
                    "image/gif": "gif"}
MAX_TEXT = 10_000


def _check_exercise(enrollment: Enrollment, module: Module) -> None:
    if module.kind != "exercise" or module.program_id != enrollment.cohort.program_id:
        raise NotFound(_l("This exercise is not part of the learner's program."))


def _check_active(enrollment: Enrollment) -> None:
    if enrollment.status == WITHDRAWN:
        raise ValidationFailed(_l("This enrolment was withdrawn."),
                               fields={"enrollment": _l("Withdrawn.")})


# --- settings (builder) -------------------------------------------------------------------


def _too_long() -> Any:
    return _l("Keep it under %(count)s characters.", count=lazy_number(MAX_TEXT))


def check_url(value: str) -> Any:
    """Why ``value`` is not a web address a reviewer can open, or None."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace()
                                                                          for c in value):
        return _l("Give the full address of the post, starting with https://.")
    if len(value) > 500:
        return _l("The address is longer than 500 characters.")
    return None


def update_settings(*, module: Module, language: str, instructions: str,
                    evidence: Mapping[str, str], due_days: int | None, afest: bool,
                    rubric: Iterable[tuple[str, str]],
                    verification: Mapping[str, Any] | None) -> None:
    """Edit an exercise's settings from the builder (texts in one language).

    :param evidence: ``{"url"|"screenshot"|"reflection": "required"|"optional"}``; a kind left
        out is not asked for.
    :param rubric: (key or "", label) per criterion, in order; a criterion with an empty label
        is dropped, a new one gets a key from its label.
    :param verification: ``{network, kinds, count, own_comment, within_days}`` or None.
    :raise ValidationFailed: not an exercise module, empty instructions, nothing required,
        due days or numbers out of range, unknown network or kind.
    """
    errors: dict[str, str] = {}
    if module.kind != "exercise":
        raise ValidationFailed(_l("Only exercise modules have exercise settings."),
                               fields={"module": _l("Not an exercise module.")})
    if language not in defs.LANGUAGES:
        errors["language"] = _l("Choose French or English.")
    current = settings_of(module)
    texts = {**current["instructions"], language: instructions.replace("\r\n", "\n").strip()}
    texts = {k: v for k, v in texts.items() if v}
    if module.program.language not in texts:
        errors["instructions"] = _l("Write the instructions (in the program's language at least).")
    needs = {k: v for k, v in evidence.items() if v in defs.EVIDENCE_NEEDS
             and k in defs.EVIDENCE_KINDS}
    if "required" not in needs.values():
        errors["evidence"] = _l("Require at least one piece of evidence.")
    if due_days is not None and not 1 <= due_days <= 365:
        errors["due_days"] = _l("The delay is from 1 to 365 days (empty: no due date).")
    old_labels = {c["key"]: c["label"] for c in current["rubric"]}
    criteria, keys = [], set()
    for key, label in rubric:
        label = label.strip()
        if not label:
            continue
        if key not in old_labels:
            ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore")
            base = re.sub(r"[^a-z0-9]+", "-", ascii_label.decode().lower()).strip("-")[:40] \
                or "criterion"
            key, n = (base if defs.KEY_RE.match(base) else "criterion"), 2
            while key in keys or key in old_labels:
                key, n = f"{base[:36]}-{n}", n + 1
        keys.add(key)
        # A criterion needs a label in the program's language too, or the export would not
        # import: a new one written in the other language starts with the same text there.
        criteria.append({"key": key, "label": {module.program.language: label,
                                               **old_labels.get(key, {}), language: label}})
    if len(criteria) > 12:
        errors["rubric"] = _l("A rubric has at most 12 criteria.")
    check = None
    if verification is not None:
        check = _verification(verification, errors)
    if errors:
        raise ValidationFailed(_l("The exercise settings were not saved."), fields=errors)
    settings: dict[str, Any] = {"instructions": texts,
                                "evidence": {k: needs[k] for k in defs.EVIDENCE_KINDS
                                             if k in needs},
                                "rubric": criteria, "afest": bool(afest)}
    if due_days is not None:
        settings["due_days"] = due_days
    if check is not None:
        settings["verification"] = check
    module.exercise = settings
    module.program.updated_at = utcnow()
    db.session.flush()


def _verification(raw: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any] | None:
    network = raw.get("network")
    kinds = [k for k in raw.get("kinds") or () if k]
    count, within = raw.get("count"), raw.get("within_days")
    if network not in defs.VERIFY_NETWORKS:
        errors["verification"] = _l("Choose the network to watch.")
    elif not kinds or not set(kinds) <= set(defs.VERIFY_KINDS):
        errors["verification"] = _l("Choose the kinds of actions that count.")
    elif not isinstance(count, int) or not 1 <= count <= 100:
        errors["verification"] = _l("The number of actions is from 1 to 100.")
    elif within is not None and (not isinstance(within, int) or not 1 <= within <= 365):
        errors["verification"] = _l("The period is from 1 to 365 days (empty: no limit).")
    else:
        out: dict[str, Any] = {"network": network,
                               "kinds": [k for k in defs.VERIFY_KINDS if k in kinds],
                               "count": count, "own_comment": bool(raw.get("own_comment"))}
        if within is not None:
            out["within_days"] = within
        return out
    return None


# --- hand-ins -----------------------------------------------------------------------------


def _screenshot_type(data: bytes) -> str | None:
    """The image type from the file's first bytes (never trust the name or the browser)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def _store_screenshot(organization_id: int, data: bytes, kind: str) -> str:
    relative = f"{organization_id}/{uuid.uuid4().hex}.{SCREENSHOT_TYPES[kind]}"
    path = screenshot_folder() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return relative


def submit_evidence(*, enrollment: Enrollment, module: Module, post_url: str | None = None,
                    reflection: str | None = None,
                    screenshot: bytes | None = None) -> ExerciseSubmission:
    """Hand in evidence for an exercise; records "submitted".

    :param screenshot: the image's bytes (PNG, JPEG, WebP or GIF; size limited by
        ``EXERCISE_SCREENSHOT_MAX_BYTES``, 5 MB by default).
    :raise NotFound: the module is not an exercise of the learner's program.
    :raise ValidationFailed: withdrawn enrolment; required evidence missing, evidence the
        exercise does not ask for, a bad address, a screenshot too large or not an image, or
        over the organization's disk quota.
    :raise Conflict: a hand-in already awaits review, or the exercise is already approved.
    :raise Forbidden: the organization asks for its charter to be accepted first.
    """
    _check_exercise(enrollment, module)
    _check_active(enrollment)
    # Exercises are done on one's own accounts: the charter says how, first.
    charter.require_accepted(enrollment.membership, "exercises")
    latest = latest_submission(enrollment.id, module.id)
    if latest is not None and latest.status == SUBMITTED:
        raise Conflict(_l("Your evidence is awaiting review: wait for the trainer's answer."))
    if latest is not None and latest.status in DONE_STATUSES:
        raise Conflict(_l("This exercise is already approved."))
    asked = settings_of(module)["evidence"]
    post_url = (post_url or "").strip() or None
    reflection = (reflection or "").replace("\r\n", "\n").strip() or None
    given = {"url": post_url, "reflection": reflection, "screenshot": screenshot or None}
    errors: dict[str, str] = {}
    for name, value in given.items():
        if value is None and asked.get(name) == "required":
            errors[name] = {"url": _l("Give the address of your post."),
                            "reflection": _l("Write a few lines on what you did and learned."),
                            "screenshot": _l("Attach a screenshot.")}[name]
        elif value is not None and name not in asked:
            errors[name] = _l("This exercise does not ask for it.")
    if post_url and "url" not in errors and (problem := check_url(post_url)):
        errors["url"] = problem
    if reflection and len(reflection) > MAX_TEXT:
        errors["reflection"] = _too_long()
    kind = None
    if screenshot and "screenshot" not in errors:
        limit = screenshot_limit()
        kind = _screenshot_type(screenshot)
        if len(screenshot) > limit:
            errors["screenshot"] = _l("The image is larger than %(size)d MB.",
                                       size=limit // (1024 * 1024))
        elif kind is None:
            errors["screenshot"] = _l("The screenshot must be a PNG, JPEG, WebP or GIF image.")
    if errors:
        raise ValidationFailed(_l("The evidence was not handed in."), fields=errors)
    if screenshot and kind:
        quota.check_room(enrollment.organization_id, len(screenshot), field="screenshot")
    submission = ExerciseSubmission(
        organization_id=enrollment.organization_id, enrollment=enrollment, module=module,
        attempt=(latest.attempt + 1) if latest else 1, status=SUBMITTED, post_url=post_url,
        reflection=reflection)
    if screenshot and kind:
        submission.screenshot_path = _store_screenshot(enrollment.organization_id, screenshot,
                                                       kind)
        submission.screenshot_type = kind
    try:
        with db.session.begin_nested():
            db.session.add(submission)
            db.session.flush()
    except IntegrityError as exc:  # the same hand-in sent twice at once
        if submission.screenshot_path:
            (screenshot_folder() / submission.screenshot_path).unlink(missing_ok=True)
        raise Conflict(_l("Your evidence is awaiting review: wait for the trainer's answer.")) \
            from exc
    (submission.statement_id,) = record([es.submitted(submission)],
                                        organization_id=enrollment.organization_id)
    db.session.flush()
    return submission


def review_submission(*, submission: ExerciseSubmission, reviewer: Membership, decision: str,
                      comment: str = "", rubric: Mapping[str, str] | None = None
                      ) -> ExerciseReview:
    """Approve a hand-in or ask for changes, with a comment and a level per rubric criterion.

    Records "reviewed"; an approval also records "completed" on the module, which completes it.

    :param rubric: ``{criterion key: "met" | "partly" | "not_met"}``, every criterion rated.
    :raise Forbidden: the reviewer is not a trainer or admin of the organization.
    :raise ValidationFailed: unknown decision, changes asked without a comment, a criterion
        missing or rated outside the levels.
    :raise Conflict: the hand-in was already reviewed (or verified).
    """
    if not may_review(reviewer, submission):
        raise Forbidden(_l("Only the organization's trainers and admins review exercises."))
    comment = (comment or "").replace("\r\n", "\n").strip()
    levels = dict(rubric or {})
    criteria = [c["key"] for c in settings_of(submission.module)["rubric"]]
    errors: dict[str, str] = {}
    if decision not in DECISIONS:
        errors["decision"] = _l("Approve the evidence or ask for changes.")
    elif decision == CHANGES_REQUESTED and not comment:
        errors["comment"] = _l("Say what to change.")
    if len(comment) > MAX_TEXT:
        errors["comment"] = _too_long()
    for key in criteria:
        if levels.get(key) not in RUBRIC_LEVELS:
            errors[f"rubric-{key}"] = _l("Rate this criterion.")
    for key in set(levels) - set(criteria):
        errors[f"rubric-{key}"] = _l("Not a criterion of this exercise.")
    if errors:
        raise ValidationFailed(_l("The review was not saved."), fields=errors)
    if submission.status != SUBMITTED:
        raise Conflict(_l("This evidence was already reviewed."))
    now = utcnow()
    # Two reviewers at once: only the first changes the status; the other gets a conflict.
    changed = db.session.execute(
        update(ExerciseSubmission).where(ExerciseSubmission.id == submission.id,
                                         ExerciseSubmission.status == SUBMITTED)
        .values(status=decision, decided_at=now).execution_options(synchronize_session=False))
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_l("This evidence was already reviewed."))
    db.session.refresh(submission)
    review = ExerciseReview(submission=submission, reviewer_id=reviewer.id, decision=decision,
                            comment=comment, rubric={k: levels[k] for k in criteria},
                            created_at=now)
    db.session.add(review)
    db.session.flush()
    statements = [es.reviewed(review, reviewer)]
    if decision == APPROVED:
        statements.append(es.module_done(submission, reviewer))
    record(statements, organization_id=submission.organization_id)
    return review


def verify_exercise(enrollment: Enrollment, module: Module, *,
                    evidence: dict[str, Any]) -> ExerciseSubmission:
    """Mark an exercise verified from matching advocacy activity and complete the module.

    Called by the advocacy package when a learner's activity meets the exercise's
    ``verification`` rule. Idempotent: an exercise already approved or verified is returned
    unchanged (no statement recorded again). A hand-in awaiting review or sent back is marked
    verified; without any, a verified record is created (its post URL from ``evidence["url"]``
    when given).

    :param evidence: what matched (event ids, URLs, dates…), kept with the submission and
        in the "confirmed" statement; JSON-serialisable.
    :raise NotFound: the module is not an exercise of the enrolment's program.
    :raise ValidationFailed: the enrolment was withdrawn, or ``evidence`` is not a mapping.
    """
    _check_exercise(enrollment, module)
    _check_active(enrollment)
    if not isinstance(evidence, dict):
        raise ValidationFailed(_l("The evidence must be a mapping."),
                               fields={"evidence": _l("dict")})
    latest = latest_submission(enrollment.id, module.id)
    if latest is not None and latest.status in DONE_STATUSES:
        return latest
    now = utcnow()
    if latest is not None:
        changed = db.session.execute(
            update(ExerciseSubmission).where(ExerciseSubmission.id == latest.id,
                                             ExerciseSubmission.status.not_in(DONE_STATUSES))
            .values(status=VERIFIED, decided_at=now, verification=dict(evidence))
            .execution_options(synchronize_session=False))
        db.session.refresh(latest)
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return latest  # verified or approved meanwhile
        submission = latest
    else:
        url = evidence.get("url")
        submission = ExerciseSubmission(
            organization_id=enrollment.organization_id, enrollment=enrollment, module=module,
            attempt=1, status=VERIFIED, decided_at=now, verification=dict(evidence),
            post_url=url if isinstance(url, str) and not check_url(url) else None)
        try:
            with db.session.begin_nested():
                db.session.add(submission)
                db.session.flush()
        except IntegrityError:  # a hand-in or a verification arrived meanwhile
            again = latest_submission(enrollment.id, module.id)
            if again is None:
                raise
            return verify_exercise(enrollment, module, evidence=evidence)
    record([es.confirmed(submission), es.module_done(submission, None)],
           organization_id=enrollment.organization_id)
    return submission


def _open_plan(enrollment: Enrollment, module: Module) -> AfestPlan:
    _check_exercise(enrollment, module)
    if not settings_of(module).get("afest"):
        raise ValidationFailed(_l("This exercise is not run as AFEST."),
                               fields={"module": _l("Not an AFEST exercise.")})
    plan = afest_plan(enrollment, module)
    if plan is None:
        plan = AfestPlan(organization_id=enrollment.organization_id, enrollment=enrollment,
                         module=module, analysis="")
        db.session.add(plan)
        db.session.flush()
    return plan


def set_tutor(*, enrollment: Enrollment, module: Module, email: str) -> AfestPlan:
    """Name the learner's AFEST tutor for an exercise by their e-mail (any case, spaces around
    it ignored), opening its record; an empty ``email`` removes the tutor. Every caller (the
    record page, the demo) names a tutor this way.

    :raise ValidationFailed: not an AFEST exercise, nobody of the organization with this
        e-mail, a member who no longer has access, or the learner as their own tutor; nothing
        is written then.
    """
    email = email.strip()
    tutor = find_member(organization_id=enrollment.organization_id, email=email) \
        if email else None
    problem = None
    if email and tutor is None:
        problem = _l("%(email)s is not a member of the organization.", email=email)
    elif tutor is not None and not tutor.active:
        problem = _l("%(name)s no longer has access to the organization.",
                     name=tutor.user.display_name)
    elif tutor is not None and tutor.id == enrollment.membership_id:
        problem = _l("A learner cannot be their own tutor.")
    if problem is not None:
        raise ValidationFailed(_l("The tutor was not saved."), fields={"tutor_email": problem})
    plan = _open_plan(enrollment, module)
    plan.tutor_id = tutor.id if tutor is not None else None
    db.session.flush()
    db.session.refresh(plan)
    return plan


def save_analysis(*, enrollment: Enrollment, module: Module, analysis: str) -> AfestPlan:
    """Record the analysis of the work situation (what it teaches, its conditions, its risks).

    :raise ValidationFailed: not an AFEST exercise, or a text over 10,000 characters.
    """
    analysis = (analysis or "").replace("\r\n", "\n").strip()
    if len(analysis) > MAX_TEXT:
        raise ValidationFailed(_l("The analysis was not saved."),
                               fields={"analysis": _too_long()})
    plan = _open_plan(enrollment, module)
    plan.analysis, plan.analysis_updated_at = analysis, utcnow()
    db.session.flush()
    return plan


def add_journal_entry(*, enrollment: Enrollment, module: Module, kind: str, day: date | None,
                      duration_minutes: int | None, notes: str,
                      recorded_by: User) -> AfestEntry:
    """Add a work situation or a reflective phase to the AFEST journal; records "experienced".

    :raise ValidationFailed: not an AFEST exercise, unknown kind, no day or a day to come,
        a duration outside 5 minutes–12 hours, no notes.
    """
    errors = {}
    notes = (notes or "").replace("\r\n", "\n").strip()
    if kind not in JOURNAL_KINDS:
        errors["kind"] = _l("Choose a work situation or a reflective phase.")
    if day is None:
        errors["day"] = _l("Give the date.")
    elif day > utcnow().date() + timedelta(days=1):
        errors["day"] = _l("Record what already happened.")
    if duration_minutes is None or not 5 <= duration_minutes <= 720:
        errors["duration_minutes"] = _l("The duration is from 5 to 720 minutes.")
    if not notes:
        errors["notes"] = _l("Note what was done, observed or learned.")
    elif len(notes) > MAX_TEXT:
        errors["notes"] = _too_long()
    if errors:
        raise ValidationFailed(_l("The journal entry was not saved."), fields=errors)
    _check_active(enrollment)
    plan = _open_plan(enrollment, module)
    assert day is not None and duration_minutes is not None
    entry = AfestEntry(plan=plan, kind=kind, day=day, duration_minutes=duration_minutes,
                       notes=notes, recorded_by_id=recorded_by.id)
    db.session.add(entry)
    db.session.flush()
    (entry.statement_id,) = record([es.journal(entry)],
                                   organization_id=enrollment.organization_id)
    db.session.flush()
    return entry
