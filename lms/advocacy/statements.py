"""The xAPI statements of advocacy events: the post's URL as object, metrics in the result.

The actor is the same agent as ``builders.agent_for_user`` (built without loading users).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from lms.accounts.models import User
from lms.advocacy.models import ContentItem, ContentProposal
from lms.core.models import utcnow
from lms.xapi import builders
from lms.xapi.builders import ACTIVITY_TYPES, activity_iri, base_url, extension_iri
from lms.xapi.record import Built, built

# kind → (verb IRI template, English display, French display).
VERBS: dict[str, tuple[str, str, str]] = {
    "post": ("{base}/xapi/verbs/posted", "posted", "a publié"),
    "share": ("http://adlnet.gov/expapi/verbs/shared", "shared", "a partagé"),
    "comment": ("http://adlnet.gov/expapi/verbs/commented", "commented", "a commenté"),
    "reaction": ("{base}/xapi/verbs/reacted", "reacted to", "a réagi à"),
    "summary": ("{base}/xapi/verbs/reported", "reported activity on", "a relayé"),
}


class StatementFactory:
    """Builds the statements of many events, computing the instance's IRIs once."""

    def __init__(self, org_slug: str, metrics: tuple[str, ...]) -> None:
        base = base_url()
        self.org_slug = org_slug
        self.home = current_app.config["BASE_URL"]
        self.verbs = {kind: {"id": iri.format(base=base), "display": {"en-US": en, "fr-FR": fr}}
                      for kind, (iri, en, fr) in VERBS.items()}
        self.post_type = ACTIVITY_TYPES["post"].format(base=base)
        self.network_ext = extension_iri("network")
        self.metric_exts = [(name, extension_iri(name)) for name in metrics]
        self.comment_ext = extension_iri("with-own-comment")
        self.org_ext = extension_iri("organization")
        self.source_ext = extension_iri("advocacy-source")
        self.post_prefix = activity_iri("post", "")
        self.campaign_prefix = activity_iri("campaign", "")

    def build(self, event: dict[str, Any], user_name: str) -> dict[str, Any]:
        """One statement for one advocacy event (a dict of the event's columns)."""
        url = event.get("url")
        obj = {"objectType": "Activity", "id": url or self.post_prefix + event["idem_key"],
               "definition": {"type": self.post_type,
                              "extensions": {self.network_ext: event["network"]}}}
        # Zero metrics are left out: most events have no sign-ups, leads or hires, and every
        # extension is validated, stored and forwarded.
        exts: dict[str, Any] = {iri: event[name] for name, iri in self.metric_exts
                                if event.get(name)}
        if event.get("with_own_comment"):
            exts[self.comment_ext] = True
        ctx: dict[str, Any] = {"platform": "Relais", "extensions": {
            self.org_ext: self.org_slug, self.source_ext: event["source"]}}
        if event.get("campaign_id"):
            ctx["contextActivities"] = {"grouping": [
                {"objectType": "Activity",
                 "id": self.campaign_prefix + str(event["campaign_id"])}]}
        occurred: datetime = event["occurred_at"]
        st = {"actor": {"objectType": "Agent", "name": user_name,
                        "account": {"homePage": self.home, "name": str(event["user_id"])}},
              "verb": self.verbs[event["kind"]], "object": obj, "context": ctx,
              "timestamp": occurred.isoformat()}
        if exts:
            st["result"] = {"extensions": exts}
        return st

    def build_for_store(self, event: dict[str, Any], user_name: str,
                        statement_id: str) -> Built:
        """The statement of one event with the id just generated for it, ready for
        ``record_built`` (its timestamp taken from the event, not parsed back).
        """
        st = self.build(event, user_name)
        st["id"] = statement_id
        return built(st, timestamp=event["occurred_at"])


# -- content proposals ---------------------------------------------------------------------------

# Relais' own verbs for the content proposals (ADL's vocabulary has none), with French displays.
PROPOSAL_VERBS = {"proposed": "a proposé", "approved": "a approuvé", "declined": "a refusé"}


def to_share_seen(user: User, items: list[ContentItem], *, org_slug: str) -> dict[str, Any]:
    """A member ``experienced`` the content open to share: the items shown are the context's
    ``other`` activities, so an LRS can tell who saw which item.
    """
    context = builders.context(
        organization=org_slug,
        other=[builders.activity_iri("content-item", item.id) for item in items])
    obj = builders.activity("to-share", org_slug, {"fr-FR": "À partager", "en-US": "To share"})
    return builders.statement(builders.agent_for_user(user), "experienced", obj, context=context)


def proposal_statement(proposal: ContentProposal, actor: User, verb_name: str, *, org_slug: str,
                       reason: str | None = None) -> dict[str, Any]:
    """A statement about a content proposal: its author ``proposed`` it, a reviewer
    ``approved`` it (the content item it became as an extension) or ``declined`` it (with the
    reason). The note to the reviewer stays out: statements may be forwarded to another LRS.
    """
    base = base_url()
    obj = {"objectType": "Activity", "id": activity_iri("content-proposal", proposal.id),
           "definition": {"type": f"{base}/xapi/activity-types/content-proposal",
                          "name": {"und": proposal.title}}}
    extensions: dict[str, Any] = {}
    if reason:
        extensions[extension_iri("reason")] = reason
    if verb_name == "approved" and proposal.content_item_id is not None:
        extensions[extension_iri("content-item")] = proposal.content_item_id
    return {"actor": builders.agent_for_user(actor),
            "verb": {"id": f"{base}/xapi/verbs/{verb_name}",
                     "display": {"en-US": verb_name, "fr-FR": PROPOSAL_VERBS[verb_name]}},
            "object": obj,
            "context": builders.context(organization=org_slug, extensions=extensions),
            "timestamp": utcnow().isoformat()}
