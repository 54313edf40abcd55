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
from lms.xapi.record import ACTIVITY, AGENT, RELATED_ACTIVITY, VERB, Built

# kind → (verb IRI template, English display, French display).
VERBS: dict[str, tuple[str, str, str]] = {
    "post": ("{base}/xapi/verbs/posted", "posted", "a publié"),
    "share": ("http://adlnet.gov/expapi/verbs/shared", "shared", "a partagé"),
    "comment": ("http://adlnet.gov/expapi/verbs/commented", "commented", "a commenté"),
    "reaction": ("{base}/xapi/verbs/reacted", "reacted to", "a réagi à"),
    "summary": ("{base}/xapi/verbs/reported", "reported activity on", "a relayé"),
}


class StatementFactory:
    """Builds the statements of many events, computing the instance's IRIs once.

    The parts many statements have alike (a person's actor, a network's activity definition,
    a source's context without campaign, a kind's verb) are one dict each, shared by the
    statements of the factory: nothing modifies a statement's parts once built (the store
    adds its keys at the top, ``record()`` copies).
    """

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
        self._actors: dict[tuple[int, str], tuple[dict[str, Any], str]] = {}
        self._definitions: dict[str, dict[str, Any]] = {}
        self._contexts: dict[str, dict[str, Any]] = {}

    def _actor(self, user_id: int, user_name: str) -> tuple[dict[str, Any], str]:
        """The person's agent and its key in the store's index."""
        found = self._actors.get((user_id, user_name))
        if found is None:
            account = {"homePage": self.home, "name": str(user_id)}
            found = ({"objectType": "Agent", "name": user_name, "account": account},
                     f"account:{self.home}|{user_id}")
            self._actors[(user_id, user_name)] = found
        return found

    def build(self, event: dict[str, Any], user_name: str) -> dict[str, Any]:
        """One statement for one advocacy event (a dict of the event's columns)."""
        return self._build(event, self._actor(event["user_id"], user_name)[0])

    def _build(self, event: dict[str, Any], actor: dict[str, Any]) -> dict[str, Any]:
        url = event.get("url")
        network = event["network"]
        definition = self._definitions.get(network)
        if definition is None:
            definition = self._definitions[network] = {
                "type": self.post_type, "extensions": {self.network_ext: network}}
        obj = {"objectType": "Activity", "id": url or self.post_prefix + event["idem_key"],
               "definition": definition}
        # Zero metrics are left out: most events have no sign-ups, leads or hires, and every
        # extension is validated, stored and forwarded.
        exts: dict[str, Any] = {iri: event[name] for name, iri in self.metric_exts
                                if event.get(name)}
        if event.get("with_own_comment"):
            exts[self.comment_ext] = True
        source = event["source"]
        if event.get("campaign_id"):
            ctx: dict[str, Any] = {
                "platform": "Relais",
                "extensions": {self.org_ext: self.org_slug, self.source_ext: source},
                "contextActivities": {"grouping": [
                    {"objectType": "Activity",
                     "id": self.campaign_prefix + str(event["campaign_id"])}]}}
        else:
            ctx = self._contexts.get(source) or self._contexts.setdefault(source, {
                "platform": "Relais",
                "extensions": {self.org_ext: self.org_slug, self.source_ext: source}})
        occurred: datetime = event["occurred_at"]
        st = {"actor": actor, "verb": self.verbs[event["kind"]], "object": obj, "context": ctx,
              "timestamp": occurred.isoformat()}
        if exts:
            st["result"] = {"extensions": exts}
        return st

    def build_for_store(self, event: dict[str, Any], user_name: str,
                        statement_id: str, driver_time: Any = None) -> Built:
        """The statement of one event with the id just generated for it, ready for
        ``record_built`` (its timestamp taken from the event, not parsed back; its index
        rows those :func:`lms.xapi.record.built` reads, known here without reading them;
        ``driver_time``: the event's time as the driver takes it, when already converted).
        """
        actor, actor_key = self._actor(event["user_id"], user_name)
        st = self._build(event, actor)
        st["id"] = statement_id
        object_id = st["object"]["id"]
        context = st["context"]
        if "contextActivities" in context:
            keys = frozenset(((VERB, st["verb"]["id"]), (AGENT, actor_key), (ACTIVITY, object_id),
                              *[(RELATED_ACTIVITY, item["id"])
                                for item in context["contextActivities"]["grouping"]
                                if item["id"] != object_id]))
        else:
            keys = frozenset(((VERB, st["verb"]["id"]), (AGENT, actor_key),
                              (ACTIVITY, object_id)))
        return Built(st, event["occurred_at"], actor_key, keys, driver_time)


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
