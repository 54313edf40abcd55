"""Package pages under /o/<slug>/: upload (trainers), files and launch (learners)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lms.accounts import authz
from lms.accounts.models import Role
from lms.core import quota
from lms.core.errors import DomainError
from lms.core.limits import max_upload
from lms.core.web import localized
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.programs.models import Module, Program
from lms.extensions import db
from lms.packages import queries, services
from lms.packages.models import XapiPackage

bp = authz.org_blueprint("packages", __name__)


@bp.app_context_processor
def _package_lookup() -> dict[str, Any]:
    # Lets the courses pages show a Launch button without courses importing packages.
    return {"package_for": queries.current_package}


def _module(program_id: int, module_id: int) -> Module:
    program = authz.get_in_org_or_404(Program, program_id)
    module = db.session.get(Module, module_id)
    if module is None or module.program_id != program.id:
        abort(404)
    return module


@bp.route("/programs/<int:program_id>/modules/<int:module_id>/package",
          methods=["GET", "POST"])
@authz.role_required(*authz.STAFF_ROLES)
@max_upload("PACKAGE_MAX_BYTES")
def upload(program_id: int, module_id: int) -> Any:
    """Upload (or replace) the module's xAPI package."""
    module = _module(program_id, module_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        limit = services.max_bytes()
        # Refuse an oversized upload from its announced length, before reading it.
        too_big = (request.content_length or 0) > limit + 64 * 1024
        file = None if too_big else request.files.get("package")
        try:
            package = services.upload_package(
                module=module, uploaded_by=authz.current_membership().user,
                data=file.read(limit + 1) if file else b"", too_big=too_big)
        except DomainError as exc:
            db.session.rollback()
            errors = exc.fields or {"package": exc.message}
        else:
            db.session.commit()
            flash(_("The package “%(title)s” was uploaded.", title=package.title), "success")
            return redirect(url_for(".upload", program_id=program_id, module_id=module_id))
    history = list(db.session.scalars(select(XapiPackage).where(
        XapiPackage.module_id == module.id).order_by(XapiPackage.id.desc())))
    return render_template("packages/upload.html", module=module, program=module.program,
                           history=history, errors=errors, t=localized,
                           max_size=services.max_size(),
                           usage=quota.usage(authz.current_organization().id),
                           quota=quota.quota_bytes()), 422 if errors else 200


def _may_read(package: XapiPackage) -> bool:
    membership = authz.current_membership()
    if membership.role in authz.STAFF_ROLES:
        return True
    return db.session.scalar(select(Enrollment.id).join(Cohort).where(
        Enrollment.membership_id == membership.id, Enrollment.status != WITHDRAWN,
        Cohort.program_id == package.module.program_id).limit(1)) is not None


@bp.get("/packages/<int:package_id>/<path:file>")
def package_file(package_id: int, file: str) -> Any:
    """One file of a package, for staff and the learners enrolled in its program."""
    package = authz.get_in_org_or_404(XapiPackage, package_id)
    if not _may_read(package):
        abort(404)
    # send_from_directory refuses any path leaving the package folder (404).
    response = send_from_directory(services.package_dir(package), file, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    # Package scripts run on Relais' origin: only staff upload packages, and the content may
    # only be framed by Relais itself (docs/xapi.md: "Launching xAPI packages").
    response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    return response


@bp.post("/training/<enrollment_id>/modules/<int:module_id>/launch")
@authz.role_required(Role.LEARNER)
def launch(enrollment_id: str, module_id: int) -> Any:
    """Launch the module's package with fresh credentials for this learner."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.membership_id != authz.current_membership().id \
            or enrollment.status == WITHDRAWN:
        abort(404)
    package = queries.current_package(module_id)
    if package is None or package.organization_id != authz.current_organization().id:
        abort(404)
    base = url_for(".package_file", package_id=package.id, file="x")[:-1]
    try:
        url, _credential = services.launch(enrollment=enrollment, package=package,
                                           base_url=base)
    except DomainError:
        abort(404)
    db.session.commit()
    return redirect(url)
