"""Reads for skill mapping: questionnaires offered, attempts, profiles and the team map."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select

from lms.accounts.models import Membership, Role, User
from lms.assessments import scoring
from lms.assessments.models import (
    DRAFT,
    SUBMITTED,
    Attempt,
    Competency,
    LevelValidation,
    Questionnaire,
    SkillFramework,
    TargetProfile,
)
from lms.extensions import db

DEFAULT_FRAMEWORK = "relais-default"


def default_framework() -> SkillFramework | None:
    """The framework in use (the built-in ``relais-default``)."""
    return db.session.scalar(select(SkillFramework).where(
        SkillFramework.key == DEFAULT_FRAMEWORK)) or db.session.scalar(
        select(SkillFramework).order_by(SkillFramework.id).limit(1))


def builtin_questionnaires() -> list[Questionnaire]:
    """Questionnaires shipped with Relais."""
    return list(db.session.scalars(select(Questionnaire).where(
        Questionnaire.organization_id.is_(None)).order_by(Questionnaire.key)))


def org_questionnaires(organization_id: int) -> list[Questionnaire]:
    """An organization's own questionnaires (copies and imports)."""
    return list(db.session.scalars(select(Questionnaire).where(
        Questionnaire.organization_id == organization_id).order_by(Questionnaire.key)))


def offered_questionnaires(organization_id: int) -> list[Questionnaire]:
    """What learners of an organization may take: its published ones, else the built-in ones."""
    own = [q for q in org_questionnaires(organization_id) if q.published]
    return own or builtin_questionnaires()


def visible_questionnaire(organization_id: int, ident: int | str) -> Questionnaire | None:
    """A questionnaire by id or key that this organization may see (its own or built in)."""
    stmt = select(Questionnaire).where(
        (Questionnaire.organization_id == organization_id)
        | Questionnaire.organization_id.is_(None))
    if isinstance(ident, int):
        return db.session.scalar(stmt.where(Questionnaire.id == ident))
    # By key, the organization's own questionnaire wins over a built-in one.
    rows = db.session.scalars(stmt.where(Questionnaire.key == ident)).all()
    return next((q for q in rows if q.organization_id is not None), rows[0] if rows else None)


def draft_attempt(membership_id: int, questionnaire_id: int) -> Attempt | None:
    """The learner's draft of a questionnaire, if one is open."""
    return db.session.scalar(select(Attempt).where(
        Attempt.membership_id == membership_id, Attempt.questionnaire_id == questionnaire_id,
        Attempt.status == DRAFT).order_by(Attempt.id.desc()).limit(1))


def drafts_of(membership_id: int) -> list[Attempt]:
    """The learner's open drafts."""
    return list(db.session.scalars(select(Attempt).where(
        Attempt.membership_id == membership_id, Attempt.status == DRAFT)))


def submitted_attempts(membership_id: int) -> list[Attempt]:
    """The learner's submitted attempts, oldest first (the history across retakes)."""
    return list(db.session.scalars(select(Attempt).where(
        Attempt.membership_id == membership_id, Attempt.status == SUBMITTED)
        .order_by(Attempt.submitted_at, Attempt.id)))


def latest_attempt(membership_id: int) -> Attempt | None:
    """The learner's most recent submitted attempt."""
    return db.session.scalar(select(Attempt).where(
        Attempt.membership_id == membership_id, Attempt.status == SUBMITTED)
        .order_by(Attempt.submitted_at.desc(), Attempt.id.desc()).limit(1))


def validated_levels(membership_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """The highest level a trainer validated, per membership and competency."""
    ids = list(membership_ids)
    out: dict[int, dict[str, int]] = {}
    if not ids:
        return out
    rows = db.session.execute(
        select(LevelValidation.membership_id, LevelValidation.competency,
               func.max(LevelValidation.level))
        .where(LevelValidation.membership_id.in_(ids))
        .group_by(LevelValidation.membership_id, LevelValidation.competency))
    for mid, code, level in rows:
        out.setdefault(mid, {})[code] = level
    return out


def validations_of(membership_id: int) -> list[LevelValidation]:
    """A learner's validations, newest first."""
    return list(db.session.scalars(select(LevelValidation).where(
        LevelValidation.membership_id == membership_id)
        .order_by(LevelValidation.created_at.desc())))


def targets_by_family(framework: SkillFramework) -> dict[str, dict[str, int]]:
    """Target levels per job family."""
    return {t.job_family: dict(t.levels) for t in framework.targets}


def target_profile(framework: SkillFramework, job_family: str | None) -> TargetProfile | None:
    """The target profile of a job family (``other`` when the family has none)."""
    by_family = {t.job_family: t for t in framework.targets}
    return by_family.get(job_family or "other") or by_family.get("other")


@dataclass
class CompetencyLine:
    """One competency in a learner's profile."""

    competency: Competency
    code: str
    level: int  # what is shown: the ladder's floor, levels 4-5 once validated
    measured: int  # the ladder's floor
    declared: int | None  # the self-rating, only when above the measured level
    pending: int | None  # 4 or 5 measured but not yet validated by a trainer
    validated: int | None
    target: int


@dataclass
class SkillProfile:
    """A learner's skill profile from their latest attempt, against their target profile."""

    membership: Membership
    attempt: Attempt | None
    target: TargetProfile | None
    lines: list[CompetencyLine] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)  # shown level by code
    targets: dict[str, int] = field(default_factory=dict)  # target level by code

    @property
    def gaps(self) -> list[tuple[CompetencyLine, int]]:
        """Competencies below target with the gap's size, the widest first."""
        by_code = {x.code: x for x in self.lines}
        return [(by_code[g.code], g.size) for g in scoring.gaps(self.levels, self.targets)]


@dataclass(frozen=True)
class _Frame:
    """The framework read once for many profiles (ORM attribute access is slow in loops)."""

    competencies: list[tuple[str, Competency]]
    targets: dict[str, TargetProfile]

    @classmethod
    def of(cls, fw: SkillFramework) -> _Frame:
        return cls([(c.code, c) for c in fw.competencies], {t.job_family: t for t in fw.targets})

    def target(self, job_family: str | None) -> TargetProfile | None:
        return self.targets.get(job_family or "other") or self.targets.get("other")


def profile_for(membership: Membership, attempt: Attempt | None = None,
                framework: SkillFramework | None = None,
                validated: dict[str, int] | None = None, frame: _Frame | None = None
                ) -> SkillProfile:
    """Build a learner's profile from an attempt (their latest by default)."""
    fw = framework or default_framework()
    attempt = attempt if attempt is not None else latest_attempt(membership.id)
    if fw is None:
        return SkillProfile(membership, attempt, None)
    if validated is None:
        validated = validated_levels([membership.id]).get(membership.id, {})
    frame = frame or _Frame.of(fw)
    target = frame.target(membership.job_family)
    wanted = dict(target.levels) if target else {}
    measured_levels = (attempt.levels or {}) if attempt else {}
    declared_levels = (attempt.declared or {}) if attempt else {}
    profile = SkillProfile(membership, attempt, target)
    for code, comp in frame.competencies:
        measured = measured_levels.get(code, 0)
        declared = declared_levels.get(code, 0)
        v = validated.get(code)
        line = CompetencyLine(
            competency=comp, code=code, level=scoring.reported_level(measured, v),
            measured=measured, declared=declared if declared > measured else None,
            pending=scoring.pending_validation(measured, v), validated=v,
            target=wanted.get(code, 0))
        profile.lines.append(line)
        profile.levels[code] = line.level
        profile.targets[code] = line.target
    return profile


class MapCell(NamedTuple):
    """One learner × competency cell of the team map (a tuple: maps hold thousands)."""

    code: str
    level: int
    target: int
    pending: int | None


@dataclass
class MapRow:
    """One learner on the team map; ``cells`` is ``None`` when they have not answered."""

    member_id: int
    name: str
    email: str
    team: str | None
    job_family: str | None
    submitted_at: datetime | None = None
    cells: list[MapCell] | None = None

    @property
    def answered(self) -> bool:
        return self.cells is not None

    @property
    def levels(self) -> dict[str, int]:
        return {c.code: c.level for c in self.cells or ()}

    @property
    def targets(self) -> dict[str, int]:
        return {c.code: c.target for c in self.cells or ()}


def team_map(organization_id: int, team: str | None = None,
             job_family: str | None = None) -> list[MapRow]:
    """Each learner's shown levels against their targets, by name.

    Reads plain columns rather than ORM objects: a map covers thousands of learners.
    """
    people = (select(Membership.id, User.display_name, User.email, Membership.team,
                     Membership.job_family).join(User)
              .where(Membership.organization_id == organization_id,
                     Membership.role == Role.LEARNER)
              .order_by(User.display_name, User.id))
    if team:
        people = people.where(Membership.team == team)
    if job_family:
        people = people.where(Membership.job_family == job_family)
    rows = [MapRow(*r) for r in db.session.execute(people)]
    fw = default_framework()
    if fw is None or not rows:
        return rows
    newest = (select(Attempt.membership_id, func.max(Attempt.id).label("id"))
              .where(Attempt.organization_id == organization_id, Attempt.status == SUBMITTED)
              .group_by(Attempt.membership_id))
    if team or job_family:  # only the learners shown: a team is a small part of a company
        newest = newest.join(Membership, Membership.id == Attempt.membership_id)
        if team:
            newest = newest.where(Membership.team == team)
        if job_family:
            newest = newest.where(Membership.job_family == job_family)
    latest_ids = newest.subquery()
    latest = {mid: (levels, at) for mid, levels, at in db.session.execute(
        select(Attempt.membership_id, Attempt.levels, Attempt.submitted_at)
        .join(latest_ids, Attempt.id == latest_ids.c.id))}
    # By organization rather than a list of ids: an IN list of 10,000 ids is slow.
    validated: dict[int, dict[str, int]] = {}
    for mid, code, level in db.session.execute(
            select(LevelValidation.membership_id, LevelValidation.competency,
                   func.max(LevelValidation.level))
            .where(LevelValidation.organization_id == organization_id)
            .group_by(LevelValidation.membership_id, LevelValidation.competency)):
        validated.setdefault(mid, {})[code] = level
    codes = [c.code for c in fw.competencies]
    targets = {t.job_family: dict(t.levels) for t in fw.targets}
    reported, pending = scoring.reported_level, scoring.pending_validation
    for row in rows:
        if row.member_id not in latest:
            continue
        levels, row.submitted_at = latest[row.member_id]
        levels = levels or {}
        wanted = targets.get(row.job_family or "other") or targets.get("other") or {}
        checked = validated.get(row.member_id, {})
        cells = []
        for code in codes:
            measured = levels.get(code, 0)
            if measured <= scoring.START_LEVEL and not checked:  # the common case, inlined
                cells.append(MapCell(code, measured, wanted.get(code, 0), None))
            else:
                v = checked.get(code)
                cells.append(MapCell(code, reported(measured, v), wanted.get(code, 0),
                                     pending(measured, v)))
        row.cells = cells
    return rows


def averages(rows: list[MapRow]) -> dict[str, float]:
    """The average shown level per competency over learners who answered."""
    answered = [r.cells for r in rows if r.cells]
    if not answered:
        return {}
    totals: dict[str, int] = {}
    for cells in answered:
        for cell in cells:
            totals[cell.code] = totals.get(cell.code, 0) + cell.level
    return {code: total / len(answered) for code, total in totals.items()}


def average_targets(rows: list[MapRow]) -> dict[str, float]:
    """The average target per competency over the same learners (families may differ)."""
    answered = [r.cells for r in rows if r.cells]
    if not answered:
        return {}
    totals: dict[str, int] = {}
    for cells in answered:
        for cell in cells:
            totals[cell.code] = totals.get(cell.code, 0) + cell.target
    return {code: total / len(answered) for code, total in totals.items()}


def teams(organization_id: int) -> list[str]:
    """The teams of an organization's learners."""
    return [t for t in db.session.scalars(
        select(Membership.team).where(Membership.organization_id == organization_id,
                                      Membership.team.is_not(None))
        .distinct().order_by(Membership.team)) if t]


def job_families(organization_id: int) -> list[str]:
    """The job families present among an organization's members."""
    return [f for f in db.session.scalars(
        select(Membership.job_family).where(Membership.organization_id == organization_id,
                                            Membership.job_family.is_not(None))
        .distinct().order_by(Membership.job_family)) if f]


def attempt_time(attempt: Attempt) -> datetime:
    """When an attempt was submitted (or last changed, for a draft)."""
    return attempt.submitted_at or attempt.updated_at
