"""Checks shared by every JSON input (API bodies, the webhook): what the database or the
application could not store or would misread is refused up front with a 422 naming the field,
instead of failing later with a 500.

- integers outside 32 bits (ids, capacities and targets are 32-bit columns on PostgreSQL),
  and numbers that are not finite;
- text with a NUL character or a lone UTF-16 surrogate (neither can be stored as UTF-8);
- dates (``YYYY-MM-DD``, optionally with a time) that do not exist (30 February) or fall
  outside 1900–2100.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DataError
from werkzeug.routing import IntegerConverter, Map

MIN_INT, MAX_INT = -(2**31), 2**31 - 1
MIN_YEAR, MAX_YEAR = 1900, 2100
# A value that is meant as a date: the whole string is an ISO date, or date and time.
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})"
                   r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
MAX_PROBLEMS = 20


def text_problem(text: str, *, dates: bool = True) -> Any:
    """Why ``text`` cannot be stored (a lazy translated message), or None.

    :param dates: also refuse a date-shaped text that does not exist or is out of range.
    """
    if "\x00" in text:
        return _l("NUL characters are not allowed.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _l("Invalid Unicode text (a lone surrogate).")
    match = _DATE.fullmatch(text) if dates else None
    if match:
        year, month, day = (int(g) for g in match.groups())
        try:
            date(year, month, day)
        except ValueError:
            return _l("This date does not exist.")
        if not MIN_YEAR <= year <= MAX_YEAR:
            return _l("A date between %(low)d and %(high)d.", low=MIN_YEAR, high=MAX_YEAR)
    return None


def json_problems(value: Any, *, dates: bool = True) -> dict[str, Any]:
    """The fields of a parsed JSON document that cannot be accepted, by path
    (``team``, ``events[2].campaign_id``), each with a lazy translated message; empty when all
    is well.

    :param dates: check date-shaped texts too; off where the receiving service checks its own
        dates with its own error codes (advocacy events, whatever path they come by).
    """
    problems: dict[str, Any] = {}
    stack: list[tuple[str, Any]] = [("", value)]
    while stack and len(problems) < MAX_PROBLEMS:
        path, item = stack.pop()
        name = path or "body"
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int):
            if not MIN_INT <= item <= MAX_INT:
                problems[name] = _l("An integer between %(low)d and %(high)d.",
                                    low=MIN_INT, high=MAX_INT)
        elif isinstance(item, float):
            if not math.isfinite(item) or abs(item) > 1e15:
                problems[name] = _l("A finite number of reasonable size.")
        elif isinstance(item, str):
            problem = text_problem(item, dates=dates)
            if problem:
                problems[name] = problem
        elif isinstance(item, dict):
            for key, child in item.items():
                key_problem = text_problem(key, dates=False) if isinstance(key, str) else None
                if key_problem:
                    problems[name] = _l("A field name is invalid: %(why)s", why=key_problem)
                    continue
                stack.append((f"{path}.{key}" if path else str(key), child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(item))
    return problems


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` in URLs, limited to the database's 32-bit ids: a larger number is a 404
    like any other unknown id, instead of an overflow in the query.
    """

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Bound URL ids (call before any route is added) and turn a number the database cannot
    hold, wherever it came from (a query argument), into a 4xx instead of a 500.
    """
    app.url_map.converters["int"] = BoundedIntConverter

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _out_of_range(exc: Exception) -> Any:
        from lms.extensions import db

        db.session.rollback()
        message = str(_l("A value is out of the range the database can hold."))
        if request.path.startswith("/xapi/"):
            return jsonify({"error": {"code": 400, "message": message}}), 400
        if request.path.startswith(("/api/", "/hooks/")):
            return jsonify({"error": {"code": "validation_failed", "message": message,
                                      "fields": {}}}), 422
        return render_template("error.html", code=400, message=message), 400
