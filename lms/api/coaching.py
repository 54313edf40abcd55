"""Coaching follow-ups over the API: list, schedule, move, record (held, cancelled, missed),
notes, action items.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from lms.accounts.authz import MANAGER_ROLES, STAFF_ROLES
from lms.accounts.models import Membership, Role
from lms.api.base import (
    body_date,
    body_enrollment,
    body_int,
    body_member,
    body_text,
    bp,
    current_api_user,
    json_body,
    org_member,
    paged,
)
from lms.api.openapi import ORG, PAGING, PATHS, SCHEMAS, errors, path_param, ref, returns
from lms.coaching import queries, services
from lms.coaching.models import (
    CANCELLED,
    FOLLOWUP_STATUSES,
    HELD,
    MISSED,
    SCHEDULED,
    ActionItem,
    FollowUp,
)
from lms.core.errors import BadRequest, NotFound, ValidationFailed
from lms.courses.cohorts.models import Enrollment
from lms.courses.programs.models import Module
from lms.extensions import db


def action_json(a: ActionItem) -> dict[str, Any]:
    """An action item."""
    return {"id": a.id, "followup_id": a.followup_id, "text": a.text,
            "due_on": a.due_on.isoformat() if a.due_on else None, "status": a.status,
            "completed_at": a.completed_at.isoformat() if a.completed_at else None,
            "overdue": queries.action_overdue(a)}


def followup_json(f: FollowUp) -> dict[str, Any]:
    """A follow-up with its notes and action items."""
    return {"id": f.id, "enrolment_id": f.enrollment_id, "member_id": f.learner.id,
            "module_id": f.module_id, "coach_id": f.coach_id,
            "scheduled_at": f.scheduled_at.isoformat(), "duration_minutes": f.duration_minutes,
            "place": f.place, "video_link": f.video_link, "status": f.status,
            "overdue": queries.is_overdue(f),
            "held_at": f.held_at.isoformat() if f.held_at else None, "notes": f.notes,
            "next_followup_on": f.next_followup_on.isoformat() if f.next_followup_on else None,
            "action_items": [action_json(a) for a in f.action_items]}


def _visible(membership: Membership, followup: FollowUp | None) -> FollowUp:
    """A follow-up the caller may read: staff and HR see the organization's, a learner theirs."""
    if followup is None or followup.organization_id != membership.organization_id or (
            membership.role not in MANAGER_ROLES
            and followup.enrollment.membership_id != membership.id):
        raise NotFound(_l("No such follow-up."))
    return followup


def _datetime(body: dict[str, Any], name: str, *, required: bool = False) -> datetime | None:
    value = body.get(name)
    if value in (None, ""):
        if required:
            raise ValidationFailed(_l("Invalid date and time."),
                                   fields={name: _l("Required (ISO 8601 with a time zone).")})
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed(_l("Invalid date and time."),
                               fields={name: _l("Use ISO 8601 with a time zone, e.g. "
                                             "2026-12-01T10:00:00+01:00.")})
    return parsed


_int, _text = body_int, body_text


def _coach(membership: Membership, body: dict[str, Any]) -> Membership | None:
    return body_member(membership, body, "coach_id")


@bp.get("/orgs/<org_slug>/followups")
@org_member()
def list_followups(membership: Membership) -> Any:
    """Follow-ups, overdue first (a learner sees their own; staff and HR the organization's)."""
    args = {}
    for name in ("cohort", "coach"):
        raw = request.args.get(name)
        if raw is not None and not raw.isdigit():
            raise BadRequest(_l("Invalid filter."), fields={name: _l("integer expected")})
        args[name] = int(raw) if raw is not None else None
    show = request.args.get("show") or "all"
    if show not in ("open", "recorded", "all"):
        raise BadRequest(_l("Invalid filter."), fields={"show": _l("open, recorded or all")})
    stmt = queries.listing(membership.organization_id, coach_id=args["coach"],
                           cohort_id=args["cohort"], show=show)
    if membership.role not in MANAGER_ROLES:
        stmt = stmt.where(Enrollment.membership_id == membership.id)
    return paged(stmt, followup_json)


@bp.post("/orgs/<org_slug>/followups")
@org_member(*STAFF_ROLES)
def create_followup(membership: Membership) -> Any:
    """Schedule a follow-up (its date proposed from the module's plan when not given)."""
    body = json_body()
    enrollment = body_enrollment(membership, body, "enrolment_id", _l("No such enrolment."),
                                 _l("No such enrolment."))
    module = db.session.get(Module, _int(body, "module_id") or 0)
    if module is None or module.program_id != enrollment.cohort.program_id:
        raise ValidationFailed(_l("No such module in the learner's program."),
                               fields={"module_id": _l("A coaching module of the program.")})
    when = _datetime(body, "scheduled_at") or services.propose_dates(
        enrollment=enrollment, module=module)[0]
    followup = services.schedule(
        enrollment=enrollment, module=module, coach=_coach(membership, body) or membership,
        scheduled_at=when, duration_minutes=_int(body, "duration_minutes"),
        place=_text(body, "place"), video_link=_text(body, "video_link"))
    db.session.commit()
    return followup_json(followup), 201


@bp.get("/orgs/<org_slug>/followups/<int:followup_id>")
@org_member()
def get_followup(membership: Membership, followup_id: int) -> Any:
    """One follow-up with its notes and action items (its learner; staff and HR)."""
    return followup_json(_visible(membership, db.session.get(FollowUp, followup_id)))


@bp.patch("/orgs/<org_slug>/followups/<int:followup_id>")
@org_member(*STAFF_ROLES)
def update_followup(membership: Membership, followup_id: int) -> Any:
    """Move a scheduled follow-up, record it (held, cancelled, missed) or amend its notes."""
    followup = _visible(membership, db.session.get(FollowUp, followup_id))
    body = json_body()
    status = body.get("status")
    if status is not None and status not in FOLLOWUP_STATUSES:
        raise ValidationFailed(_l("Unknown status."),
                               fields={"status": ", ".join(FOLLOWUP_STATUSES)})
    if status == HELD and followup.status != HELD:
        items = body.get("action_items") or []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValidationFailed(_l("Invalid action items."),
                                   fields={"action_items": _l("A list of {text, due_on}.")})
        actions = [(str(i.get("text") or ""), body_date(i, "due_on")) for i in items]
        services.record_held(followup=followup, notes=_text(body, "notes"), actions=actions,
                             next_followup_on=body_date(body, "next_followup_on"),
                             held_at=_datetime(body, "held_at"))
    elif status == SCHEDULED and followup.status == HELD:
        services.reopen(followup=followup, by=current_api_user())
    elif status == CANCELLED:
        services.cancel(followup=followup)
    elif status == MISSED:
        services.mark_missed(followup=followup)
    elif followup.status == HELD:
        services.update_notes(
            followup=followup,
            notes=_text(body, "notes") if "notes" in body else followup.notes,
            next_followup_on=body_date(body, "next_followup_on") if "next_followup_on" in body
            else followup.next_followup_on)
    else:
        services.reschedule(
            followup=followup,
            scheduled_at=_datetime(body, "scheduled_at") or followup.scheduled_at,
            duration_minutes=_int(body, "duration_minutes"),
            place=_text(body, "place") if "place" in body else followup.place,
            video_link=_text(body, "video_link") if "video_link" in body
            else followup.video_link,
            coach=_coach(membership, body))
    db.session.commit()
    return followup_json(followup)


@bp.post("/orgs/<org_slug>/followups/<int:followup_id>/action-items")
@org_member(*STAFF_ROLES)
def create_action_item(membership: Membership, followup_id: int) -> Any:
    """Add an action item to a held follow-up."""
    followup = _visible(membership, db.session.get(FollowUp, followup_id))
    body = json_body()
    item = services.add_action(followup=followup, text=_text(body, "text") or "",
                               due_on=body_date(body, "due_on"))
    db.session.commit()
    return action_json(item), 201


@bp.patch("/orgs/<org_slug>/action-items/<int:item_id>")
@org_member(Role.LEARNER, *STAFF_ROLES)
def update_action_item(membership: Membership, item_id: int) -> Any:
    """Tick an action item done, drop it or open it again (its learner: done or open)."""
    item = db.session.get(ActionItem, item_id)
    if item is None:
        raise NotFound(_l("No such action item."))
    _visible(membership, item.followup)
    status = json_body().get("status")
    if membership.role == Role.LEARNER and status not in ("open", "done"):
        raise ValidationFailed(_l("A learner ticks an action done or open again."),
                               fields={"status": _l("open or done")})
    services.set_action_status(item=item, status=str(status or ""), by=current_api_user())
    db.session.commit()
    return action_json(item)


# --- OpenAPI ---------------------------------------------------------------------------------

_FOLLOWUP_ID = path_param("followup_id")
_ITEM_ID = path_param("item_id")


def _body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"required": True, "content": {"application/json": {"schema": schema}}}


SCHEMAS.update({
    "ActionItem": {"type": "object", "properties": {
        "id": {"type": "integer"}, "followup_id": {"type": "integer"}, "text": {"type": "string"},
        "due_on": {"type": ["string", "null"], "format": "date"},
        "status": {"type": "string", "enum": ["open", "done", "dropped"]},
        "completed_at": {"type": ["string", "null"]}, "overdue": {"type": "boolean"}}},
    "FollowUp": {"type": "object", "properties": {
        "id": {"type": "integer"}, "enrolment_id": {"type": "string"},
        "member_id": {"type": "integer", "description": "The learner (a membership id)."},
        "module_id": {"type": "integer"}, "coach_id": {"type": ["integer", "null"]},
        "scheduled_at": {"type": "string", "format": "date-time"},
        "duration_minutes": {"type": "integer"}, "place": {"type": ["string", "null"]},
        "video_link": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": list(FOLLOWUP_STATUSES)},
        "overdue": {"type": "boolean", "description": "Scheduled in the past, not recorded."},
        "held_at": {"type": ["string", "null"]}, "notes": {"type": ["string", "null"]},
        "next_followup_on": {"type": ["string", "null"], "format": "date"},
        "action_items": {"type": "array", "items": ref("ActionItem")}}},
})
PATHS.update({
    "/orgs/{org_slug}/followups": {
        "get": {"operationId": "listFollowUps",
                "summary": "Coaching follow-ups, overdue first (a learner gets their own)",
                "parameters": [ORG,
                               {"name": "cohort", "in": "query", "schema": {"type": "integer"}},
                               {"name": "coach", "in": "query", "schema": {"type": "integer"},
                                "description": "The coach's member id"},
                               {"name": "show", "in": "query", "schema": {
                                   "type": "string", "enum": ["open", "recorded", "all"]}},
                               *PAGING],
                "responses": {"200": returns({"type": "object", "properties": {
                    "items": {"type": "array", "items": ref("FollowUp")},
                    "page": {"type": "integer"}, "per_page": {"type": "integer"},
                    "total": {"type": "integer"}}}), **errors(400, 401, 404)}},
        "post": {"operationId": "createFollowUp",
                 "summary": "Schedule a follow-up (trainer, admin)",
                 "description": "Without scheduled_at the date is proposed from the module's "
                                "coaching plan. The coach is the caller unless coach_id says.",
                 "parameters": [ORG],
                 "requestBody": _body({
                     "enrolment_id": {"type": "string"}, "module_id": {"type": "integer"},
                     "coach_id": {"type": "integer"},
                     "scheduled_at": {"type": "string", "format": "date-time"},
                     "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 480},
                     "place": {"type": "string"}, "video_link": {"type": "string"}},
                     ["enrolment_id", "module_id"]),
                 "responses": {"201": returns(ref("FollowUp"), "created"),
                               **errors(400, 401, 403, 404, 422)}}},
    "/orgs/{org_slug}/followups/{followup_id}": {
        "get": {"operationId": "getFollowUp",
                "summary": "One follow-up with notes and action items (its learner; staff, HR)",
                "parameters": [ORG, _FOLLOWUP_ID],
                "responses": {"200": returns(ref("FollowUp")), **errors(401, 404)}},
        "patch": {"operationId": "updateFollowUp",
                  "summary": "Move, record (held, cancelled, missed) or amend notes",
                  "description": "status held records the follow-up with notes, action_items "
                                 "[{text, due_on}], next_followup_on and held_at, records the "
                                 "xAPI statements and completes the module once enough are "
                                 "held. Without status: moves a scheduled follow-up, or "
                                 "amends the notes of a held one; status scheduled on a held "
                                 "one undoes it (its statements are voided). 409 when the "
                                 "follow-up is no longer scheduled.",
                  "parameters": [ORG, _FOLLOWUP_ID],
                  "requestBody": _body({
                      "status": {"type": "string",
                                 "enum": ["held", "cancelled", "missed", "scheduled"]},
                      "notes": {"type": "string"},
                      "action_items": {"type": "array", "items": {"type": "object"}},
                      "next_followup_on": {"type": "string", "format": "date"},
                      "held_at": {"type": "string", "format": "date-time"},
                      "scheduled_at": {"type": "string", "format": "date-time"},
                      "duration_minutes": {"type": "integer"}, "place": {"type": "string"},
                      "video_link": {"type": "string"}, "coach_id": {"type": "integer"}}),
                  "responses": {"200": returns(ref("FollowUp")),
                                **errors(400, 401, 403, 404, 409, 422)}}},
    "/orgs/{org_slug}/followups/{followup_id}/action-items": {
        "post": {"operationId": "createActionItem",
                 "summary": "Add an action item to a held follow-up (trainer, admin)",
                 "parameters": [ORG, _FOLLOWUP_ID],
                 "requestBody": _body({"text": {"type": "string", "maxLength": 500},
                                       "due_on": {"type": "string", "format": "date"}},
                                      ["text"]),
                 "responses": {"201": returns(ref("ActionItem"), "created"),
                               **errors(400, 401, 403, 404, 409, 422)}}},
    "/orgs/{org_slug}/action-items/{item_id}": {
        "patch": {"operationId": "updateActionItem",
                  "summary": "Tick an action item (its learner: done/open; staff: also dropped)",
                  "parameters": [ORG, _ITEM_ID],
                  "requestBody": _body({"status": {"type": "string",
                                                   "enum": ["open", "done", "dropped"]}},
                                       ["status"]),
                  "responses": {"200": returns(ref("ActionItem")),
                                **errors(400, 401, 403, 404, 422)}}},
})
