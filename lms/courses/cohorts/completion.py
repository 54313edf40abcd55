"""Completion rules: pure functions from a module's statements to its progress state."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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


@dataclass
class Tally:
    """What the completion rules read of a module's facts, folded in the order of the
    statements (see :func:`tally`): kept on the progress row, so that the facts of new
    statements are added to it without reading the learner's earlier ones again. It holds
    what the module's shape (lessons, quizzes, sessions, rule) made of them: with another
    shape, the facts are folded again from the first.
    """

    any: bool = False  # at least one fact
    viewed: set[str] = field(default_factory=set)  # the module's lessons viewed
    best: dict[str, float] = field(default_factory=dict)  # best score per quiz
    passed: set[str] = field(default_factory=set)  # quizzes passed
    failed: set[str] = field(default_factory=set)  # quizzes failed
    direct: bool = False  # completed (or passed) about the module itself
    direct_failed: bool = False  # failed (or success false) about the module itself
    attended: bool = False  # one of the module's sessions (any, if it has none)
    module_score: float | None = None  # the last score about the module itself

    def dumps(self) -> str:
        """The tally as the progress row keeps it (compact JSON)."""
        return json.dumps([self.any, sorted(self.viewed), self.best, sorted(self.passed),
                           sorted(self.failed), self.direct, self.direct_failed, self.attended,
                           self.module_score], separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> Tally:
        """A tally from :meth:`dumps`."""
        found, viewed, best, passed, failed, direct, direct_failed, attended, score = \
            json.loads(text)
        return cls(found, set(viewed), best, set(passed), set(failed), direct, direct_failed,
                   attended, score)


def tally(shape: ModuleShape, facts: Iterable[Fact], start: Tally | None = None) -> Tally:
    """Fold ``facts`` (in the order of their statements) into ``start`` (changed, and
    returned) or a new tally.
    """
    t = Tally() if start is None else start
    marks = shape.quiz_pass_marks or {}
    rule_mark = shape.rule.get("pass_mark")
    for f in facts:
        t.any = True
        if f.verb == EXPERIENCED_VERB and f.object_id in shape.lesson_iris:
            t.viewed.add(f.object_id)
        if f.object_id in marks and f.verb in (PASSED_VERB, FAILED_VERB):
            if f.score is not None:
                t.best[f.object_id] = max(t.best.get(f.object_id, 0.0), f.score)
            mark = rule_mark if rule_mark is not None else marks[f.object_id]
            if f.verb == PASSED_VERB and (f.score is None or f.score >= mark):
                t.passed.add(f.object_id)
            else:
                t.failed.add(f.object_id)
        if f.object_id == shape.module_iri:
            # A completed or passed statement about the module itself completes it whatever
            # the rule: that is how an external xAPI package (or a later review step) says so.
            if f.verb == COMPLETED_VERB or (f.verb == PASSED_VERB and f.success is not False):
                t.direct = True
            # A package (or another tool) that says the learner failed the module itself:
            # "failed", or any result with success false about it, until something completes it.
            if f.verb == FAILED_VERB or f.success is False:
                t.direct_failed = True
            if f.score is not None and f.verb in (PASSED_VERB, FAILED_VERB, COMPLETED_VERB):
                t.module_score = f.score
        if f.verb == ATTENDED_VERB and (not shape.session_iris
                                        or f.object_id in shape.session_iris):
            t.attended = True
    return t


def evaluate(shape: ModuleShape, facts: Iterable[Fact] | Tally) -> Outcome:
    """Apply the module's completion rule to its (non-voided) facts, or to their tally."""
    t = facts if isinstance(facts, Tally) else tally(shape, facts)
    rule_type = shape.rule.get("type")
    marks = dict(shape.quiz_pass_marks or {})
    lessons_done = sum(1 for i in shape.lesson_iris if i in t.viewed)
    if rule_type == "attended":
        done = t.attended
    elif rule_type == "quiz_passed":
        done = bool(marks) and set(marks) <= t.passed
    elif rule_type == "lessons_viewed":
        done = bool(shape.lesson_iris) and lessons_done == len(shape.lesson_iris)
    else:  # exercise_approved, followups_held, xapi_completed: said by a module statement
        done = False
    done = done or t.direct
    steps = len(shape.lesson_iris) + len(marks)
    if done:
        state, percent = "completed", 100
    else:
        percent = int(100 * (lessons_done + len(t.passed & set(marks))) / steps) \
            if steps else 0
        if t.failed - t.passed or t.direct_failed:
            state = "failed"
        elif t.any:
            state = "in_progress"
        else:
            state = "not_started"
    # No quiz of ours: the package's own score about the module, if any.
    score = max(t.best.values()) if t.best else t.module_score
    return Outcome(state, score, percent)
