"""Fixtures for skill mapping: the built-in content loaded, and a learner ready to answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lms.assessments import queries, services
from lms.extensions import db


@pytest.fixture()
def content() -> Any:
    """Load the default framework and the built-in questionnaire; returns the framework."""
    services.load_builtin_content()
    db.session.commit()
    return queries.default_framework()


@pytest.fixture()
def questionnaire(content: Any) -> Any:
    return queries.builtin_questionnaires()[0]


@pytest.fixture()
def answer_as() -> Any:
    """Return ``answer_as(attempt, levels, overclaim=())``: answer every remaining screen as a
    person who masters ``levels`` (C1…C8, default 0) and over-rates ``overclaim``."""
    from lms.assessments.demo import answers_for

    def answer(attempt: Any, levels: dict[str, int], overclaim: Any = ()) -> None:
        answers_for(attempt, {f"C{i}": levels.get(f"C{i}", 0) for i in range(1, 9)},
                    set(overclaim))

    return answer


@pytest.fixture()
def take(questionnaire: Any, answer_as: Any) -> Any:
    """Return ``take(user, levels, overclaim=(), days_ago=0)``: a submitted attempt of the
    user's first membership."""

    def do(user: Any, levels: dict[str, int], overclaim: Any = (), days_ago: int = 0) -> Any:
        attempt, _ = services.start_attempt(membership=user.memberships[0],
                                            questionnaire=questionnaire)
        answer_as(attempt, levels, overclaim)
        services.submit_attempt(attempt=attempt)
        attempt.submitted_at = attempt.submitted_at - timedelta(days=days_ago)
        db.session.commit()
        return attempt

    return do
