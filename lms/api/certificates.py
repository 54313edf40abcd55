"""Certificates over the API: list and filter, one, issue by hand, revoke, PDF, bulk export."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

from flask import request, send_file
from flask_babel import lazy_gettext as _l

from lms.accounts.authz import MANAGER_ROLES, STAFF_ROLES
from lms.accounts.models import Membership
from lms.api.base import body_enrollment, bp, current_api_user, json_body, org_member, paged
from lms.api.openapi import ORG, PAGING, PATHS, SCHEMAS, errors, returns
from lms.certificates import badges, export, queries, rendering, services
from lms.certificates.models import Certificate
from lms.core.errors import BadRequest, NotFound, ValidationFailed
from lms.core.inputs import json_problems
from lms.core.models import utcnow
from lms.courses.cohorts.models import Cohort
from lms.courses.programs.models import Program
from lms.extensions import db

STATUSES = ("valid", "expired", "revoked")


def certificate_json(c: Certificate) -> dict[str, Any]:
    """A certificate: its status now, dates, links, and what it states (the snapshot)."""
    return {"id": c.id, "code": c.code, "status": c.status(utcnow()),
            "enrollment_id": c.enrollment_id, "user_id": c.user_id,
            "program_id": c.program_id, "cohort_id": c.cohort_id,
            "template": c.template_key, "language": c.language,
            "issued_at": c.issued_at.isoformat(), "issued_by_id": c.issued_by_id,
            "reason": c.reason,
            "valid_until": c.valid_until.isoformat() if c.valid_until else None,
            "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
            "revocation_reason": c.revocation_reason, "replaces_id": c.replaces_id,
            "renews_id": c.renews_id, "snapshot": c.snapshot,
            "verify_url": rendering.verify_url(c.code),
            "badge_url": badges.credential_url(c.code)}


def _visible(membership: Membership, certificate_id: int) -> Certificate:
    """The certificate if the caller may see it (their own, or any for managers)."""
    c = db.session.get(Certificate, certificate_id)
    if c is None or c.organization_id != membership.organization_id or (
            c.user_id != membership.user_id and membership.role not in MANAGER_ROLES):
        raise NotFound(_l("No such certificate."))
    return c


def _day(value: Any, name: str, fields: dict[str, str]) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        fields[name] = _l("Use YYYY-MM-DD.")
        return None


def _in_org(model: Any, ident: Any, membership: Membership, name: str,
            fields: dict[str, str]) -> int | None:
    if ident in (None, ""):
        return None
    if not str(ident).isdigit():
        fields[name] = _l("integer expected")
        return None
    row = db.session.get(model, int(ident))
    if row is None or row.organization_id != membership.organization_id:
        fields[name] = _l("not found in this organization")
        return None
    return int(ident)


def _filters(source: Any, membership: Membership) -> dict[str, Any]:
    fields: dict[str, str] = {}
    out = {"cohort_id": _in_org(Cohort, source.get("cohort"), membership, "cohort", fields),
           "program_id": _in_org(Program, source.get("program"), membership, "program", fields),
           "since": _day(source.get("since"), "since", fields),
           "until": _day(source.get("until"), "until", fields)}
    status = source.get("status")
    if status not in (None, "", *STATUSES):
        fields["status"] = _l("one of %(values)s", values=", ".join(STATUSES))
    if fields:
        raise BadRequest(_l("Invalid filters."), fields=fields)
    return out | {"status": status or None}


@bp.get("/orgs/<org_slug>/certificates")
@org_member(*MANAGER_ROLES)
def list_certificates(membership: Membership) -> Any:
    """The organization's certificates, newest first, filtered, page by page."""
    return paged(queries.filtered(membership.organization_id,
                                  **_filters(request.args, membership)), certificate_json)


@bp.get("/orgs/<org_slug>/certificates/<int:certificate_id>")
@org_member()
def get_certificate(membership: Membership, certificate_id: int) -> Any:
    """One certificate (the learner's own; any for trainers, HR and admins)."""
    return certificate_json(_visible(membership, certificate_id))


@bp.get("/orgs/<org_slug>/certificates/<int:certificate_id>/pdf")
@org_member()
def get_certificate_pdf(membership: Membership, certificate_id: int) -> Any:
    """The certificate's PDF (recorded as a download)."""
    c = _visible(membership, certificate_id)
    data = rendering.pdf_bytes(c)
    services.record_download(certificate=c, user=current_api_user())
    db.session.commit()
    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=export.file_name(c))


@bp.post("/orgs/<org_slug>/certificates")
@org_member(*STAFF_ROLES)
def issue_certificate(membership: Membership) -> Any:
    """Issue a certificate by hand, with a reason (trainers, admins)."""
    body = json_body()
    enrollment = body_enrollment(membership, body, "enrollment_id", _l("Unknown enrolment."),
                                 _l("not found in this organization"))
    c = services.issue_manually(enrollment=enrollment, issued_by=current_api_user(),
                                reason=str(body.get("reason") or ""))
    db.session.commit()
    return certificate_json(c), 201


@bp.post("/orgs/<org_slug>/certificates/<int:certificate_id>/revoke")
@org_member(*MANAGER_ROLES)
def revoke_certificate(membership: Membership, certificate_id: int) -> Any:
    """Revoke a certificate, with a reason (kept, never shown publicly)."""
    c = _visible(membership, certificate_id)
    body = json_body()
    services.revoke(certificate=c, revoked_by=current_api_user(),
                    reason=str(body.get("reason") or ""))
    db.session.commit()
    return certificate_json(c)


@bp.post("/orgs/<org_slug>/certificates/exports")
@org_member(*MANAGER_ROLES)
def export_certificates(membership: Membership) -> Any:
    """Start a background export (ZIP of PDFs and CSV register); 202 with the job."""
    from lms.api.jobs import job_json

    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise BadRequest(_l("The request body must be a JSON object."))
    problems = json_problems(body)
    if problems:
        raise ValidationFailed(_l("Some values cannot be accepted."), fields=problems)
    filters = _filters(body, membership)
    params = {"cohort_id": filters["cohort_id"], "program_id": filters["program_id"],
              "since": filters["since"].isoformat() if filters["since"] else None,
              "until": filters["until"].isoformat() if filters["until"] else None}
    job = export.start_export(organization=membership.organization,
                              created_by=current_api_user(), params=params)
    db.session.commit()
    out = job_json(job)
    return out, 202, {"Location": out["url"]}


# -- OpenAPI ------------------------------------------------------------------------------------

_CERT = {"$ref": "#/components/schemas/Certificate"}
_ID = {"name": "certificate_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_FILTERS = [
    {"name": "cohort", "in": "query", "schema": {"type": "integer"}},
    {"name": "program", "in": "query", "schema": {"type": "integer"}},
    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "Issued on or after this day"},
    {"name": "until", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "Issued on or before this day"},
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(STATUSES)}},
]
SCHEMAS["Certificate"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "code": {"type": "string"},
    "status": {"type": "string", "enum": list(STATUSES)},
    "enrollment_id": {"type": ["string", "null"]}, "user_id": {"type": ["integer", "null"]},
    "program_id": {"type": ["integer", "null"]}, "cohort_id": {"type": ["integer", "null"]},
    "template": {"type": "string"}, "language": {"type": "string"},
    "issued_at": {"type": "string", "format": "date-time"},
    "issued_by_id": {"type": ["integer", "null"]}, "reason": {"type": ["string", "null"]},
    "valid_until": {"type": ["string", "null"], "format": "date-time"},
    "revoked_at": {"type": ["string", "null"], "format": "date-time"},
    "revocation_reason": {"type": ["string", "null"]},
    "replaces_id": {"type": ["integer", "null"]}, "renews_id": {"type": ["integer", "null"]},
    "snapshot": {"type": "object", "description": "What the certificate states, frozen"},
    "verify_url": {"type": "string"}, "badge_url": {"type": "string",
                                                    "description": "Open Badges 3.0 JSON-LD"}}}
PATHS["/orgs/{org_slug}/certificates"] = {
    "get": {"operationId": "listCertificates",
            "summary": "The organization's certificates, filtered (trainer, HR, admin)",
            "parameters": [ORG, *_FILTERS,
                           *PAGING],
            "responses": {"200": returns({"type": "object", "properties": {
                "items": {"type": "array", "items": _CERT}, "page": {"type": "integer"},
                "per_page": {"type": "integer"}, "total": {"type": "integer"}}}),
                **errors(400, 401, 403, 404)}},
    "post": {"operationId": "issueCertificate",
             "summary": "Issue a certificate by hand, with a reason (trainer, admin)",
             "parameters": [ORG],
             "requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["enrollment_id", "reason"],
                 "properties": {"enrollment_id": {"type": "string"},
                                "reason": {"type": "string"}}}}}},
             "responses": {"201": returns(_CERT, "issued"),
                           **errors(400, 401, 403, 404, 409, 422)}}}
PATHS["/orgs/{org_slug}/certificates/{certificate_id}"] = {"get": {
    "operationId": "getCertificate",
    "summary": "One certificate (its learner; trainers, HR, admins)",
    "parameters": [ORG, _ID], "responses": {"200": returns(_CERT), **errors(401, 404)}}}
PATHS["/orgs/{org_slug}/certificates/{certificate_id}/pdf"] = {"get": {
    "operationId": "getCertificatePdf", "summary": "The certificate's PDF",
    "parameters": [ORG, _ID],
    "responses": {"200": {"description": "the PDF", "content": {"application/pdf": {}}},
                  **errors(401, 404)}}}
PATHS["/orgs/{org_slug}/certificates/{certificate_id}/revoke"] = {"post": {
    "operationId": "revokeCertificate",
    "summary": "Revoke a certificate with a reason (trainer, HR, admin)",
    "parameters": [ORG, _ID],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}}}},
    "responses": {"200": returns(_CERT), **errors(400, 401, 403, 404, 409, 422)}}}
PATHS["/orgs/{org_slug}/certificates/exports"] = {"post": {
    "operationId": "exportCertificates",
    "summary": "Export certificates (ZIP of PDFs and CSV register) in the background "
               "(trainer, HR, admin)",
    "parameters": [ORG],
    "requestBody": {"required": False, "content": {"application/json": {"schema": {
        "type": "object", "properties": {
            "cohort": {"type": "integer"}, "program": {"type": "integer"},
            "since": {"type": "string", "format": "date"},
            "until": {"type": "string", "format": "date"}}}}}},
    "responses": {"202": returns({"$ref": "#/components/schemas/Job"}, "job queued; poll its url"),
                  **errors(400, 401, 403, 404, 422)}}}
