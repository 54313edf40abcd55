"""My team (a manager's direct reports, a champion's group), nudges, and calls for volunteers
for pilot cohorts.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from lms.accounts import nudges
from lms.accounts.authz import STAFF_ROLES
from lms.accounts.models import Membership, Role
from lms.api.base import body_date, body_int, body_text, bp, in_org, json_body, org_member
from lms.api.openapi import ORG, PATHS, SCHEMAS, errors, path_param, ref, returns
from lms.core.errors import NotFound
from lms.courses.cohorts.models import Cohort
from lms.courses.volunteers import queries as calls
from lms.courses.volunteers import services as volunteering
from lms.courses.volunteers.models import Volunteer, VolunteerCall
from lms.extensions import db
from lms.reports import teams


def _person_json(p: teams.Person) -> dict[str, Any]:
    m = p.membership
    return {"member_id": m.id, "display_name": m.user.display_name, "team": m.team,
            "job_family": m.job_family, "follows_as": p.why,
            "enrollments": [{"id": e.id, "cohort_id": e.cohort_id, "cohort": e.cohort.name,
                             "status": e.status, "percent": s.percent, "done": s.done,
                             "required": s.required,
                             "last_activity": s.last_activity.isoformat()}
                            for e, s in p.enrollments],
            "skills": {"assessed": p.assessed, "levels": p.profile.levels,
                       "targets": p.profile.targets,
                       "gaps": [{"competency": c, "size": n} for c, n in p.gaps]},
            # null: the person has not consented to their activity being collected.
            "activity": None if p.activity is None else {
                "days": teams.ACTIVITY_DAYS, "events": p.activity["events"],
                "clicks": p.activity["clicks"],
                "last": p.activity["last"].isoformat() if p.activity["last"] else None},
            "approvals_waiting": [{"registration_id": r.id, "session_id": r.session_id,
                                   "starts_at": r.session.starts_at.isoformat()}
                                  for r in p.waiting],
            "last_nudge": p.last_nudge.isoformat() if p.last_nudge else None}


@bp.get("/orgs/<org_slug>/team")
@org_member()
def my_team(membership: Membership) -> Any:
    """The people the caller follows: direct reports (as manager) and group (as champion)."""
    team = teams.team_of(membership)
    return {"reports": [_person_json(p) for p in team.reports],
            "group": [_person_json(p) for p in team.group]}


@bp.post("/orgs/<org_slug>/members/<int:member_id>/nudges")
@org_member()
def nudge_member(membership: Membership, member_id: int) -> Any:
    """Nudge someone the caller follows (one nudge a day per person): 201."""
    body = json_body()
    person = in_org(membership, Membership, member_id, _l("No such person in your team or group."))
    row = nudges.nudge(sender=membership, recipient=person,
                       message=body_text(body, "message") or "")
    db.session.commit()
    sent = nudges.send(row)
    return {"id": row.id, "member_id": person.id, "follows_as": row.as_role,
            "sent_at": row.sent_at.isoformat(), "emailed": sent}, 201


def _call_json(call: VolunteerCall, *, with_volunteers: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": call.id, "cohort_id": call.cohort_id, "cohort": call.cohort.name,
        "text": call.text, "criteria": call.criteria, "deadline": call.deadline.isoformat(),
        "seats": call.seats, "accepted": volunteering.accepted_count(call),
        "open": volunteering.is_open(call)}
    if with_volunteers:
        diversity = calls.diversity(call)
        out["volunteers"] = [_volunteer_json(v, diversity.level_of[v.id])
                             for v in call.volunteers]
        out["diversity"] = {
            "teams": {k: {"volunteers": a, "accepted": b}
                      for k, (a, b) in diversity.teams.items()},
            "job_families": {k: {"volunteers": a, "accepted": b}
                             for k, (a, b) in diversity.job_families.items()},
            "starting_levels": {str(k): {"volunteers": a, "accepted": b}
                                for k, (a, b) in diversity.levels.items()}}
    return out


def _volunteer_json(v: Volunteer, level: int | None = None) -> dict[str, Any]:
    m = v.membership
    out = {"id": v.id, "call_id": v.call_id, "member_id": m.id,
           "display_name": m.user.display_name, "team": m.team, "job_family": m.job_family,
           "note": v.note, "status": v.status, "volunteered_at": v.created_at.isoformat()}
    if level is not None:
        out["starting_level"] = level
    return out


@bp.get("/orgs/<org_slug>/volunteer-calls")
@org_member()
def list_calls(membership: Membership) -> Any:
    """Calls for volunteers: the open ones a learner may answer (with their own answer), or
    every call of the organization for trainers, HR and admins.
    """
    if membership.role == Role.LEARNER:
        return {"items": [{**_call_json(o.call), "seats_left": o.seats_left,
                           "mine": _volunteer_json(o.mine) if o.mine else None}
                          for o in calls.calls_for(membership)]}
    rows = db.session.scalars(db.select(VolunteerCall).where(
        VolunteerCall.organization_id == membership.organization_id)
        .order_by(VolunteerCall.deadline.desc(), VolunteerCall.id)).all()
    return {"items": [_call_json(c) for c in rows]}


@bp.put("/orgs/<org_slug>/cohorts/<int:cohort_id>/volunteer-call")
@org_member(*STAFF_ROLES)
def save_call(membership: Membership, cohort_id: int) -> Any:
    """Open or edit a cohort's call for volunteers (trainer, admin)."""
    body = json_body()
    cohort = in_org(membership, Cohort, cohort_id, _l("No such cohort."))
    call = volunteering.save_call(
        cohort=cohort, text=body_text(body, "text") or "",
        criteria=body_text(body, "criteria") or "", deadline=body_date(body, "deadline"),
        seats=body_int(body, "seats"), by=membership)
    db.session.commit()
    return _call_json(call, with_volunteers=True)


@bp.get("/orgs/<org_slug>/volunteer-calls/<int:call_id>")
@org_member(*STAFF_ROLES)
def get_call(membership: Membership, call_id: int) -> Any:
    """A call with its volunteers and the group's diversity (trainer, admin)."""
    return _call_json(in_org(membership, VolunteerCall, call_id, _l("No such call.")),
                      with_volunteers=True)


@bp.post("/orgs/<org_slug>/volunteer-calls/<int:call_id>/volunteers")
@org_member(Role.LEARNER)
def volunteer(membership: Membership, call_id: int) -> Any:
    """Volunteer for a call, with an optional note (learner): 201."""
    body = json_body()
    call = in_org(membership, VolunteerCall, call_id, _l("No such call."))
    row = volunteering.volunteer(call=call, membership=membership,
                                 note=body_text(body, "note") or "")
    db.session.commit()
    return _volunteer_json(row), 201


def _decide(membership: Membership, call_id: int, volunteer_id: int, accept: bool) -> Any:
    call = in_org(membership, VolunteerCall, call_id, _l("No such call."))
    row = in_org(membership, Volunteer, volunteer_id, _l("No such volunteer."))
    if row.call_id != call.id:
        raise NotFound(_l("No such volunteer."))
    out: dict[str, Any] = {}
    if accept:
        out["enrollment_id"] = volunteering.accept(volunteer=row, by=membership).id
    else:
        volunteering.decline(volunteer=row, by=membership)
    db.session.commit()
    return {**_volunteer_json(row), **out}


@bp.post("/orgs/<org_slug>/volunteer-calls/<int:call_id>/volunteers/<int:volunteer_id>/accept")
@org_member(*STAFF_ROLES)
def accept_volunteer(membership: Membership, call_id: int, volunteer_id: int) -> Any:
    """Accept a volunteer into the call's cohort (enrolled; trainer, admin)."""
    return _decide(membership, call_id, volunteer_id, True)


@bp.post("/orgs/<org_slug>/volunteer-calls/<int:call_id>/volunteers/<int:volunteer_id>/decline")
@org_member(*STAFF_ROLES)
def decline_volunteer(membership: Membership, call_id: int, volunteer_id: int) -> Any:
    """Decline a volunteer (trainer, admin)."""
    return _decide(membership, call_id, volunteer_id, False)


PERSON = {"type": "object", "properties": {
    "member_id": {"type": "integer"}, "display_name": {"type": "string"},
    "team": {"type": ["string", "null"]}, "job_family": {"type": ["string", "null"]},
    "follows_as": {"type": "string", "enum": ["manager", "champion"]},
    "enrollments": {"type": "array", "items": {"type": "object"}},
    "skills": {"type": "object"},
    "activity": {"type": ["object", "null"],
                 "description": "null when the person has not consented to their advocacy "
                                "activity being collected"},
    "approvals_waiting": {"type": "array", "items": {"type": "object"},
                          "description": "session registrations waiting for the manager's "
                                         "decision (empty for a champion's group)"},
    "last_nudge": {"type": ["string", "null"], "format": "date-time"}}}
CALL = {"type": "object", "properties": {
    "id": {"type": "integer"}, "cohort_id": {"type": "integer"}, "cohort": {"type": "string"},
    "text": {"type": "string"}, "criteria": {"type": "string"},
    "deadline": {"type": "string", "format": "date"}, "seats": {"type": "integer"},
    "accepted": {"type": "integer"}, "open": {"type": "boolean"},
    "volunteers": {"type": "array", "items": ref("Volunteer")},
    "diversity": {"type": "object", "description": "per team, job family and starting level: "
                                                   "volunteers (declined left out) and accepted"}}}
VOLUNTEER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "call_id": {"type": "integer"}, "member_id": {"type": "integer"},
    "display_name": {"type": "string"}, "team": {"type": ["string", "null"]},
    "job_family": {"type": ["string", "null"]}, "note": {"type": "string"},
    "status": {"type": "string", "enum": ["waiting", "accepted", "declined"]},
    "volunteered_at": {"type": "string", "format": "date-time"},
    "starting_level": {"type": "integer", "minimum": 0, "maximum": 5},
    "enrollment_id": {"type": "string", "description": "after an acceptance"}}}
SCHEMAS.update({"TeamPerson": PERSON, "VolunteerCall": CALL, "Volunteer": VOLUNTEER})
_CALL_ID = path_param("call_id")
_VOLUNTEER_ID = path_param("volunteer_id")


def _json_body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": required or [], "properties": properties}}}}


PATHS.update({
    "/orgs/{org_slug}/team": {"get": {
        "operationId": "getMyTeam",
        "summary": "The people the caller follows: direct reports and champion's group",
        "description": "A manager follows their direct reports; a champion the other members "
                       "of their team. Advocacy activity only for people who consented.",
        "parameters": [ORG],
        "responses": {"200": returns({"type": "object", "properties": {
            "reports": {"type": "array", "items": ref("TeamPerson")},
            "group": {"type": "array", "items": ref("TeamPerson")}}}), **errors(401, 404)}}},
    "/orgs/{org_slug}/members/{member_id}/nudges": {"post": {
        "operationId": "nudgeMember",
        "summary": "Send a short e-mail to someone the caller follows (one a day per person)",
        "parameters": [ORG, path_param("member_id")],
        "requestBody": _json_body({"message": {"type": "string", "maxLength": 500}},
                                  ["message"]),
        "responses": {"201": returns({"type": "object"}, "recorded (emailed: whether a mail "
                                                         "server sent it)"),
                      **errors(401, 404, 409, 422)}}},
    "/orgs/{org_slug}/volunteer-calls": {"get": {
        "operationId": "listVolunteerCalls",
        "summary": "Open calls for volunteers (learners, with their own answer), or every "
                   "call (staff)",
        "parameters": [ORG],
        "responses": {"200": returns({"type": "object", "properties": {
            "items": {"type": "array", "items": ref("VolunteerCall")}}}), **errors(401, 404)}}},
    "/orgs/{org_slug}/cohorts/{cohort_id}/volunteer-call": {"put": {
        "operationId": "saveVolunteerCall",
        "summary": "Open or edit a cohort's call for volunteers (trainer, admin)",
        "parameters": [ORG, path_param("cohort_id")],
        "requestBody": _json_body({"text": {"type": "string"}, "criteria": {"type": "string"},
                                   "deadline": {"type": "string", "format": "date"},
                                   "seats": {"type": "integer", "minimum": 1,
                                             "maximum": 1000}},
                                  ["text", "deadline", "seats"]),
        "responses": {"200": returns(ref("VolunteerCall")), **errors(401, 403, 404, 422)}}},
    "/orgs/{org_slug}/volunteer-calls/{call_id}": {"get": {
        "operationId": "getVolunteerCall",
        "summary": "A call with its volunteers and the group's diversity (trainer, admin)",
        "parameters": [ORG, _CALL_ID],
        "responses": {"200": returns(ref("VolunteerCall")), **errors(401, 403, 404)}}},
    "/orgs/{org_slug}/volunteer-calls/{call_id}/volunteers": {"post": {
        "operationId": "volunteer",
        "summary": "Volunteer for an open call, with an optional note (learner)",
        "parameters": [ORG, _CALL_ID],
        "requestBody": _json_body({"note": {"type": "string", "maxLength": 1000}}),
        "responses": {"201": returns(ref("Volunteer")), **errors(401, 403, 404, 409, 422)}}},
    "/orgs/{org_slug}/volunteer-calls/{call_id}/volunteers/{volunteer_id}/accept": {"post": {
        "operationId": "acceptVolunteer",
        "summary": "Accept a volunteer: enrolled in the call's cohort (trainer, admin)",
        "parameters": [ORG, _CALL_ID, _VOLUNTEER_ID],
        "responses": {"200": returns(ref("Volunteer")), **errors(401, 403, 404, 409, 422)}}},
    "/orgs/{org_slug}/volunteer-calls/{call_id}/volunteers/{volunteer_id}/decline": {"post": {
        "operationId": "declineVolunteer",
        "summary": "Decline a volunteer (trainer, admin)",
        "parameters": [ORG, _CALL_ID, _VOLUNTEER_ID],
        "responses": {"200": returns(ref("Volunteer")), **errors(401, 403, 404, 409)}}},
})
