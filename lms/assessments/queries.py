"""Reads for skill mapping: questionnaires offered, attempts, profiles and the team map."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import case, func, select

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
    SkillLevel,
    TargetProfile,
)
from lms.extensions import db

DEFAULT_FRAMEWORK = "relais-default"


def builtin_framework() -> SkillFramework | None:
    """The built-in framework (``relais-default``)."""
    return db.session.scalar(select(SkillFramework).where(
        SkillFramework.organization_id.is_(None), SkillFramework.key == DEFAULT_FRAMEWORK)) \
        or db.session.scalar(select(SkillFramework).where(
            SkillFramework.organization_id.is_(None)).order_by(SkillFramework.id).limit(1))


def org_framework(organization_id: int) -> SkillFramework | None:
    """The organization's own copy of the framework, if it made one."""
    return db.session.scalar(select(SkillFramework).where(
        SkillFramework.organization_id == organization_id))


def default_framework(organization_id: int | None = None) -> SkillFramework | None:
    """The framework in use: the organization's copy if it has one, else the built-in one."""
    own = org_framework(organization_id) if organization_id is not None else None
    return own or builtin_framework()


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
    assessed: bool = True  # False: the attempt did not measure it (0 means "not assessed")


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
    fw = framework or default_framework(membership.organization_id)
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
            target=wanted.get(code, 0), assessed=code in measured_levels)
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
        """Whether the learner has answered a skill questionnaire."""
        return self.cells is not None

    @property
    def levels(self) -> dict[str, int]:
        """The learner's level per competency code (empty if not answered)."""
        return {c.code: c.level for c in self.cells or ()}

    @property
    def targets(self) -> dict[str, int]:
        """The target level per competency code (empty if not answered)."""
        return {c.code: c.target for c in self.cells or ()}


# Learners read at once when the whole map is walked (the CSV): one query for their levels and
# one for their dates per batch, and no more than a batch in memory.
MAP_BATCH = 500


def _learners(organization_id: int, team: str | None, job_family: str | None,
              members: Any = None) -> Any:
    stmt = (select(Membership.id, User.display_name, User.email, Membership.team,
                   Membership.job_family).join(User)
            .where(Membership.organization_id == organization_id,
                   Membership.role == Role.LEARNER))
    if members is not None:
        stmt = stmt.where(Membership.id.in_(members))
    if team:
        stmt = stmt.where(Membership.team == team)
    if job_family:
        stmt = stmt.where(Membership.job_family == job_family)
    return stmt


def _answered() -> Any:
    return select(SkillLevel.id).where(SkillLevel.membership_id == Membership.id).exists()


def _fill(rows: list[MapRow], fw: SkillFramework) -> list[MapRow]:
    """Give each row its cells, in framework order, with the targets of its job family; rows
    of learners without levels keep ``cells`` at ``None``. Returns ``rows``.
    """
    if not rows:
        return rows
    by_member: dict[int, dict[str, tuple[int, int | None]]] = {}
    attempt_of: dict[int, int] = {}
    # Core rows on the session's connection: thousands of plain tuples need no ORM loading.
    conn = db.session.connection()
    # By membership alone (the rows are the organization's members): the unique index on
    # (membership, competency) answers it, where the organization's index would be scanned.
    for mid, code, shown, pending, attempt_id in conn.execute(
            select(SkillLevel.membership_id, SkillLevel.competency, SkillLevel.shown,
                   SkillLevel.pending, SkillLevel.attempt_id)
            .where(SkillLevel.membership_id.in_([r.member_id for r in rows]))):
        by_member.setdefault(mid, {})[code] = (shown, pending)
        attempt_of[mid] = attempt_id
    # One small query for the dates, rather than joining attempts to every level row.
    submitted = dict(conn.execute(select(Attempt.id, Attempt.submitted_at).where(
        Attempt.id.in_(set(attempt_of.values())))).all()) if attempt_of else {}
    codes = [c.code for c in fw.competencies]
    targets = targets_by_family(fw)
    for row in rows:
        found = by_member.get(row.member_id)
        if found is None:
            continue
        wanted = targets.get(row.job_family or "other") or targets.get("other") or {}
        row.submitted_at = submitted.get(attempt_of[row.member_id])
        cells = []
        for code in codes:
            shown, pending = found.get(code, (0, None))
            cells.append(MapCell(code, shown, wanted.get(code, 0), pending))
        row.cells = cells
    return rows


def map_rows(organization_id: int, team: str | None = None, job_family: str | None = None,
             members: Any = None, *, answered: bool | None = None, offset: int = 0,
             limit: int | None = None) -> list[MapRow]:
    """One page of the learners selected, by name, with their cells: those who answered
    (``answered=True``), those who have not (``False``) or both (``None``).

    ``members``, if given, is a select() of the membership ids to keep (a cohort).
    """
    stmt = _learners(organization_id, team, job_family, members)
    if answered is not None:
        stmt = stmt.where(_answered() if answered else ~_answered())
    rows = [MapRow(*r) for r in db.session.execute(
        stmt.order_by(User.name_key, User.id).offset(offset).limit(limit))]
    fw = default_framework(organization_id) if answered is not False else None
    return _fill(rows, fw) if fw is not None else rows


def iter_map_rows(organization_id: int, team: str | None = None,
                  job_family: str | None = None, members: Any = None) -> Iterator[MapRow]:
    """Every learner selected, by name, with their cells, read :data:`MAP_BATCH` at a time
    from one cursor: memory stays flat whatever the number of learners (the CSV streams it).
    """
    fw = default_framework(organization_id)
    # Through the session, not its connection: a dashboard's read may go to the replica.
    result = db.session.execute(
        _learners(organization_id, team, job_family, members)
        .order_by(User.name_key, User.id), execution_options={"yield_per": MAP_BATCH})
    for batch in result.partitions():
        rows = [MapRow(*r) for r in batch]
        yield from (_fill(rows, fw) if fw is not None else rows)


def team_map(organization_id: int, team: str | None = None,
             job_family: str | None = None, members: Any = None) -> list[MapRow]:
    """Every learner selected with their current levels against their targets, by name (a
    list: for a large organization walk :func:`iter_map_rows` or page :func:`map_rows`).
    """
    return list(iter_map_rows(organization_id, team, job_family, members))


@dataclass
class MapSummary:
    """What the map says of everyone selected, whatever the page shown."""

    learners: int  # selected, answered or not
    answered: int
    averages: dict[str, float]  # shown level per competency over those who answered
    average_targets: dict[str, float]  # their targets (job families may differ)


def map_summary(organization_id: int, team: str | None = None, job_family: str | None = None,
                members: Any = None) -> MapSummary:
    """Counts and averages over every learner selected, computed in SQL (three queries).

    An answered learner without a level for a competency counts as 0 there, as the map's cell
    shows it.
    """
    flagged = _learners(organization_id, team, job_family, members).add_columns(
        case((_answered(), 1), else_=0).label("answered")).subquery()
    counts = db.session.execute(
        select(flagged.c.job_family, flagged.c.answered, func.count())
        .group_by(flagged.c.job_family, flagged.c.answered)).all()
    families: dict[str | None, int] = {f: n for f, has, n in counts if has}
    learners, answered = sum(n for *_, n in counts), sum(families.values())
    fw = default_framework(organization_id)
    if fw is None or not answered:
        return MapSummary(learners, answered, {}, {})
    codes = [c.code for c in fw.competencies]
    filters = [SkillLevel.organization_id == organization_id, Membership.role == Role.LEARNER,
               SkillLevel.competency.in_(codes)]
    if team:
        filters.append(Membership.team == team)
    if job_family:
        filters.append(Membership.job_family == job_family)
    if members is not None:
        filters.append(Membership.id.in_(members))
    sums = dict(db.session.execute(
        select(SkillLevel.competency, func.sum(SkillLevel.shown))
        .join(Membership, Membership.id == SkillLevel.membership_id)
        .where(*filters).group_by(SkillLevel.competency)).all())
    # Targets depend on the job family: weigh each family's targets by its learners.
    targets = targets_by_family(fw)
    wanted = {f: targets.get(f or "other") or targets.get("other") or {} for f in families}
    return MapSummary(
        learners, answered, {code: float(sums.get(code) or 0) / answered for code in codes},
        {code: sum(n * wanted[f].get(code, 0) for f, n in families.items()) / answered
         for code in codes})


@dataclass
class MapPage:
    """One page of the learners who answered, with the summary of everyone selected and the
    first of those who have not answered, by name.
    """

    rows: list[MapRow]
    page: int
    pages: int
    size: int
    summary: MapSummary
    missing: list[MapRow]
    missing_count: int

    @property
    def answered(self) -> int:
        """How many learners selected have answered (on every page)."""
        return self.summary.answered

    @property
    def averages(self) -> dict[str, float]:
        """The average shown level per competency over everyone selected who answered."""
        return self.summary.averages

    @property
    def average_targets(self) -> dict[str, float]:
        """The average target per competency over the same learners."""
        return self.summary.average_targets

    @property
    def first(self) -> int:
        """The rank of the page's first learner among those who answered (1-based)."""
        return (self.page - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """The rank of the page's last learner."""
        return self.first + len(self.rows) - 1 if self.rows else 0


def map_page(organization_id: int, team: str | None = None, job_family: str | None = None,
             members: Any = None, *, page: int = 1, size: int = 50,
             missing_shown: int = 200) -> MapPage:
    """Page ``page`` of ``size`` learners who answered (the last page when past it, the first
    below 1), with the summary of everyone selected and the first ``missing_shown`` of those
    who have not answered.
    """
    summary = map_summary(organization_id, team, job_family, members)
    pages = max(1, -(-summary.answered // size))
    page = min(max(page, 1), pages)
    rows = map_rows(organization_id, team, job_family, members, answered=True,
                    offset=(page - 1) * size, limit=size) if summary.answered else []
    missing_count = summary.learners - summary.answered
    missing = map_rows(organization_id, team, job_family, members, answered=False,
                       limit=missing_shown) if missing_count else []
    return MapPage(rows, page, pages, size, summary, missing, missing_count)


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
