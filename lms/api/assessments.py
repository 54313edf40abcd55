"""Skill mapping over the API: questionnaires, attempts (start, answer, submit), results, map."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from lms.accounts.authz import MANAGER_ROLES
from lms.accounts.models import Membership
from lms.api.base import bp, json_body, org_member, page_args
from lms.assessments import queries, recommendations, scoring, services
from lms.assessments.models import Attempt, Question, Questionnaire
from lms.core.errors import BadRequest, Conflict, NotFound
from lms.core.replica import reads_from_replica
from lms.extensions import db

SCALES = {"can_do": [c.value for c in scoring.CanDo],
          "frequency": [f.value for f in scoring.Frequency]}


def questionnaire_json(q: Questionnaire) -> dict[str, Any]:
    """A questionnaire as listed to members."""
    return {"id": q.id, "key": q.key, "title": q.title, "description": q.description,
            "builtin": q.organization_id is None, "published": q.published,
            "questions": len(q.questions), "format_version": q.format_version}


def question_json(x: Question) -> dict[str, Any]:
    """A question as asked: never the keyed answer (that comes with the results)."""
    out: dict[str, Any] = {"key": x.key, "type": x.type, "competency": x.competency,
                           "level": x.level, "text": x.text}
    if x.options:
        out["options"] = [{"key": o["key"], "text": o["text"]} for o in x.options]
    else:
        out["scale"] = SCALES.get(x.type, [])
    return out


def attempt_json(a: Attempt, *, with_next: bool) -> dict[str, Any]:
    """An attempt; a draft shows the questions to answer next to its owner."""
    out: dict[str, Any] = {
        "id": a.id, "uuid": a.uuid, "questionnaire": a.questionnaire.key,
        "member_id": a.membership_id, "status": a.status,
        "started_at": a.started_at.isoformat(),
        "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
        "answered": len(a.answers or {})}
    if not a.submitted:
        state = services.progress_of(a)
        questions = {x.key: x for x in a.questionnaire.questions}
        out["progress"] = round(state.fraction, 3)
        out["finished"] = state.finished
        if with_next:
            out["next"] = [question_json(questions[k]) for k in state.current]
    else:
        out["levels"] = a.levels
    return out


def profile_json(profile: queries.SkillProfile) -> dict[str, Any]:
    """A skill profile: levels against targets, gaps and what to work on next."""
    a = profile.attempt
    return {
        "member_id": profile.membership.id,
        "job_family": profile.membership.job_family,
        "attempt_id": a.id if a else None,
        "submitted_at": a.submitted_at.isoformat() if a and a.submitted_at else None,
        "competencies": [{"code": x.competency.code, "name": x.competency.name,
                          "level": x.level, "measured": x.measured, "declared": x.declared,
                          "pending_validation": x.pending, "validated": x.validated,
                          "target": x.target} for x in profile.lines],
        "gaps": [{"code": line.competency.code, "level": line.level, "target": line.target,
                  "gap": size, "next_level": line.level + 1,
                  "next_step": line.competency.levels.get(str(line.level + 1)),
                  "advice": line.competency.advice} for line, size in profile.gaps],
    }


def _attempt_for(membership: Membership, attempt_id: int, *, own_only: bool) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.organization_id != membership.organization_id:
        raise NotFound(_l("No such attempt."))
    is_own = attempt.membership_id == membership.id
    if not is_own and (own_only or membership.role not in MANAGER_ROLES):
        raise NotFound(_l("No such attempt."))
    return attempt


@bp.get("/orgs/<org_slug>/questionnaires")
@org_member()
def list_questionnaires(membership: Membership) -> Any:
    """Questionnaires offered to this organization's learners."""
    return {"items": [questionnaire_json(q)
                      for q in queries.offered_questionnaires(membership.organization_id)]}


@bp.post("/orgs/<org_slug>/questionnaires/<key>/attempts")
@org_member()
def start_attempt(membership: Membership, key: str) -> Any:
    """Start an attempt (201) or resume the open draft (200)."""
    q = queries.visible_questionnaire(membership.organization_id, key)
    if q is None:
        raise NotFound(_l("No such questionnaire."))
    attempt, created = services.start_attempt(membership=membership, questionnaire=q)
    db.session.commit()
    return attempt_json(attempt, with_next=True), 201 if created else 200


@bp.get("/orgs/<org_slug>/attempts/<int:attempt_id>")
@org_member()
def get_attempt(membership: Membership, attempt_id: int) -> Any:
    """One attempt (its owner, or trainers, HR and admins)."""
    attempt = _attempt_for(membership, attempt_id, own_only=False)
    return attempt_json(attempt, with_next=attempt.membership_id == membership.id)


@bp.post("/orgs/<org_slug>/attempts/<int:attempt_id>/answers")
@org_member()
def answer_attempt(membership: Membership, attempt_id: int) -> Any:
    """Save answers ``{"answers": {question key: answer}}`` to the questions asked now."""
    attempt = _attempt_for(membership, attempt_id, own_only=True)
    data = json_body()
    answers = data.get("answers")
    if not isinstance(answers, dict) or not answers:
        raise BadRequest(_l("Send {\"answers\": {question key: answer, ...}}."),
                         fields={"answers": _l("a non-empty object expected")})
    if attempt.submitted:
        raise Conflict(_l("This attempt is submitted: it can no longer change."))
    services.answer(attempt=attempt, answers=answers)
    db.session.commit()
    return attempt_json(attempt, with_next=True)


@bp.post("/orgs/<org_slug>/attempts/<int:attempt_id>/submit")
@org_member()
def submit_attempt(membership: Membership, attempt_id: int) -> Any:
    """Submit a finished attempt; answers the results."""
    attempt = _attempt_for(membership, attempt_id, own_only=True)
    services.submit_attempt(attempt=attempt)
    db.session.commit()
    return profile_json(queries.profile_for(membership, attempt))


@bp.get("/orgs/<org_slug>/attempts/<int:attempt_id>/results")
@org_member()
def attempt_results(membership: Membership, attempt_id: int) -> Any:
    """The results of a submitted attempt (its owner, or trainers, HR and admins)."""
    attempt = _attempt_for(membership, attempt_id, own_only=False)
    if not attempt.submitted:
        raise Conflict(_l("This attempt is not submitted yet."), code="not_submitted")
    return profile_json(queries.profile_for(attempt.membership, attempt))


@bp.get("/orgs/<org_slug>/members/<int:member_id>/skills")
@org_member()
def member_skills(membership: Membership, member_id: int) -> Any:
    """A member's current skill profile (themselves, or trainers, HR and admins)."""
    member = db.session.get(Membership, member_id)
    if (member is None or member.organization_id != membership.organization_id
            or (member.id != membership.id and membership.role not in MANAGER_ROLES)):
        raise NotFound(_l("No such member."))
    out = profile_json(queries.profile_for(member))
    out["history"] = [{"attempt_id": a.id, "submitted_at": a.submitted_at.isoformat()
                       if a.submitted_at else None, "levels": a.levels}
                      for a in queries.submitted_attempts(member.id)]
    return out


@bp.get("/orgs/<org_slug>/skill-map")
@org_member(*MANAGER_ROLES)
@reads_from_replica
def skill_map(membership: Membership) -> Any:
    """A page of the team skill map, learners by name with their levels (``page``,
    ``per_page``), filtered by ``team``, ``job_family`` and ``cohort`` (a cohort id); the
    counts and averages cover everyone selected.
    """
    org_id = membership.organization_id
    try:
        _cohort, members = recommendations.cohort_members(org_id, request.args.get("cohort"))
    except LookupError:
        raise NotFound(_l("No such cohort.")) from None
    page, per_page = page_args()
    team, family = request.args.get("team") or None, request.args.get("job_family") or None
    summary = queries.map_summary(org_id, team, family, members)
    rows = queries.map_rows(org_id, team, family, members, offset=(page - 1) * per_page,
                            limit=per_page) if (page - 1) * per_page < summary.learners else []
    return {
        "items": [{"member_id": r.member_id, "name": r.name, "team": r.team,
                   "job_family": r.job_family, "answered": r.answered,
                   "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
                   "levels": r.levels if r.answered else None,
                   "targets": r.targets if r.answered else None} for r in rows],
        "page": page, "per_page": per_page, "total": summary.learners,
        "answered": summary.answered,
        "averages": {k: round(v, 2) for k, v in summary.averages.items()},
        "average_targets": {k: round(v, 2) for k, v in summary.average_targets.items()},
    }
