"""Programs, writes: the catalogue, creating, copying and importing programs, their modules
and lessons. Keyword-only, flush never commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import Organization
from lms.core.errors import NotFound, ValidationFailed
from lms.core.models import utcnow
from lms.courses.programs import definitions as defs
from lms.courses.programs.models import SESSION_KINDS, Lesson, Module, Program, Quiz, QuizQuestion
from lms.extensions import db

CATALOGUE_DIR = Path(__file__).resolve().parents[3] / "courses"


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
    return _copy(source, organization=organization, source_slug=slug)


def copy_program(*, source: Program) -> Program:
    """Copy one of an organization's programs within that organization (to adapt a variant)."""
    organization = (db.session.get(Organization, source.organization_id)
                    if source.organization_id is not None else None)
    if organization is None:
        raise NotFound(_l("No program of the organization has this name."))
    return _copy(source, organization=organization, source_slug=source.source_slug)


def _copied_title(text: str, language: str, n: int) -> str:
    # Each language of the title says "copy" in that language, whoever copies it and from
    # wherever (a page, the demo, the command line).
    with force_locale(language):
        return (_("%(title)s (copy)", title=text) if n == 1
                else _("%(title)s (copy %(num)d)", title=text, num=n))


def _copy(source: Program, *, organization: Organization, source_slug: str | None) -> Program:
    """Create the copy, titled "… (copie)" (then "… (copie 2)"…) in each language of its title,
    so two identical entries never appear in the organization's pickers.
    """
    taken = [p.title for p in db.session.scalars(select(Program).where(
        Program.organization_id == organization.id))]
    n = 1
    while True:
        title = {lang: _copied_title(text, lang, n) for lang, text in source.title.items()}
        if not any(title.get(lang) == text for other in taken for lang, text in other.items()):
            break
        n += 1
    definition = dataclasses.replace(definition_of(source), title=title)
    return create_program(organization=organization, definition=definition,
                          source_slug=source_slug)


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


def reorder(items: list[Any], item: Any, direction: str) -> bool:
    """Swap ``item`` with its neighbour in ``items`` (``direction`` "up" or "down") and number
    them again from 1; False, nothing changed, at the ends or for another direction.
    """
    i = items.index(item)
    j = i - 1 if direction == "up" else i + 1
    if direction not in ("up", "down") or not 0 <= j < len(items):
        return False
    items[i], items[j] = items[j], items[i]
    for position, each in enumerate(items, 1):
        each.position = position
    return True


def move_module(*, module: Module, direction: str) -> None:
    """Swap a module with its neighbour (``direction`` "up" or "down"); a no-op at the ends."""
    if not reorder(list(module.program.modules), module, direction):
        return
    module.program.updated_at = utcnow()
    db.session.flush()
    db.session.expire(module.program, ["modules"])


def free_key(prefix: str, taken: Iterable[str], count: int) -> str:
    """A new item's key: ``<prefix><n>`` (64 characters at most) with ``n`` from ``count + 1``
    up, the first not in ``taken`` (keys name items in the program's file and its statements).
    """
    used = set(taken)
    n = count + 1
    while f"{prefix}{n}"[:64] in used:
        n += 1
    return f"{prefix}{n}"[:64]


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
    key = free_key("module-", (m.key for m in program.modules), len(program.modules))
    module = Module(program=program, key=key, position=len(program.modules) + 1,
                    kind=kind, title={program.language: title.strip()}, description={},
                    required=True, prerequisites=[], competencies=[], completion=rule)
    if kind == "elearning":
        module.lessons.append(Lesson(key=f"{key}-lesson-1", position=1,
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
    key = free_key(f"{module.key}-lesson-",
                   (lesson.key for m in module.program.modules for lesson in m.lessons),
                   len(module.lessons))
    lesson = Lesson(key=key, position=len(module.lessons) + 1,
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
