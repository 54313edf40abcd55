"""Completion rules: pure functions from a module's statements to its progress state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ADL = "http://adlnet.gov/expapi/verbs/"
COMPLETED_VERB, PASSED_VERB, FAILED_VERB = ADL + "completed", ADL + "passed", ADL + "failed"
ATTENDED_VERB, EXPERIENCED_VERB = ADL + "attended", ADL + "experienced"


@dataclass(frozen=True)
class Fact:
    """What a statement says about a module: verb, object IRI, score in percent, success."""

    verb: str
    object_id: str
    score: float | None = None
    success: bool | None = None


@dataclass(frozen=True)
class ModuleShape:
    """What a module is made of, by activity IRI."""

    kind: str
    rule: Mapping[str, Any]
    module_iri: str
    lesson_iris: tuple[str, ...] = ()
    quiz_pass_marks: Mapping[str, int] | None = None  # quiz IRI → its own pass mark
    session_iris: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Outcome:
    """A module's progress as the completion rules find it: state, score and percent."""

    state: str  # not_started | in_progress | completed | failed
    score: float | None
    percent: int


def fact_from_statement(statement: Mapping[str, Any]) -> Fact:
    """Reduce a stored statement to what completion rules read."""
    result = statement.get("result") or {}
    score = None
    scored = result.get("score") or {}
    if isinstance(scored.get("scaled"), int | float):
        score = round(float(scored["scaled"]) * 100, 2)
    elif isinstance(scored.get("raw"), int | float) and isinstance(scored.get("max"), int | float) \
            and scored["max"]:
        score = round(100 * float(scored["raw"]) / float(scored["max"]), 2)
    success = result.get("success") if isinstance(result.get("success"), bool) else None
    return Fact(statement["verb"]["id"], statement["object"].get("id", ""), score, success)


def changes_nothing(shape: ModuleShape, fact: Fact) -> bool:
    """Whether adding ``fact`` to facts that hold at least one leaves :func:`evaluate`'s
    outcome as it was: not a verb a rule counts (completed, passed, failed, attended), not a
    lesson of the module viewed, not a failure of the module itself (a package's slides,
    ``launched``, ``submitted``…). The progress projection keeps a row as it is for these.
    """
    if fact.verb in (COMPLETED_VERB, PASSED_VERB, FAILED_VERB, ATTENDED_VERB):
        return False
    if fact.verb == EXPERIENCED_VERB and fact.object_id in shape.lesson_iris:
        return False
    return not (fact.object_id == shape.module_iri and fact.success is False)


def evaluate(shape: ModuleShape, facts: Iterable[Fact]) -> Outcome:
    """Apply the module's completion rule to its (non-voided) facts.

    A ``completed`` or ``passed`` statement whose object is the module itself completes it
    whatever the rule: that is how an external xAPI package (or a later review step) says so.
    """
    facts = list(facts)
    rule_type = shape.rule.get("type")
    marks = dict(shape.quiz_pass_marks or {})
    rule_mark = shape.rule.get("pass_mark")
    viewed = {f.object_id for f in facts if f.verb == EXPERIENCED_VERB}
    best: dict[str, float] = {}
    passed_quizzes, failed_quizzes = set(), set()
    for f in facts:
        if f.object_id in marks and f.verb in (PASSED_VERB, FAILED_VERB):
            if f.score is not None:
                best[f.object_id] = max(best.get(f.object_id, 0.0), f.score)
            mark = rule_mark if rule_mark is not None else marks[f.object_id]
            if f.verb == PASSED_VERB and (f.score is None or f.score >= mark):
                passed_quizzes.add(f.object_id)
            else:
                failed_quizzes.add(f.object_id)
    direct = any(f.object_id == shape.module_iri and (
        f.verb == COMPLETED_VERB or (f.verb == PASSED_VERB and f.success is not False))
        for f in facts)
    # A package (or another tool) that says the learner failed the module itself: "failed",
    # or any result with success false about the module, until something completes it.
    direct_failed = any(f.object_id == shape.module_iri and (
        f.verb == FAILED_VERB or f.success is False) for f in facts)
    attended = any(f.verb == ATTENDED_VERB and (not shape.session_iris
                                                or f.object_id in shape.session_iris)
                   for f in facts)
    lessons_done = sum(1 for i in shape.lesson_iris if i in viewed)
    if rule_type == "attended":
        done = attended
    elif rule_type == "quiz_passed":
        done = bool(marks) and set(marks) <= passed_quizzes
    elif rule_type == "lessons_viewed":
        done = bool(shape.lesson_iris) and lessons_done == len(shape.lesson_iris)
    else:  # exercise_approved, followups_held, xapi_completed: said by a module statement
        done = False
    done = done or direct
    steps = len(shape.lesson_iris) + len(marks)
    if done:
        state, percent = "completed", 100
    else:
        percent = int(100 * (lessons_done + len(passed_quizzes & set(marks))) / steps) \
            if steps else 0
        if failed_quizzes - passed_quizzes or direct_failed:
            state = "failed"
        elif facts:
            state = "in_progress"
        else:
            state = "not_started"
    if not best:  # no quiz of ours: the package's own score about the module, if any
        best = {f.object_id: f.score for f in facts
                if f.object_id == shape.module_iri and f.score is not None
                and f.verb in (PASSED_VERB, FAILED_VERB, COMPLETED_VERB)}
    score = max(best.values()) if best else None
    return Outcome(state, score, percent)
