"""Pages: the organization's jobs, one job's live progress and result, the member import."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts import authz
from lms.accounts.models import Role
from lms.core.limits import max_upload
from lms.core.web import commit_or_flash, commit_or_mark
from lms.extensions import db
from lms.jobs import members_import, messages, queries, services
from lms.jobs.forms import CancelForm, ImportMembersForm
from lms.jobs.models import Job
from lms.jobs.registry import label_for
from lms.jobs.runner import job_status

bp = authz.org_blueprint("jobs", __name__, template_folder="templates")


@bp.app_template_filter("job_label")
def _job_label(kind: str) -> str:
    return label_for(kind)


bp.add_app_template_filter(messages.text, "job_message")
bp.add_app_template_filter(messages.state_label, "job_state")
bp.add_app_template_filter(messages.result_label, "job_result_label")


def _visible_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or not queries.can_see(authz.current_membership(), job):
        abort(404)
    return job


@bp.route("/jobs")
@authz.role_required(*authz.MANAGER_ROLES)
def jobs() -> Any:
    """The organization's background jobs, newest first."""
    page = max(request.args.get("page", 1, type=int), 1)
    pagination = db.paginate(queries.org_jobs(authz.current_organization().id), page=page,
                             per_page=50, error_out=False)
    return render_template("jobs/list.html", pagination=pagination)


@bp.route("/jobs/<int:job_id>")
def job(job_id: int) -> Any:
    """One job: live progress, messages, and its result to download."""
    job = _visible_job(job_id)
    return render_template("jobs/job.html", job=job, cancel_form=CancelForm())


@bp.route("/jobs/<int:job_id>/status")
def job_status_json(job_id: int) -> Any:
    """The job's progress as JSON, polled by the job page."""
    job = _visible_job(job_id)
    data = job_status(job)
    if job.result_path:
        data["result_url"] = url_for("jobs.job_result", job_id=job.id)
    return data, {"Cache-Control": "no-store"}


@bp.route("/jobs/<int:job_id>/result")
def job_result(job_id: int) -> Any:
    """Download the job's result file."""
    job = _visible_job(job_id)
    path = services.result_file(job)
    if path is None:
        abort(404)
    return send_file(path, as_attachment=True, download_name=f"job-{job.id}-{path.name}")


@bp.route("/jobs/<int:job_id>/cancel", methods=["POST"])
def cancel_job(job_id: int) -> Any:
    """Cancel a queued job, or ask a running one to stop."""
    job = _visible_job(job_id)
    if CancelForm().validate_on_submit():
        commit_or_flash(lambda: services.request_cancel(job=job), _("Cancellation requested."))
    return redirect(url_for("jobs.job", job_id=job.id))


@bp.route("/jobs/import-members", methods=["GET", "POST"])
@authz.role_required(Role.HR, Role.ADMIN)
@max_upload("IMPORT_MAX_BYTES")
def import_members() -> Any:
    """Upload a CSV of people: they are added in the background, with an error report."""
    form = ImportMembersForm()
    status = 200
    if form.validate_on_submit():
        job = commit_or_mark(form, lambda: members_import.start_import(
            organization=authz.current_organization(),
            created_by=current_user._get_current_object(),  # type: ignore[attr-defined]
            data=form.file.data.read(), default_role=form.default_role.data), field="file")
        if job is not None:
            return redirect(url_for("jobs.job", job_id=job.id))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("jobs/import_members.html", form=form), status
