"""The document resources of the LRS: /xapi/activities/state, /activities/profile, /agents/profile.

Each accepts PUT, POST (JSON merge), GET (one document, or the list of ids with ``since``),
HEAD and DELETE, as xAPI 1.0.3 (Communication 2.2–2.7, 3.1) says. The alternate request
syntax reaches these views already rewritten by :class:`lms.xapi.lrs.AlternateSyntax`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime

from flask import Response, current_app, request

from lms.core.errors import BadRequest, DomainError, Forbidden, NotFound
from lms.extensions import db
from lms.xapi import validation
from lms.xapi.agents import agent_key, parse_agent_param
from lms.xapi.documents import (
    ACTIVITY_PROFILE,
    AGENT_PROFILE,
    STATE,
    Preconditions,
    Scope,
    delete_document,
    delete_documents,
    document_ids,
    find_document,
    post_document,
    put_document,
)
from lms.xapi.lrs import bp, current_credential, current_organization_id

METHODS = ["GET", "PUT", "POST", "DELETE"]


class TooLarge(DomainError, code="too_large", status=413):
    """The document is over the configured size limit (HTTP 413)."""


# --- parameters ------------------------------------------------------------------------------

def _params(required: set[str], optional: frozenset[str] | set[str] = frozenset()
            ) -> dict[str, str]:
    """The query parameters, checked: all required present, nothing unknown (3.2.s3.b7)."""
    unknown = sorted(set(request.args) - required - optional)
    if unknown:
        raise BadRequest(f"unexpected parameter {unknown[0]!r}")
    for name in sorted(required):
        if name not in request.args:
            raise BadRequest(f"the {name} parameter is required")
    params = {}
    for name in request.args:
        values = request.args.getlist(name)
        if len(values) > 1:
            raise BadRequest(f"the {name} parameter is given more than once")
        params[name] = values[0]
    return params


def _activity_id(params: dict[str, str]) -> str:
    value = params["activityId"]
    if not validation.is_iri(value):
        raise BadRequest("activityId must be an IRI")
    return value


def _agent_key(params: dict[str, str]) -> str:
    agent = parse_agent_param(params["agent"])
    if agent.get("objectType") == "Group":
        raise BadRequest("the agent parameter must be an Agent, not a Group (use the group's "
                         "identifier in an Agent object)")
    validation.agent(agent, "agent")
    key = agent_key(agent)
    scope_agent = current_credential().scope_agent
    if scope_agent is not None and agent_key(json.loads(scope_agent)) != key:
        raise Forbidden("these credentials may only use their learner's documents")
    return key


def _registration(params: dict[str, str]) -> str:
    value = params.get("registration")
    if value is None:
        return ""
    if not validation.is_uuid(value):
        raise BadRequest("registration must be a UUID")
    value = value.lower()
    scoped = current_credential().scope_registration
    if scoped is not None and scoped.lower() != value:
        raise Forbidden("these credentials may only use their registration's state")
    return value


def _since(params: dict[str, str]) -> datetime | None:
    if "since" not in params:
        return None
    return validation.parse_timestamp(params["since"], "since")


def _preconditions() -> Preconditions:
    return Preconditions.from_headers(request.headers.get("If-Match"),
                                      request.headers.get("If-None-Match"))


def _body() -> bytes:
    limit = int(current_app.config["XAPI_MAX_DOCUMENT_BYTES"])
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"documents are limited to {limit} bytes")
    body = request.get_data(cache=False)
    if len(body) > limit:
        raise TooLarge(f"documents are limited to {limit} bytes")
    return body


# --- responses -------------------------------------------------------------------------------

def _no_content() -> Response:
    return Response(status=204)


def _document_response(organization_id: int, scope: Scope, document_id: str) -> Response:
    document = find_document(organization_id, scope, document_id)
    if document is None:
        raise NotFound("no such document")
    response = Response(document.content, status=200, content_type=document.content_type)
    response.set_etag(document.etag)
    response.last_modified = document.updated_at
    return response


def _ids_response(organization_id: int, scope: Scope, since: datetime | None) -> Response:
    ids, latest = document_ids(organization_id, scope, since=since)
    body = json.dumps(ids).encode("utf-8")
    response = Response(body, status=200, content_type="application/json")
    response.set_etag(hashlib.sha1(body).hexdigest())
    if latest is not None:
        response.last_modified = latest
    return response


def _handle(scope: Scope, document_id: str | None, *, profile: bool,
            since: datetime | None = None) -> Response:
    """Run the request's method on one document (or, for GET/DELETE without id, a scope)."""
    org = current_organization_id()
    if request.method in ("GET", "HEAD"):
        if document_id is None:
            return _ids_response(org, scope, since)
        return _document_response(org, scope, document_id)
    if request.method == "DELETE":
        if document_id is None:
            delete_documents(organization_id=org, scope=scope)
        else:
            delete_document(organization_id=org, scope=scope, document_id=document_id,
                            preconditions=_preconditions())
        db.session.commit()
        return _no_content()
    if document_id is None:  # the parameter checks require it for PUT and POST
        raise BadRequest("the document id parameter is required")
    content_type = request.headers.get("Content-Type")
    if request.method == "PUT":
        put_document(organization_id=org, scope=scope, document_id=document_id,
                     content=_body(), content_type=content_type,
                     preconditions=_preconditions(), require_precondition=profile)
    else:
        post_document(organization_id=org, scope=scope, document_id=document_id,
                      content=_body(), content_type=content_type,
                      preconditions=_preconditions())
    db.session.commit()
    return _no_content()


# --- routes ----------------------------------------------------------------------------------

@bp.route("/activities/state", methods=METHODS)
def state() -> Response:
    """State documents of an agent for an activity (and registration)."""
    context = {"activityId", "agent"}
    if request.method in ("PUT", "POST"):
        params = _params(context | {"stateId"}, {"registration"})
    elif request.method == "DELETE":
        params = _params(context, {"registration", "stateId"})
    else:
        params = _params(context, {"registration", "stateId", "since"})
    scope = Scope(STATE, activity_id=_activity_id(params), agent_key=_agent_key(params),
                  registration=_registration(params))
    return _handle(scope, params.get("stateId"), profile=False, since=_since(params))


def _profile_documents(owner: str, scope: Callable[[dict[str, str]], Scope]) -> Response:
    """The profile documents of the activity or agent named by the ``owner`` parameter: the
    ``profileId`` is required to write and optional (with ``since``) to read.
    """
    if request.method in ("GET", "HEAD"):
        params = _params({owner}, {"profileId", "since"})
    else:
        params = _params({owner, "profileId"})
    return _handle(scope(params), params.get("profileId"), profile=True, since=_since(params))


@bp.route("/activities/profile", methods=METHODS)
def activity_profile() -> Response:
    """Profile documents of an activity."""
    return _profile_documents("activityId", lambda params: Scope(
        ACTIVITY_PROFILE, activity_id=_activity_id(params)))


@bp.route("/agents/profile", methods=METHODS)
def agent_profile() -> Response:
    """Profile documents of an agent."""
    return _profile_documents("agent", lambda params: Scope(
        AGENT_PROFILE, agent_key=_agent_key(params)))
