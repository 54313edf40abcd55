"""The adaptive ladder and the levels it reports (pure functions, no database)."""

from __future__ import annotations

import itertools

import pytest

from lms.assessments import scoring
from lms.assessments.scoring import CanDo, Item, ladder

# Every path of the ladder: outcomes in the order asked → (levels asked, reported level).
PATHS = [
    ([True, True, True], [3, 4, 5], 5),
    ([True, True, False], [3, 4, 5], 4),
    ([True, False], [3, 4], 3),
    ([False, True], [3, 2], 2),
    ([False, False, True], [3, 2, 1], 1),
    ([False, False, False], [3, 2, 1], 0),
]


@pytest.mark.parametrize(("outcomes", "asked", "level"), PATHS)
def test_every_path_of_the_ladder(outcomes, asked, level):
    state = ladder(outcomes)
    assert [s.level for s in state.steps] == asked
    assert state.done and state.next_level is None
    assert state.level == level == state.floor
    assert state.ceiling == state.floor + 1


def test_the_ladder_starts_at_level_three_and_moves_one_level_per_step():
    assert ladder([]).next_level == 3
    assert ladder([True]).next_level == 4
    assert ladder([False]).next_level == 2
    assert ladder([True, True]).next_level == 5
    assert ladder([False, False]).next_level == 1


def test_outcomes_after_the_end_are_ignored():
    assert ladder([True, False, True, True]) == ladder([True, False])


@pytest.mark.parametrize("outcomes", [list(p) for n in range(0, 6)
                                      for p in itertools.product([True, False], repeat=n)])
def test_properties_for_every_sequence_of_outcomes(outcomes):
    state = ladder(outcomes)
    assert len(state.steps) <= scoring.MAX_STEPS
    assert 0 <= state.level <= 5
    assert state == ladder(list(outcomes))  # deterministic
    # The floor is the highest validated level; the ceiling the lowest refuted one.
    validated = [s.level for s in state.steps if s.validated]
    refuted = [s.level for s in state.steps if not s.validated]
    assert state.floor == max(validated, default=0)
    assert state.ceiling == min(refuted, default=6)
    if len(outcomes) >= 3:
        assert state.done


def test_a_level_without_items_ends_the_ladder_at_the_floor():
    assert ladder([], available=[1, 2, 4, 5]).done
    assert ladder([], available=[1, 2, 4, 5]).level == 0
    state = ladder([True], available=[1, 2, 3])
    assert state.done and state.level == 3


@pytest.mark.parametrize(("can_do", "right", "validated"), [
    (CanDo.NEVER, True, False), (CanDo.WITH_HELP, True, False), (CanDo.ALONE, True, True),
    (CanDo.TEACH, True, True), (CanDo.ALONE, False, False), (CanDo.TEACH, False, False),
    (None, True, True), (None, False, False), (CanDo.ALONE, None, True),
    (CanDo.WITH_HELP, None, False), (None, None, False),
])
def test_a_step_needs_the_right_judgement_and_alone_or_better(can_do, right, validated):
    assert scoring.step_validated(can_do, right) is validated


def test_declared_level_is_the_highest_claimed_level():
    assert scoring.declared_level({3: CanDo.ALONE, 4: CanDo.TEACH, 5: CanDo.WITH_HELP}) == 4
    assert scoring.declared_level({3: CanDo.WITH_HELP, 2: CanDo.NEVER}) == 0


@pytest.mark.parametrize(("measured", "validated", "shown", "pending"), [
    (2, None, 2, None), (3, None, 3, None), (4, None, 3, 4), (5, None, 3, 5),
    (4, 4, 4, None), (5, 4, 4, 5), (5, 5, 5, None), (3, 4, 4, None), (0, None, 0, None),
])
def test_levels_four_and_five_wait_for_a_trainer(measured, validated, shown, pending):
    assert scoring.reported_level(measured, validated) == shown
    assert scoring.pending_validation(measured, validated) == pending


def test_gaps_are_sorted_widest_first():
    found = scoring.gaps({"C1": 1, "C2": 3, "C3": 2}, {"C1": 3, "C2": 3, "C3": 3, "C4": 1})
    assert [(g.code, g.size) for g in found] == [("C1", 2), ("C3", 1), ("C4", 1)]


# --- the whole questionnaire ----------------------------------------------------------------

def _items(codes=("C1", "C2")):
    items = []
    for code in codes:
        for level in range(1, 6):
            items.append(Item(f"{code}-{level}-can", "can_do", code, level))
            items.append(Item(f"{code}-{level}-sjt", "single_choice", code, level,
                              ("a", "b", "c"), frozenset({"b"})))
    items.append(Item("habit", "frequency", "C1", 3))
    return items


def _answer_as(items, true_levels, answers=None):
    """Answer screen by screen as a person with ``true_levels``; returns the final progress."""
    answers = dict(answers or {})
    by_key = {i.key: i for i in items}
    for _ in range(50):
        state = scoring.progress(items, answers, ["C1", "C2"])
        if state.finished:
            return state, answers
        for key in state.current:
            item = by_key[key]
            true = true_levels.get(item.competency, 0)
            if item.type == "can_do":
                answers[key] = "alone" if true >= item.level else "with_help"
            elif item.type == "frequency":
                answers[key] = "weekly"
            else:
                answers[key] = "b" if true >= item.level else "a"
    raise AssertionError("the questionnaire never ends")


@pytest.mark.parametrize("true", range(0, 6))
def test_the_questionnaire_measures_a_consistent_person_exactly(true):
    state, answers = _answer_as(_items(), {"C1": true, "C2": 5 - true})
    assert state.levels == {"C1": true, "C2": 5 - true}
    # Two or three steps per competency (two items each) plus the habit.
    assert 2 * 2 * 2 + 1 <= len(answers) <= 2 * 3 * 2 + 1


def test_competencies_come_one_after_the_other_then_habits():
    items = _items()
    state = scoring.progress(items, {}, ["C2", "C1"])
    assert state.current_competency == "C2"
    assert state.current == ("C2-3-can", "C2-3-sjt")
    assert not state.finished and state.fraction == 0
    all_but_habit = {k: v for k, v in _answer_as(items, {"C1": 2, "C2": 2})[1].items()
                     if k != "habit"}
    state = scoring.progress(items, all_but_habit, ["C1", "C2"])
    assert state.current == ("habit",) and state.current_competency is None


def test_a_self_rating_above_the_measured_level_is_declared_not_averaged():
    items = _items(("C1",))
    answers = {"C1-3-can": "teach", "C1-3-sjt": "a",  # claims it, misjudges the situation
               "C1-2-can": "alone", "C1-2-sjt": "b", "habit": "daily"}
    state = scoring.progress(items, answers)
    assert state.finished
    assert state.levels == {"C1": 2}
    assert state.declared == {"C1": 3}


def test_answer_errors_name_the_allowed_values():
    can, choice = Item("k", "can_do", "C1", 1), Item("m", "multiple_choice", "C1", 1, ("a", "b"))
    assert scoring.answer_error(can, "alone") is None
    assert "with_help" in scoring.answer_error(can, "sometimes")
    assert scoring.answer_error(choice, ["a", "b"]) is None
    assert scoring.answer_error(choice, ["a", "a"]) is not None
    assert scoring.answer_error(choice, "a") is not None
    assert scoring.answer_error(Item("f", "frequency", "C1", 1), "weekly") is None


def test_multiple_choice_is_right_only_with_all_keyed_options():
    item = Item("m", "multiple_choice", "C1", 3, ("a", "b", "c"), frozenset({"a", "b"}))
    assert scoring.judged_right(item, ["b", "a"])
    assert not scoring.judged_right(item, ["a"])
    assert not scoring.judged_right(item, ["a", "b", "c"])
