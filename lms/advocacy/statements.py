"""The xAPI statements of advocacy events: the post's URL as object, metrics in the result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from lms.xapi.builders import ACTIVITY_TYPES, activity_iri, base_url, extension_iri

# kind → (verb IRI template, English display, French display).
VERBS: dict[str, tuple[str, str, str]] = {
    "post": ("{base}/xapi/verbs/posted", "posted", "a publié"),
    "share": ("http://adlnet.gov/expapi/verbs/shared", "shared", "a partagé"),
    "comment": ("http://adlnet.gov/expapi/verbs/commented", "commented", "a commenté"),
    "reaction": ("{base}/xapi/verbs/reacted", "reacted to", "a réagi à"),
    "summary": ("{base}/xapi/verbs/reported", "reported activity on", "a relayé"),
}


def agent(user_id: int, name: str) -> dict[str, Any]:
    """The same agent as ``builders.agent_for_user`` without loading the User row."""
    return {"objectType": "Agent", "name": name,
            "account": {"homePage": current_app.config["BASE_URL"], "name": str(user_id)}}


def event_statement(*, user_id: int, user_name: str, org_slug: str, event: dict[str, Any],
                    metrics: tuple[str, ...]) -> dict[str, Any]:
    """One statement for one advocacy event (a dict of the event's columns)."""
    base = base_url()
    iri, en, fr = VERBS[event["kind"]]
    url = event.get("url")
    obj_id = url if url else activity_iri("post", event["idem_key"])
    obj = {"objectType": "Activity", "id": obj_id,
           "definition": {"type": ACTIVITY_TYPES["post"].format(base=base),
                          "extensions": {extension_iri("network"): event["network"]}}}
    exts = {extension_iri(name): int(event.get(name) or 0) for name in metrics}
    exts[extension_iri("with-own-comment")] = bool(event.get("with_own_comment"))
    ctx: dict[str, Any] = {"platform": "Relais", "extensions": {
        extension_iri("organization"): org_slug,
        extension_iri("advocacy-source"): event["source"]}}
    if event.get("campaign_id"):
        ctx["contextActivities"] = {"grouping": [
            {"objectType": "Activity", "id": activity_iri("campaign", event["campaign_id"])}]}
    occurred: datetime = event["occurred_at"]
    return {"actor": agent(user_id, user_name),
            "verb": {"id": iri.format(base=base), "display": {"en-US": en, "fr-FR": fr}},
            "object": obj, "result": {"extensions": exts}, "context": ctx,
            "timestamp": occurred.isoformat()}
