"""Advocacy: events (list, idempotent create) and campaigns."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.authz import MANAGER_ROLES
from lms.accounts.models import Membership, Role
from lms.advocacy import queries, services
from lms.advocacy.models import MAX_TEXT, METRICS, AdvocacyEvent, Campaign
from lms.api.base import bp, current_api_user, json_body, org_member, paged
from lms.core.errors import BadRequest, ValidationFailed
from lms.extensions import db

MAX_BATCH = 1000


def event_json(e: AdvocacyEvent) -> dict[str, Any]:
    """The API representation of an advocacy event."""
    return {"id": e.id, "user_id": e.user_id, "network": e.network, "kind": e.kind,
            "url": e.url, "occurred_at": e.occurred_at.isoformat(), "source": e.source,
            "external_id": e.external_id, "campaign_id": e.campaign_id,
            "content_item_id": e.content_item_id,
            "with_own_comment": e.with_own_comment, "text": e.text,
            "metrics": {m: getattr(e, m) for m in METRICS}, "statement_id": e.statement_id}


def campaign_json(c: Campaign) -> dict[str, Any]:
    """The API representation of a campaign with its content items."""
    return {"id": c.id, "kind": c.kind, "title": c.title, "target_metric": c.target_metric,
            "target_value": c.target_value,
            "deadline": c.deadline.isoformat() if c.deadline else None,
            "content_items": [{"id": i.id, "title": i.title, "url": i.url, "angle": i.angle}
                              for i in c.items]}


@bp.get("/orgs/<org_slug>/advocacy/events")
@org_member()
def list_advocacy_events(membership: Membership) -> Any:
    """Events, newest first: all of them for trainers/HR/admins, one's own for learners."""
    stmt = select(AdvocacyEvent).where(
        AdvocacyEvent.organization_id == membership.organization_id)
    if membership.role not in MANAGER_ROLES:
        stmt = stmt.where(AdvocacyEvent.user_id == membership.user_id)
    return paged(stmt.order_by(AdvocacyEvent.occurred_at.desc(), AdvocacyEvent.id.desc()),
                 event_json)


@bp.post("/orgs/<org_slug>/advocacy/events")
@org_member()
def create_advocacy_events(membership: Membership) -> Any:
    """Record one event, or ``{"events": [...]}``; idempotent (same event → metrics updated).

    Learners record their own events; trainers, HR and admins may name anyone by ``email``.
    All or nothing: one invalid event stores none (fields name ``events[i]``; the error's
    ``events`` gives each one's code, see docs/advocacy-intake.md).
    """
    body = json_body(dates=False)  # the intake checks event dates, as for every other path
    raw_events = body["events"] if "events" in body else [body]
    if not isinstance(raw_events, list) or not 1 <= len(raw_events) <= MAX_BATCH or not all(
            isinstance(e, dict) for e in raw_events):
        raise BadRequest(_l("'events' must be a list of 1 to %(count)d objects.",
                            count=MAX_BATCH))
    org, user = membership.organization, current_api_user()
    # Learners record their own events; a manager's events default to their own too.
    items = [(str(raw.get("email") or "").strip() or user.email, raw) for raw in raw_events]
    try:
        result, checked = services.record_events(
            organization=org, items=items, source="api",
            only_user_id=None if membership.role in MANAGER_ROLES else user.id)
    except services.EventsRejected as exc:
        db.session.rollback()
        return exc.envelope(single="events" not in body), exc.status
    db.session.commit()
    stored = db.session.scalars(select(AdvocacyEvent).where(
        AdvocacyEvent.organization_id == org.id,
        AdvocacyEvent.idem_key.in_([e["idem_key"] for e in checked.events])))
    return ({**result.as_dict(), "events": [event_json(e) for e in stored]},
            201 if result.created else 200)


@bp.get("/orgs/<org_slug>/advocacy/campaigns")
@org_member()
def list_campaigns(membership: Membership) -> Any:
    """The organization's campaigns and their content items."""
    return {"items": [campaign_json(c) for c in queries.campaigns(membership.organization_id)]}


@bp.post("/orgs/<org_slug>/advocacy/campaigns")
@org_member(Role.TRAINER, Role.HR, Role.ADMIN)
def create_campaign(membership: Membership) -> Any:
    """Create a campaign, with optional ``content_items`` [{title, url, angle}]."""
    body = json_body()
    deadline = None
    if body.get("deadline"):
        try:
            deadline = date.fromisoformat(str(body["deadline"]))
        except ValueError:
            raise ValidationFailed(_l("The campaign is not valid."),
                                   fields={"deadline": _l("a date YYYY-MM-DD")}) from None
    campaign = services.create_campaign(
        organization=membership.organization, kind=str(body.get("kind") or ""),
        title=str(body.get("title") or ""), target_metric=body.get("target_metric"),
        target_value=body.get("target_value"), deadline=deadline)
    for item in body.get("content_items") or []:
        if not isinstance(item, dict):
            raise BadRequest(_l("content_items must be objects"))
        services.add_content_item(campaign=campaign, title=str(item.get("title") or ""),
                                  url=str(item.get("url") or ""), angle=item.get("angle"))
    db.session.commit()
    db.session.refresh(campaign)
    return campaign_json(campaign), 201


# -- OpenAPI ------------------------------------------------------------------------------------

def _document() -> None:
    from lms.api.openapi import ORG, PAGING, PATHS, SCHEMAS, errors, returns

    event_ref = {"$ref": "#/components/schemas/AdvocacyEvent"}
    campaign_ref = {"$ref": "#/components/schemas/Campaign"}
    metrics = {"type": "object", "properties": {m: {"type": "integer"} for m in METRICS}}
    SCHEMAS["AdvocacyEvent"] = {"type": "object", "properties": {
        "id": {"type": "integer"}, "user_id": {"type": "integer"},
        "network": {"type": "string"}, "kind": {"type": "string"},
        "url": {"type": ["string", "null"]},
        "occurred_at": {"type": "string", "format": "date-time"},
        "source": {"type": "string"}, "external_id": {"type": ["string", "null"]},
        "campaign_id": {"type": ["integer", "null"]},
        "content_item_id": {"type": ["integer", "null"]},
        "with_own_comment": {"type": "boolean"},
        "text": {"type": ["string", "null"], "description": "the post's text, when the "
                                                            "source gave it"},
        "metrics": metrics,
        "statement_id": {"type": ["string", "null"]}}}
    SCHEMAS["AdvocacyEventInput"] = {"type": "object", "required": ["network", "kind",
                                                                    "occurred_at"],
                                     "properties": {
        "email": {"type": "string", "description": "whose event (trainers, HR, admins); "
                                                   "default: the token's user"},
        "network": {"type": "string",
                    "enum": ["linkedin", "x", "facebook", "instagram", "tiktok", "youtube",
                             "other"]},
        "kind": {"type": "string", "enum": ["post", "share", "comment", "reaction",
                                            "summary"]},
        "url": {"type": "string"}, "occurred_at": {"type": "string"},
        "external_id": {"type": "string", "description": "the source's id: the "
                                                         "idempotency key when given"},
        "with_own_comment": {"type": "boolean"}, "campaign_id": {"type": "integer"},
        "content_item_id": {"type": "integer"},
        "text": {"type": "string", "maxLength": MAX_TEXT,
                 "description": "the post's text (optional; compared across colleagues for "
                                "near-identical posts)"},
        **{m: {"type": "integer"} for m in METRICS}}}
    SCHEMAS["Campaign"] = {"type": "object", "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string",
                                            "enum": ["awareness", "campaign", "talent"]},
        "title": {"type": "string"}, "target_metric": {"type": ["string", "null"]},
        "target_value": {"type": ["integer", "null"]},
        "deadline": {"type": ["string", "null"], "format": "date"},
        "content_items": {"type": "array", "items": {"type": "object"}}}}
    result = {"type": "object", "properties": {
        "created": {"type": "integer"}, "updated": {"type": "integer"},
        "unchanged": {"type": "integer"}, "events": {"type": "array", "items": event_ref}}}
    PATHS["/orgs/{org_slug}/advocacy/events"] = {
        "get": {"summary": "Advocacy events, newest first (all for trainers/HR/admins, one's "
                           "own for learners)",
                "parameters": [ORG, *PAGING],
                "responses": {"200": returns({"type": "object", "properties": {
                    "items": {"type": "array", "items": event_ref},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"},
                    "total": {"type": "integer"}}}), **errors(400, 401, 404)}},
        "post": {"summary": "Record advocacy events, idempotently (one event or "
                            "{\"events\": [...]}, all or nothing; consent required)",
                 "parameters": [ORG],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"oneOf": [{"$ref": "#/components/schemas/AdvocacyEventInput"},
                                          {"type": "object", "properties": {"events": {
                                              "type": "array", "items": {
                                                  "$ref": "#/components/schemas/"
                                                          "AdvocacyEventInput"}}}}]}}}},
                 "responses": {"201": returns(result, "at least one event created"),
                               "200": returns(result, "all events already known"),
                               **errors(400, 401, 404, 422)},
                 "description": "A 422 answer also lists each refused event in "
                                "error.events: {index, code, field, message}, with codes "
                                "such as unknown_member, no_consent, invalid_network, "
                                "invalid_date, invalid_metric."}}
    PATHS["/orgs/{org_slug}/advocacy/campaigns"] = {
        "get": {"summary": "Campaigns and their content items", "parameters": [ORG],
                "responses": {"200": returns({"type": "object", "properties": {
                    "items": {"type": "array", "items": campaign_ref}}}),
                    **errors(401, 404)}},
        "post": {"summary": "Create a campaign (trainer, HR, admin)", "parameters": [ORG],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": campaign_ref}}},
                 "responses": {"201": returns(campaign_ref), **errors(400, 401, 403, 404,
                                                                     422)}}}


_document()
