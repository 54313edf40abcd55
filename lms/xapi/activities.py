"""The Activities and Agents resources of the LRS: /xapi/activities and /xapi/agents."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from lms.core.errors import BadRequest
from lms.xapi import queries, validation
from lms.xapi.agents import parse_agent_param
from lms.xapi.lrs import bp, current_organization_id


@bp.route("/activities", methods=["GET"])
def get_activity() -> Any:
    """The canonical definition of an activity, merged from the statements that carried it."""
    unknown = sorted(set(request.args) - {"activityId"})
    if unknown:
        raise BadRequest(f"unexpected parameter {unknown[0]!r}")
    activity_id = request.args.get("activityId")
    if activity_id is None:
        raise BadRequest("the activityId parameter is required")
    if not validation.is_iri(activity_id):
        raise BadRequest("activityId must be an IRI")
    found = queries.activity_definitions(current_organization_id(), [activity_id])
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    definition = json.loads(found.get(activity_id) or "{}")
    if definition:
        activity["definition"] = definition
    return activity


@bp.route("/agents", methods=["GET"])
def get_agent() -> Any:
    """The Person object of an agent: every identifier and name the LRS knows it by."""
    unknown = sorted(set(request.args) - {"agent"})
    if unknown:
        raise BadRequest(f"unexpected parameter {unknown[0]!r}")
    agent = parse_agent_param(request.args.get("agent"))
    if agent.get("objectType") == "Group":
        raise BadRequest("the agent parameter must be an Agent")
    person: dict[str, Any] = {"objectType": "Person"}
    if "name" in agent:
        person["name"] = [agent["name"]]
    for ifi in ("mbox", "mbox_sha1sum", "openid", "account"):
        if ifi in agent:
            person[ifi] = [agent[ifi]]
    return person
