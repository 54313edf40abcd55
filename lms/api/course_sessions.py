"""Sessions over the API: scheduling and moving them, registrations (with manager approval and
the waiting list, as on the pages), attendance per half-day, withdrawing a learner and one
enrolment with its progress. Thin over :mod:`lms.courses.sessions.services`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from lms.accounts.authz import MANAGER_ROLES, STAFF_ROLES
from lms.accounts.models import Membership, Role, User
from lms.api.base import (
    body_int,
    body_member,
    body_text,
    bp,
    current_api_user,
    json_body,
    org_member,
    page_args,
)
from lms.api.courses import cohort_in_org, enrollment_json, modules_progress
from lms.api.openapi import (
    ORG,
    PAGING,
    PATHS,
    SCHEMAS,
    errors,
    operation,
    page_of,
    path_param,
    ref,
    returns,
)
from lms.core.errors import Conflict, NotFound, ValidationFailed
from lms.core.models import utcnow
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.cohorts.services import withdraw
from lms.courses.programs.models import Module
from lms.courses.sessions import approvals
from lms.courses.sessions import services as session_services
from lms.courses.sessions.models import (
    DECLINED,
    PENDING_APPROVAL,
    REGISTERED,
    WAITLISTED,
    Attendance,
    SessionRegistration,
    TrainingSession,
)
from lms.courses.sessions.queries import registration_counts, registrations_of
from lms.courses.sessions.services import (
    cancel_registration,
    check_attendance,
    half_days,
    local_zone,
    record_sheet,
    register,
    schedule_session,
)
from lms.extensions import db

MAX_MARKS = 5000
SESSION_FIELDS = ("starts_at", "ends_at", "place", "virtual_link", "capacity", "trainer_id")


# --- lookups: other organizations and other learners' objects are 404 ------------------------


def _own_enrollment(membership: Membership, cohort_id: int) -> Enrollment | None:
    return db.session.scalar(select(Enrollment).where(
        Enrollment.cohort_id == cohort_id, Enrollment.membership_id == membership.id))


def _visible_cohort(membership: Membership, cohort_id: int) -> Cohort:
    """A cohort of the organization; a learner sees only the cohorts they are enrolled in."""
    cohort = cohort_in_org(membership, cohort_id)
    if membership.role not in MANAGER_ROLES and _own_enrollment(membership, cohort.id) is None:
        raise NotFound(_l("No such cohort."))
    return cohort


def _session(membership: Membership, session_id: int) -> TrainingSession:
    """A session of the organization; a learner sees only their cohorts' sessions."""
    found = db.session.get(TrainingSession, session_id)
    if found is None or found.organization_id != membership.organization_id or (
            membership.role not in MANAGER_ROLES
            and _own_enrollment(membership, found.cohort_id) is None):
        raise NotFound(_l("No such session."))
    return found


def _registration(s: TrainingSession, registration_id: int,
                  membership: Membership) -> SessionRegistration:
    registration = db.session.get(SessionRegistration, registration_id)
    if registration is None or registration.session_id != s.id or (
            membership.role not in MANAGER_ROLES
            and registration.enrollment.membership_id != membership.id):
        raise NotFound(_l("No such registration."))
    return registration


# --- input ------------------------------------------------------------------------------------


def _datetime(value: Any, name: str) -> datetime:
    """An ISO 8601 date-time; without an offset it is local time (``RELAIS_TIMEZONE``), as on
    the pages.
    """
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationFailed(_l("Invalid date-time."), fields={
            name: _l("Use an ISO 8601 date-time, e.g. 2027-01-12T09:00:00+01:00.")}) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=local_zone())
    return parsed


def _renamed(exc: ValidationFailed) -> ValidationFailed:
    """The service's field names as the API's (``module`` → ``module_id``…)."""
    names = {"module": "module_id", "trainer": "trainer_id", "enrollment": "enrollment_id"}
    exc.fields = {names.get(k, k): v for k, v in exc.fields.items()}
    return exc


# --- output -----------------------------------------------------------------------------------


def session_json(s: TrainingSession, counts: dict[str, int],
                 mine: SessionRegistration | None = None) -> dict[str, Any]:
    """A session with its seats taken, waiting list and requests waiting for approval."""
    return {"id": s.id, "cohort_id": s.cohort_id, "module_id": s.module_id,
            "program_id": s.cohort.program_id, "module_kind": s.module.kind,
            "module_title": s.module.title,
            "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(),
            "place": s.place, "virtual_link": s.virtual_link, "capacity": s.capacity,
            "trainer_id": s.trainer_id, "seats_taken": counts.get(REGISTERED, 0),
            "waitlisted": counts.get(WAITLISTED, 0),
            "pending_approval": counts.get(PENDING_APPROVAL, 0),
            "half_days": [{"day": d.isoformat(), "half": h} for d, h in half_days(s)],
            "my_registration": registration_json(mine) if mine is not None else None}


def registration_json(r: SessionRegistration) -> dict[str, Any]:
    """A seat, a place on the waiting list, or a request (waiting, declined)."""
    learner = r.enrollment.membership
    return {"id": r.id, "session_id": r.session_id, "enrollment_id": r.enrollment_id,
            "member_id": learner.id, "learner": learner.user.display_name, "status": r.status,
            "created_at": r.created_at.isoformat(),
            "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "decline_reason": r.decline_reason}


def _one_session_json(membership: Membership, s: TrainingSession) -> dict[str, Any]:
    mine = None
    if membership.role not in MANAGER_ROLES:
        own = _own_enrollment(membership, s.cohort_id)
        mine = registrations_of(own.id).get(s.id) if own is not None else None
    return session_json(s, registration_counts([s.id])[s.id], mine)


# --- sessions ---------------------------------------------------------------------------------


@bp.get("/orgs/<org_slug>/cohorts/<int:cohort_id>/sessions")
@org_member()
def list_sessions(membership: Membership, cohort_id: int) -> Any:
    """A cohort's sessions in date order (staff and HR; a learner of the cohort)."""
    cohort = _visible_cohort(membership, cohort_id)
    page, per_page = page_args()
    stmt = select(TrainingSession).where(TrainingSession.cohort_id == cohort.id)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(db.session.scalars(stmt.order_by(TrainingSession.starts_at, TrainingSession.id)
                                   .offset((page - 1) * per_page).limit(per_page)))
    counts = registration_counts([s.id for s in rows])
    mine: dict[int, SessionRegistration] = {}
    if membership.role not in MANAGER_ROLES:
        own = _own_enrollment(membership, cohort.id)
        mine = registrations_of(own.id) if own is not None else {}
    return {"items": [session_json(s, counts[s.id], mine.get(s.id)) for s in rows],
            "page": page, "per_page": per_page, "total": total}


@bp.post("/orgs/<org_slug>/cohorts/<int:cohort_id>/sessions")
@org_member(*STAFF_ROLES)
def create_session(membership: Membership, cohort_id: int) -> Any:
    """Schedule a session of one of the program's workshops, conferences or group trainings."""
    cohort = cohort_in_org(membership, cohort_id)
    body = json_body()
    missing = {name: _l("Required.") for name in ("module_id", "starts_at", "ends_at")
               if body.get(name) in (None, "")}
    if missing:
        raise ValidationFailed(_l("The session was not scheduled."), fields=missing)
    module_id = body_int(body, "module_id")
    module = db.session.get(Module, module_id)
    if module is None or module.program_id != cohort.program_id:
        raise ValidationFailed(_l("The session was not scheduled."), fields={
            "module_id": _l("This module is not part of the cohort's program.")})
    try:
        s = schedule_session(
            cohort=cohort, module=module, starts_at=_datetime(body["starts_at"], "starts_at"),
            ends_at=_datetime(body["ends_at"], "ends_at"), place=body_text(body, "place"),
            virtual_link=body_text(body, "virtual_link"),
            capacity=body_int(body, "capacity"),
            trainer=body_member(membership, body, "trainer_id"))
    except ValidationFailed as exc:
        raise _renamed(exc) from exc
    db.session.commit()
    return _one_session_json(membership, s), 201


@bp.get("/orgs/<org_slug>/sessions/<int:session_id>")
@org_member()
def get_session(membership: Membership, session_id: int) -> Any:
    """One session with its seats taken and waiting list (a learner also sees their own
    registration).
    """
    return _one_session_json(membership, _session(membership, session_id))


@bp.patch("/orgs/<org_slug>/sessions/<int:session_id>")
@org_member(*STAFF_ROLES)
def update_session(membership: Membership, session_id: int) -> Any:
    """Move or edit a session: any of starts_at, ends_at, place, virtual_link, capacity
    (null: no limit), trainer_id. Registrations stay; a larger room promotes the waiting list.
    """
    s = _session(membership, session_id)
    body = json_body()
    unknown = sorted(set(body) - set(SESSION_FIELDS))
    if unknown:
        raise ValidationFailed(_l("These fields cannot be changed."),
                               fields={name: _l("Unknown or read-only field.") for name in unknown})
    starts = _datetime(body["starts_at"], "starts_at") if "starts_at" in body else s.starts_at
    ends = _datetime(body["ends_at"], "ends_at") if "ends_at" in body else s.ends_at
    try:
        session_services.update_session(
            session=s, starts_at=starts, ends_at=ends,
            place=body_text(body, "place") if "place" in body else s.place,
            virtual_link=(body_text(body, "virtual_link") if "virtual_link" in body
                                  else s.virtual_link),
            capacity=body_int(body, "capacity") if "capacity" in body else s.capacity,
            trainer=(body_member(membership, body, "trainer_id") if "trainer_id" in body
                             else s.trainer))
    except ValidationFailed as exc:
        raise _renamed(exc) from exc
    db.session.commit()
    return _one_session_json(membership, s)


# --- registrations ----------------------------------------------------------------------------


@bp.get("/orgs/<org_slug>/sessions/<int:session_id>/registrations")
@org_member()
def list_registrations(membership: Membership, session_id: int) -> Any:
    """A session's registrations in the order they were made (staff and HR); a learner sees
    only their own.
    """
    s = _session(membership, session_id)
    stmt = select(SessionRegistration).where(SessionRegistration.session_id == s.id)
    if membership.role not in MANAGER_ROLES:
        stmt = stmt.join(Enrollment).where(Enrollment.membership_id == membership.id)
    rows = db.session.scalars(stmt.order_by(SessionRegistration.created_at,
                                            SessionRegistration.id)).all()
    return {"items": [registration_json(r) for r in rows]}


@bp.post("/orgs/<org_slug>/sessions/<int:session_id>/registrations")
@org_member(Role.LEARNER, *STAFF_ROLES)
def create_registration(membership: Membership, session_id: int) -> Any:
    """Register a learner: staff give ``enrollment_id``; a learner registers themselves. A seat,
    the waiting list when full, or a request to the manager when the program asks for it.
    """
    s = _session(membership, session_id)
    body = json_body()
    enrollment_id = body.get("enrollment_id")
    if membership.role in STAFF_ROLES:
        enrollment = (db.session.get(Enrollment, enrollment_id)
                      if isinstance(enrollment_id, str) else None)
        if enrollment is None or enrollment.cohort_id != s.cohort_id:
            raise ValidationFailed(_l("No such enrolment in this session's cohort."),
                                   fields={"enrollment_id": _l("Not in this cohort.")})
    else:
        enrollment = _own_enrollment(membership, s.cohort_id)
        if enrollment is None or enrollment_id not in (None, enrollment.id):
            raise NotFound(_l("No such enrolment."))
        if s.starts_at <= utcnow():
            raise Conflict(_l("This session has already started."))
    try:
        registration = register(session=s, enrollment=enrollment,
                                requested_by=current_api_user())
        db.session.commit()
    except ValidationFailed as exc:
        raise _renamed(exc) from exc
    except IntegrityError as exc:  # the same learner registered twice at once
        db.session.rollback()
        raise Conflict(_l("This learner is already registered for this session.")) from exc
    if registration.status == PENDING_APPROVAL:
        approvals.notify_requested(registration)
    return registration_json(registration), 201


@bp.delete("/orgs/<org_slug>/sessions/<int:session_id>/registrations/<int:registration_id>")
@org_member(Role.LEARNER, *STAFF_ROLES)
def delete_registration(membership: Membership, session_id: int, registration_id: int) -> Any:
    """Cancel a registration (staff: any; a learner: their own, before the session starts). A
    freed seat goes to the first learner on the waiting list, returned as ``promoted``.
    """
    s = _session(membership, session_id)
    registration = _registration(s, registration_id, membership)
    if membership.role not in STAFF_ROLES:
        if registration.status == DECLINED:  # a decision stays on record
            raise NotFound(_l("No such registration."))
        if s.starts_at <= utcnow():
            raise Conflict(_l("This session has already started."))
    promoted = cancel_registration(registration=registration)
    db.session.commit()
    return {"cancelled": registration_id,
            "promoted": registration_json(promoted) if promoted is not None else None}


# --- attendance -------------------------------------------------------------------------------


def _attendance_json(s: TrainingSession) -> dict[str, Any]:
    """Every seated learner (and anyone already marked) × every half-day of the session."""
    halves = half_days(s)
    marks = {(a.enrollment_id, a.day, a.half): a for a in db.session.scalars(
        select(Attendance).where(Attendance.session_id == s.id))}
    seated = select(SessionRegistration.enrollment_id).where(
        SessionRegistration.session_id == s.id, SessionRegistration.status == REGISTERED)
    marked = {enrollment_id for enrollment_id, _day, _half in marks}
    learners = list(db.session.scalars(
        select(Enrollment).where(Enrollment.id.in_(seated) | Enrollment.id.in_(marked))
        .join(Enrollment.membership).join(Membership.user).order_by(User.name_key, User.id)
        .options(contains_eager(Enrollment.membership).contains_eager(Membership.user))))
    items = []
    for e in learners:
        for day, half in halves:
            a = marks.get((e.id, day, half))
            items.append({"enrollment_id": e.id, "member_id": e.membership_id,
                          "learner": e.membership.user.display_name, "day": day.isoformat(),
                          "half": half, "status": a.status if a else None,
                          "signed_at": a.signed_at.isoformat() if a and a.signed_at else None,
                          "source": a.source if a else None})
    return {"session_id": s.id,
            "half_days": [{"day": d.isoformat(), "half": h} for d, h in halves],
            "items": items}


@bp.get("/orgs/<org_slug>/sessions/<int:session_id>/attendance")
@org_member(*MANAGER_ROLES)
def get_attendance(membership: Membership, session_id: int) -> Any:
    """The sign-in sheet as data: status, time signed and source per learner and half-day."""
    return _attendance_json(_session(membership, session_id))


def _parse_mark(item: Any) -> tuple[str, date, str, str] | str:
    """One mark as (enrolment id, day, half, status), or what is wrong with its shape."""
    if not isinstance(item, dict):
        return "Each mark is an object {enrollment_id, day, half, status}."
    values = [item.get(k) for k in ("enrollment_id", "day", "half", "status")]
    texts = [v for v in values if isinstance(v, str)]
    if len(texts) != len(values):
        return "enrollment_id, day, half and status are required strings."
    try:
        day = date.fromisoformat(texts[1])
    except ValueError:
        return "day: use YYYY-MM-DD."
    return texts[0], day, texts[2], texts[3]


@bp.put("/orgs/<org_slug>/sessions/<int:session_id>/attendance")
@org_member(*STAFF_ROLES)
def put_attendance(membership: Membership, session_id: int) -> Any:
    """Record marks ``{"marks": [{enrollment_id, day, half, status}, …]}``: all are checked
    first, then written in one transaction; any bad mark and nothing is written (422, with
    ``fields["marks[i]"]`` for each bad one). Marks left out stay as they are.
    """
    s = _session(membership, session_id)
    raw = json_body().get("marks")
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(_l("Send a non-empty list of marks."),
                               fields={"marks": _l("A list.")})
    if len(raw) > MAX_MARKS:
        raise ValidationFailed(_l("At most %(count)d marks at once.", count=MAX_MARKS),
                               fields={"marks": _l("At most %(count)d.", count=MAX_MARKS)})
    parsed = [_parse_mark(item) for item in raw]
    problems = {i: p for i, p in enumerate(parsed) if isinstance(p, str)}
    good = [(i, p) for i, p in enumerate(parsed) if not isinstance(p, str)]
    if problems:
        # Say what is wrong with the well-formed marks too, so one answer lists every fix.
        checked = check_attendance(session=s, marks=[p for _i, p in good])
        problems.update({good[j][0]: why for j, why in checked.items()})
        raise ValidationFailed(lazy_ngettext("%(num)d mark cannot be recorded; none was.",
                                             "%(num)d marks cannot be recorded; none was.",
                                             len(problems)),
                               fields={f"marks[{i}]": problems[i] for i in sorted(problems)})
    changed = record_sheet(session=s, marks=[p for _i, p in good],
                           recorded_by=current_api_user())
    db.session.commit()
    return {**_attendance_json(s), "changed": changed}


# --- enrolments: one with its progress, withdrawing -------------------------------------------


def _enrollment_in(cohort: Cohort, enrollment_id: str) -> Enrollment:
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.cohort_id != cohort.id:
        raise NotFound(_l("No such enrolment."))
    return enrollment


def _enrolment_detail(enrollment: Enrollment) -> dict[str, Any]:
    registrations = sorted(registrations_of(enrollment.id).values(), key=lambda r: r.id)
    return {**enrollment_json(enrollment), "learner": enrollment.membership.user.display_name,
            "withdrawn_at": (enrollment.withdrawn_at.isoformat()
                             if enrollment.withdrawn_at else None),
            "modules": modules_progress(enrollment),
            "registrations": [registration_json(r) for r in registrations]}


@bp.get("/orgs/<org_slug>/cohorts/<int:cohort_id>/enrolments/<enrollment_id>")
@org_member(*MANAGER_ROLES)
def get_enrolment(membership: Membership, cohort_id: int, enrollment_id: str) -> Any:
    """One enrolment with its module progress and session registrations."""
    return _enrolment_detail(_enrollment_in(cohort_in_org(membership, cohort_id), enrollment_id))


@bp.post("/orgs/<org_slug>/cohorts/<int:cohort_id>/enrolments/<enrollment_id>/withdraw")
@org_member(*STAFF_ROLES)
def withdraw_enrolment(membership: Membership, cohort_id: int, enrollment_id: str) -> Any:
    """Withdraw a learner: they keep their history; their seats in sessions yet to come are
    freed and go to the waiting list. 409 when already withdrawn.
    """
    enrollment = _enrollment_in(cohort_in_org(membership, cohort_id), enrollment_id)
    withdraw(enrollment=enrollment)
    db.session.commit()
    return _enrolment_detail(enrollment)


# --- OpenAPI ----------------------------------------------------------------------------------

_NULLABLE_STR = {"type": ["string", "null"]}
_HALF_DAY = {"type": "object", "properties": {"day": {"type": "string", "format": "date"},
                                              "half": {"type": "string", "enum": ["am", "pm"]}}}
_SETTINGS = {
    "starts_at": {"type": "string", "format": "date-time",
                  "description": "ISO 8601; without an offset, local time (RELAIS_TIMEZONE)"},
    "ends_at": {"type": "string", "format": "date-time"},
    "place": {**_NULLABLE_STR, "maxLength": 300},
    "virtual_link": {**_NULLABLE_STR, "description": "https:// only"},
    "capacity": {"type": ["integer", "null"], "minimum": 1, "description": "null: no limit"},
    "trainer_id": {"type": ["integer", "null"], "description": "a member id"}}

SCHEMAS.update({
    "Registration": {"type": "object", "properties": {
        "id": {"type": "integer"}, "session_id": {"type": "integer"},
        "enrollment_id": {"type": "string"}, "member_id": {"type": "integer"},
        "learner": {"type": "string"},
        "status": {"type": "string", "enum": ["registered", "waitlisted", "pending_approval",
                                              "declined"]},
        "created_at": {"type": "string", "format": "date-time"},
        "decided_at": _NULLABLE_STR, "decline_reason": _NULLABLE_STR}},
    "Session": {"type": "object", "properties": {
        "id": {"type": "integer"}, "cohort_id": {"type": "integer"},
        "module_id": {"type": "integer"}, "program_id": {"type": "integer"},
        "module_kind": {"type": "string", "enum": ["workshop", "conference", "group_training"]},
        "module_title": {"type": "object", "description": "by language"},
        **_SETTINGS,
        "seats_taken": {"type": "integer"},
        "waitlisted": {"type": "integer", "description": "learners on the waiting list"},
        "pending_approval": {"type": "integer",
                             "description": "requests waiting for a manager"},
        "half_days": {"type": "array", "items": _HALF_DAY},
        "my_registration": {"oneOf": [ref("Registration"), {"type": "null"}],
                            "description": "the calling learner's own; null for staff"}}},
    "AttendanceSheet": {"type": "object", "properties": {
        "session_id": {"type": "integer"},
        "half_days": {"type": "array", "items": _HALF_DAY},
        "changed": {"type": "integer", "description": "PUT only: marks that changed"},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "enrollment_id": {"type": "string"}, "member_id": {"type": "integer"},
            "learner": {"type": "string"}, "day": {"type": "string", "format": "date"},
            "half": {"type": "string", "enum": ["am", "pm"]},
            "status": {"type": ["string", "null"],
                       "enum": ["present", "absent", "excused", None]},
            "signed_at": _NULLABLE_STR,
            "source": {"type": ["string", "null"], "enum": ["sheet", "qr", None]}}}}}},
    "EnrolmentDetail": {"allOf": [ref("Enrolment"), {"type": "object", "properties": {
        "learner": {"type": "string"}, "withdrawn_at": _NULLABLE_STR,
        "registrations": {"type": "array", "items": ref("Registration")}}}]},
})

_SESSION_ID = path_param("session_id")
PATHS.update({
    "/orgs/{org_slug}/cohorts/{cohort_id}/sessions": {
        "get": operation(
            "listSessions",
            "A cohort's sessions in date order (trainer, HR, admin; a learner of the cohort)",
            [ORG, path_param("cohort_id"), *PAGING],
            {"200": returns(page_of(ref("Session"))), **errors(400, 401, 404)}),
        "post": operation(
            "createSession",
            "Schedule a session of a workshop, conference or group training (trainer, admin)",
            [ORG, path_param("cohort_id")],
            {"201": returns(ref("Session")), **errors(400, 401, 403, 404, 422)},
            body={"type": "object", "required": ["module_id", "starts_at", "ends_at"],
                  "properties": {"module_id": {"type": "integer"}, **_SETTINGS},
                  "description": "a place, a virtual link, or both"})},
    "/orgs/{org_slug}/sessions/{session_id}": {
        "get": operation("getSession",
                         "A session with seats taken, waiting list and pending requests",
                         [ORG, _SESSION_ID], {"200": returns(ref("Session")), **errors(401, 404)}),
        "patch": operation(
            "updateSession",
            "Move or edit a session (trainer, admin); registrations stay, a larger capacity "
            "promotes the waiting list in order; 409 when attendance was taken on a half-day "
            "the new times leave out",
            [ORG, _SESSION_ID],
            {"200": returns(ref("Session")), **errors(400, 401, 403, 404, 409, 422)},
            body={"type": "object", "properties": _SETTINGS, "additionalProperties": False})},
    "/orgs/{org_slug}/sessions/{session_id}/registrations": {
        "get": operation(
            "listRegistrations",
            "A session's registrations in order (trainer, HR, admin); a learner gets only "
            "their own",
            [ORG, _SESSION_ID],
            {"200": returns({"type": "object", "properties": {
                "items": {"type": "array", "items": ref("Registration")}}}), **errors(401, 404)}),
        "post": operation(
            "createRegistration",
            "Register: trainers and admins give enrollment_id; a learner registers themselves "
            "before the session starts. Status registered, waitlisted when full, or "
            "pending_approval when the program needs the manager's approval (the manager is "
            "e-mailed)",
            [ORG, _SESSION_ID],
            {"201": returns(ref("Registration")), **errors(400, 401, 403, 404, 409, 422)},
            body={"type": "object", "properties": {"enrollment_id": {
                "type": "string", "description": "required for staff"}}})},
    "/orgs/{org_slug}/sessions/{session_id}/registrations/{registration_id}": {"delete": operation(
        "deleteRegistration",
        "Cancel a registration (trainer, admin; a learner their own before the session "
        "starts); the first learner on the waiting list takes the seat",
        [ORG, _SESSION_ID, path_param("registration_id")],
        {"200": returns({"type": "object", "properties": {
            "cancelled": {"type": "integer"},
            "promoted": {"oneOf": [ref("Registration"), {"type": "null"}]}}}),
         **errors(401, 403, 404, 409)})},
    "/orgs/{org_slug}/sessions/{session_id}/attendance": {
        "get": operation(
            "getAttendance",
            "Attendance per learner and half-day: status, time signed, source (trainer, HR, "
            "admin)",
            [ORG, _SESSION_ID], {"200": returns(ref("AttendanceSheet")), **errors(401, 403, 404)}),
        "put": operation(
            "putAttendance",
            "Record marks (trainer, admin): all checked first, then written in one "
            "transaction; a bad mark and nothing is written (422, fields[\"marks[i]\"] for "
            "each). A first presence records xAPI \"attended\"; correcting it voids that "
            "statement",
            [ORG, _SESSION_ID],
            {"200": returns(ref("AttendanceSheet")), **errors(400, 401, 403, 404, 409, 422)},
            body={"type": "object", "required": ["marks"], "properties": {"marks": {
                "type": "array", "minItems": 1, "maxItems": MAX_MARKS,
                "items": {"type": "object", "required": [
                    "enrollment_id", "day", "half", "status"], "properties": {
                    "enrollment_id": {"type": "string"},
                    "day": {"type": "string", "format": "date"},
                    "half": {"type": "string", "enum": ["am", "pm"]},
                    "status": {"type": "string",
                               "enum": ["present", "absent", "excused"]}}}}}})},
    "/orgs/{org_slug}/cohorts/{cohort_id}/enrolments/{enrollment_id}": {"get": operation(
        "getEnrolment",
        "One enrolment with its module progress and registrations (trainer, HR, admin)",
        [ORG, path_param("cohort_id"), path_param("enrollment_id", "string")],
        {"200": returns(ref("EnrolmentDetail")), **errors(401, 403, 404)})},
    "/orgs/{org_slug}/cohorts/{cohort_id}/enrolments/{enrollment_id}/withdraw": {"post": operation(
        "withdrawEnrolment",
        "Withdraw a learner (trainer, admin): history kept, seats in sessions yet to come "
        "freed for the waiting list; 409 when already withdrawn",
        [ORG, path_param("cohort_id"), path_param("enrollment_id", "string")],
        {"200": returns(ref("EnrolmentDetail")), **errors(401, 403, 404, 409)})},
})
