"""Proof of impact: a cohort against colleagues not yet trained, formats compared, ROI, and the
organization's outcome values and costs.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from lms.accounts.authz import MANAGER_ROLES
from lms.accounts.models import Membership, Role
from lms.advocacy.impact import MAX_WEEKS
from lms.api.base import bp, in_org, json_body, org_member
from lms.assessments import recommendations
from lms.core.errors import BadRequest
from lms.core.replica import reads_from_replica
from lms.courses.cohorts.models import Cohort
from lms.extensions import db
from lms.impact import behaviour, comparison, estimator, parrot, roi, services, wording
from lms.impact.estimator import Estimate
from lms.impact.models import OUTCOMES


def _weeks() -> int:
    raw = request.args.get("weeks", "4")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_WEEKS:
        raise BadRequest(_l("weeks: a whole number from 1 to %(count)d", count=MAX_WEEKS),
                         fields={"weeks": _l("1 to %(count)d", count=MAX_WEEKS)})
    return int(raw)


def _level() -> float:
    raw = request.args.get("level", "0.9")
    try:
        level = float(raw)
    except ValueError:
        level = -1.0
    if not 0.5 <= level <= 0.99:
        raise BadRequest(_l("level: a number from 0.5 to 0.99"),
                         fields={"level": _l("0.5 to 0.99")})
    return level


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.args.get(name, default)
    if value not in allowed:
        raise BadRequest(_l("%(name)s: one of %(values)s", name=name, values=", ".join(allowed)),
                         fields={name: _l("one of %(values)s", values=", ".join(allowed))})
    return value


def _estimate(e: Estimate, metric: str, currency: str, difference: bool = False
              ) -> dict[str, Any]:
    return {"low": round(e.low, 4), "point": round(e.point, 4), "high": round(e.high, 4),
            "treated": e.treated, "control": e.control, "verdict": e.verdict(),
            "text": wording.verdict_text(e, metric, currency=currency, difference=difference)}


def _triple(values: tuple[float, float, float] | None) -> dict[str, float] | None:
    return None if values is None else dict(zip(("low", "point", "high"),
                                                (round(v, 4) for v in values), strict=True))


def _currency(membership: Membership) -> str:
    settings = comparison.settings_of(membership.organization_id)
    return settings.currency if settings else "EUR"


@bp.get("/orgs/<org_slug>/impact/cohorts/<int:cohort_id>")
@org_member(*MANAGER_ROLES)
@reads_from_replica
def impact_estimate(membership: Membership, cohort_id: int) -> Any:
    """A cohort against consenting colleagues not yet trained: per metric the
    difference-in-differences estimate per person per month, its interval and verdict, and the
    event study of ``metric``.
    """
    cohort = in_org(membership, Cohort, cohort_id, _l("No such cohort in this organization."))
    result = comparison.compare_cohort(
        cohort, weeks=_weeks(), level=_level(),
        event_metric=_choice("metric", comparison.METRICS + (comparison.VALUE,), "shares"))
    currency = _currency(membership)
    return {
        "cohort": {"id": cohort.id, "name": cohort.name, "pilot": cohort.pilot},
        "weeks": result.weeks, "level": result.level,
        "training_date": result.training.at.isoformat() if result.training else None,
        "windows": {w: {"start": s.isoformat(), "end": e.isoformat(),
                        "days": round(result.days[w], 2)}
                    for w, (s, e) in result.windows.items()},
        "people": {"trained": len(result.treated), "not_yet_trained": len(result.control)},
        "min_group": estimator.MIN_GROUP,
        "estimates": {m: _estimate(e, m, currency) for m, e in result.estimates.items()},
        "event_study": {"metric": result.event_metric, "weeks": [
            {"week": k, "trained": round(t, 4), "not_yet_trained": round(c, 4)}
            for k, t, c in result.event_study]},
    }


@bp.get("/orgs/<org_slug>/impact/cohorts/<int:cohort_id>/formats")
@org_member(*MANAGER_ROLES)
@reads_from_replica
def impact_formats(membership: Membership, cohort_id: int) -> Any:
    """Trained people who followed ``format`` against those who did not, within the cohort,
    its program or the organization (``scope``).
    """
    cohort = in_org(membership, Cohort, cohort_id, _l("No such cohort in this organization."))
    fmt = _choice("format", comparison.FORMATS, "coached")
    scope = _choice("scope", comparison.SCOPES, "cohort")
    result = comparison.compare_formats(cohort, fmt, scope=scope, weeks=_weeks(),
                                        level=_level())
    currency = _currency(membership)
    return {"format": fmt, "scope": scope, "followed": result.yes, "not_followed": result.no,
            "cohorts": result.cohorts,
            "estimates": {m: _estimate(e, m, currency, difference=True)
                          for m, e in result.estimates.items()}}


def _roi(r: roi.Roi) -> dict[str, Any]:
    c = r.costs
    return {"benefit": _triple(r.benefit), "roi": _triple(r.roi),
            "costs": {"trainer_days": round(c.trainer_days, 2),
                      "learner_hours": round(c.learner_hours, 2), "learners": c.learners,
                      "trainers": c.trainers, "learners_time": c.learners_time,
                      "tools": c.tools, "total": round(c.total, 2)}}


@bp.get("/orgs/<org_slug>/impact/cohorts/<int:cohort_id>/roi")
@org_member(*MANAGER_ROLES)
@reads_from_replica
def impact_roi(membership: Membership, cohort_id: int) -> Any:
    """The cohort's and its program's costs, benefit and ROI (low, point, high)."""
    cohort = in_org(membership, Cohort, cohort_id, _l("No such cohort in this organization."))
    weeks = _weeks()
    roster = comparison.Roster.of(cohort.organization_id)
    result = comparison.compare_cohort(cohort, weeks=weeks, roster=roster)
    program, trained = roi.program_roi(cohort, weeks=weeks, roster=roster)
    return {"currency": _currency(membership),
            "cohort": _roi(roi.cohort_roi(result, roster)) if result.held else None,
            "program": {**_roi(program), "trained_cohorts": trained}}


def _tally(t: parrot.Tally) -> dict[str, Any]:
    return {"shares": t.shares, "own_words": t.own_words,
            "own_words_percent": t.own_words_percent, "texts": t.texts,
            "near_identical": t.near_identical}


@bp.get("/orgs/<org_slug>/impact/cohorts/<int:cohort_id>/parrot")
@org_member(*MANAGER_ROLES)
@reads_from_replica
def impact_parrot(membership: Membership, cohort_id: int) -> Any:
    """Own words in shares and posts near-identical to colleagues', before and after the
    training, for the cohort and per learner.
    """
    cohort = in_org(membership, Cohort, cohort_id, _l("No such cohort in this organization."))
    result = parrot.cohort_parrot(cohort, weeks=_weeks())
    return {"weeks": result.weeks, "threshold": parrot.THRESHOLD,
            "min_words": parrot.MIN_WORDS,
            "cohort": {w: _tally(t) for w, t in result.totals.items()},
            "learners": [{"user_id": u, **{w: _tally(t) for w, t in tallies.items()}}
                         for u, tallies in sorted(result.people.items())]}


@bp.get("/orgs/<org_slug>/impact/activity")
@org_member()
def impact_activity(membership: Membership) -> Any:
    """Activity signals per competency for one person: oneself, or ``user_id`` (trainers,
    HR, admins). Empty when the person has not agreed to share their activity.
    """
    user_id = membership.user_id
    if "user_id" in request.args:
        if membership.role not in MANAGER_ROLES:
            raise BadRequest(_l("user_id: only trainers, HR and admins may ask for another "
                                "person"), fields={"user_id": _l("not allowed")})
        raw = request.args["user_id"]
        if not raw.isdigit():
            raise BadRequest(_l("user_id: a number"), fields={"user_id": _l("a number")})
        user_id = int(raw)
    found = recommendations.activity_signals(membership.organization_id, [user_id])
    return {"user_id": user_id, "weeks": behaviour.WEEKS, "signals": {
        code: {"strength": s.strength, "words": s.words}
        for code, s in sorted(found.get(user_id, {}).items())}}


@bp.get("/orgs/<org_slug>/impact/settings")
@org_member(*MANAGER_ROLES)
def impact_settings(membership: Membership) -> Any:
    """The organization's outcome values and training costs."""
    return services.as_dict(comparison.settings_of(membership.organization_id))


@bp.put("/orgs/<org_slug>/impact/settings")
@org_member(Role.HR, Role.ADMIN)
def impact_settings_put(membership: Membership) -> Any:
    """Set the organization's outcome values and training costs (HR, admin)."""
    settings = services.save_settings(organization=membership.organization, data=json_body())
    db.session.commit()
    return services.as_dict(settings)


# -- OpenAPI ------------------------------------------------------------------------------------

def _document() -> None:
    from lms.api.openapi import ORG, PATHS, SCHEMAS, errors, path_param, ref, returns

    triple = {"type": ["object", "null"], "properties": {
        k: {"type": "number"} for k in ("low", "point", "high")}}
    SCHEMAS["ImpactEstimate"] = {"type": "object", "properties": {
        "low": {"type": "number"}, "point": {"type": "number"}, "high": {"type": "number"},
        "treated": {"type": "integer"}, "control": {"type": "integer"},
        "verdict": {"type": "string", "enum": [estimator.INCREASE, estimator.DECREASE,
                                               estimator.UNCLEAR, estimator.TOO_FEW]},
        "text": {"type": "string"}},
        "description": "Per person per month; low/high bound the interval."}
    roi_schema = {"type": "object", "properties": {
        "benefit": triple, "roi": triple, "costs": {"type": "object"}}}
    SCHEMAS["ImpactSettings"] = {"type": "object", "properties": {
        "currency": {"type": "string", "minLength": 3, "maxLength": 3},
        "outcome_values": {"type": "object", "properties": {
            o: {"type": ["string", "number", "null"]} for o in OUTCOMES},
            "additionalProperties": False},
        **{r: {"type": ["string", "number", "null"]} for r in services.RATES},
        "recertify_below_actions": {
            "type": ["integer", "null"], "minimum": 1, "maximum": 1000,
            "description": "re-enrol certified learners with fewer advocacy actions over "
                           "recertify_weeks (null: off)"},
        "recertify_weeks": {"type": ["integer", "null"], "minimum": 1, "maximum": 104,
                            "default": 12}}}
    weeks = {"name": "weeks", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_WEEKS, "default": 4}}
    level = {"name": "level", "in": "query",
             "schema": {"type": "number", "minimum": 0.5, "maximum": 0.99, "default": 0.9}}
    cohort = path_param("cohort_id")
    estimates = {"type": "object", "additionalProperties": ref("ImpactEstimate")}
    PATHS["/orgs/{org_slug}/impact/cohorts/{cohort_id}"] = {"get": {
        "summary": "A cohort against consenting colleagues not yet trained: "
                   "difference-in-differences estimates with a bootstrap interval",
        "parameters": [ORG, cohort, weeks, level,
                       {"name": "metric", "in": "query", "schema": {
                           "type": "string",
                           "enum": [*comparison.METRICS, comparison.VALUE]}}],
        "responses": {"200": returns({"type": "object", "properties": {
            "weeks": {"type": "integer"}, "level": {"type": "number"},
            "people": {"type": "object"}, "min_group": {"type": "integer"},
            "estimates": estimates, "event_study": {"type": "object"}}}),
            **errors(400, 401, 403, 404)}}}
    PATHS["/orgs/{org_slug}/impact/cohorts/{cohort_id}/formats"] = {"get": {
        "summary": "Trained people who followed a format against those who did not",
        "parameters": [ORG, cohort, weeks, level,
                       {"name": "format", "in": "query",
                        "schema": {"type": "string", "enum": list(comparison.FORMATS)}},
                       {"name": "scope", "in": "query",
                        "schema": {"type": "string", "enum": list(comparison.SCOPES)}}],
        "responses": {"200": returns({"type": "object", "properties": {
            "followed": {"type": "integer"}, "not_followed": {"type": "integer"},
            "estimates": estimates}}), **errors(400, 401, 403, 404)}}}
    PATHS["/orgs/{org_slug}/impact/cohorts/{cohort_id}/roi"] = {"get": {
        "summary": "Costs, benefit and ROI of the cohort and its program (low, point, high)",
        "parameters": [ORG, cohort, weeks],
        "responses": {"200": returns({"type": "object", "properties": {
            "currency": {"type": "string"}, "cohort": {**roi_schema, "type": ["object", "null"]},
            "program": roi_schema}}), **errors(400, 401, 403, 404)}}}
    tally = {"type": "object", "properties": {
        "shares": {"type": "integer"}, "own_words": {"type": "integer"},
        "own_words_percent": {"type": ["integer", "null"]}, "texts": {"type": "integer"},
        "near_identical": {"type": "integer"}}}
    windows = {"type": "object", "properties": {"before": tally, "after": tally}}
    PATHS["/orgs/{org_slug}/impact/cohorts/{cohort_id}/parrot"] = {"get": {
        "summary": "The parrot effect: own words in shares and posts near-identical to "
                   "colleagues', before and after the training, per cohort and learner",
        "parameters": [ORG, cohort, weeks],
        "responses": {"200": returns({"type": "object", "properties": {
            "weeks": {"type": "integer"}, "threshold": {"type": "integer"},
            "min_words": {"type": "integer"}, "cohort": windows,
            "learners": {"type": "array", "items": {"type": "object", "properties": {
                "user_id": {"type": "integer"}, "before": tally, "after": tally}}}}}),
            **errors(400, 401, 403, 404)}}}
    PATHS["/orgs/{org_slug}/impact/activity"] = {"get": {
        "summary": "Activity signals per competency (C3, C4, C5, C8) over the last weeks, "
                   "for oneself or user_id (trainers, HR, admins)",
        "parameters": [ORG, {"name": "user_id", "in": "query",
                             "schema": {"type": "integer"}}],
        "responses": {"200": returns({"type": "object", "properties": {
            "user_id": {"type": "integer"}, "weeks": {"type": "integer"},
            "signals": {"type": "object", "additionalProperties": {
                "type": "object", "properties": {
                    "strength": {"type": "string",
                                 "enum": list(recommendations.STRENGTHS)},
                    "words": {"type": "string"}}}}}}),
            **errors(400, 401, 403, 404)}}}
    PATHS["/orgs/{org_slug}/impact/settings"] = {
        "get": {"summary": "The organization's outcome values and training costs",
                "parameters": [ORG],
                "responses": {"200": returns(ref("ImpactSettings")), **errors(401, 403, 404)}},
        "put": {"summary": "Set the outcome values and training costs (HR, admin); a blank "
                           "or null amount clears it",
                "parameters": [ORG], "requestBody": {"required": True, **returns(
                    ref("ImpactSettings"), "the values and costs")},
                "responses": {"200": returns(ref("ImpactSettings")),
                              **errors(400, 401, 403, 404, 422)}}}


_document()
