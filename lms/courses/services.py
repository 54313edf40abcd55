"""Writes for blended programs. Keyword-only, flush never commit; learning events go through
``lms.xapi.record.record`` so progress (a projection) follows from them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Membership, Organization, Role, User
from lms.core.errors import Conflict, NotFound, ValidationFailed, joined
from lms.core.models import utcnow
from lms.courses import definitions as defs
from lms.courses import statements as xs
from lms.courses.models import (
    ACTIVE,
    ATTENDANCE_STATUSES,
    COMPLETED,
    DECLINED,
    HALVES,
    PENDING_APPROVAL,
    PRESENT,
    REGISTERED,
    SESSION_KINDS,
    WAITLISTED,
    WITHDRAWN,
    Attendance,
    Cohort,
    CohortTrainer,
    Enrollment,
    Lesson,
    Module,
    Program,
    Quiz,
    QuizQuestion,
    SessionRegistration,
    TrainingSession,
)
from lms.extensions import db
from lms.xapi.record import record

CATALOGUE_DIR = Path(__file__).resolve().parents[2] / "courses"


# --- programs ------------------------------------------------------------------------------


def definition_of(program: Program) -> defs.ProgramDef:
    """A program as its file definition (for export, copy and round-trips)."""
    modules = []
    for m in program.modules:
        modules.append(defs.ModuleDef(
            key=m.key, kind=m.kind, title=dict(m.title), description=dict(m.description),
            required=m.required, duration_minutes=m.duration_minutes,
            competencies=tuple(m.competencies), prerequisites=tuple(m.prerequisites),
            completion=dict(m.completion), coaching=dict(m.coaching) if m.coaching else None,
            lessons=tuple(defs.LessonDef(key=lesson.key, title=dict(lesson.title),
                                         body=dict(lesson.body), video_url=lesson.video_url)
                          for lesson in m.lessons),
            quizzes=tuple(defs.QuizDef(
                key=q.key, title=dict(q.title), pass_mark=q.pass_mark,
                questions=tuple(defs.QuestionDef(
                    key=question.key, text=dict(question.text),
                    feedback=dict(question.feedback) if question.feedback else None,
                    options=tuple(defs.OptionDef(
                        key=o["key"], text=dict(o["text"]), correct=bool(o.get("correct")),
                        feedback=dict(o["feedback"]) if o.get("feedback") else None)
                        for o in question.options))
                    for question in q.questions))
                for q in m.quizzes),
            exercise=dict(m.exercise) if m.exercise else None))
    return defs.ProgramDef(slug=program.slug, version=program.version,
                           language=program.language, title=dict(program.title),
                           description=dict(program.description), modules=tuple(modules),
                           approval_required=program.approval_required)


def _free_slug(organization_id: int | None, slug: str) -> str:
    taken = set(db.session.scalars(select(Program.slug).where(
        Program.organization_id == organization_id if organization_id is not None
        else Program.organization_id.is_(None))))
    candidate, n = slug, 2
    while candidate in taken:
        candidate = f"{slug[:58]}-{n}"
        n += 1
    return candidate


def create_program(*, organization: Organization | None, definition: defs.ProgramDef,
                   source_slug: str | None = None) -> Program:
    """Create a program (with its modules, lessons and quizzes) from a definition.

    :param organization: the owner; None for a catalogue entry.
    :param source_slug: the catalogue entry it copies, if any.
    """
    org_id = organization.id if organization is not None else None
    program = Program(organization_id=org_id, slug=_free_slug(org_id, definition.slug),
                      source_slug=source_slug, version=definition.version,
                      language=definition.language, title=dict(definition.title),
                      description=dict(definition.description),
                      approval_required=definition.approval_required)
    for position, m in enumerate(definition.modules, 1):
        module = Module(key=m.key, position=position, kind=m.kind, title=dict(m.title),
                        description=dict(m.description), required=m.required,
                        duration_minutes=m.duration_minutes, competencies=list(m.competencies),
                        prerequisites=list(m.prerequisites), completion=dict(m.completion),
                        coaching=dict(m.coaching) if m.coaching else None,
                        exercise=dict(m.exercise) if m.exercise else None)
        for lp, lesson in enumerate(m.lessons, 1):
            module.lessons.append(Lesson(key=lesson.key, position=lp, title=dict(lesson.title),
                                         body=dict(lesson.body), video_url=lesson.video_url))
        for qp, q in enumerate(m.quizzes, 1):
            quiz = Quiz(key=q.key, position=qp, title=dict(q.title), pass_mark=q.pass_mark)
            for pos, question in enumerate(q.questions, 1):
                quiz.questions.append(QuizQuestion(
                    key=question.key, position=pos, text=dict(question.text),
                    feedback=dict(question.feedback) if question.feedback else None,
                    options=[{"key": o.key, "text": dict(o.text), "correct": o.correct,
                              **({"feedback": dict(o.feedback)} if o.feedback else {})}
                             for o in question.options]))
            module.quizzes.append(quiz)
        program.modules.append(module)
    db.session.add(program)
    db.session.flush()
    return program


def load_catalogue(folder: Path | None = None) -> str:
    """Load (or update) the built-in catalogue; idempotent. Returns a one-line summary.

    An entry whose version and content are unchanged is left alone; a changed entry is
    replaced (organizations hold copies, so no cohort points at catalogue rows).

    :raise ContentError: a catalogue program is invalid (nothing is loaded then).
    """
    folder = folder or CATALOGUE_DIR
    found = [defs.read_folder(path) for path in sorted(folder.iterdir())
             if (path / defs.PROGRAM_FILE).exists()]
    added = updated = 0
    for definition in found:
        existing = db.session.scalar(select(Program).where(
            Program.organization_id.is_(None), Program.slug == definition.slug))
        if existing is not None:
            if definition_of(existing) == definition:
                continue
            db.session.delete(existing)
            db.session.flush()
            updated += 1
        else:
            added += 1
        create_program(organization=None, definition=definition)
    return (f"catalogue: {len(found)} programs ({added} added, {updated} updated, "
            f"{len(found) - added - updated} unchanged)")


def load_builtin_content() -> str:
    """Content loader for ``relais init`` / ``relais demo``."""
    return load_catalogue()


def copy_from_catalogue(*, organization: Organization, slug: str) -> Program:
    """Copy a catalogue program into an organization.

    :raise NotFound: no catalogue program has this slug.
    """
    source = db.session.scalar(select(Program).where(Program.organization_id.is_(None),
                                                     Program.slug == slug))
    if source is None:
        raise NotFound(_l("No catalogue program has this name."))
    return create_program(organization=organization, definition=definition_of(source),
                          source_slug=slug)


def create_blank_program(*, organization: Organization, title: str, language: str) -> Program:
    """Start a program from scratch with one module (an e-learning module with a lesson).

    :raise ValidationFailed: empty title or unknown language.
    """
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = _l("Give the program a title.")
    if language not in defs.LANGUAGES:
        errors["language"] = _l("Choose French or English.")
    if errors:
        raise ValidationFailed(_l("The program cannot be created."), fields=errors)
    slug = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")[:50] or "program"
    slug = "-".join(part for part in slug.split("-") if part) or "program"
    definition = defs.ProgramDef(
        slug=slug if defs.KEY_RE.match(slug) else "program", version=1, language=language,
        title={language: title}, description={},
        modules=(defs.ModuleDef(key="module-1", kind="elearning",
                                title={language: "Module 1"}, description={},
                                required=True,
                                duration_minutes=30, competencies=(), prerequisites=(),
                                completion={"type": "lessons_viewed"},
                                lessons=(defs.LessonDef(key="lesson-1",
                                                        title={language: {
                                                            "fr": "Leçon 1"}.get(language,
                                                                                 "Lesson 1")},
                                                        body={language: ""}),)),))
    return create_program(organization=organization, definition=definition)


def import_program(*, organization: Organization, data: bytes) -> Program:
    """Import a program exported as a zip.

    :raise ValidationFailed: the archive is invalid (``fields["file"]`` lists the errors).
    """
    try:
        definition = defs.read_zip(data)
    except defs.ContentError as exc:
        raise ValidationFailed(_l("The program file is invalid."),
                               fields={"file": "\n".join(exc.errors)}) from exc
    return create_program(organization=organization, definition=definition)


def move_module(*, module: Module, direction: str) -> None:
    """Swap a module with its neighbour (``direction`` "up" or "down"); a no-op at the ends."""
    modules = list(module.program.modules)
    i = modules.index(module)
    j = i - 1 if direction == "up" else i + 1
    if direction not in ("up", "down") or not 0 <= j < len(modules):
        return
    modules[i], modules[j] = modules[j], modules[i]
    for position, m in enumerate(modules, 1):
        m.position = position
    module.program.updated_at = utcnow()
    db.session.flush()
    db.session.expire(module.program, ["modules"])


def add_module(*, program: Program, kind: str, title: str) -> Module:
    """Append a module with a default completion rule for its kind.

    :raise ValidationFailed: unknown kind or empty title.
    """
    errors = {}
    if kind not in defs.KINDS:
        errors["kind"] = _l("Choose a kind of module.")
    if not (title or "").strip():
        errors["title"] = _l("Give the module a title.")
    if errors:
        raise ValidationFailed(_l("The module cannot be added."), fields=errors)
    rule = {"type": "attended"} if kind in SESSION_KINDS else (
        {"type": "lessons_viewed"} if kind == "elearning" else
        {"type": "followups_held", "count": 1} if kind == "coaching" else
        {"type": "exercise_approved"})
    keys = {m.key for m in program.modules}
    n = len(program.modules) + 1
    while f"module-{n}" in keys:
        n += 1
    module = Module(program=program, key=f"module-{n}", position=len(program.modules) + 1,
                    kind=kind, title={program.language: title.strip()}, description={},
                    required=True, prerequisites=[], competencies=[], completion=rule)
    if kind == "elearning":
        module.lessons.append(Lesson(key=f"module-{n}-lesson-1", position=1,
                                     title={program.language: title.strip()},
                                     body={program.language: ""}))
    db.session.add(module)
    db.session.flush()
    return module


def check_completion(module: Module, rule: dict[str, Any]) -> Any:
    """Why ``rule`` cannot complete ``module``, or None when it can."""
    kind = rule.get("type")
    if kind not in defs.RULES:
        return _l("Choose how the module is completed.")
    if kind == "attended" and module.kind not in SESSION_KINDS:
        return _l("Only workshops, conferences and group trainings are completed by attendance.")
    if kind == "quiz_passed" and not module.quizzes:
        return _l("This module has no quiz.")
    if kind == "lessons_viewed" and not module.lessons:
        return _l("This module has no lesson.")
    mark = rule.get("pass_mark")
    if mark is not None and (kind != "quiz_passed" or not isinstance(mark, int)
                             or not 0 <= mark <= 100):
        return _l("The pass mark is a percentage, for quizzes only.")
    count = rule.get("count")
    if count is not None and (kind != "followups_held" or not isinstance(count, int)
                              or not 1 <= count <= 20):
        return _l("The number of follow-ups is from 1 to 20, for coaching only.")
    return None


def add_lesson(*, module: Module, title: str) -> Lesson:
    """Append an empty lesson to an e-learning module.

    :raise ValidationFailed: not an e-learning module, or an empty title.
    """
    if module.kind != "elearning":
        raise ValidationFailed(_l("Only e-learning modules hold lessons."),
                               fields={"module": _l("Not an e-learning module.")})
    if not (title or "").strip():
        raise ValidationFailed(_l("Give the lesson a title."), fields={"title": _l("Required.")})
    taken = {lesson.key for m in module.program.modules for lesson in m.lessons}
    n = len(module.lessons) + 1
    while f"{module.key}-lesson-{n}"[:64] in taken:
        n += 1
    lesson = Lesson(key=f"{module.key}-lesson-{n}"[:64], position=len(module.lessons) + 1,
                    title={module.program.language: title.strip()},
                    body={module.program.language: ""})
    module.lessons.append(lesson)
    module.program.updated_at = utcnow()
    db.session.flush()
    return lesson


def update_module(*, module: Module, language: str, title: str, description: str,
                  required: bool, duration_minutes: int | None,
                  competencies: Iterable[str], completion: dict[str, Any] | None = None,
                  prerequisites: Iterable[str] | None = None,
                  coaching: dict[str, Any] | None = None) -> None:
    """Edit a module's texts (in one language), whether it is required, duration, targets,
    completion rule and prerequisites.

    :param completion: the new rule (unchanged when None).
    :param prerequisites: keys of modules placed before this one (unchanged when None).
    :param coaching: a coaching module's plan (``followups``, ``spacing_days``,
        ``duration_minutes``; unchanged when None); errors come as ``followups``,
        ``spacing_days`` and ``followup_minutes``.
    :raise ValidationFailed: empty title, unknown competency code or language, a rule the
        module cannot meet, a prerequisite that is not an earlier module.
    """
    codes = [c.strip().upper() for c in competencies if c.strip()]
    errors = {}
    if completion is not None and (problem := check_completion(module, completion)):
        errors["completion"] = problem
    earlier = [m.key for m in module.program.modules if m.position < module.position]
    wanted = list(dict.fromkeys(prerequisites)) if prerequisites is not None else None
    if wanted is not None and not set(wanted) <= set(earlier):
        errors["prerequisites"] = _l("Prerequisites must be modules placed before this one.")
    if language not in defs.LANGUAGES:
        errors["language"] = _l("Choose French or English.")
    if not title.strip():
        errors["title"] = _l("The title cannot be empty.")
    bad = [c for c in codes if c not in defs.COMPETENCY_CODES]
    if bad:
        errors["competencies"] = _l("Unknown competency codes: %(codes)s (use C1 to C8).",
                                    codes=", ".join(bad))
    if duration_minutes is not None and not 1 <= duration_minutes <= 100_000:
        errors["duration_minutes"] = _l("The duration must be a positive number of minutes.")
    if coaching is not None:
        plan_errors = defs.plan_problems(coaching, module.kind,
                                         completion if completion is not None
                                         else module.completion)
        for name, problem in plan_errors.items():
            errors[{"duration_minutes": "followup_minutes"}.get(name, name)] = problem
    if errors:
        raise ValidationFailed(_l("The module was not saved."), fields=errors)
    module.title = {**module.title, language: title.strip()}
    module.description = {**module.description, language: description.strip()} \
        if description.strip() else {k: v for k, v in module.description.items()
                                     if k != language}
    module.required = required
    module.duration_minutes = duration_minutes
    module.competencies = list(dict.fromkeys(codes))
    if completion is not None:
        module.completion = {k: completion[k] for k in ("type", "pass_mark", "count")
                             if completion.get(k) is not None}
    if wanted is not None:
        module.prerequisites = wanted
    if coaching is not None:
        module.coaching = {k: int(coaching[k]) for k in defs.COACHING_PLAN}
    module.program.updated_at = utcnow()
    db.session.flush()


def update_lesson(*, lesson: Lesson, language: str, title: str, body: str,
                  video_url: str | None) -> None:
    """Edit a lesson's title and Markdown in one language, and its video link.

    :raise ValidationFailed: empty title, bad video address or language.
    """
    errors = {}
    if language not in defs.LANGUAGES:
        errors["language"] = _l("Choose French or English.")
    if not title.strip():
        errors["title"] = _l("The title cannot be empty.")
    video_url = (video_url or "").strip() or None
    if video_url and (not video_url.startswith("https://") or any(c.isspace()
                                                                   for c in video_url)):
        errors["video_url"] = _l("The video address must start with https://.")
    if errors:
        raise ValidationFailed(_l("The lesson was not saved."), fields=errors)
    lesson.title = {**lesson.title, language: title.strip()}
    # Line endings from browsers are CRLF; the exported Markdown keeps plain newlines.
    lesson.body = {**lesson.body, language: body.replace("\r\n", "\n")}
    lesson.video_url = video_url
    lesson.module.program.updated_at = utcnow()
    db.session.flush()


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


# --- sessions, registrations, attendance ------------------------------------------------------


def schedule_session(*, cohort: Cohort, module: Module, starts_at: datetime, ends_at: datetime,
                     place: str | None = None, virtual_link: str | None = None,
                     capacity: int | None = None,
                     trainer: Membership | None = None) -> TrainingSession:
    """Schedule a session of a workshop, conference or group training for a cohort.

    :raise ValidationFailed: wrong module kind or program, end before start, bad capacity,
        neither place nor link, bad link, trainer outside the organization.
    """
    errors, place, virtual_link = _session_problems(
        cohort=cohort, module=module, starts_at=starts_at, ends_at=ends_at, place=place,
        virtual_link=virtual_link, capacity=capacity, trainer=trainer)
    if errors:
        raise ValidationFailed(_l("The session was not scheduled."), fields=errors)
    session = TrainingSession(organization_id=cohort.organization_id, cohort=cohort,
                              module=module, starts_at=starts_at, ends_at=ends_at, place=place,
                              virtual_link=virtual_link, capacity=capacity, trainer=trainer)
    db.session.add(session)
    db.session.flush()
    return session


def _session_problems(*, cohort: Cohort, module: Module, starts_at: datetime, ends_at: datetime,
                      place: str | None, virtual_link: str | None, capacity: int | None,
                      trainer: Membership | None) -> tuple[dict[str, str], str | None,
                                                           str | None]:
    """What is wrong with a session's settings (by field), and the place and link cleaned."""
    errors = {}
    if module.program_id != cohort.program_id:
        errors["module"] = _l("This module is not part of the cohort's program.")
    elif module.kind not in SESSION_KINDS:
        errors["module"] = _l("Only workshops, conferences and group trainings have sessions.")
    if ends_at <= starts_at:
        errors["ends_at"] = _l("The session must end after it starts.")
    if capacity is not None and capacity < 1:
        errors["capacity"] = _l("The capacity must be at least 1 (leave empty for no limit).")
    place = (place or "").strip() or None
    virtual_link = (virtual_link or "").strip() or None
    if not place and not virtual_link:
        errors["place"] = _l("Give a place, a virtual room link, or both.")
    if virtual_link and not virtual_link.startswith("https://"):
        errors["virtual_link"] = _l("The link must start with https://.")
    if trainer is not None and trainer.organization_id != cohort.organization_id:
        errors["trainer"] = _l("The trainer is not a member of this organization.")
    return errors, place, virtual_link


def update_session(*, session: TrainingSession, starts_at: datetime, ends_at: datetime,
                   place: str | None, virtual_link: str | None, capacity: int | None,
                   trainer: Membership | None) -> list[SessionRegistration]:
    """Move or edit a session, with the checks of :func:`schedule_session`. Registrations and
    the waiting list stay as they are; a larger capacity promotes waitlisted learners in order
    (see :func:`set_capacity`). Returns the promoted registrations.

    :raise ValidationFailed: as :func:`schedule_session`, or a capacity below the seats given.
    :raise Conflict: attendance was taken on a half-day the new times leave out.
    """
    errors, place, virtual_link = _session_problems(
        cohort=session.cohort, module=session.module, starts_at=starts_at, ends_at=ends_at,
        place=place, virtual_link=virtual_link, capacity=capacity, trainer=trainer)
    if errors:
        raise ValidationFailed(_l("The session was not changed."), fields=errors)
    before = session.starts_at, session.ends_at
    session.starts_at, session.ends_at = starts_at, ends_at
    kept = set(half_days(session))
    marked = {(day, half) for day, half in db.session.execute(
        select(Attendance.day, Attendance.half).where(Attendance.session_id == session.id))}
    if marked - kept:
        session.starts_at, session.ends_at = before
        raise Conflict(_l("Attendance was taken on half-days the new times leave out: correct "
                       "or keep those half-days."), fields={"starts_at": _l("Keep the half-days "
                                                           "already marked.")})
    try:
        promoted = set_capacity(session=session, capacity=capacity)
    except ValidationFailed:
        session.starts_at, session.ends_at = before
        raise
    session.place, session.virtual_link, session.trainer = place, virtual_link, trainer
    db.session.flush()
    return promoted


def seats_taken(session: TrainingSession) -> int:
    """How many learners hold a seat (the waiting list excluded)."""
    return db.session.scalar(select(func.count()).select_from(SessionRegistration).where(
        SessionRegistration.session_id == session.id,
        SessionRegistration.status == REGISTERED)) or 0


def _lock_seats(session: TrainingSession) -> None:
    """Serialize seat changes for one session until the transaction ends.

    An UPDATE of the session row (a no-op) rather than SELECT … FOR UPDATE: PostgreSQL locks
    the row either way, and SQLite, whose driver opens the transaction only at the first
    write, then takes its write lock before the seats are counted rather than after.
    """
    db.session.execute(update(TrainingSession).where(TrainingSession.id == session.id)
                       .values(capacity=TrainingSession.capacity)
                       .execution_options(synchronize_session=False))


def register(*, session: TrainingSession, enrollment: Enrollment,
             requested_by: User | None = None) -> SessionRegistration:
    """Give a learner a seat, or a place on the waiting list when the session is full. When the
    program needs approval, the registration waits for it instead (no seat held yet: see
    :mod:`lms.courses.approvals`).

    :param requested_by: who asked (the learner, or the trainer who registered them).
    :raise ValidationFailed: the enrolment is not active in the session's cohort.
    :raise Conflict: already registered, waitlisted, waiting for approval or declined.
    """
    if enrollment.cohort_id != session.cohort_id or enrollment.status not in (ACTIVE,
                                                                                 COMPLETED):
        raise ValidationFailed(_l("This learner is not an active member of the session's cohort."),
                               fields={"enrollment": _l("Not in this cohort.")})
    existing = db.session.scalar(select(SessionRegistration).where(
        SessionRegistration.session_id == session.id,
        SessionRegistration.enrollment_id == enrollment.id))
    if existing is not None and existing.status == DECLINED:
        raise Conflict(_l("This registration was declined: %(reason)s",
                          reason=existing.decline_reason) if existing.decline_reason
                       else _l("This registration was declined."))
    if existing is not None:
        raise Conflict(_l("This learner is already registered for this session."))
    if session.cohort.program.approval_required:
        registration = SessionRegistration(
            session=session, enrollment=enrollment, status=PENDING_APPROVAL,
            requested_by_id=requested_by.id if requested_by is not None else None)
        db.session.add(registration)
        db.session.flush()
        return registration
    _lock_seats(session)
    full = session.capacity is not None and seats_taken(session) >= session.capacity
    registration = SessionRegistration(session=session, enrollment=enrollment,
                                       status=WAITLISTED if full else REGISTERED)
    db.session.add(registration)
    db.session.flush()
    return registration


def cancel_registration(*, registration: SessionRegistration) -> SessionRegistration | None:
    """Free a seat (or leave the waiting list); the first waitlisted learner is promoted.

    Returns the promoted registration, if any.
    """
    session = registration.session
    _lock_seats(session)
    freed = registration.status == REGISTERED
    db.session.delete(registration)
    db.session.flush()
    if not freed:
        return None
    return promote_waitlist(session=session)


def promote_waitlist(*, session: TrainingSession) -> SessionRegistration | None:
    """Move the longest-waiting learner into a free seat, if there is one."""
    if session.capacity is not None and seats_taken(session) >= session.capacity:
        return None
    first = db.session.scalar(select(SessionRegistration).where(
        SessionRegistration.session_id == session.id, SessionRegistration.status == WAITLISTED)
        .order_by(SessionRegistration.created_at, SessionRegistration.id).limit(1))
    if first is not None:
        first.status = REGISTERED
        db.session.flush()
    return first


def set_capacity(*, session: TrainingSession, capacity: int | None) -> list[SessionRegistration]:
    """Change a session's capacity; a larger room promotes waitlisted learners in order.

    :raise ValidationFailed: capacity below the seats already given.
    """
    _lock_seats(session)
    if capacity is not None and capacity < max(1, seats_taken(session)):
        raise ValidationFailed(_l("The capacity cannot go below the seats already given."),
                               fields={"capacity": _l("At least %(count)d.",
                                                       count=max(1, seats_taken(session)))})
    session.capacity = capacity
    db.session.flush()
    promoted = []
    while (reg := promote_waitlist(session=session)) is not None:
        promoted.append(reg)
    return promoted


def local_zone() -> ZoneInfo:
    """The time zone sessions are shown and split into half-days in (``RELAIS_TIMEZONE``)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def half_days(session: TrainingSession) -> list[tuple[date, str]]:
    """The half-days a session covers in local time, as on a sign-in sheet: (day, "am"|"pm")."""
    out = []
    zone = local_zone()
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    day = start.date()
    while day <= end.date():
        for half, (low, high) in (("am", (0, 13)), ("pm", (13, 24))):
            begin = datetime.combine(day, datetime.min.time(), tzinfo=start.tzinfo) + \
                timedelta(hours=low)
            finish = begin + timedelta(hours=high - low)
            if start < finish and end > begin:
                out.append((day, half))
        day += timedelta(days=1)
    return out


def check_attendance(*, session: TrainingSession,
                     marks: Sequence[tuple[str, date, str, str]]) -> dict[int, str]:
    """Why marks (enrolment id, day, half, status) cannot be recorded, by their index in
    ``marks``; empty when all can. The rules of :func:`record_attendance`, for a whole sheet
    checked before any is written; a half-day marked twice for a learner is refused too.
    """
    halves = set(half_days(session))
    seated = set(db.session.scalars(select(SessionRegistration.enrollment_id).where(
        SessionRegistration.session_id == session.id,
        SessionRegistration.status == REGISTERED)))
    seen: set[tuple[str, date, str]] = set()
    problems = {}
    for index, (enrollment_id, day, half, status) in enumerate(marks):
        if status not in ATTENDANCE_STATUSES:
            problems[index] = _l("Choose present, absent or excused.")
        elif half not in HALVES or (day, half) not in halves:
            problems[index] = _l("This half-day is not part of the session.")
        elif enrollment_id not in seated:
            problems[index] = _l("This learner has no seat in the session.")
        elif (enrollment_id, day, half) in seen:
            problems[index] = _l("This half-day is marked twice for this learner.")
        seen.add((enrollment_id, day, half))
    return problems


def record_attendance(*, session: TrainingSession, enrollment: Enrollment, day: date, half: str,
                      status: str, recorded_by: User) -> Attendance:
    """Mark a learner present, absent or excused for one half-day of a session.

    The first "present" mark records "attended"; correcting it to absent or excused voids that
    statement, so the module's progress follows.

    :raise ValidationFailed: unknown status, a half-day outside the session, or a learner
        not registered for it.
    """
    if status not in ATTENDANCE_STATUSES or half not in HALVES or \
            (day, half) not in half_days(session):
        raise ValidationFailed(_l("This attendance mark is not valid for the session."),
                               fields={"status": _l("Choose present, absent or excused for one "
                                                 "of the session's half-days.")})
    if enrollment.cohort_id != session.cohort_id or db.session.scalar(
            select(SessionRegistration.id).where(
                SessionRegistration.session_id == session.id,
                SessionRegistration.enrollment_id == enrollment.id,
                SessionRegistration.status == REGISTERED)) is None:
        raise ValidationFailed(_l("This learner has no seat in the session."),
                               fields={"enrollment": _l("Not registered for this session.")})
    mark = db.session.scalar(select(Attendance).where(
        Attendance.session_id == session.id, Attendance.enrollment_id == enrollment.id,
        Attendance.day == day, Attendance.half == half))
    return _write_mark(session, enrollment, day, half, status, recorded_by, mark)


def record_sheet(*, session: TrainingSession, marks: Sequence[tuple[str, date, str, str]],
                 recorded_by: User) -> int:
    """Record a sign-in sheet: marks (enrolment id, day, half, status), all checked before any
    is written, each written as :func:`record_attendance` does. Marks equal to the sheet's
    are left alone; half-days not in ``marks`` stay as they are.

    :return: how many marks changed.
    :raise ValidationFailed: a mark breaks a rule of :func:`check_attendance`; ``fields`` has
        ``marks[i]`` for each (``i`` its index in ``marks``) and nothing is written.
    :raise Conflict: another sheet or a QR sign-in wrote one of these half-days meanwhile;
        nothing of this sheet is written.
    """
    problems = check_attendance(session=session, marks=marks)
    if problems:
        raise ValidationFailed(f"{len(problems)} mark(s) cannot be recorded; none was.",
                               fields={f"marks[{i}]": problems[i] for i in sorted(problems)})
    sheet = {(a.enrollment_id, a.day, a.half): a for a in db.session.scalars(
        select(Attendance).where(Attendance.session_id == session.id))}
    changes = [(e, d, h, st) for e, d, h, st in marks
               if (e, d, h) not in sheet or sheet[e, d, h].status != st]
    enrollments = {e.id: e for e in db.session.scalars(select(Enrollment).where(
        Enrollment.id.in_({e for e, _d, _h, _st in changes})))} if changes else {}
    try:
        # A savepoint: a mark inserted meanwhile by another request undoes this sheet only.
        with db.session.begin_nested():
            for enrollment_id, day, half, status in changes:
                _write_mark(session, enrollments[enrollment_id], day, half, status, recorded_by,
                            sheet.get((enrollment_id, day, half)))
    except IntegrityError as exc:
        raise Conflict("The sheet changed meanwhile; nothing was written, send it again.") \
            from exc
    return len(changes)


def _write_mark(session: TrainingSession, enrollment: Enrollment, day: date, half: str,
                status: str, recorded_by: User, mark: Attendance | None) -> Attendance:
    """Create or correct one checked mark (``mark`` is the half-day's current one, if any),
    recording "attended" for a first presence and voiding it when corrected.
    """
    if mark is None:
        mark = Attendance(session_id=session.id, enrollment=enrollment, day=day, half=half,
                          status=status)
        db.session.add(mark)
    elif mark.status == status:
        return mark
    mark.status, mark.recorded_by_id = status, recorded_by.id
    mark.signed_at = utcnow() if status == PRESENT else None
    db.session.flush()
    org = session.organization_id
    if status == PRESENT and mark.statement_id is None:
        (mark.statement_id,) = record([xs.attended(enrollment, session, f"{day}-{half}")],
                                      organization_id=org)
    elif status != PRESENT and mark.statement_id is not None:
        void_statement(organization_id=org, statement_id=mark.statement_id, by=recorded_by)
        mark.statement_id = None
    db.session.flush()
    return mark


def void_statement(*, organization_id: int, statement_id: str, by: User) -> None:
    """Void one statement (a correction); the projections re-derive what it fed."""
    record([{"actor": {"objectType": "Agent", "name": by.display_name,
                       "account": {"homePage": xs._base(), "name": str(by.id)}},
             "verb": {"id": "http://adlnet.gov/expapi/verbs/voided",
                      "display": {"en-US": "voided"}},
             "object": {"objectType": "StatementRef", "id": statement_id}}],
           organization_id=organization_id)
