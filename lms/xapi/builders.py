"""Statement builders for Relais' own events: the shared vocabulary (verbs, activity types,
IRIs) and small helpers domain packages build their statements with.

Conventions (documented in docs/xapi.md, "Vocabulary"):

- actor: :func:`agent_for_user` — an ``account`` on this instance, never the e-mail address;
- verbs: ADL's vocabulary (``http://adlnet.gov/expapi/verbs/…``) where it has the word, with
  English and French displays; Relais' own verbs live under ``{BASE_URL}/xapi/verbs/``;
- activity ids: ``{BASE_URL}/xapi/activities/{kind}/{id}`` (program, module, lesson, quiz,
  question, session, questionnaire, exercise, coaching, campaign, certificate…);
- context: ``registration`` = the enrolment id, ``contextActivities.parent`` = the module (or
  the program for a module), ``grouping`` = the program and the cohort, ``platform`` =
  "Relais", and the organization's slug in the ``organization`` extension;
- extensions: ``{BASE_URL}/xapi/extensions/{name}``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from lms.accounts.models import User
from lms.core.models import utcnow
from lms.core.web import absolute_url

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
ADL_ACTIVITIES = "http://adlnet.gov/expapi/activities/"

# The ADL verbs Relais uses: name (the last part of the IRI) → French display.
_ADL_VERB_DISPLAYS = {
    "registered": "s'est inscrit à", "launched": "a lancé", "initialized": "a commencé",
    "experienced": "a consulté", "attempted": "a tenté", "answered": "a répondu à",
    "completed": "a terminé", "passed": "a réussi", "failed": "a échoué à",
    "attended": "a assisté à", "commented": "a commenté", "shared": "a partagé",
    "voided": "a annulé",
}

# name → (IRI, French display). English displays are the names themselves.
VERBS: dict[str, tuple[str, str]] = {
    **{name: (ADL_VERBS + name, fr) for name, fr in _ADL_VERB_DISPLAYS.items()},
    # Activity Streams' "accept" (listed in the xAPI vocabulary registry): a learner accepted
    # the organization's social-media charter.
    "accepted": ("http://activitystrea.ms/schema/1.0/accept", "a accepté"),
    # Relais' own: a coach or trainer validated evidence or a level.
    "validated": ("{base}/xapi/verbs/validated", "a validé"),
    # Relais' own, as for certificates: someone downloaded a document Relais made.
    "downloaded": ("{base}/xapi/verbs/downloaded", "a téléchargé"),
}

ACTIVITY_TYPES: dict[str, str] = {
    "program": ADL_ACTIVITIES + "course",
    "module": ADL_ACTIVITIES + "module",
    "lesson": ADL_ACTIVITIES + "lesson",
    "quiz": ADL_ACTIVITIES + "assessment",
    "questionnaire": ADL_ACTIVITIES + "assessment",
    "question": ADL_ACTIVITIES + "cmi.interaction",
    "session": ADL_ACTIVITIES + "meeting",
    "exercise": ADL_ACTIVITIES + "performance",
    "coaching": ADL_ACTIVITIES + "meeting",
    "cohort": "{base}/xapi/activity-types/cohort",
    "campaign": "{base}/xapi/activity-types/campaign",
    "post": "{base}/xapi/activity-types/social-post",
    "certificate": "{base}/xapi/activity-types/certificate",
    # A version of the charter: a policy document (the xAPI vocabulary registry's term).
    "charter": "http://id.tincanapi.com/activitytype/document",
    # What a member consults or downloads around the training: the content open to share,
    # a manager's or champion's team, a one-page results sheet.
    "content-item": "{base}/xapi/activity-types/content-item",
    "to-share": "{base}/xapi/activity-types/content-list",
    "team": "{base}/xapi/activity-types/team",
    "results": "http://id.tincanapi.com/activitytype/document",
}


def base_url() -> str:
    """The instance's public URL (the root of every Relais IRI)."""
    return absolute_url()


def agent_for_user(user: User) -> dict[str, Any]:
    """The xAPI agent of a Relais user: an account on this instance, keyed by user id.

    An account rather than ``mbox`` keeps e-mail addresses out of statements forwarded to other
    LRSs, and survives a change of address.
    """
    return {"objectType": "Agent", "name": user.display_name,
            "account": {"homePage": current_app.config["BASE_URL"], "name": str(user.id)}}


def verb(name: str) -> dict[str, Any]:
    """A verb of the vocabulary, with English and French displays.

    :raise KeyError: a verb Relais does not use.
    """
    iri, french = VERBS[name]
    return {"id": iri.format(base=base_url()), "display": {"en-US": name, "fr-FR": french}}


def activity_iri(kind: str, ident: int | str) -> str:
    """The activity id of one of Relais' objects (``kind`` as in ACTIVITY_TYPES)."""
    return f"{base_url()}/xapi/activities/{kind}/{ident}"


def extension_iri(name: str) -> str:
    """The IRI of one of Relais' extensions."""
    return f"{base_url()}/xapi/extensions/{name}"


def activity(kind: str, ident: int | str, name: dict[str, str] | None = None,
             **definition: Any) -> dict[str, Any]:
    """An Activity object with its type, name (language map) and further definition."""
    body: dict[str, Any] = {"type": ACTIVITY_TYPES[kind].format(base=base_url())}
    if name:
        body["name"] = name
    body.update(definition)
    return {"objectType": "Activity", "id": activity_iri(kind, ident), "definition": body}


def context(*, registration: str | None = None, parent: list[str] | None = None,
            grouping: list[str] | None = None, other: list[str] | None = None,
            organization: str | None = None,
            extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    """A statement context as Relais writes it (see the module docstring).

    :param registration: the enrolment id (a UUID).
    :param parent: activity ids of the parents (module, or program for a module).
    :param grouping: activity ids of the groupings (program, cohort).
    :param other: activity ids of other related activities (the content items seen).
    :param organization: the organization's slug, kept as an extension.
    """
    ctx: dict[str, Any] = {"platform": "Relais"}
    if registration:
        ctx["registration"] = registration
    activities = {}
    if parent:
        activities["parent"] = [{"objectType": "Activity", "id": a} for a in parent]
    if grouping:
        activities["grouping"] = [{"objectType": "Activity", "id": a} for a in grouping]
    if other:
        activities["other"] = [{"objectType": "Activity", "id": a} for a in other]
    if activities:
        ctx["contextActivities"] = activities
    exts = dict(extensions or {})
    if organization:
        exts[extension_iri("organization")] = organization
    if exts:
        ctx["extensions"] = exts
    return ctx


def statement(actor: dict[str, Any], verb_name: str, obj: dict[str, Any], *,
              context: dict[str, Any] | None = None, result: dict[str, Any] | None = None,
              timestamp: str | None = None) -> dict[str, Any]:
    """A statement ready for ``record()`` (timestamped now unless given)."""
    st: dict[str, Any] = {"actor": actor, "verb": verb(verb_name), "object": obj,
                          "timestamp": timestamp or utcnow().isoformat()}
    if context is not None:
        st["context"] = context
    if result is not None:
        st["result"] = result
    return st
