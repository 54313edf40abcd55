"""Validation of xAPI 1.0.3 statements, with messages that name the offending property.

``tincan`` parses leniently (unknown properties, bad IRIs and malformed durations pass), so
the rules of the specification's Data section are checked here by hand. Every function raises
:class:`lms.core.errors.BadRequest` with a path such as ``statement.context.instructor.mbox``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from lms.core.errors import BadRequest
from lms.xapi.agents import IFIS

VOIDED = "http://adlnet.gov/expapi/verbs/voided"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}"
                   r"-[0-9a-fA-F]{12}$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_VERSION = re.compile(r"^1\.0(\.\d+)?$")
# RFC 5646 language tags (the well-formed grammar, without registry checks).
_LANGTAG = re.compile(
    r"^(?:(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[xX](?:-[A-Za-z0-9]{1,8})+|i-[A-Za-z]{1,8}|[A-Za-z]{2,3}-[A-Za-z]{2,3}-[A-Za-z]{2,3})$")
_DURATION = re.compile(
    r"^P(?:\d+(?:\.\d+)?W|(?=\d|T\d)(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?)$")
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$")
_SHA2 = re.compile(r"^[0-9a-fA-F]{56,128}$")

INTERACTION_TYPES = {"true-false", "choice", "fill-in", "long-fill-in", "matching",
                     "performance", "sequencing", "likert", "numeric", "other"}
# Which interaction component lists each interaction type may carry.
COMPONENT_LISTS = {"choice": {"choices"}, "sequencing": {"choices"}, "likert": {"scale"},
                   "matching": {"source", "target"}, "performance": {"steps"}}
CONTEXT_ACTIVITY_KEYS = ("parent", "grouping", "category", "other")

STATEMENT_KEYS = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored",
                  "authority", "version", "attachments"}
SUBSTATEMENT_KEYS = {"objectType", "actor", "verb", "object", "result", "context", "timestamp",
                     "attachments"}
# The properties each object may have (built once, not at every call).
_ACCOUNT_KEYS = frozenset({"homePage", "name"})
_AGENT_KEYS = frozenset({"objectType", "name", *IFIS})
_GROUP_KEYS = frozenset({"objectType", "name", "member", *IFIS})
_VERB_KEYS = frozenset({"id", "display"})
_COMPONENT_KEYS = frozenset({"id", "description"})
_ACTIVITY_KEYS = frozenset({"objectType", "id", "definition"})
_STATEMENT_REF_KEYS = frozenset({"objectType", "id"})
_SCORE_KEYS = frozenset({"scaled", "raw", "min", "max"})
_DEFINITION_KEYS = frozenset({"name", "description", "type", "moreInfo", "extensions",
                              "interactionType", "correctResponsesPattern", "choices", "scale",
                              "source", "target", "steps"})
_RESULT_KEYS = frozenset({"score", "success", "completion", "response", "duration",
                          "extensions"})
_CONTEXT_KEYS = frozenset({"registration", "instructor", "team", "contextActivities",
                           "revision", "platform", "language", "statement", "extensions"})
_CONTEXT_ACTIVITIES_KEYS = frozenset(CONTEXT_ACTIVITY_KEYS)


def fail(where: str, message: str) -> BadRequest:
    """The error for a rule broken at ``where``."""
    return BadRequest(f"{where}: {message}", fields={where: message})


@lru_cache(maxsize=65536)
def _iri_text(value: str) -> bool:
    return _IRI.match(value) is not None


@lru_cache(maxsize=4096)
def is_language_tag(value: str) -> bool:
    """Whether ``value`` is a well-formed RFC 5646 language tag."""
    return _LANGTAG.match(value) is not None


def is_iri(value: Any) -> bool:
    """Whether ``value`` is an absolute IRI (a scheme, a colon, no spaces)."""
    # Cached: the same verb and activity IRIs come back in statement after statement.
    return isinstance(value, str) and _iri_text(value)


def is_uuid(value: Any) -> bool:
    """Whether ``value`` is a UUID in its canonical text form."""
    return isinstance(value, str) and _UUID.match(value) is not None


def _object(value: Any, where: str, allowed: frozenset[str] | set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(where, "must be a JSON object")
    if not allowed.issuperset(value):
        unknown = sorted(set(value) - allowed)
        raise fail(where, f"unknown property {unknown[0]!r}")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise fail(where, "must be a string")
    return value


def _iri(value: Any, where: str) -> str:
    if not (isinstance(value, str) and _iri_text(value)):  # is_iri, one call fewer
        raise fail(where, "must be an absolute IRI")
    return value


def _check_present(data: dict[str, Any], where: str,
                   checks: dict[str, Callable[[Any, str], object]]) -> None:
    # Optional members: each one present is checked, in this order (the first broken rule is
    # the one reported).
    for key, check in checks.items():
        if key in data:
            check(data[key], f"{where}.{key}")


def _required_iri_id(data: dict[str, Any], where: str) -> None:
    # Verbs and activities are both known by a required IRI ``id`` (its path is only
    # written out when it is wrong: every statement checks three or more).
    value = data.get("id")
    if not (isinstance(value, str) and _iri_text(value)):  # _iri's test, inline
        if "id" not in data:
            raise fail(f"{where}.id", "is required")
        _iri(value, f"{where}.id")  # raises, with _iri's message


def _bool(value: Any, where: str) -> None:
    if not isinstance(value, bool):
        raise fail(where, "must be true or false")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(where, "must be a number")
    return float(value)


def language_map(value: Any, where: str) -> None:
    """Check a language map: RFC 5646 tags mapped to strings."""
    if not isinstance(value, dict):
        raise fail(where, "must be a language map (object)")
    for tag, text in value.items():
        if not is_language_tag(tag):
            raise fail(where, f"{tag!r} is not an RFC 5646 language tag")
        if not isinstance(text, str):
            raise fail(f"{where}.{tag}", "must be a string")


def extensions(value: Any, where: str) -> None:
    """Check an extensions object: keys are IRIs, values any JSON."""
    if not isinstance(value, dict):
        raise fail(where, "must be an object")
    for key in value:
        if not is_iri(key):
            raise fail(where, f"key {key!r} is not an IRI")


def parse_timestamp(value: Any, where: str) -> datetime:
    """Parse an ISO 8601 timestamp; without a time zone it is taken as UTC.

    :raise BadRequest: not ISO 8601, an impossible date, or the "-00:00" offset the
        specification forbids.
    """
    if not isinstance(value, str):
        raise fail(where, "must be an ISO 8601 timestamp string")
    parsed = _timestamp(value)
    if isinstance(parsed, str):
        raise fail(where, parsed)
    return parsed


@lru_cache(maxsize=4096)
def _timestamp(value: str) -> datetime | str:
    """The UTC datetime of an ISO 8601 timestamp, or what is wrong with it. Cached: the store
    parses each statement's timestamp twice (validation, then its column), and the
    statements of a batch often share one.
    """
    match = _TIMESTAMP.match(value)
    if not match:
        return "must be an ISO 8601 timestamp"
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    tz: timezone = UTC
    if zone and zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if zone[0] == "-" and hours == 0 and minutes == 0:
            return "the offset -00:00 is not allowed (use Z or +00:00)"
        if hours > 23 or minutes > 59:
            return "the time zone offset is out of range"
        offset = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-offset if zone[0] == "-" else offset)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute),
                        int(second or 0), micro, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 moved before year 1
        return "is not a valid date and time"


def _mbox(value: Any, where: str) -> None:
    if (not isinstance(value, str) or not value.startswith("mailto:")
            or not re.match(r"^mailto:[^@\s]+@[^@\s]+$", value)):
        raise fail(where, "must be a mailto: IRI with an e-mail address")


def _ifis(agent: dict[str, Any], where: str, *, required: bool) -> None:
    present = [name for name in IFIS if name in agent]
    if len(present) > 1:
        raise fail(where, "must have exactly one inverse functional identifier, not "
                          + ", ".join(present))
    if not present:
        if required:
            raise fail(where, "must have one of mbox, mbox_sha1sum, openid, account")
        return
    name = present[0]
    value = agent[name]
    if name == "mbox":
        _mbox(value, f"{where}.mbox")
    elif name == "mbox_sha1sum":
        if not isinstance(value, str) or not _SHA1.match(value):
            raise fail(f"{where}.mbox_sha1sum", "must be the hex SHA-1 of a mailto: IRI")
    elif name == "openid":
        _iri(value, f"{where}.openid")
    else:
        account = _object(value, f"{where}.account", _ACCOUNT_KEYS)
        if "homePage" not in account or "name" not in account:
            raise fail(f"{where}.account", "must have homePage and name")
        _iri(account["homePage"], f"{where}.account.homePage")
        _string(account["name"], f"{where}.account.name")


def agent(value: Any, where: str, *, object_type_required: bool = False) -> None:
    """Check an Agent."""
    data = _object(value, where, _AGENT_KEYS)
    if "objectType" in data:
        if data["objectType"] != "Agent":
            raise fail(f"{where}.objectType", "must be 'Agent'")
    elif object_type_required:
        raise fail(f"{where}.objectType", "is required here")
    if "name" in data:
        _string(data["name"], f"{where}.name")
    _ifis(data, where, required=True)


def group(value: Any, where: str) -> None:
    """Check a Group, anonymous (members, no IFI) or identified (one IFI)."""
    data = _object(value, where, _GROUP_KEYS)
    if data.get("objectType") != "Group":
        raise fail(f"{where}.objectType", "must be 'Group'")
    if "name" in data:
        _string(data["name"], f"{where}.name")
    identified = any(name in data for name in IFIS)
    _ifis(data, where, required=False)
    if "member" in data or not identified:
        members = data.get("member")
        if not isinstance(members, list):
            raise fail(f"{where}.member", "must be an array of agents")
        if not identified and not members:
            raise fail(f"{where}.member", "an anonymous group needs at least one member")
        for i, member in enumerate(members):
            if isinstance(member, dict) and member.get("objectType") == "Group":
                raise fail(f"{where}.member[{i}]", "a group member must be an Agent")
            agent(member, f"{where}.member[{i}]")


def actor(value: Any, where: str, *, object_type_required: bool = False) -> None:
    """Check an Agent or a Group."""
    if isinstance(value, dict) and value.get("objectType") == "Group":
        group(value, where)
    else:
        agent(value, where, object_type_required=object_type_required)


def verb(value: Any, where: str) -> None:
    """Check a Verb: an IRI id and an optional display language map."""
    data = _object(value, where, _VERB_KEYS)
    _required_iri_id(data, where)
    if "display" in data:
        language_map(data["display"], f"{where}.display")


def _components(value: Any, where: str) -> None:
    if not isinstance(value, list):
        raise fail(where, "must be an array of interaction components")
    seen: set[str] = set()
    for i, component in enumerate(value):
        item = _object(component, f"{where}[{i}]", _COMPONENT_KEYS)
        if "id" not in item:
            raise fail(f"{where}[{i}].id", "is required")
        ident = _string(item["id"], f"{where}[{i}].id")
        if ident in seen:
            raise fail(f"{where}[{i}].id", f"duplicate interaction component id {ident!r}")
        seen.add(ident)
        if "description" in item:
            language_map(item["description"], f"{where}[{i}].description")


# The optional members of a definition and of a result, checked in this order.
_DEFINITION_CHECKS: dict[str, Callable[[Any, str], object]] = {
    "name": language_map, "description": language_map, "type": _iri, "moreInfo": _iri,
    "extensions": extensions}


def activity_definition(value: Any, where: str) -> None:
    """Check an activity definition, interaction properties included."""
    data = _object(value, where, _DEFINITION_KEYS)
    _check_present(data, where, _DEFINITION_CHECKS)
    lists = {key for key in ("choices", "scale", "source", "target", "steps") if key in data}
    interaction = data.get("interactionType")
    if interaction is None:
        if "correctResponsesPattern" in data or lists:
            raise fail(f"{where}.interactionType",
                       "is required with correctResponsesPattern or interaction components")
        return
    if not isinstance(interaction, str) or interaction not in INTERACTION_TYPES:
        raise fail(f"{where}.interactionType", f"unknown interaction type {interaction!r}")
    if "correctResponsesPattern" in data:
        pattern = data["correctResponsesPattern"]
        if not isinstance(pattern, list) or not all(isinstance(p, str) for p in pattern):
            raise fail(f"{where}.correctResponsesPattern", "must be an array of strings")
    extra = lists - COMPONENT_LISTS.get(interaction, set())
    if extra:
        raise fail(f"{where}.{sorted(extra)[0]}",
                   f"not allowed with interactionType {interaction!r}")
    for key in lists:
        _components(data[key], f"{where}.{key}")


def activity(value: Any, where: str) -> None:
    """Check an Activity object."""
    data = _object(value, where, _ACTIVITY_KEYS)
    if "objectType" in data and data["objectType"] != "Activity":
        raise fail(f"{where}.objectType", "must be 'Activity'")
    _required_iri_id(data, where)
    if "definition" in data:
        activity_definition(data["definition"], f"{where}.definition")


def statement_ref(value: Any, where: str) -> None:
    """Check a StatementRef."""
    data = _object(value, where, _STATEMENT_REF_KEYS)
    if data.get("objectType") != "StatementRef":
        raise fail(f"{where}.objectType", "must be 'StatementRef'")
    if not is_uuid(data.get("id")):
        raise fail(f"{where}.id", "must be a UUID")


def statement_object(value: Any, where: str, *, in_substatement: bool = False) -> None:
    """Check the object of a statement or sub-statement."""
    if not isinstance(value, dict):
        raise fail(where, "must be a JSON object")
    kind = value.get("objectType", "Activity")
    if kind == "Activity":
        activity(value, where)
    elif kind in ("Agent", "Group"):
        actor(value, where, object_type_required=True)
    elif kind == "StatementRef":
        statement_ref(value, where)
    elif kind == "SubStatement":
        if in_substatement:
            raise fail(f"{where}.objectType", "a SubStatement cannot contain a SubStatement")
        substatement(value, where)
    else:
        raise fail(f"{where}.objectType", f"unknown object type {kind!r}")


def score(value: Any, where: str) -> None:
    """Check a score: scaled in [-1, 1], raw between min and max, min below max."""
    data = _object(value, where, _SCORE_KEYS)
    numbers = {key: _number(data[key], f"{where}.{key}") for key in data}
    if "scaled" in numbers and not -1 <= numbers["scaled"] <= 1:
        raise fail(f"{where}.scaled", "must be between -1 and 1")
    low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
    if low is not None and high is not None and low >= high:
        raise fail(f"{where}.min", "must be less than max")
    if raw is not None and low is not None and raw < low:
        raise fail(f"{where}.raw", "must not be less than min")
    if raw is not None and high is not None and raw > high:
        raise fail(f"{where}.raw", "must not be more than max")


def result(value: Any, where: str) -> None:
    """Check a Result."""
    data = _object(value, where, _RESULT_KEYS)
    _check_present(data, where, _RESULT_CHECKS)


def _duration(value: Any, where: str) -> None:
    if not isinstance(value, str) or not _DURATION.match(value):
        raise fail(where, "must be an ISO 8601 duration such as PT1H30M")


_RESULT_CHECKS: dict[str, Callable[[Any, str], object]] = {
    "score": score, "success": _bool, "completion": _bool, "response": _string,
    "duration": _duration, "extensions": extensions}


def context(value: Any, where: str, *, object_is_activity: bool) -> None:
    """Check a Context; revision and platform only go with an Activity object."""
    data = _object(value, where, _CONTEXT_KEYS)
    if "registration" in data and not is_uuid(data["registration"]):
        raise fail(f"{where}.registration", "must be a UUID")
    if "instructor" in data:
        actor(data["instructor"], f"{where}.instructor")
    if "team" in data:
        if not isinstance(data["team"], dict) or data["team"].get("objectType") != "Group":
            raise fail(f"{where}.team", "must be a Group")
        group(data["team"], f"{where}.team")
    if "contextActivities" in data:
        activities = _object(data["contextActivities"], f"{where}.contextActivities",
                             _CONTEXT_ACTIVITIES_KEYS)
        for key, items in activities.items():
            path = f"{where}.contextActivities.{key}"
            if isinstance(items, list):
                for i, item in enumerate(items):
                    activity(item, f"{path}[{i}]")
            else:
                activity(items, path)
    for key in ("revision", "platform"):
        if key in data:
            _string(data[key], f"{where}.{key}")
            if not object_is_activity:
                raise fail(f"{where}.{key}", "is only allowed when the object is an Activity")
    if "language" in data:
        if not isinstance(data["language"], str) or not is_language_tag(data["language"]):
            raise fail(f"{where}.language", "must be an RFC 5646 language tag")
    if "statement" in data:
        statement_ref(data["statement"], f"{where}.statement")
    if "extensions" in data:
        extensions(data["extensions"], f"{where}.extensions")


def attachments(value: Any, where: str) -> None:
    """Check the attachments array (metadata only; contents are checked with the request)."""
    if not isinstance(value, list):
        raise fail(where, "must be an array")
    for i, item in enumerate(value):
        path = f"{where}[{i}]"
        data = _object(item, path, {"usageType", "display", "description", "contentType",
                                    "length", "sha2", "fileUrl"})
        for key in ("usageType", "display", "contentType", "length", "sha2"):
            if key not in data:
                raise fail(f"{path}.{key}", "is required")
        _iri(data["usageType"], f"{path}.usageType")
        language_map(data["display"], f"{path}.display")
        if "description" in data:
            language_map(data["description"], f"{path}.description")
        if not isinstance(data["contentType"], str) or "/" not in data["contentType"]:
            raise fail(f"{path}.contentType", "must be an Internet Media Type")
        if isinstance(data["length"], bool) or not isinstance(data["length"], int) \
                or data["length"] < 0:
            raise fail(f"{path}.length", "must be a non-negative integer")
        if not isinstance(data["sha2"], str) or not _SHA2.match(data["sha2"]):
            raise fail(f"{path}.sha2", "must be a hex SHA-2 digest")
        if "fileUrl" in data:
            _iri(data["fileUrl"], f"{path}.fileUrl")


def _body(data: dict[str, Any], where: str, *, sub: bool) -> None:
    for key in ("actor", "verb", "object"):
        if key not in data:
            raise fail(f"{where}.{key}", "is required")
    actor(data["actor"], f"{where}.actor")
    verb(data["verb"], f"{where}.verb")
    statement_object(data["object"], f"{where}.object", in_substatement=sub)
    if "result" in data:
        result(data["result"], f"{where}.result")
    if "context" in data:
        obj = data["object"]
        context(data["context"], f"{where}.context",
                object_is_activity=obj.get("objectType", "Activity") == "Activity")
    if "timestamp" in data:
        parse_timestamp(data["timestamp"], f"{where}.timestamp")
    if "attachments" in data:
        attachments(data["attachments"], f"{where}.attachments")


def substatement(value: Any, where: str) -> None:
    """Check a SubStatement (no id, stored, version or authority; no nested SubStatement)."""
    if isinstance(value, dict):
        for key in ("id", "stored", "version", "authority"):
            if key in value:
                raise fail(f"{where}.{key}", "is not allowed in a SubStatement")
    data = _object(value, where, SUBSTATEMENT_KEYS)
    _body(data, where, sub=True)


def authority(value: Any, where: str) -> None:
    """Check an authority: an Agent, or a Group of exactly two agents (OAuth consumer+user)."""
    if isinstance(value, dict) and value.get("objectType") == "Group":
        group(value, where)
        if any(name in value for name in IFIS) or len(value.get("member", [])) != 2:
            raise fail(where, "a group authority must be an anonymous group of two agents")
    else:
        agent(value, where)


def statement(value: Any, where: str = "statement") -> None:
    """Check one statement as received (before the LRS adds id, stored and authority).

    :raise BadRequest: the first rule broken, with its path.
    """
    data = _object(value, where, STATEMENT_KEYS)
    if "id" in data and not is_uuid(data["id"]):
        raise fail(f"{where}.id", "must be a UUID")
    _body(data, where, sub=False)
    if "stored" in data:
        parse_timestamp(data["stored"], f"{where}.stored")
    if "authority" in data:
        authority(data["authority"], f"{where}.authority")
    if "version" in data and (not isinstance(data["version"], str)
                              or not _VERSION.match(data["version"])):
        raise fail(f"{where}.version", "must be 1.0 or 1.0.x")
    if data["verb"]["id"] == VOIDED:
        obj = data["object"]
        if obj.get("objectType") != "StatementRef":
            raise fail(f"{where}.object", "a voiding statement's object must be a StatementRef")
