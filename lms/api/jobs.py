"""Background jobs: a job's progress and result, and the CSV member import that starts one."""

from __future__ import annotations

from typing import Any

from flask import request, send_file, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.authz import MANAGER_ROLES
from lms.accounts.models import Membership, Role
from lms.api.base import bp, current_api_user, org_member, paged
from lms.core.errors import NotFound
from lms.core.limits import max_body
from lms.extensions import db
from lms.jobs import members_import, queries, services
from lms.jobs.models import Job
from lms.jobs.runner import job_status


def _visible_job(job_id: int) -> Job:
    """The job if the token's user may see it; 404 otherwise, whether or not it exists."""
    job = db.session.get(Job, job_id)
    if job is not None and job.organization_id is not None:
        membership = db.session.scalar(
            select(Membership).where(Membership.organization_id == job.organization_id,
                                     Membership.user_id == current_api_user().id))
        if membership is not None and queries.can_see(membership, job):
            return job
    raise NotFound(_l("No such job."))


def job_json(job: Job) -> dict[str, Any]:
    """The API representation of a job."""
    data = job_status(job)
    data["url"] = url_for("api.get_job", job_id=job.id, _external=False)
    data["result_url"] = (url_for("api.get_job_result", job_id=job.id)
                          if job.result_path else None)
    data["organization"] = job.organization.slug if job.organization else None
    return data


@bp.get("/jobs/<int:job_id>")
def get_job(job_id: int) -> Any:
    """A job's state, progress, message, error and result summary."""
    return job_json(_visible_job(job_id))


@bp.get("/jobs/<int:job_id>/result")
def get_job_result(job_id: int) -> Any:
    """Download a job's result file (e.g. the import's error report)."""
    job = _visible_job(job_id)
    path = services.result_file(job)
    if path is None:
        raise NotFound(_l("This job has no result file (yet)."))
    return send_file(path, as_attachment=True, download_name=f"job-{job.id}-{path.name}")


@bp.get("/orgs/<org_slug>/jobs")
@org_member(*MANAGER_ROLES)
def list_jobs(membership: Membership) -> Any:
    """The organization's jobs, newest first, page by page."""
    return paged(queries.org_jobs(membership.organization_id), job_json)


@bp.post("/orgs/<org_slug>/members/import")
@org_member(Role.ADMIN, Role.HR)
@max_body("IMPORT_MAX_BYTES")
def import_members(membership: Membership) -> Any:
    """Start a background import of a CSV of members (body: the CSV); 202 with the job."""
    job = members_import.start_import(
        organization=membership.organization, created_by=current_api_user(),
        data=request.get_data(cache=False),
        default_role=request.args.get("default_role", Role.LEARNER.value))
    db.session.commit()
    body = job_json(job)
    return body, 202, {"Location": body["url"]}


# -- OpenAPI ------------------------------------------------------------------------------------

def _document() -> None:
    from lms.api.openapi import ORG, PAGING, PATHS, SCHEMAS, errors, returns

    job_ref = {"$ref": "#/components/schemas/Job"}
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    SCHEMAS["Job"] = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string"},
            "organization": {"type": ["string", "null"]},
            "state": {"type": "string",
                      "enum": ["queued", "running", "succeeded", "failed", "cancelled"]},
            "progress": {"type": "object", "properties": {
                "current": {"type": "integer"}, "total": {"type": ["integer", "null"]},
                "percent": {"type": ["integer", "null"]}}},
            "message": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]},
            "result": {"type": ["object", "null"]},
            "has_result_file": {"type": "boolean"},
            "result_url": {"type": ["string", "null"]}, "url": {"type": "string"},
            "attempts": {"type": "integer"}, "max_attempts": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": {"type": ["string", "null"], "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "created_by": {"type": ["string", "null"]},
            "cancel_requested": {"type": "boolean"},
        },
    }
    PATHS["/jobs/{job_id}"] = {"get": {
        "summary": "A background job's state and progress (its organization's trainers, HR, "
                   "admins, or whoever started it)",
        "parameters": [job_id],
        "responses": {"200": returns(job_ref), **errors(401, 404)}}}
    PATHS["/jobs/{job_id}/result"] = {"get": {
        "summary": "Download a job's result file",
        "parameters": [job_id],
        "responses": {"200": {"description": "the file",
                              "content": {"application/octet-stream": {}}},
                      **errors(401, 404)}}}
    PATHS["/orgs/{org_slug}/jobs"] = {"get": {
        "summary": "The organization's background jobs, newest first (trainer, HR, admin)",
        "parameters": [ORG, *PAGING],
        "responses": {"200": returns({"type": "object", "properties": {
            "items": {"type": "array", "items": job_ref}, "page": {"type": "integer"},
            "per_page": {"type": "integer"}, "total": {"type": "integer"}}}),
            **errors(400, 401, 403, 404)}}}
    PATHS["/orgs/{org_slug}/members/import"] = {"post": {
        "summary": "Import members from a CSV file in the background (HR, admin)",
        "parameters": [ORG, {"name": "default_role", "in": "query",
                             "schema": {"type": "string",
                                        "enum": ["learner", "trainer", "hr", "admin"]}}],
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {
            "type": "string",
            "description": "header row with 'email' and optionally role, display_name, team, "
                           "job_family, locale"}}}},
        "responses": {"202": returns(job_ref, "job queued; poll its url"),
                      **errors(401, 403, 404, 422)}}}


_document()
