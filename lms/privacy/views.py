"""Pages: download my data; for HR and admins, a member's export and erasure; the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from lms.accounts import audit, authz
from lms.accounts.forms import ConfirmForm
from lms.accounts.models import Membership, Role
from lms.core import csvexport
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.extensions import db
from lms.privacy import export, jobs, register, retention, services
from lms.privacy.forms import RetentionForm
from lms.privacy.labels import ERASURE_LABELS

bp = Blueprint("privacy", __name__, template_folder="templates")
org_bp = authz.org_blueprint("privacy_org", __name__, template_folder="templates")


def _address() -> str | None:
    return request.remote_addr


def _zip_response(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store"})


@bp.route("/account/my-data", methods=["GET", "POST"])
@login_required
def my_data() -> Any:
    """Download my data: a background job builds the ZIP, its page shows progress."""
    form = ConfirmForm()
    if form.validate_on_submit():
        audit.record(action="personal_data.export", actor=current_user, organization=None,
                     target=f"user:{current_user.id}", address=_address(),
                     details={"by": "self"})
        first = db.session.scalar(select(Membership).where(
            Membership.user_id == current_user.id).order_by(Membership.id))
        if first is None:
            # No organization to show a job page under: built at once.
            data = export.build_zip(current_user)
            db.session.commit()
            return _zip_response(data, "relais-my-data.zip")
        job = jobs.start_export(user=current_user, organization=None,
                                created_by=current_user)
        db.session.commit()
        return redirect(url_for("jobs.job", org_slug=first.organization.slug, job_id=job.id))
    return render_template("privacy/my_data.html", form=form)


@org_bp.route("/members/<int:membership_id>/personal-data", methods=["POST"])
@authz.role_required(Role.HR, Role.ADMIN)
def member_export(membership_id: int) -> Any:
    """Start the export of a member's personal data in this organization (a job)."""
    member = authz.get_in_org_or_404(Membership, membership_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("privacy_org.member_erase", membership_id=member.id))
    job = jobs.start_export(user=member.user, organization=authz.current_organization(),
                            created_by=current_user)
    audit.record(action="personal_data.export", actor=current_user,
                 organization=authz.current_organization(), target=f"membership:{member.id}",
                 address=_address())
    db.session.commit()
    return redirect(url_for("jobs.job", job_id=job.id))


@org_bp.route("/members/<int:membership_id>/erase", methods=["GET", "POST"])
@authz.role_required(Role.HR, Role.ADMIN)
def member_erase(membership_id: int) -> Any:
    """Confirm, then erase a member's personal data from this organization."""
    member = authz.get_in_org_or_404(Membership, membership_id)
    form = ConfirmForm()
    error = None
    if member.id == authz.current_membership().id:
        error = _("You cannot erase yourself.")
    elif form.validate_on_submit():
        try:
            result = services.erase_member(membership=member, by=current_user,
                                           address=_address())
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            services.remove_files(result.files)
            flash(_("The member's personal data was erased; they appear as %(name)s now.",
                    name=result.pseudonym), "success")
            return redirect(url_for("members.members"))
    plan = services.erasure_plan(member)
    return render_template("privacy/erase.html", member=member, plan=plan, form=form,
                           labels=ERASURE_LABELS, error=error), 422 if error else 200


@org_bp.route("/audit")
@authz.role_required(Role.ADMIN)
def audit_log() -> Any:
    """The organization's audit log, newest first, filtered by action and period; with
    ``?format=csv``, every matching entry as a CSV download.
    """
    action = request.args.get("action") or None
    if action not in audit.ACTIONS:
        action = None
    days = request.args.get("days", type=int)
    since: datetime | None = utcnow() - timedelta(days=days) if days and 0 < days < 3660 \
        else None
    org = authz.current_organization()
    entries = audit.events_query(organization_id=org.id, action=action, since=since)
    if request.args.get("format") == "csv":
        stamp = utcnow().strftime("%Y%m%d-%H%M%S")
        return csvexport.stream(f"audit-{org.slug}-{stamp}.csv",
                                [str(h) for h in audit.CSV_HEADER], audit.csv_rows(entries))
    page = max(request.args.get("page", 1, type=int), 1)
    pagination = db.paginate(entries, page=page, per_page=50, error_out=False)
    return render_template("privacy/audit.html", pagination=pagination, action=action,
                           days=days, actions=audit.ACTIONS, labels=audit.ACTION_LABELS,
                           actor_label=audit.actor_label)


@org_bp.route("/settings/retention", methods=["GET", "POST"])
@authz.role_required(Role.ADMIN)
def retention_settings() -> Any:
    """How long each kind of data is kept (GDPR art. 5(1)(e)), and what the next run removes."""
    org = authz.current_organization()
    form = RetentionForm() if request.method == "POST" else RetentionForm(
        formdata=None, data=retention.periods(org))
    if form.validate_on_submit():
        try:
            retention.save_settings(organization=org, values=form.periods(), by=current_user,
                                    address=_address())
        except DomainError as exc:
            db.session.rollback()
            for key, message in exc.fields.items():
                if key in form:
                    form[key].errors = [*form[key].errors, str(message)]
        else:
            db.session.commit()
            flash(_("Retention periods saved."), "success")
            return redirect(url_for("privacy_org.retention_settings"))
    status = 422 if form.is_submitted() else 200
    return render_template("privacy/retention.html", form=form, kinds=retention.KINDS,
                           defaults={k.key: retention.default_period(k) for k in retention.KINDS},
                           plan=retention.plan(org), settings=retention.settings_of(org),
                           period_text=register.period_text), status


@org_bp.route("/privacy/register")
@authz.role_required(Role.HR, Role.ADMIN)
def processing_register() -> Any:
    """The record of processing activities (art. 30), in the reader's language or the one
    asked for (``?lang=fr``: a French company's register for the CNIL, read in English).
    """
    lang = request.args.get("lang")
    if lang not in ("fr", "en"):
        lang = str(get_locale() or "fr")[:2]
    with force_locale(lang):
        return render_template("privacy/register.html",
                               register=register.build(authz.current_organization()), lang=lang,
                               today=utcnow())
