"""The adaptive skill ladder and the levels it reports: pure functions, no database.

Each competency is a ladder of level-tagged items. At each level the learner sees a can-do
statement (never / with help / alone / I teach it) and a situational-judgement item with a keyed
best answer. The rule (DESIGN.md §5, shown to learners on their results page):

* start at level 3, with ``floor = 0`` (nothing shown yet) and ``ceiling = 6`` (nothing refuted);
* a level is *validated* when the judgement item is right AND the can-do answer is "alone" or
  better: the floor rises to that level and the level above is asked next;
* otherwise the ceiling falls to that level and the level below is asked next;
* stop when ``ceiling == floor + 1``: that takes at most three steps (3→4→5, 3→4, 3→2, 3→2→1);
* the reported level is the floor; a higher self-rating is reported apart as "declared", never
  averaged in; levels 4 and 5 count only once a trainer or coach has validated them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

MIN_LEVEL = 0  # not assessed / nothing shown
MAX_LEVEL = 5
START_LEVEL = 3
MAX_STEPS = 3
# Levels a trainer or coach must confirm before they count.
VALIDATION_LEVELS = (4, 5)


class CanDo(enum.StrEnum):
    """The answer to a can-do statement, from least to most autonomy."""

    NEVER = "never"
    WITH_HELP = "with_help"
    ALONE = "alone"
    TEACH = "teach"

    @property
    def rank(self) -> int:
        """The answer's place, from least (0) to most autonomy."""
        return list(CanDo).index(self)


class Frequency(enum.StrEnum):
    """How often the learner does something today (habits; informative, not scored)."""

    NEVER = "never"
    RARELY = "rarely"
    MONTHLY = "monthly"
    WEEKLY = "weekly"
    DAILY = "daily"


def step_validated(can_do: CanDo | None, judgement_right: bool | None) -> bool:
    """Whether one ladder step validates its level.

    Both parts must agree: the judgement item right and the can-do answer "alone" or better.
    When a trainer removed one of the two items from a level, the other one decides alone.

    :param can_do: the can-do answer, ``None`` when the level has no can-do item.
    :param judgement_right: whether the keyed answer was chosen, ``None`` without such an item.
    """
    if can_do is None and judgement_right is None:
        return False
    can_ok = can_do is None or can_do.rank >= CanDo.ALONE.rank
    judged_ok = judgement_right is None or judgement_right
    return can_ok and judged_ok


@dataclass(frozen=True)
class Step:
    """One level asked on a ladder and whether it was validated."""

    level: int
    validated: bool


@dataclass(frozen=True)
class Ladder:
    """Where a competency's ladder stands after replaying some step outcomes."""

    floor: int
    ceiling: int
    steps: tuple[Step, ...]
    next_level: int | None  # the level to ask now, None when finished

    @property
    def done(self) -> bool:
        """Whether the ladder has settled (no further level to ask about)."""
        return self.next_level is None

    @property
    def level(self) -> int:
        """The measured level: the floor (meaningful once ``done``)."""
        return self.floor


def ladder(outcomes: Sequence[bool], available: Iterable[int] = range(1, MAX_LEVEL + 1)) -> Ladder:
    """Replay step outcomes on a ladder that starts at level 3.

    :param outcomes: whether each asked level was validated, in the order they were asked;
        outcomes beyond the end of the ladder are ignored.
    :param available: levels that have items; the ladder stops (keeping its floor) when it would
        have to ask a level that has none.
    """
    levels = set(available)
    floor, ceiling = MIN_LEVEL, MAX_LEVEL + 1
    steps: list[Step] = []
    current = START_LEVEL
    for validated in outcomes:
        if ceiling == floor + 1 or current not in levels:
            break
        steps.append(Step(current, validated))
        if validated:
            floor = current
            current = current + 1
        else:
            ceiling = current
            current = current - 1
    finished = ceiling == floor + 1 or current not in levels
    return Ladder(floor=floor, ceiling=ceiling, steps=tuple(steps),
                  next_level=None if finished else current)


def declared_level(can_do_answers: Mapping[int, CanDo]) -> int:
    """The level the learner claims: the highest level answered "alone" or "I teach it".

    :param can_do_answers: can-do answers by the level of their item.
    """
    claimed = [lvl for lvl, answer in can_do_answers.items() if answer.rank >= CanDo.ALONE.rank]
    return max(claimed, default=MIN_LEVEL)


def reported_level(measured: int, validated: int | None = None) -> int:
    """The level shown for a competency, once trainer validation is taken into account.

    Levels 4 and 5 from the questionnaire wait for a trainer: until then the level shown is 3.
    A trainer's validation at 4 or 5 counts even when the questionnaire measured less, because
    the trainer observed the learner at work.

    :param measured: the ladder's floor.
    :param validated: the highest level a trainer validated for this competency, if any.
    """
    shown = min(measured, START_LEVEL)
    if validated is not None and validated in VALIDATION_LEVELS:
        shown = max(shown, validated)
    return max(MIN_LEVEL, min(shown, MAX_LEVEL))


def pending_validation(measured: int, validated: int | None = None) -> int | None:
    """The level (4 or 5) the questionnaire measured that still waits for a trainer, if any."""
    if measured in VALIDATION_LEVELS and (validated is None or validated < measured):
        return measured
    return None


@dataclass(frozen=True)
class Gap:
    """How far a competency is below its target."""

    code: str
    level: int
    target: int

    @property
    def size(self) -> int:
        """How many levels are missing to reach the target (0 once reached)."""
        return max(0, self.target - self.level)


def gaps(levels: Mapping[str, int], targets: Mapping[str, int]) -> list[Gap]:
    """Competencies below their target, the widest gap first (then by code)."""
    found = [Gap(code, levels.get(code, MIN_LEVEL), target) for code, target in targets.items()
             if levels.get(code, MIN_LEVEL) < target]
    return sorted(found, key=lambda g: (-g.size, g.code))


# --- a questionnaire's adaptive path -----------------------------------------------------------

CAN_DO_TYPE = "can_do"
FREQUENCY_TYPE = "frequency"
JUDGEMENT_TYPES = ("single_choice", "multiple_choice")


@dataclass(frozen=True)
class Item:
    """What scoring needs to know of a question."""

    key: str
    type: str
    competency: str
    level: int
    options: tuple[str, ...] = ()
    keyed: frozenset[str] = frozenset()  # the best answer(s) of a judgement item


def answer_error(item: Item, value: object) -> str | None:
    """Why ``value`` is not a valid answer to ``item`` (``None`` when it is)."""
    if item.type == CAN_DO_TYPE:
        allowed = [c.value for c in CanDo]
    elif item.type == FREQUENCY_TYPE:
        allowed = [f.value for f in Frequency]
    elif item.type == "single_choice":
        allowed = list(item.options)
    else:
        if (not isinstance(value, list) or not value
                or not all(isinstance(v, str) and v in item.options for v in value)
                or len(set(value)) != len(value)):
            return f"choose one or more of: {', '.join(item.options)}"
        return None
    if not isinstance(value, str) or value not in allowed:
        return f"choose one of: {', '.join(allowed)}"
    return None


def judged_right(item: Item, value: object) -> bool:
    """Whether a judgement answer is the keyed one (all keyed options and only them)."""
    chosen = {value} if isinstance(value, str) else set(value or ())  # type: ignore[call-overload]
    return chosen == set(item.keyed)


@dataclass(frozen=True)
class CompetencyOutcome:
    """Where one competency stands: its ladder, the declared level and the items on its path."""

    code: str
    ladder: Ladder
    declared: int
    asked: tuple[str, ...]


@dataclass(frozen=True)
class Progress:
    """The state of an attempt: per-competency ladders and what to ask now."""

    outcomes: tuple[CompetencyOutcome, ...]
    current: tuple[str, ...]  # item keys to ask on the next screen; empty when finished
    current_competency: str | None  # None when asking habits or finished
    habits_pending: bool

    @property
    def finished(self) -> bool:
        """Whether nothing is left to ask."""
        return not self.current

    @property
    def levels(self) -> dict[str, int]:
        """The measured level of each competency, by code."""
        return {o.code: o.ladder.level for o in self.outcomes}

    @property
    def declared(self) -> dict[str, int]:
        """The level the learner declared for each competency, by code."""
        return {o.code: o.declared for o in self.outcomes}

    @property
    def fraction(self) -> float:
        """Share of the questionnaire done, for a progress bar (0 to 1)."""
        total = len(self.outcomes) + 1
        done = sum(1 for o in self.outcomes if o.ladder.done)
        current = next((o for o in self.outcomes if not o.ladder.done), None)
        part = len(current.ladder.steps) / MAX_STEPS if current else 0.0
        if self.finished:
            return 1.0
        return min(1.0, (done + part) / total)


def progress(items: Sequence[Item], answers: Mapping[str, object],
             order: Sequence[str] = ()) -> Progress:
    """Replay an attempt's answers on each competency's ladder and find what to ask next.

    Competencies are asked one after the other (in ``order``, then by code); the habit
    (frequency) items come last on one screen. Answers to items off the path are ignored.

    :param items: the questionnaire's items, in questionnaire order.
    :param answers: the answers so far, by item key (assumed valid: see :func:`answer_error`).
    :param order: competency codes in the framework's order.
    """
    by_comp: dict[str, dict[int, list[Item]]] = {}
    habits = [i for i in items if i.type == FREQUENCY_TYPE]
    for item in items:
        if item.type != FREQUENCY_TYPE:
            by_comp.setdefault(item.competency, {}).setdefault(item.level, []).append(item)
    rank = {code: n for n, code in enumerate(order)}
    codes = sorted(by_comp, key=lambda c: (rank.get(c, len(rank)), c))
    outcomes: list[CompetencyOutcome] = []
    current: tuple[str, ...] = ()
    current_code: str | None = None
    for code in codes:
        levels = by_comp[code]
        results: list[bool] = []
        asked: list[str] = []
        can_do: dict[int, CanDo] = {}
        while True:
            state = ladder(results, levels)
            if state.done:
                break
            step = _step_items(levels[state.next_level])  # type: ignore[index]
            if any(i.key not in answers for i in step):
                if not current:
                    current, current_code = tuple(i.key for i in step), code
                break
            asked.extend(i.key for i in step)
            cd = next((CanDo(str(answers[i.key])) for i in step if i.type == CAN_DO_TYPE), None)
            right = next((judged_right(i, answers[i.key]) for i in step
                          if i.type in JUDGEMENT_TYPES), None)
            if cd is not None:
                can_do[state.next_level] = cd  # type: ignore[index]
            results.append(step_validated(cd, right))
        outcomes.append(CompetencyOutcome(code, state, declared_level(can_do), tuple(asked)))
    habits_pending = any(i.key not in answers for i in habits)
    if not current and habits_pending:
        current = tuple(i.key for i in habits)
    return Progress(tuple(outcomes), current, current_code, habits_pending)


def _step_items(items: list[Item]) -> list[Item]:
    """The items of one ladder step: the first can-do and the first judgement item of a level."""
    step = [next((i for i in items if i.type == CAN_DO_TYPE), None),
            next((i for i in items if i.type in JUDGEMENT_TYPES), None)]
    return [i for i in step if i is not None]
