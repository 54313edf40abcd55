"""Blended programs: catalogue, programs, modules, cohorts, enrolments, sessions, attendance,
lessons, quizzes and progress (a projection of xAPI statements)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the models, pages, content loader, projection handler, demo step and API."""
    from lms.courses import models  # noqa: F401  (tables known to migrations and tests)
