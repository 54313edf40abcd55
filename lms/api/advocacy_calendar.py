"""Advocacy: the editorial calendar's content items (with windows), the calendar range, and
content proposals with their review.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from lms.accounts.authz import MANAGER_ROLES
from lms.accounts.models import Membership, Role
from lms.advocacy import calendar, proposals
from lms.advocacy.models import ContentItem, ContentProposal
from lms.api.base import (
    body_date,
    body_int,
    body_text,
    bp,
    current_api_user,
    in_org,
    json_body,
    org_member,
)
from lms.core.errors import BadRequest, ValidationFailed
from lms.core.models import utcnow
from lms.extensions import db

MAX_RANGE_DAYS = 400


def item_json(i: ContentItem) -> dict[str, Any]:
    """The API representation of a content item of the calendar."""
    return {"id": i.id, "title": i.title, "url": i.url, "campaign_id": i.campaign_id,
            "starts_on": i.starts_on.isoformat() if i.starts_on else None,
            "ends_on": i.ends_on.isoformat() if i.ends_on else None,
            "networks": i.network_list,
            "angles": {"fr": i.angle, "en": i.angle_en},
            "sample_posts": {"fr": i.sample_post, "en": i.sample_post_en},
            "owner_id": i.owner_id}


def proposal_json(p: ContentProposal) -> dict[str, Any]:
    """The API representation of a content proposal."""
    return {"id": p.id, "title": p.title, "url": p.url, "text": p.text, "note": p.note,
            "status": p.status, "proposed_by": p.proposed_by_id,
            "created_at": p.created_at.isoformat(),
            "reviewed_by": p.reviewed_by_id,
            "reviewed_at": p.reviewed_at.isoformat() if p.reviewed_at else None,
            "decline_reason": p.decline_reason, "content_item_id": p.content_item_id}


def _by_language(body: dict[str, Any], name: str) -> dict[str, str | None]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            k in ("fr", "en") and (v is None or isinstance(v, str)) for k, v in value.items()):
        raise ValidationFailed(_l("The content is not valid."),
                               fields={name: _l("An object with texts under fr and en.")})
    return value


def _fields(body: dict[str, Any], base: calendar.ItemFields) -> calendar.ItemFields:
    """The body's fields over ``base`` (a PATCH changes only what it names)."""
    networks = body["networks"] if "networks" in body else list(base.networks)
    if not isinstance(networks, list) or not all(isinstance(n, str) for n in networks):
        raise ValidationFailed(_l("The content is not valid."),
                               fields={"networks": _l("A list of network names.")})
    angles, samples = _by_language(body, "angles"), _by_language(body, "sample_posts")
    return calendar.ItemFields(
        title=body_text(body, "title") or "" if "title" in body else base.title,
        url=body_text(body, "url") if "url" in body else base.url,
        starts_on=body_date(body, "starts_on") if "starts_on" in body else base.starts_on,
        ends_on=body_date(body, "ends_on") if "ends_on" in body else base.ends_on,
        networks=networks,
        angle=angles.get("fr", base.angle), angle_en=angles.get("en", base.angle_en),
        sample_post=samples.get("fr", base.sample_post),
        sample_post_en=samples.get("en", base.sample_post_en),
        campaign_id=body_int(body, "campaign_id") if "campaign_id" in body
        else base.campaign_id,
        owner_id=body_int(body, "owner_id") if "owner_id" in body else base.owner_id)


def _query_date(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(_l("Invalid date."), fields={name: _l("Use YYYY-MM-DD.")}) from None


@bp.get("/orgs/<org_slug>/advocacy/content-items")
@org_member()
def list_content_items(membership: Membership) -> Any:
    """Content items: those open today for learners; for trainers, HR and admins every dated
    item, or those meeting ``from``–``to``.
    """
    org_id = membership.organization_id
    if membership.role not in MANAGER_ROLES:
        items = calendar.open_now(org_id, utcnow().date())
    else:
        first, last = _query_date("from") or date(1900, 1, 1), _query_date("to") or date(
            2100, 12, 31)
        items = calendar.between(org_id, first, last)
    return {"items": [item_json(i) for i in items]}


@bp.post("/orgs/<org_slug>/advocacy/content-items")
@org_member(Role.TRAINER, Role.HR, Role.ADMIN)
def create_content_item(membership: Membership) -> Any:
    """Put content on the calendar (title and starts_on required)."""
    item = calendar.save_item(organization=membership.organization,
                              fields=_fields(json_body(), calendar.ItemFields()),
                              by=current_api_user())
    db.session.commit()
    return item_json(item), 201


@bp.patch("/orgs/<org_slug>/advocacy/content-items/<int:item_id>")
@org_member(Role.TRAINER, Role.HR, Role.ADMIN)
def update_content_item(membership: Membership, item_id: int) -> Any:
    """Change a content item (its window, networks, texts…): only the fields given."""
    item = in_org(membership, ContentItem, item_id, _l("No such content item."))
    body = json_body()
    calendar.save_item(organization=membership.organization,
                       fields=_fields(body, calendar.fields_of(item)), item=item,
                       by=current_api_user())
    db.session.commit()
    return item_json(item)


@bp.get("/orgs/<org_slug>/advocacy/calendar")
@org_member(Role.TRAINER, Role.HR, Role.ADMIN)
def calendar_range(membership: Membership) -> Any:
    """The content items whose window meets ``start``–``end`` (400 days at most; the
    current month by default).
    """
    month = calendar.period("month", utcnow().date())
    first = _query_date("start") or month.first
    last = _query_date("end") or month.last
    if last < first or (last - first).days > MAX_RANGE_DAYS:
        raise BadRequest(_l("Give the period."), fields={
            "end": _l("On or after start, %(count)d days at most.", count=MAX_RANGE_DAYS)})
    items = calendar.between(membership.organization_id, first, last)
    return {"start": first.isoformat(), "end": last.isoformat(),
            "items": [item_json(i) for i in items]}


@bp.get("/orgs/<org_slug>/advocacy/proposals")
@org_member()
def list_proposals(membership: Membership) -> Any:
    """Proposals: one's own for learners, everyone's for trainers, HR and admins (``status``
    filters).
    """
    status = request.args.get("status")
    if status is not None and status not in ("pending", "approved", "declined"):
        raise BadRequest(_l("Unknown status."),
                         fields={"status": _l("pending, approved or declined")})
    mine = membership.role not in MANAGER_ROLES
    return {"items": [proposal_json(p) for p in proposals.listed(
        membership.organization_id, user_id=membership.user_id if mine else None,
        statuses=[status] if status else None)]}


@bp.post("/orgs/<org_slug>/advocacy/proposals")
@org_member()
def create_proposal(membership: Membership) -> Any:
    """Propose a link or a text for the calendar (any member)."""
    body = json_body()
    proposal = proposals.propose(
        organization=membership.organization, user=current_api_user(),
        title=body_text(body, "title") or "", url=body_text(body, "url"),
        text=body_text(body, "text"), note=body_text(body, "note"))
    db.session.commit()
    return proposal_json(proposal), 201


@bp.post("/orgs/<org_slug>/advocacy/proposals/<int:proposal_id>/review")
@org_member(Role.TRAINER, Role.HR, Role.ADMIN)
def review_proposal(membership: Membership, proposal_id: int) -> Any:
    """Approve (``decision`` "approve", with ``starts_on`` and optionally ``ends_on``,
    ``networks``…) or decline (``decision`` "decline" with a ``reason``) a pending proposal.
    """
    proposal = in_org(membership, ContentProposal, proposal_id, _l("No such proposal."))
    body = json_body()
    decision = body.get("decision")
    if decision == "approve":
        proposals.approve(organization=membership.organization, proposal=proposal,
                          reviewer=current_api_user(),
                          fields=_fields(body, calendar.ItemFields()))
    elif decision == "decline":
        proposals.decline(organization=membership.organization, proposal=proposal,
                          reviewer=current_api_user(), reason=body_text(body, "reason") or "")
    else:
        raise ValidationFailed(_l("Approve or decline."),
                               fields={"decision": _l("approve or decline")})
    db.session.commit()
    return proposal_json(proposal)


# -- OpenAPI ------------------------------------------------------------------------------------

def _document() -> None:
    from lms.api.openapi import ORG, PATHS, SCHEMAS, errors, path_param, ref, returns

    texts = {"type": "object", "properties": {"fr": {"type": ["string", "null"]},
                                              "en": {"type": ["string", "null"]}}}
    item_props = {
        "title": {"type": "string"}, "url": {"type": ["string", "null"]},
        "campaign_id": {"type": ["integer", "null"]},
        "starts_on": {"type": ["string", "null"], "format": "date"},
        "ends_on": {"type": ["string", "null"], "format": "date",
                    "description": "last day included; null: open-ended"},
        "networks": {"type": "array", "items": {"type": "string", "enum": [
            "linkedin", "x", "facebook", "instagram", "tiktok", "youtube", "other"]}},
        "angles": texts, "sample_posts": texts, "owner_id": {"type": ["integer", "null"]}}
    SCHEMAS["CalendarItem"] = {"type": "object", "properties": {
        "id": {"type": "integer"}, **item_props}}
    SCHEMAS["CalendarItemInput"] = {"type": "object", "properties": item_props}
    SCHEMAS["ContentProposal"] = {"type": "object", "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"},
        "url": {"type": ["string", "null"]}, "text": {"type": ["string", "null"]},
        "note": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": ["pending", "approved", "declined"]},
        "proposed_by": {"type": "integer"}, "created_at": {"type": "string"},
        "reviewed_by": {"type": ["integer", "null"]},
        "reviewed_at": {"type": ["string", "null"]},
        "decline_reason": {"type": ["string", "null"]},
        "content_item_id": {"type": ["integer", "null"]}}}
    items = {"type": "object", "properties": {"items": {"type": "array",
                                                        "items": ref("CalendarItem")}}}
    date_param = [{"name": name, "in": "query", "schema": {"type": "string", "format": "date"}}
                  for name in ("from", "to")]
    PATHS["/orgs/{org_slug}/advocacy/content-items"] = {
        "get": {"summary": "Content items: open today (learners), or every dated one meeting "
                           "from–to (trainers, HR, admins)",
                "parameters": [ORG, *date_param],
                "responses": {"200": returns(items), **errors(400, 401, 404)}},
        "post": {"summary": "Put content on the calendar (trainer, HR, admin)",
                 "parameters": [ORG],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": ref("CalendarItemInput")}}},
                 "responses": {"201": returns(ref("CalendarItem")),
                               **errors(400, 401, 403, 404, 422)}}}
    PATHS["/orgs/{org_slug}/advocacy/content-items/{item_id}"] = {
        "patch": {"summary": "Change a content item (only the fields given)",
                  "parameters": [ORG, path_param("item_id")],
                  "requestBody": {"required": True, "content": {"application/json": {
                      "schema": ref("CalendarItemInput")}}},
                  "responses": {"200": returns(ref("CalendarItem")),
                                **errors(400, 401, 403, 404, 422)}}}
    PATHS["/orgs/{org_slug}/advocacy/calendar"] = {
        "get": {"summary": "The calendar between two days, this month by default (trainer, "
                       "HR, admin)",
                "parameters": [ORG, *[{"name": name, "in": "query",
                                       "schema": {"type": "string", "format": "date"}}
                                      for name in ("start", "end")]],
                "responses": {"200": returns({"type": "object", "properties": {
                    "start": {"type": "string"}, "end": {"type": "string"},
                    "items": {"type": "array", "items": ref("CalendarItem")}}}),
                    **errors(400, 401, 403, 404)}}}
    PATHS["/orgs/{org_slug}/advocacy/proposals"] = {
        "get": {"summary": "Content proposals (one's own for learners)",
                "parameters": [ORG, {"name": "status", "in": "query", "schema": {
                    "type": "string", "enum": ["pending", "approved", "declined"]}}],
                "responses": {"200": returns({"type": "object", "properties": {
                    "items": {"type": "array", "items": ref("ContentProposal")}}}),
                    **errors(400, 401, 404)}},
        "post": {"summary": "Propose a link or a text for the calendar (any member)",
                 "parameters": [ORG],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["title"], "properties": {
                         "title": {"type": "string"}, "url": {"type": "string"},
                         "text": {"type": "string"}, "note": {"type": "string"}}}}}},
                 "responses": {"201": returns(ref("ContentProposal")),
                               **errors(400, 401, 404, 422)}}}
    PATHS["/orgs/{org_slug}/advocacy/proposals/{proposal_id}/review"] = {
        "post": {"summary": "Approve a proposal into the calendar, or decline it with a reason",
                 "parameters": [ORG, path_param("proposal_id")],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["decision"], "properties": {
                         "decision": {"type": "string", "enum": ["approve", "decline"]},
                         "reason": {"type": "string"},
                         **item_props}}}}},
                 "responses": {"200": returns(ref("ContentProposal")),
                               **errors(400, 401, 403, 404, 409, 422)}}}


_document()
