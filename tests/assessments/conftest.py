"""Fixtures for skill mapping: the built-in content loaded, and a learner ready to answer."""

from __future__ import annotations

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
