"""Completion rules as pure functions of a module's facts."""

from __future__ import annotations

from lms.courses.cohorts.completion import Fact, ModuleShape, evaluate, fact_from_statement

ADL = "http://adlnet.gov/expapi/verbs/"
MOD = "https://r.test/xapi/activities/module/1"
L1, L2 = "https://r.test/xapi/activities/lesson/1", "https://r.test/xapi/activities/lesson/2"
Q1 = "https://r.test/xapi/activities/quiz/1"
S1 = "https://r.test/xapi/activities/session/1"


def elearning(rule):
    return ModuleShape(kind="elearning", rule=rule, module_iri=MOD, lesson_iris=(L1, L2),
                       quiz_pass_marks={Q1: 80})


def test_nothing_yet():
    outcome = evaluate(elearning({"type": "quiz_passed"}), [])
    assert (outcome.state, outcome.score, outcome.percent) == ("not_started", None, 0)


def test_quiz_rule_counts_lessons_in_the_bar_and_needs_the_pass_mark():
    facts = [Fact(ADL + "experienced", L1), Fact(ADL + "failed", Q1, 50.0, False)]
    outcome = evaluate(elearning({"type": "quiz_passed"}), facts)
    assert (outcome.state, outcome.score, outcome.percent) == ("failed", 50.0, 33)
    facts.append(Fact(ADL + "passed", Q1, 90.0, True))
    outcome = evaluate(elearning({"type": "quiz_passed"}), facts)
    assert (outcome.state, outcome.score, outcome.percent) == ("completed", 90.0, 100)
    # A stricter rule than the quiz's own pass mark wins.
    assert evaluate(elearning({"type": "quiz_passed", "pass_mark": 95}), facts).state == "failed"


def test_lessons_viewed_rule():
    shape = elearning({"type": "lessons_viewed"})
    assert evaluate(shape, [Fact(ADL + "experienced", L1)]).state == "in_progress"
    both = [Fact(ADL + "experienced", L1), Fact(ADL + "experienced", L2)]
    assert evaluate(shape, both).state == "completed"


def test_attended_rule_needs_a_session_of_the_module():
    shape = ModuleShape(kind="workshop", rule={"type": "attended"}, module_iri=MOD,
                        session_iris=frozenset({S1}))
    assert evaluate(shape, [Fact(ADL + "attended", S1)]).state == "completed"
    assert evaluate(shape, [Fact(ADL + "attended", S1 + "0")]).state == "in_progress"


def test_the_module_itself_completed_or_passed_completes_any_rule():
    for rule in ({"type": "exercise_approved"}, {"type": "followups_held", "count": 2},
                 {"type": "xapi_completed"}, {"type": "quiz_passed"}):
        assert evaluate(elearning(rule), [Fact(ADL + "completed", MOD)]).state == "completed"
    # A failed attempt at the module itself (a package's "failed", or success false) shows
    # as failed until something completes it.
    assert evaluate(elearning({"type": "xapi_completed"}),
                    [Fact(ADL + "passed", MOD, None, False)]).state == "failed"
    failed = evaluate(elearning({"type": "quiz_passed"}), [Fact(ADL + "failed", MOD, 40.0, False)])
    assert (failed.state, failed.score) == ("failed", 40.0)
    assert evaluate(elearning({"type": "xapi_completed"}), [
        Fact(ADL + "failed", MOD, 40.0, False), Fact(ADL + "passed", MOD, 90.0, True)
    ]).state == "completed"


def test_fact_from_statement_reads_scaled_or_raw_scores():
    st = {"verb": {"id": ADL + "passed"}, "object": {"id": Q1},
          "result": {"score": {"raw": 7, "max": 10}, "success": True}}
    assert fact_from_statement(st) == Fact(ADL + "passed", Q1, 70.0, True)
    st["result"] = {"score": {"scaled": 0.85}}
    assert fact_from_statement(st).score == 85.0
