"""What other packages offer the skill pages, wired explicitly at app creation.

assessments comes before courses in the dependency order (DESIGN.md), so it cannot import
programs or cohorts. Instead courses registers, from its ``init_app``, a *module finder*
(training modules that target given competencies) and a *cohort filter* (cohorts to choose on
the team map, and their members). Without them the pages fall back to descriptor advice only
and no cohort filter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lms.core.registry import Registry


@dataclass(frozen=True)
class ModuleSuggestion:
    """A training module that works on some competencies; ``url`` is None when the learner
    has no page to open it (not enrolled in its program).
    """

    title: str
    kind: str
    program_title: str
    url: str | None
    competencies: tuple[str, ...] = field(default_factory=tuple)
    enrolled: bool = False


# fn(organization_id, competency_codes, learner_user_id) -> list[ModuleSuggestion]
ModuleFinder = Callable[[int, list[str], int], list[ModuleSuggestion]]


@dataclass(frozen=True)
class CohortFilter:
    """``options(organization_id)`` → [(cohort id, label)]; ``members(organization_id,
    cohort_id)`` → a select() of the membership ids in that cohort (used as a subquery).
    """

    options: Callable[[int], list[tuple[int, str]]]
    members: Callable[[int, int], Any]


_finders: Registry[ModuleFinder] = Registry("module finders")
_cohort_filter: list[CohortFilter] = []


def register_module_finder(fn: ModuleFinder) -> None:
    """Add a source of training modules (idempotent)."""
    _finders.add(fn)


def register_cohort_filter(cohort_filter: CohortFilter) -> None:
    """Set the cohort filter of the team map (the last registered wins)."""
    _cohort_filter[:] = [cohort_filter]


def modules_for(organization_id: int, codes: list[str],
                learner_user_id: int) -> dict[str, list[ModuleSuggestion]]:
    """Modules by competency code, in the finders' order; a code no module targets is absent."""
    out: dict[str, list[ModuleSuggestion]] = {}
    if not codes:
        return out
    for finder in _finders:
        for suggestion in finder(organization_id, list(codes), learner_user_id):
            for code in suggestion.competencies:
                if code in codes:
                    out.setdefault(code, []).append(suggestion)
    return out


def has_module_finders() -> bool:
    """Whether any package offers training modules."""
    return bool(_finders)


def cohort_options(organization_id: int) -> list[tuple[int, str]]:
    """The cohorts to choose from on the team map (none without a cohort filter)."""
    return _cohort_filter[0].options(organization_id) if _cohort_filter else []


def cohort_members(organization_id: int, value: str | None) -> tuple[int | None, Any]:
    """The chosen cohort id and a select() of its membership ids; (None, None) if none chosen.

    :raise LookupError: not a cohort of this organization (or no cohort filter).
    """
    if not value:
        return None, None
    try:
        cohort_id = int(value)
    except ValueError:
        raise LookupError(value) from None
    if not _cohort_filter or cohort_id not in dict(_cohort_filter[0].options(organization_id)):
        raise LookupError(value)
    return cohort_id, _cohort_filter[0].members(organization_id, cohort_id)


# -- observed activity, beside the self-assessed levels --------------------------------------

STRENGTHS = ("none", "occasional", "regular")


@dataclass(frozen=True)
class ActivitySignal:
    """What a learner's real activity says about one competency: ``strength`` (one of
    :data:`STRENGTHS`) and ``words``, what was observed, in the reader's language. Evidence
    only: it never raises or lowers a level (DESIGN.md, section 5).
    """

    code: str
    strength: str
    words: str


@dataclass(frozen=True)
class ActivitySource:
    """``signals(organization_id, user_ids)`` → {user id: {code: signal}} for the people whose
    activity may be counted (others absent); ``remarks(organization_id, user_id)`` → sentences
    for the learner's own results (own words in shares, posts near-identical to colleagues').
    """

    signals: Callable[[int, list[int]], dict[int, dict[str, ActivitySignal]]]
    remarks: Callable[[int, int], list[str]]


_activity: list[ActivitySource] = []


def register_activity_source(source: ActivitySource) -> None:
    """Set the source of activity signals (the last registered wins)."""
    _activity[:] = [source]


def activity_signals(organization_id: int,
                     user_ids: list[int]) -> dict[int, dict[str, ActivitySignal]]:
    """Activity signals per person and competency ({} without a source)."""
    if not _activity or not user_ids:
        return {}
    return _activity[0].signals(organization_id, user_ids)


def activity_remarks(organization_id: int, user_id: int) -> list[str]:
    """Sentences about one learner's own activity for their results ([] without a source)."""
    return _activity[0].remarks(organization_id, user_id) if _activity else []


def behaviour_gaps(lines: list[Any], signals: dict[str, ActivitySignal]) -> list[Any]:
    """Competency lines (with ``competency``, ``level`` and ``target``) at or above a target of
    2 or more where no activity shows the skill at work: a gap suggested by behaviour, beside
    the questionnaire's gaps (which are not repeated).
    """
    return [x for x in lines
            if x.target >= 2 and x.level >= x.target
            and (s := signals.get(x.competency.code)) is not None and s.strength == "none"]
