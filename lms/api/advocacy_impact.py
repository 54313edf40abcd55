"""Advocacy impact (before/after training per cohort) and learner timelines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.authz import MANAGER_ROLES
from lms.accounts.models import Membership, Role
from lms.advocacy import impact, timeline
from lms.api.base import bp, org_member, page_args
from lms.core.errors import BadRequest, NotFound
from lms.core.replica import reads_from_replica
from lms.courses.cohorts.models import Cohort
from lms.extensions import db


@bp.get("/orgs/<org_slug>/advocacy/impact")
@org_member(*MANAGER_ROLES)
@reads_from_replica
def advocacy_impact(membership: Membership) -> Any:
    """Each cohort's activity in the ``weeks`` before and after its training (trainer, HR,
    admin); ``cohort`` restricts the report to one cohort.
    """
    raw_weeks = request.args.get("weeks", str(impact.DEFAULT_WEEKS))
    if not raw_weeks.isdigit() or not 1 <= int(raw_weeks) <= impact.MAX_WEEKS:
        raise BadRequest(_l("weeks: a whole number from 1 to %(count)d",
                            count=impact.MAX_WEEKS),
                         fields={"weeks": _l("1 to %(count)d", count=impact.MAX_WEEKS)})
    stmt = select(Cohort).where(Cohort.organization_id == membership.organization_id)
    cohort_id = request.args.get("cohort")
    if cohort_id is not None:
        if not cohort_id.isdigit():
            raise BadRequest(_l("cohort: an id"), fields={"cohort": _l("integer expected")})
        stmt = stmt.where(Cohort.id == int(cohort_id))
    cohorts = list(db.session.scalars(stmt.order_by(Cohort.id.desc())))
    if cohort_id is not None and not cohorts:
        raise NotFound(_l("No such cohort in this organization."))
    reports = impact.organization_impact(cohorts, weeks=int(raw_weeks))
    return {"weeks": int(raw_weeks), "items": [impact.as_dict(r) for r in reports]}


def _parse_time(name: str) -> datetime | None:
    from lms.advocacy.services import parse_when

    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return parse_when(raw)
    except ValueError:
        raise BadRequest(_l("%(name)s: a date or date-time (ISO 8601)", name=name),
                         fields={name: _l("ISO 8601 expected")}) from None


@bp.get("/orgs/<org_slug>/members/<int:member_id>/timeline")
@org_member()
def member_timeline(membership: Membership, member_id: int) -> Any:
    """A learner's progress and advocacy activity, newest first (their own, or any learner's
    for trainers, HR and admins; activity only with the learner's consent).
    """
    member = db.session.get(Membership, member_id)
    if member is None or member.organization_id != membership.organization_id or \
            member.role != Role.LEARNER:
        raise NotFound(_l("No such learner in this organization."))
    if member.id != membership.id and membership.role not in MANAGER_ROLES:
        raise NotFound(_l("No such learner in this organization."))
    page, per_page = page_args(default_size=timeline.PER_PAGE, max_size=200)
    result = timeline.learner_timeline(membership.organization_id, member,
                                       since=_parse_time("since"), until=_parse_time("until"),
                                       page=page, per_page=per_page)
    return {"items": [{"at": e.at.isoformat(), "kind": e.kind,
                       "data": _plain(e.data)} for e in result.entries],
            "page": page, "per_page": per_page, "total": result.total,
            "with_activity": result.with_activity}


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}


# -- OpenAPI ------------------------------------------------------------------------------------

def _document() -> None:
    from lms.api.openapi import ORG, PAGING, PATHS, SCHEMAS, errors, returns

    figure = {"type": "object", "properties": {
        "before": {"type": "integer"}, "after": {"type": "integer"},
        "before_per_learner": {"type": ["number", "null"]},
        "after_per_learner": {"type": ["number", "null"]},
        "change_percent": {"type": ["number", "null"],
                           "description": "change of the daily rate; null without activity "
                                          "before"}}}
    SCHEMAS["CohortImpact"] = {"type": "object", "properties": {
        "cohort": {"type": "object"}, "weeks": {"type": "integer"},
        "training_date": {"type": ["string", "null"], "format": "date-time"},
        "training_date_source": {"type": ["string", "null"],
                                 "enum": ["session", "start_date", None]},
        "windows": {"type": "object"}, "after_complete": {"type": "boolean"},
        "learners": {"type": "object", "properties": {
            k: {"type": "integer"} for k in ("enrolled", "with_consent", "active_before",
                                             "active_after")}},
        "figures": {"type": "object", "properties": {f: figure for f in impact.FIGURES}},
        "skill_bands": {"type": "array", "items": {"type": "object"}}}}
    PATHS["/orgs/{org_slug}/advocacy/impact"] = {"get": {
        "summary": "Before/after training impact on advocacy, per cohort (trainer, HR, admin)",
        "parameters": [ORG, {"name": "weeks", "in": "query",
                             "schema": {"type": "integer", "minimum": 1,
                                        "maximum": impact.MAX_WEEKS, "default": 4}},
                       {"name": "cohort", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": returns({"type": "object", "properties": {
            "weeks": {"type": "integer"},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/CohortImpact"}}}}),
            **errors(400, 401, 403, 404)}}}
    PATHS["/orgs/{org_slug}/members/{member_id}/timeline"] = {"get": {
        "summary": "A learner's timeline of progress and advocacy activity (activity only "
                   "with their consent)",
        "parameters": [ORG, {"name": "member_id", "in": "path", "required": True,
                             "schema": {"type": "integer"}},
                       {"name": "since", "in": "query", "schema": {"type": "string"}},
                       {"name": "until", "in": "query", "schema": {"type": "string"}},
                       *PAGING],
        "responses": {"200": returns({"type": "object", "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {
                "at": {"type": "string", "format": "date-time"},
                "kind": {"type": "string", "enum": list(timeline.KINDS)},
                "data": {"type": "object"}}}},
            "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "total": {"type": "integer"}, "with_activity": {"type": "boolean"}}}),
            **errors(400, 401, 404)}}}


_document()
