"""Agents and groups: validation and the normalized key used to index and match them.

An agent is identified by exactly one inverse functional identifier (IFI): ``mbox``,
``mbox_sha1sum``, ``openid`` or ``account`` (xAPI 1.0.3, 2.4.2.3). The key is a string such as
``mbox:mailto:ana@example.com`` or ``account:https://example.com|ana`` so agents compare and
index as plain text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lms.core.errors import BadRequest

IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


def _is_iri(value: Any) -> bool:
    return isinstance(value, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) is not None


def ifi_of(agent: dict[str, Any], *, where: str = "agent") -> tuple[str, str]:
    """Return ``(ifi name, normalized value)`` of an agent or identified group.

    :raise BadRequest: not exactly one IFI, or a malformed one.
    """
    present = [name for name in IFIS if name in agent]
    if len(present) != 1:
        raise BadRequest(f"{where} must have exactly one of {', '.join(IFIS)}")
    name = present[0]
    value = agent[name]
    if name == "mbox":
        if not isinstance(value, str) or not value.startswith("mailto:") or "@" not in value:
            raise BadRequest(f"{where}.mbox must be a mailto: IRI")
        return name, value
    if name == "mbox_sha1sum":
        if not isinstance(value, str) or not _SHA1.match(value.lower()):
            raise BadRequest(f"{where}.mbox_sha1sum must be a hex SHA-1")
        return name, value.lower()
    if name == "openid":
        if not _is_iri(value):
            raise BadRequest(f"{where}.openid must be an IRI")
        return name, value
    if (not isinstance(value, dict) or set(value) - {"homePage", "name"}
            or not _is_iri(value.get("homePage")) or not isinstance(value.get("name"), str)):
        raise BadRequest(f"{where}.account must have an IRI homePage and a string name")
    return name, f"{value['homePage']}|{value['name']}"


def agent_key(agent: dict[str, Any], *, where: str = "agent") -> str:
    """Return the normalized key of an agent (``"<ifi>:<value>"``).

    :raise BadRequest: the agent has no valid IFI.
    """
    name, value = ifi_of(agent, where=where)
    return f"{name}:{value}"


def parse_agent_param(raw: str | None, *, name: str = "agent") -> dict[str, Any]:
    """Parse an agent given as a JSON query parameter.

    :raise BadRequest: missing, not JSON, not an object or without a valid IFI.
    """
    if raw is None:
        raise BadRequest(f"the {name} parameter is required")
    try:
        agent = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"the {name} parameter is not valid JSON") from exc
    if not isinstance(agent, dict):
        raise BadRequest(f"the {name} parameter must be a JSON object")
    if agent.get("objectType", "Agent") not in ("Agent", "Group"):
        raise BadRequest(f"{name}.objectType must be Agent or Group")
    agent_key(agent, where=name)
    return agent
