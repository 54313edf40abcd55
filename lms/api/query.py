"""The query string of every API request, checked against the operation's documented query
parameters (lms/api/openapi.py) before the view runs: an unknown parameter, one given twice,
a required one missing, or a value that does not fit its schema (not an integer, out of range,
not one of the listed values, a date that does not exist) is answered 400 in the error envelope,
``fields`` naming each parameter, instead of being ignored or misread.

The document is the one source: a parameter a view reads must be documented, and what the
document promises is what is accepted. Views read typed values with :func:`query_value`.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

from flask import g, request
from flask_babel import lazy_gettext as _l

from lms.api.base import bp
from lms.core.errors import BadRequest
from lms.core.inputs import MAX_INT, MAX_YEAR, MIN_INT, MIN_YEAR, text_problem

_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
TRUE, FALSE = ("true", "1"), ("false", "0")


def document_path(rule: str) -> str:
    """The OpenAPI path of a URL rule: ``/api/v1/orgs/<org_slug>/x/<int:id>`` →
    ``/orgs/{org_slug}/x/{id}``.
    """
    return _CONVERTER.sub(r"{\1}", rule.removeprefix(bp.url_prefix or ""))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type", "string")
    return set(kind) if isinstance(kind, list) else {kind}


def parse_value(raw: str, schema: dict[str, Any]) -> tuple[Any, Any]:
    """``raw`` read as ``schema`` says: ``(value, None)``, or ``(None, why)`` with a lazy
    translated message.
    """
    problem = text_problem(raw)
    if problem:
        return None, problem
    kinds = _types(schema)
    value: Any = raw
    if "integer" in kinds:
        if not re.fullmatch(r"-?\d{1,10}", raw) or not MIN_INT <= int(raw) <= MAX_INT:
            return None, _l("integer expected")
        value = int(raw)
    elif "number" in kinds:
        try:
            value = float(raw)
        except ValueError:
            return None, _l("number expected")
        if not math.isfinite(value):
            return None, _l("number expected")
    elif "boolean" in kinds:
        if raw.lower() not in TRUE + FALSE:
            return None, _l("true or false expected")
        value = raw.lower() in TRUE
    elif schema.get("format") == "date":
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            return None, _l("a date (YYYY-MM-DD) expected")
    elif schema.get("format") == "date-time":
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None, _l("a date and time (ISO 8601) expected")
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            return None, _l("A date between %(low)d and %(high)d.", low=MIN_YEAR, high=MAX_YEAR)
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(value, int | float) and not isinstance(value, bool) and (
            (low is not None and value < low) or (high is not None and value > high)):
        if high is None:
            return None, _l("at least %(low)s", low=low)
        return None, _l("between %(low)s and %(high)s", low=low if low is not None else "…",
                        high=high)
    if "enum" in schema and value not in schema["enum"]:
        return None, _l("one of %(values)s", values=", ".join(map(str, schema["enum"])))
    if "maxLength" in schema and len(raw) > schema["maxLength"]:
        return None, _l("at most %(count)d characters", count=schema["maxLength"])
    return value, None


def operation() -> dict[str, Any] | None:
    """The documented operation of the current request, or None (unknown path)."""
    from lms.api.openapi import PATHS

    if request.url_rule is None:
        return None
    method = "get" if request.method == "HEAD" else request.method.lower()
    found: dict[str, Any] | None = PATHS.get(document_path(request.url_rule.rule), {}).get(method)
    return found


@bp.before_request
def check_query() -> None:
    """Check the query string against the documented parameters and keep the typed values
    for :func:`query_value`.

    :raise BadRequest: ``fields`` names each unknown, repeated, missing or invalid parameter.
    """
    op = operation()
    if op is None:
        return
    documented = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}
    fields: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for name in request.args:
        spec = documented.get(name)
        if spec is None:
            problem = text_problem(name, dates=False)
            fields[name[:60] if not problem else "query"] = _l("unknown parameter")
            continue
        given = request.args.getlist(name)
        if len(given) > 1:
            fields[name] = _l("given more than once")
            continue
        value, problem = parse_value(given[0], spec.get("schema", {}))
        if problem:
            fields[name] = problem
        else:
            values[name] = value
    for name, spec in documented.items():
        if spec.get("required") and name not in request.args:
            fields[name] = _l("required")
    if fields:
        raise BadRequest(_l("Invalid query parameters: %(names)s.",
                            names=", ".join(sorted(fields))), fields=fields)
    g.api_query = values


def query_value(name: str, default: Any = None) -> Any:
    """The typed value of a checked query parameter, ``default`` when absent."""
    return getattr(g, "api_query", {}).get(name, default)
