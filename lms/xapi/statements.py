"""The Statements resource of the LRS: PUT, POST, GET (and HEAD) /xapi/statements."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from flask import Response, current_app, request

from lms.core.errors import BadRequest, Forbidden, NotFound
from lms.core.limits import max_body
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi import attachments as multipart
from lms.xapi import queries, validation
from lms.xapi.agents import agent_key, parse_agent_param
from lms.xapi.lrs import bp, credential_authority, current_credential, current_organization_id
from lms.xapi.record import (
    ACTIVITY,
    AGENT,
    REGISTRATION,
    RELATED_ACTIVITY,
    RELATED_AGENT,
    VERB,
    dumps,
    format_timestamp,
    loads,
    record,
)

GET_PARAMS = {"statementId", "voidedStatementId", "agent", "verb", "activity", "registration",
              "related_activities", "related_agents", "since", "until", "limit", "format",
              "attachments", "ascending"}
SINGLE_PARAMS = {"statementId", "voidedStatementId", "format", "attachments"}
MAX_PAGE = 500


@bp.after_request
def _consistent_through(response: Response) -> Response:
    # Every Statements response says how fresh the store is, errors included: clients (and
    # the conformance suite) poll it to know when a write is visible. Writes are synchronous.
    if request.path.endswith("/statements") and \
            "X-Experience-API-Consistent-Through" not in response.headers:
        response.headers["X-Experience-API-Consistent-Through"] = format_timestamp(utcnow())
    return response


# --- reading requests ---------------------------------------------------------------------

def _check_params(allowed: set[str]) -> None:
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise BadRequest(f"unexpected parameter {unknown[0]!r}")


def _read_statements() -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """The JSON statement(s) of a PUT/POST body and the attachment contents, by sha2."""
    content_type = request.headers.get("Content-Type", "")
    body = request.get_data(cache=False)
    if content_type.lower().startswith("multipart/mixed"):
        data, contents = multipart.statements_and_attachments(body, content_type)
    elif content_type.lower().startswith("application/json"):
        try:
            data = loads(body)
        except ValueError as exc:
            raise BadRequest("the body is not valid JSON") from exc
        contents = {}
    else:
        raise BadRequest("statements must be sent as application/json or multipart/mixed")
    items = data if isinstance(data, list) else [data]
    if not all(isinstance(item, dict) for item in items):
        raise BadRequest("the body must be a statement object or an array of statements")
    multipart.check_attachments(items, contents)
    return data, contents


def _check_scope(items: list[dict[str, Any]]) -> None:
    """Launch credentials may only write statements about their learner, in their enrolment.

    A statement without ``context.registration`` is accepted (content that does not pass the
    launch's registration on, as State documents without one are); another registration is
    refused, so a launch cannot write into another enrolment of the learner.
    """
    credential = current_credential()
    if credential.scope_agent is None and credential.scope_registration is None:
        return
    expected = agent_key(json.loads(credential.scope_agent)) \
        if credential.scope_agent is not None else None
    scoped = (credential.scope_registration or "").lower()
    for st in items:
        actor = st.get("actor")
        try:
            key = agent_key(actor) if isinstance(actor, dict) else None
        except BadRequest:
            key = None
        if expected is not None and key != expected:
            raise Forbidden("these credentials may only record statements of their learner")
        context = st.get("context")
        registration = context.get("registration") if isinstance(context, dict) else None
        if scoped and registration is not None and str(registration).lower() != scoped:
            raise Forbidden(f"these credentials may only record statements of registration "
                            f"{scoped} (the enrolment they were launched for), not "
                            f"{registration}")


def _record(items: list[dict[str, Any]], contents: dict[str, tuple[str, bytes]]) -> list[str]:
    _check_scope(items)
    credential = current_credential()
    ids = record(items, organization_id=credential.organization_id,
                 authority=credential_authority(credential), attachments=contents,
                 forwarding=credential.forwards)
    db.session.commit()
    return ids


@bp.route("/statements", methods=["PUT"])
@max_body("XAPI_MAX_STATEMENTS_BYTES")
def put_statement() -> Response:
    """Store one statement under the id given as statementId."""
    _check_params({"statementId"})
    statement_id = request.args.get("statementId")
    if not statement_id:
        raise BadRequest("the statementId parameter is required")
    if not validation.is_uuid(statement_id):
        raise BadRequest("statementId must be a UUID")
    data, contents = _read_statements()
    if not isinstance(data, dict):
        raise BadRequest("PUT takes a single statement")
    if "id" in data and str(data["id"]).lower() != statement_id.lower():
        raise BadRequest("the statement's id differs from the statementId parameter")
    _record([{**data, "id": data.get("id", statement_id)}], contents)
    return Response(status=204)


@bp.route("/statements", methods=["POST"])
@max_body("XAPI_MAX_STATEMENTS_BYTES")
def post_statements() -> Response:
    """Store one statement or an array of statements; answers their ids."""
    _check_params(set())
    data, contents = _read_statements()
    items = data if isinstance(data, list) else [data]
    ids = _record(items, contents)
    return Response(json.dumps(ids), status=200, mimetype="application/json")


# --- GET ------------------------------------------------------------------------------------

def _flag(name: str, params: dict[str, str]) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false")
    return value == "true"


def _timestamp_param(name: str, params: dict[str, str]) -> datetime | None:
    if name not in params:
        return None
    return validation.parse_timestamp(params[name], name)


def _languages() -> list[str]:
    header = request.headers.get("Accept-Language", "")
    ranked = []
    for i, item in enumerate(header.split(",")):
        tag, _, q = item.strip().partition(";q=")
        if not tag:
            continue
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, i, tag.strip().lower()))
    return [tag for _w, _i, tag in sorted(ranked)]


def _pick_language(value: Any, languages: list[str]) -> Any:
    """Keep one entry of a language map: the best match for Accept-Language."""
    if not isinstance(value, dict) or len(value) <= 1:
        return value
    lowered = {tag.lower(): tag for tag in value}
    for wanted in languages:
        if wanted == "*":
            break
        if wanted in lowered:
            return {lowered[wanted]: value[lowered[wanted]]}
        for low, tag in lowered.items():
            if low.startswith(wanted + "-") or wanted.startswith(low + "-"):
                return {tag: value[tag]}
    first = next(iter(value))
    return {first: value[first]}


def _ids_agent(agent: Any) -> Any:
    if not isinstance(agent, dict):
        return agent
    out = {k: v for k, v in agent.items()
           if k in ("objectType", "mbox", "mbox_sha1sum", "openid", "account")}
    if agent.get("objectType") == "Group" and "member" in agent and not any(
            k in agent for k in ("mbox", "mbox_sha1sum", "openid", "account")):
        out["member"] = [_ids_agent(m) for m in agent["member"]]
    return out


def _ids_activity(activity: dict[str, Any]) -> dict[str, Any]:
    return {"id": activity["id"]}


def _context_map(context: dict[str, Any], change: Any) -> None:
    activities = context.get("contextActivities")
    if isinstance(activities, dict):
        context["contextActivities"] = {
            key: [change(a) for a in items] if isinstance(items, list) else change(items)
            for key, items in activities.items()}


def _format_ids(st: dict[str, Any]) -> dict[str, Any]:
    st = dict(st)
    st["actor"] = _ids_agent(st["actor"])
    st["verb"] = {"id": st["verb"]["id"]}
    if "authority" in st:
        st["authority"] = _ids_agent(st["authority"])
    obj = st["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        st["object"] = _ids_activity(obj)
    elif kind in ("Agent", "Group"):
        st["object"] = _ids_agent(obj)
    elif kind == "SubStatement":
        st["object"] = _format_ids(obj)
    if "context" in st:
        context = dict(st["context"])
        for key in ("instructor", "team"):
            if key in context:
                context[key] = _ids_agent(context[key])
        _context_map(context, _ids_activity)
        st["context"] = context
    return st


def _format_canonical(st: dict[str, Any], definitions: dict[str, Any],
                      languages: list[str]) -> dict[str, Any]:
    st = dict(st)

    def canonical(activity: dict[str, Any]) -> dict[str, Any]:
        out = dict(activity)
        definition = definitions.get(activity["id"])
        if definition:
            parsed = json.loads(definition)
            for key in ("name", "description"):
                if key in parsed:
                    parsed[key] = _pick_language(parsed[key], languages)
            out["definition"] = parsed
        return out

    verb = dict(st["verb"])
    if "display" in verb:
        verb["display"] = _pick_language(verb["display"], languages)
    st["verb"] = verb
    obj = st["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        st["object"] = canonical(obj)
    elif kind == "SubStatement":
        st["object"] = _format_canonical(obj, definitions, languages)
    if "context" in st:
        context = dict(st["context"])
        _context_map(context, canonical)
        st["context"] = context
    return st


def _activity_ids(st: dict[str, Any]) -> set[str]:
    found = set()
    obj = st["object"]
    if obj.get("objectType", "Activity") == "Activity":
        found.add(obj["id"])
    elif obj.get("objectType") == "SubStatement":
        found |= _activity_ids(obj)
    for items in ((st.get("context") or {}).get("contextActivities") or {}).values():
        for item in items if isinstance(items, list) else [items]:
            found.add(item["id"])
    return found


def _render(texts: list[str], fmt: str) -> list[str]:
    """Statements as JSON texts in the requested format (exact is the stored text itself)."""
    if fmt == "exact":
        return texts
    parsed = [loads(text) for text in texts]
    if fmt == "ids":
        return [dumps(_format_ids(st)) for st in parsed]
    wanted: set[str] = set()
    for st in parsed:
        wanted |= _activity_ids(st)
    definitions = queries.activity_definitions(current_organization_id(), sorted(wanted))
    languages = _languages()
    return [dumps(_format_canonical(st, definitions, languages)) for st in parsed]


def _respond(body: str, texts: list[str], want_attachments: bool,
             last_modified: datetime) -> Response:
    if want_attachments:
        hashes: set[str] = set()
        for text in texts:
            st = json.loads(text)
            for item in multipart.all_attachments(st):
                if "sha2" in item:
                    hashes.add(str(item["sha2"]).lower())
        contents = queries.attachment_contents(current_organization_id(), sorted(hashes))
        payload, content_type = multipart.build_multipart(body.encode(), contents)
        response = Response(payload, status=200, content_type=content_type)
    else:
        response = Response(body, status=200, mimetype="application/json")
    response.headers["X-Experience-API-Consistent-Through"] = format_timestamp(utcnow())
    response.headers["Last-Modified"] = format_datetime(last_modified, usegmt=True)
    return response


def _encode_cursor(params: dict[str, str], last_pk: int) -> str:
    raw = json.dumps({"p": params, "k": last_pk}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[dict[str, str], int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        params, last_pk = data["p"], int(data["k"])
        if not isinstance(params, dict):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BadRequest("the more cursor is not valid") from exc
    return {str(k): str(v) for k, v in params.items()}, last_pk


@bp.route("/statements", methods=["GET"])
def get_statements() -> Response:
    """One statement by statementId/voidedStatementId, or a filtered page of statements."""
    after_pk = None
    if "more" in request.args:
        params, after_pk = _decode_cursor(request.args["more"])
    else:
        _check_params(GET_PARAMS)
        params = {key: request.args[key] for key in request.args}
    fmt = params.get("format", "exact")
    if fmt not in ("ids", "exact", "canonical"):
        raise BadRequest("format must be ids, exact or canonical")
    want_attachments = _flag("attachments", params)
    if "statementId" in params or "voidedStatementId" in params:
        return _single(params, fmt, want_attachments)
    return _page(params, fmt, want_attachments, after_pk)


def _single(params: dict[str, str], fmt: str, want_attachments: bool) -> Response:
    extra = sorted(set(params) - SINGLE_PARAMS)
    if extra:
        raise BadRequest(f"{extra[0]} cannot be used with statementId or voidedStatementId")
    if "statementId" in params and "voidedStatementId" in params:
        raise BadRequest("use statementId or voidedStatementId, not both")
    voided = "voidedStatementId" in params
    statement_id = params["voidedStatementId" if voided else "statementId"]
    if not validation.is_uuid(statement_id):
        raise BadRequest("the statement id must be a UUID")
    row = queries.get_statement(current_organization_id(), statement_id)
    if row is None or row.voided != voided:
        raise NotFound("no such statement" + (" (voided)" if voided else ""))
    if not _visible(row.data):
        raise NotFound("no such statement")
    [text] = _render([row.data], fmt)
    return _respond(text, [row.data], want_attachments, row.stored)


def _visible(text: str) -> bool:
    """Launch credentials only read their learner's statements."""
    credential = current_credential()
    if credential.scope_agent is None:
        return True
    st = json.loads(text)
    try:
        return agent_key(st["actor"]) == agent_key(json.loads(credential.scope_agent))
    except BadRequest:
        return False


def _page(params: dict[str, str], fmt: str, want_attachments: bool,
          after_pk: int | None) -> Response:
    filters: dict[str, str] = {}
    related_agents = _flag("related_agents", params)
    related_activities = _flag("related_activities", params)
    ascending = _flag("ascending", params)
    if "agent" in params:
        agent = parse_agent_param(params["agent"])
        filters[RELATED_AGENT if related_agents else AGENT] = agent_key(agent)
    if "verb" in params:
        if not validation.is_iri(params["verb"]):
            raise BadRequest("verb must be an IRI")
        filters[VERB] = params["verb"]
    if "activity" in params:
        if not validation.is_iri(params["activity"]):
            raise BadRequest("activity must be an IRI")
        filters[RELATED_ACTIVITY if related_activities else ACTIVITY] = params["activity"]
    if "registration" in params:
        if not validation.is_uuid(params["registration"]):
            raise BadRequest("registration must be a UUID")
        filters[REGISTRATION] = params["registration"].lower()
    credential = current_credential()
    if credential.scope_agent is not None:
        scope = agent_key(json.loads(credential.scope_agent))
        if filters.get(AGENT, scope) != scope:
            raise Forbidden("these credentials may only read statements of their learner")
        filters[AGENT] = scope
    since = _timestamp_param("since", params)
    until = _timestamp_param("until", params)
    try:
        limit = int(params.get("limit", "0"))
    except ValueError as exc:
        raise BadRequest("limit must be a non-negative integer") from exc
    if limit < 0:
        raise BadRequest("limit must be a non-negative integer")
    page_size = min(limit or MAX_PAGE, MAX_PAGE)
    rows = queries.find_statements(current_organization_id(), filters=filters, since=since,
                                   until=until, ascending=ascending, after_pk=after_pk,
                                   limit=page_size + 1)
    more = ""
    if len(rows) > page_size:
        rows = rows[:page_size]
        cursor_params = {k: v for k, v in params.items()}
        if limit:
            cursor_params["limit"] = str(limit)
        more = f"{bp.url_prefix}/statements?more={_encode_cursor(cursor_params, rows[-1].pk)}"
        if current_app.config["APPLICATION_ROOT"] not in ("/", ""):
            more = current_app.config["APPLICATION_ROOT"].rstrip("/") + more
    texts = [row.data for row in rows]
    rendered = _render(texts, fmt)
    body = '{"statements":[' + ",".join(rendered) + '],"more":' + json.dumps(more) + "}"
    last = max((row.stored for row in rows), default=utcnow())
    return _respond(body, texts, want_attachments, last)
