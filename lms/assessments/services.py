"""Writes for skill mapping: load content, edit questionnaires, take and submit attempts.

Every function flushes and never commits: the caller (a view, the API, the CLI) commits once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from lms.accounts.models import Membership, Organization, User
from lms.assessments import definitions as defs
from lms.assessments import queries, scoring, statements
from lms.assessments.models import (
    DRAFT,
    SUBMITTED,
    Attempt,
    Competency,
    LevelValidation,
    Question,
    Questionnaire,
    SkillFramework,
    SkillLevel,
    TargetProfile,
)
from lms.core.errors import Conflict, NotFound, ValidationFailed
from lms.core.models import owned_by, utcnow
from lms.extensions import db

CONTENT_DIR = Path(__file__).resolve().parents[2] / "assessments"
FRAMEWORK_FILE = "framework.yaml"


# --- content -----------------------------------------------------------------------------------


def upsert_framework(defn: defs.FrameworkDef,
                     organization: Organization | None = None) -> SkillFramework:
    """Create or update a framework from its definition (matched by key and owner).

    :param defn: the parsed framework.
    :param organization: the owner of a copy, or ``None`` for the built-in framework.
    """
    org_id = organization.id if organization else None
    fw = db.session.scalar(select(SkillFramework).where(
        SkillFramework.key == defn.key, owned_by(SkillFramework.organization_id, org_id)))
    if fw is None:
        fw = SkillFramework(key=defn.key, organization_id=org_id)
        db.session.add(fw)
    fw.format_version = defn.format_version
    fw.title = dict(defn.title)
    fw.levels = [{"level": lv.level, "name": dict(lv.name), "summary": dict(lv.summary)}
                 for lv in defn.levels]
    existing = {c.code: c for c in fw.competencies}
    for position, c in enumerate(defn.competencies):
        row = existing.pop(c.code, None) or Competency(code=c.code)
        if row not in fw.competencies:
            fw.competencies.append(row)
        row.position, row.name, row.description = position, dict(c.name), dict(c.description)
        row.kind, row.digcomp, row.ssi = c.kind, list(c.digcomp), c.ssi
        row.levels = {str(k): dict(v) for k, v in c.levels.items()}
        row.advice = dict(c.advice)
    for row in existing.values():
        fw.competencies.remove(row)
    targets = {t.job_family: t for t in fw.targets}
    for t in defn.targets:
        target = targets.pop(t.job_family, None) or TargetProfile(job_family=t.job_family)
        if target not in fw.targets:
            fw.targets.append(target)
        target.name, target.levels = dict(t.name), dict(t.levels)
    for target in targets.values():
        fw.targets.remove(target)
    fw.updated_at = utcnow()
    db.session.flush()
    return fw


def _option_json(o: defs.OptionDef) -> dict[str, Any]:
    return {"key": o.key, "text": dict(o.text), "correct": o.correct,
            "feedback": dict(o.feedback) if o.feedback else None}


def upsert_questionnaire(*, defn: defs.QuestionnaireDef, organization: Organization | None,
                         framework: SkillFramework) -> tuple[Questionnaire, bool]:
    """Create or replace a questionnaire's content from its definition (matched by key).

    Questions keep their rows when their key stays, so drafts in progress keep their answers.

    :param organization: the owner, or ``None`` for a built-in questionnaire.
    :return: the questionnaire and whether it was created.
    """
    org_id = organization.id if organization else None
    q = db.session.scalar(select(Questionnaire).where(
        Questionnaire.key == defn.key, owned_by(Questionnaire.organization_id, org_id)))
    created = q is None
    if q is None:
        q = Questionnaire(key=defn.key, organization_id=org_id, published=False)
        db.session.add(q)
    q.framework = framework
    q.format_version = defn.format_version
    q.title = dict(defn.title)
    q.description = dict(defn.description) if defn.description else None
    existing = {question.key: question for question in q.questions}
    for position, d in enumerate(defn.questions):
        row = existing.pop(d.key, None) or Question(key=d.key)
        if row not in q.questions:
            q.questions.append(row)
        row.position, row.type, row.competency, row.level = position, d.type, d.competency, d.level
        row.text = dict(d.text)
        row.options = [_option_json(o) for o in d.options]
        row.feedback = dict(d.feedback) if d.feedback else None
    for row in existing.values():
        q.questions.remove(row)
    q.updated_at = utcnow()
    db.session.flush()
    q.questions.sort(key=lambda question: question.position)
    return q, created


def load_builtin_content(directory: Path | None = None) -> str:
    """Load the default framework and built-in questionnaires from ``assessments/``.

    Idempotent: running it again updates rows in place.

    :raise defs.ContentError: a file breaks the format (nothing is written then).
    """
    folder = directory or CONTENT_DIR
    fw_path = folder / FRAMEWORK_FILE
    framework_def = defs.parse_framework(fw_path.read_text(encoding="utf-8"), str(fw_path))
    codes = [c.code for c in framework_def.competencies]
    questionnaires = [
        defs.parse_questionnaire(path.read_text(encoding="utf-8"), str(path), codes)
        for path in sorted(folder.glob("*.yaml")) if path.name != FRAMEWORK_FILE]
    fw = upsert_framework(framework_def)
    for d in questionnaires:
        upsert_questionnaire(defn=d, organization=None, framework=fw)
    return (f"Skill framework {fw.key}: {len(fw.competencies)} competencies, "
            f"{len(fw.targets)} target profiles, {len(questionnaires)} questionnaire(s)")


# --- editing questionnaires ------------------------------------------------------------------


def definition_of(q: Questionnaire) -> defs.QuestionnaireDef:
    """The questionnaire as a definition, ready to export as YAML."""
    return defs.QuestionnaireDef(
        key=q.key, framework=q.framework.key, title=dict(q.title),
        description=dict(q.description) if q.description else None,
        format_version=q.format_version,
        questions=tuple(defs.QuestionDef(
            key=x.key, type=x.type, competency=x.competency, level=x.level, text=dict(x.text),
            options=tuple(defs.OptionDef(o["key"], dict(o["text"]), bool(o.get("correct")),
                                         dict(o["feedback"]) if o.get("feedback") else None)
                          for o in x.options),
            feedback=dict(x.feedback) if x.feedback else None)
            for x in sorted(q.questions, key=lambda x: x.position)))


def import_questionnaire(*, organization: Organization, source: str,
                         name: str = "upload.yaml") -> tuple[Questionnaire, bool]:
    """Import a questionnaire file into an organization (replacing its own with the same key).

    :raise defs.ContentError: the file breaks the format; errors name their lines.
    """
    fw = queries.default_framework()
    if fw is None:
        raise NotFound(_l("The skill framework is not loaded yet: run `relais init`."))
    defn = defs.parse_questionnaire(source, name, [c.code for c in fw.competencies])
    if defn.framework != fw.key:
        raise defs.ContentError([f"unknown framework {defn.framework!r} (use {fw.key!r})"], name)
    return upsert_questionnaire(defn=defn, organization=organization, framework=fw)


def copy_questionnaire(*, questionnaire: Questionnaire,
                       organization: Organization) -> Questionnaire:
    """Copy a questionnaire into an organization, as an unpublished draft it can edit."""
    base = questionnaire.key if questionnaire.organization_id else f"{questionnaire.key}"
    taken = set(db.session.scalars(select(Questionnaire.key).where(
        Questionnaire.organization_id == organization.id)))
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    defn = definition_of(questionnaire)
    title = {lang: (f"{text} (copie)" if lang == "fr" else f"{text} (copy)")
             for lang, text in defn.title.items()}
    copy, _ = upsert_questionnaire(
        defn=defs.QuestionnaireDef(key=key, framework=defn.framework, title=title,
                                   description=defn.description, questions=defn.questions,
                                   format_version=defn.format_version),
        organization=organization, framework=questionnaire.framework)
    return copy


def _require_editable(q: Questionnaire) -> None:
    if q.organization_id is None:
        raise ValidationFailed(_l("Built-in questionnaires cannot be edited: copy it first."))


def update_questionnaire(*, questionnaire: Questionnaire, title: Mapping[str, str],
                         description: Mapping[str, str] | None, published: bool) -> None:
    """Change a questionnaire's title, description and whether learners see it.

    :raise ValidationFailed: it is built in, or the title is empty.
    """
    _require_editable(questionnaire)
    title = {k: v.strip() for k, v in title.items() if v and v.strip()}
    if not title:
        raise ValidationFailed(_l("A title is needed."), fields={"title_en": _l("required")})
    questionnaire.title = title
    desc = {k: v.strip() for k, v in (description or {}).items() if v and v.strip()}
    questionnaire.description = desc or None
    questionnaire.published = published
    questionnaire.updated_at = utcnow()
    db.session.flush()


def update_question(*, question: Question, text: Mapping[str, str],
                    options: Mapping[str, Mapping[str, str]] | None = None,
                    feedback: Mapping[str, str] | None = None) -> None:
    """Change a question's texts and its options' texts (keys and keyed answers stay).

    :param options: new texts by option key.
    :raise ValidationFailed: built-in questionnaire, or an empty text.
    """
    _require_editable(question.questionnaire)
    clean = {k: v.strip() for k, v in text.items() if v and v.strip()}
    if not clean:
        raise ValidationFailed(_l("The question needs a text."), fields={"text_en": _l("required")})
    question.text = clean
    new_options = []
    for o in question.options:
        o = dict(o)
        given = {k: v.strip() for k, v in ((options or {}).get(o["key"]) or {}).items()
                 if v and v.strip()}
        if options is not None and o["key"] in options:
            if not given:
                raise ValidationFailed(_l("Each option needs a text."),
                                       fields={f"option_{o['key']}_en": _l("required")})
            o["text"] = given
        new_options.append(o)
    question.options = new_options
    if feedback is not None:
        fb = {k: v.strip() for k, v in feedback.items() if v and v.strip()}
        question.feedback = fb or None
    question.questionnaire.updated_at = utcnow()
    db.session.flush()


def move_question(*, question: Question, offset: int) -> None:
    """Move a question up (``-1``) or down (``+1``) in its questionnaire."""
    _require_editable(question.questionnaire)
    ordered = sorted(question.questionnaire.questions, key=lambda x: x.position)
    i = ordered.index(question)
    j = max(0, min(len(ordered) - 1, i + offset))
    ordered.insert(j, ordered.pop(i))
    for position, row in enumerate(ordered):
        row.position = position
    db.session.flush()


def delete_question(*, question: Question) -> None:
    """Delete a question; drafts skip it (a ladder without items at a level stops there)."""
    q = question.questionnaire
    _require_editable(q)
    if len(q.questions) <= 1:
        raise ValidationFailed(_l("A questionnaire keeps at least one question."))
    q.questions.remove(question)
    for position, row in enumerate(sorted(q.questions, key=lambda x: x.position)):
        row.position = position
    db.session.flush()


# --- editing the framework -------------------------------------------------------------------


def framework_definition_of(fw: SkillFramework) -> defs.FrameworkDef:
    """The framework as a definition, ready to export as YAML."""
    return defs.FrameworkDef(
        key=fw.key, title=dict(fw.title), format_version=fw.format_version,
        levels=tuple(defs.LevelDef(int(lv["level"]), dict(lv["name"]), dict(lv["summary"]))
                     for lv in fw.levels),
        competencies=tuple(defs.CompetencyDef(
            code=c.code, name=dict(c.name), description=dict(c.description), kind=c.kind,
            digcomp=tuple(c.digcomp), ssi=c.ssi,
            levels={int(k): dict(v) for k, v in sorted(c.levels.items(), key=lambda i: int(i[0]))},
            advice=dict(c.advice))
            for c in sorted(fw.competencies, key=lambda c: c.position)),
        targets=tuple(defs.TargetDef(t.job_family, dict(t.name), dict(t.levels))
                      for t in sorted(fw.targets, key=lambda t: t.id or 0)))


def copy_framework(*, organization: Organization) -> SkillFramework:
    """Give the organization its own copy of the built-in framework, which it then uses.

    :return: the copy (the existing one if the organization already has a copy).
    :raise NotFound: the built-in framework is not loaded.
    """
    existing = queries.org_framework(organization.id)
    if existing is not None:
        return existing
    builtin = queries.builtin_framework()
    if builtin is None:
        raise NotFound(_l("The skill framework is not loaded yet: run `relais init`."))
    return upsert_framework(framework_definition_of(builtin), organization)


def _require_copy(fw: SkillFramework) -> None:
    if fw.organization_id is None:
        raise ValidationFailed(_l("The built-in framework cannot be edited: copy it first."))


def update_framework(*, framework: SkillFramework,
                     competencies: Mapping[str, Mapping[str, Any]],
                     targets: Mapping[str, Mapping[str, int | None]]) -> None:
    """Change competency names, descriptions and level descriptors, and target levels.

    Codes, levels and job families stay: questionnaires and answers refer to them.

    :param competencies: by code: ``{"name": {lang: …}, "description": {…},
        "levels": {1: {lang: …}, …}}``.
    :param targets: by job family: ``{code: level 0–5}`` (``None``: not a number).
    :raise ValidationFailed: built-in framework, an empty text or a level out of range
        (``fields`` name the inputs).
    """
    _require_copy(framework)
    fields: dict[str, str] = {}

    def clean(text: Mapping[str, str] | None, field: str) -> dict[str, str]:
        out = {k: v.strip() for k, v in (text or {}).items() if v and v.strip()}
        if not out:
            fields[field] = _l("required")
        return out

    updates = []
    for c in framework.competencies:
        given = competencies.get(c.code)
        if given is None:
            continue
        name = clean(given.get("name"), f"{c.code}_name_en")
        description = clean(given.get("description"), f"{c.code}_description_en")
        levels = {str(lvl): clean((given.get("levels") or {}).get(lvl), f"{c.code}_level_{lvl}_en")
                  for lvl in defs.LEVELS}
        updates.append((c, name, description, levels))
    target_updates = []
    codes = {c.code for c in framework.competencies}
    for t in framework.targets:
        given_levels = targets.get(t.job_family)
        if given_levels is None:
            continue
        new = dict(t.levels)
        for code, level in given_levels.items():
            if code not in codes or not isinstance(level, int) or not 0 <= level <= 5:
                fields[f"target_{t.job_family}_{code}"] = _l("a level from 0 to 5")
            else:
                new[code] = level
        target_updates.append((t, new))
    if fields:
        raise ValidationFailed(_l("Some texts are missing or a level is out of range."),
                               fields=fields)
    for c, name, description, levels in updates:
        c.name, c.description, c.levels = name, description, levels
    for t, new in target_updates:
        t.levels = new
    framework.updated_at = utcnow()
    db.session.flush()


def import_framework(*, organization: Organization, source: str,
                     name: str = "upload.yaml") -> SkillFramework:
    """Replace the organization's copy of the framework (creating it) from a YAML file.

    The file must keep the built-in framework's key and competency codes: questionnaires and
    learners' answers refer to them.

    :raise defs.ContentError: the file breaks the format; errors name their lines.
    :raise NotFound: the built-in framework is not loaded.
    """
    builtin = queries.builtin_framework()
    if builtin is None:
        raise NotFound(_l("The skill framework is not loaded yet: run `relais init`."))
    defn = defs.parse_framework(source, name)
    errors = []
    if defn.key != builtin.key:
        errors.append(f"{_line_of(source, 'key')}key must be {builtin.key!r} "
                      f"(got {defn.key!r})")
    wanted = [c.code for c in builtin.competencies]
    got = [c.code for c in defn.competencies]
    if sorted(got) != sorted(wanted):
        errors.append(f"{_line_of(source, 'competencies')}competencies must be "
                      f"{', '.join(wanted)} (got {', '.join(got)})")
    if errors:
        raise defs.ContentError(errors, name)
    return upsert_framework(defn, organization)


def _line_of(source: str, key: str) -> str:
    """``"line N: "`` for a top-level key of a YAML file (parsed already, so it is there)."""
    for n, line in enumerate(source.splitlines(), 1):
        if line.startswith(f"{key}:"):
            return f"line {n}: "
    return ""


# --- attempts ------------------------------------------------------------------------------


def items_of(q: Questionnaire) -> list[scoring.Item]:
    """The questionnaire's questions as scoring items."""
    return [scoring.Item(key=x.key, type=x.type, competency=x.competency, level=x.level,
                         options=tuple(o["key"] for o in x.options),
                         keyed=frozenset(o["key"] for o in x.options if o.get("correct")))
            for x in sorted(q.questions, key=lambda x: x.position)]


def progress_of(attempt: Attempt, answers: Mapping[str, Any] | None = None) -> scoring.Progress:
    """Replay an attempt's answers (or ``answers``) through the ladders."""
    q = attempt.questionnaire
    order = [c.code for c in q.framework.competencies]
    return scoring.progress(items_of(q), attempt.answers or {} if answers is None else answers,
                            order)


def start_attempt(*, membership: Membership, questionnaire: Questionnaire) -> tuple[Attempt, bool]:
    """Resume the learner's draft of this questionnaire, or start one.

    :return: the attempt and whether it was created.
    :raise NotFound: the questionnaire is not offered to this organization.
    """
    if questionnaire not in queries.offered_questionnaires(membership.organization_id):
        raise NotFound(_l("This questionnaire is not offered in this organization."))
    draft = queries.draft_attempt(membership.id, questionnaire.id)
    if draft is not None:
        return draft, False
    attempt = Attempt(uuid=str(uuid.uuid4()), organization_id=membership.organization_id,
                      membership=membership, user=membership.user, questionnaire=questionnaire,
                      status=DRAFT, answers={}, job_family=membership.job_family,
                      draft_key=f"{membership.id}:{questionnaire.id}")
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # Another request opened the draft a moment ago: resume that one.
        draft = queries.draft_attempt(membership.id, questionnaire.id)
        if draft is None:
            raise
        return draft, False
    return attempt, True


def answer(*, attempt: Attempt, answers: Mapping[str, Any],
           record_statements: bool = True) -> list[str]:
    """Save answers to the questions asked now, step after step, all or nothing.

    Answers are applied in ladder order: the answers of the current screen move the ladder on,
    then the next screen's answers are taken from ``answers`` too, and so on. An answer to a
    question that is not asked on this path fails the whole call.

    :param answers: answers by question key.
    :return: the keys saved, in the order they were asked.
    :raise Conflict: the attempt is already submitted.
    :raise ValidationFailed: an answer is invalid or to a question not asked (``fields``).
    """
    if attempt.status != DRAFT:
        raise Conflict(_l("This attempt is submitted: it can no longer change."))
    questions = {x.key: x for x in attempt.questionnaire.questions}
    items = {i.key: i for i in items_of(attempt.questionnaire)}
    fields: dict[str, str] = {}
    for key, value in answers.items():
        if key not in items:
            fields[key] = _l("no such question in this questionnaire")
        elif (error := scoring.answer_error(items[key], value)) is not None:
            fields[key] = error
    if fields:
        raise ValidationFailed(_l("Some answers are invalid."), fields=fields)
    saved = dict(attempt.answers or {})
    remaining = {k: v for k, v in answers.items() if k not in saved or saved[k] != v}
    order: list[str] = []
    while remaining:
        state = progress_of(attempt, saved)
        step = [k for k in state.current if k not in saved]
        if not step or not any(k in remaining for k in step):
            break
        missing = [k for k in step if k not in remaining]
        if missing:
            fields.update({k: "answer this question too (asked on the same screen)"
                           for k in missing})
            break
        for k in step:
            saved[k] = remaining.pop(k)
            order.append(k)
    for key in remaining:
        fields.setdefault(key, _l("not asked at this point of the questionnaire")
                          if key not in saved else _l("already answered: answers cannot change"))
    if fields:
        raise ValidationFailed(_l("Some answers cannot be saved."), fields=fields)
    # A new dict: the JSON column only notices assignment, never changes made in place.
    attempt.answers = saved
    attempt.updated_at = utcnow()
    _flush_attempt()
    if record_statements and order:
        _record([statements.answered(
            attempt, questions[k], saved[k],
            scoring.judged_right(items[k], saved[k])
            if items[k].type in scoring.JUDGEMENT_TYPES else None) for k in order],
            attempt.organization_id)
    db.session.flush()
    return order


def submit_attempt(*, attempt: Attempt, record_statements: bool = True) -> Attempt:
    """Submit a finished attempt: its levels are computed and frozen, and recorded.

    :raise Conflict: already submitted.
    :raise ValidationFailed: questions are still waiting for an answer.
    """
    if attempt.status != DRAFT:
        raise Conflict(_l("This attempt was already submitted."))
    state = progress_of(attempt)
    if not state.finished:
        raise ValidationFailed(_l("Answer every question before submitting."),
                               fields={k: _l("Required.") for k in state.current})
    attempt.levels = state.levels
    attempt.declared = state.declared
    attempt.status = SUBMITTED
    attempt.draft_key = None
    attempt.submitted_at = utcnow()
    attempt.updated_at = attempt.submitted_at
    attempt.job_family = attempt.membership.job_family
    _flush_attempt()
    refresh_current_levels(membership=attempt.membership, attempt=attempt)
    if record_statements:
        _record([statements.completed(attempt, attempt.levels, attempt.declared)],
                attempt.organization_id)
    db.session.flush()
    return attempt


def _flush_attempt() -> None:
    """Flush an attempt's change; a concurrent change to the same attempt wins first.

    :raise Conflict: another request changed or submitted the attempt meanwhile.
    """
    try:
        db.session.flush()
    except StaleDataError as exc:
        # The caller rolls back, as after any domain error.
        raise Conflict(_l("This questionnaire was changed in another window: reload it.")) from exc


def _record(batch: list[dict[str, Any]], organization_id: int) -> None:
    # Imported here: the statement store is another helper's work and lands separately.
    from lms.xapi.record import record

    record(batch, organization_id=organization_id)


def validate_level(*, membership: Membership, competency: str, level: int, by: User,
                   note: str | None = None) -> LevelValidation:
    """Record that a trainer or coach confirms a learner's level 4 or 5 of a competency.

    :raise ValidationFailed: the level is not 4 or 5, or the competency is unknown.
    """
    fw = queries.default_framework(membership.organization_id)
    codes = {c.code for c in fw.competencies} if fw else set()
    fields = {}
    if competency not in codes:
        fields["competency"] = _l("unknown competency")
    if level not in scoring.VALIDATION_LEVELS:
        fields["level"] = _l("only levels 4 and 5 are validated by a trainer")
    if fields:
        raise ValidationFailed(_l("This validation is not possible."), fields=fields)
    latest = queries.latest_attempt(membership.id)
    validation = LevelValidation(organization_id=membership.organization_id,
                                 membership_id=membership.id, competency=competency, level=level,
                                 attempt_id=latest.id if latest else None,
                                 validated_by_id=by.id, note=(note or "").strip() or None)
    db.session.add(validation)
    db.session.flush()
    if latest is not None:
        refresh_current_levels(membership=membership, attempt=latest)
    return validation


def refresh_current_levels(*, membership: Membership, attempt: Attempt) -> None:
    """Rewrite a learner's current levels (``skill_levels``) from their latest attempt.

    :param attempt: the learner's latest submitted attempt.
    """
    validated = queries.validated_levels([membership.id]).get(membership.id, {})
    db.session.execute(delete(SkillLevel).where(SkillLevel.membership_id == membership.id))
    for code, measured in (attempt.levels or {}).items():
        v = validated.get(code)
        db.session.add(SkillLevel(
            organization_id=membership.organization_id, membership_id=membership.id,
            attempt_id=attempt.id, competency=code, measured=measured,
            shown=scoring.reported_level(measured, v),
            pending=scoring.pending_validation(measured, v)))
    db.session.flush()
