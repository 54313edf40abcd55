"""Pages: a learner's certificates, the organization's register (filters, revoke, re-issue,
issue by hand, export) and the public verification page.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from lms.accounts import authz
from lms.accounts.models import Membership, Organization
from lms.certificates import (
    badges,
    definitions,
    export,
    queries,
    recertification,
    rendering,
    services,
)
from lms.certificates.forms import (
    ExpiringForm,
    ExportForm,
    FilterForm,
    IssueForm,
    ReissueForm,
    RevokeForm,
    SettingsForm,
)
from lms.certificates.models import Certificate
from lms.core import csvexport
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.core.web import absolute_url, commit_or_flash, commit_or_mark, require_submitted
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.programs.models import Program
from lms.extensions import db

bp = authz.org_blueprint("certificates", __name__, template_folder="templates")
public = Blueprint("verify", __name__, template_folder="templates")


def _user() -> Any:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _is_manager() -> bool:
    return authz.current_membership().role in authz.MANAGER_ROLES


def _text(value: dict[str, str] | None, lang: str) -> str:
    value = value or {}
    return value.get(lang) or next(iter(value.values()), "")


@bp.app_template_filter("cert_text")
def _cert_text(value: dict[str, str] | None) -> str:
    from flask_babel import get_locale

    return _text(value, str(get_locale() or "en"))


@bp.route("/certificates/mine")
def mine() -> Any:
    """The current learner's certificates, to download."""
    certificates = queries.of_user(authz.current_organization().id, _user().id)
    return render_template("certificates/mine.html", certificates=certificates, now=utcnow())


def _filter_form() -> FilterForm:
    org_id = authz.current_organization().id
    form = FilterForm(request.args)
    cohorts = db.session.execute(select(Cohort.id, Cohort.name).where(
        Cohort.organization_id == org_id).order_by(Cohort.name)).all()
    programs = db.session.scalars(select(Program).where(
        Program.organization_id == org_id).order_by(Program.id)).all()
    form.cohort.choices = [SelectChoice("", _("All cohorts"))] + [
        SelectChoice(str(i), n) for i, n in cohorts]
    form.program.choices = [SelectChoice("", _("All programs"))] + [
        SelectChoice(str(p.id), _cert_text(p.title)) for p in programs]
    form.validate()
    return form


def _filters(form: FilterForm) -> dict[str, Any]:
    def as_int(value: Any) -> int | None:
        return int(value) if value and str(value).isdigit() else None

    return {"cohort_id": as_int(form.cohort.data), "program_id": as_int(form.program.data),
            "since": form.since.data if not form.since.errors else None,
            "until": form.until.data if not form.until.errors else None}


@bp.route("/certificates")
@authz.role_required(*authz.MANAGER_ROLES)
def register() -> Any:
    """The organization's certificates, by cohort, program and issue period."""
    form = _filter_form()
    filters = _filters(form)
    page = max(request.args.get("page", 1, type=int), 1)
    pagination = db.paginate(queries.filtered(authz.current_organization().id, **filters),
                             page=page, per_page=50, error_out=False)
    export_form = ExportForm(formdata=None, cohort=filters["cohort_id"] or "",
                             program=filters["program_id"] or "",
                             since=filters["since"].isoformat() if filters["since"] else "",
                             until=filters["until"].isoformat() if filters["until"] else "")
    issue_form = None
    if authz.current_membership().role in authz.STAFF_ROLES:
        issue_form = _issue_form()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("certificates/register.html", pagination=pagination, form=form,
                           export_form=export_form, issue_form=issue_form, args=args,
                           now=utcnow())


def _issue_form() -> IssueForm:
    form = IssueForm()
    rows = db.session.execute(
        select(Enrollment.id, Cohort.name, Membership.user_id)
        .join(Cohort, Enrollment.cohort_id == Cohort.id)
        .join(Membership, Enrollment.membership_id == Membership.id)
        .where(Enrollment.organization_id == authz.current_organization().id)
        .order_by(Cohort.name, Enrollment.enrolled_at)).all()
    from lms.accounts.models import User

    names = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_({r.user_id for r in rows}))).all()) if rows else {}
    form.enrollment.choices = [SelectChoice(r.id, f"{names.get(r.user_id, '?')} — {r.name}")
                               for r in rows]
    return form


@bp.route("/certificates/issue", methods=["POST"])
@authz.role_required(*authz.STAFF_ROLES)
def issue() -> Any:
    """Issue a certificate by hand, with a reason."""
    form = _issue_form()
    if form.validate_on_submit():
        enrollment = authz.get_in_org_or_404(Enrollment, form.enrollment.data)
        certificate = commit_or_flash(
            lambda: services.issue_manually(enrollment=enrollment, issued_by=_user(),
                                            reason=form.reason.data),
            _("Certificate issued."))
        if certificate is not None:
            return redirect(url_for("certificates.detail", certificate_id=certificate.id))
    else:
        flash(_("Choose the learner and give the reason."), "error")
    return redirect(url_for("certificates.register"))


def _visible(certificate_id: int) -> Certificate:
    certificate = authz.get_in_org_or_404(Certificate, certificate_id)
    if certificate.user_id != _user().id and not _is_manager():
        abort(404)
    return certificate


@bp.route("/certificates/<int:certificate_id>")
def detail(certificate_id: int) -> Any:
    """One certificate: what it states, its status and history."""
    certificate = _visible(certificate_id)
    replaced_by = db.session.scalar(select(Certificate).where(
        Certificate.replaces_id == certificate.id))
    renewed_by = db.session.scalar(select(Certificate).where(
        Certificate.renews_id == certificate.id).order_by(Certificate.id.desc()).limit(1))
    return render_template(
        "certificates/detail.html", certificate=certificate, replaced_by=replaced_by,
        renewed_by=renewed_by, now=utcnow(),
        verify_url=rendering.verify_url(certificate.code),
        reissue_form=(ReissueForm() if authz.current_membership().role in authz.STAFF_ROLES
                      else None))


@bp.route("/certificates/<int:certificate_id>.pdf")
def download(certificate_id: int) -> Any:
    """The certificate's PDF (the learner's own, or any for managers)."""
    certificate = _visible(certificate_id)
    data = rendering.pdf_bytes(certificate)
    services.record_download(certificate=certificate, user=_user())
    db.session.commit()
    from io import BytesIO

    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=export.file_name(certificate))


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def revoke(certificate_id: int) -> Any:
    """Confirm and revoke a certificate, with a reason."""
    certificate = authz.get_in_org_or_404(Certificate, certificate_id)
    form = RevokeForm()
    status = 200
    if form.validate_on_submit():
        if commit_or_mark(form, lambda: services.revoke(certificate=certificate,
                                                        revoked_by=_user(),
                                                        reason=form.reason.data),
                          _("The certificate is revoked.")):
            return redirect(url_for("certificates.detail", certificate_id=certificate.id))
        status = 409
    elif form.is_submitted():
        status = 422
    return render_template("certificates/revoke.html", certificate=certificate,
                           form=form), status


@bp.route("/certificates/<int:certificate_id>/reissue", methods=["POST"])
@authz.role_required(*authz.STAFF_ROLES)
def reissue(certificate_id: int) -> Any:
    """Re-issue: a new certificate replaces this one, which is revoked (never re-dated)."""
    certificate = authz.get_in_org_or_404(Certificate, certificate_id)
    form = ReissueForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for the re-issue."), "error")
        return redirect(url_for("certificates.detail", certificate_id=certificate.id))
    try:
        new = services.reissue(certificate=certificate, issued_by=_user(),
                               reason=form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("certificates.detail", certificate_id=certificate.id))
    db.session.commit()
    flash(_("A new certificate replaces this one."), "success")
    return redirect(url_for("certificates.detail", certificate_id=new.id))


@bp.route("/certificates/export", methods=["POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def export_zip() -> Any:
    """Start the bulk export job and show its progress."""
    form = require_submitted(ExportForm())

    def day(value: str | None) -> str | None:
        try:
            return date.fromisoformat(value).isoformat() if value else None
        except ValueError:
            return None

    params = {"cohort_id": int(form.cohort.data) if (form.cohort.data or "").isdigit() else None,
              "program_id": int(form.program.data) if (form.program.data or "").isdigit()
              else None, "since": day(form.since.data), "until": day(form.until.data)}
    try:
        job = export.start_export(organization=authz.current_organization(), created_by=_user(),
                                  params=params)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("certificates.register"))
    db.session.commit()
    return redirect(url_for("jobs.job", job_id=job.id))


@public.route("/verify/<code>")
def verify(code: str) -> Any:
    """Public: whether a certificate is valid, expired, revoked or unknown (no login)."""
    certificate = queries.by_code(code)
    as_json = request.args.get("format") == "json"
    if certificate is None:
        if as_json:
            return {"status": "unknown"}, 404
        return render_template("certificates/verify.html", certificate=None), 404
    s = certificate.snapshot
    # Only what the certificate itself shows: no e-mail, no reason for a revocation.
    data = {
        "status": certificate.status(utcnow()),
        "code": certificate.code,
        "learner": s["learner"]["name"],
        "program": s["program"]["title"],
        "cohort": s["cohort"]["name"],
        "start": s["dates"]["start"], "end": s["dates"]["end"],
        "hours": s["hours"]["total"],
        "issuer": s["issuer"]["organization"],
        "issued_on": s["issued_on"],
        "valid_until": certificate.valid_until.date().isoformat() if certificate.valid_until
        else None,
        "revoked_on": certificate.revoked_at.date().isoformat() if certificate.revoked_at
        else None,
        "badge": badges.credential_url(certificate.code),
    }
    if not data["learner"]:
        # The holder was erased (GDPR): status and program stay, no name is shown.
        del data["learner"]
    if as_json:
        return data
    return render_template("certificates/verify.html", certificate=certificate, data=data)


def _ld(data: dict[str, Any]) -> Any:
    # Wallets read it from anywhere.
    return data, {"Content-Type": "application/ld+json", "Access-Control-Allow-Origin": "*"}


@public.route("/verify/<code>/badge.json")
def badge(code: str) -> Any:
    """Public: the certificate as an Open Badges 3.0 credential (JSON-LD)."""
    certificate = queries.by_code(code)
    if certificate is None:
        return {"status": "unknown"}, 404
    return _ld(badges.credential(certificate))


def _public_org(slug: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        abort(404)
    return org


@public.route("/verify/revocations/<slug>.json")
def revocation_list(slug: str) -> Any:
    """Public: the organization's revoked credentials (Open Badges credentialStatus)."""
    return _ld(badges.revocation_list(_public_org(slug)))


@public.route("/verify/issuers/<slug>.json")
def issuer(slug: str) -> Any:
    """Public: the organization as an Open Badges issuer profile."""
    org = _public_org(slug)
    return _ld({"@context": badges.CONTEXT, **badges.issuer_profile(org)})


@public.route("/verify/competencies/<slug>.json")
def competencies(slug: str) -> Any:
    """Public: the competencies the organization's achievements align to."""
    return _ld(badges.competencies(_public_org(slug)))


# -- validity: what expires soon --------------------------------------------------------------

def _expiring_form() -> ExpiringForm:
    form = ExpiringForm(request.args)
    programs = db.session.scalars(select(Program).where(
        Program.organization_id == authz.current_organization().id).order_by(Program.id)).all()
    form.program.choices = [SelectChoice("", _("All programs"))] + [
        SelectChoice(str(p.id), _cert_text(p.title)) for p in programs]
    if not form.validate():
        form.days.data = 30
    return form


def _expiring() -> tuple[ExpiringForm, Any]:
    form = _expiring_form()
    program_id = int(form.program.data) if (form.program.data or "").isdigit() else None
    return form, recertification.expiring(authz.current_organization().id, days=form.days.data,
                                          program_id=program_id)


@bp.route("/certificates/expiring")
@authz.role_required(*authz.MANAGER_ROLES)
def expiring() -> Any:
    """Certificates whose validity ends within 30, 60 or 90 days."""
    form, stmt = _expiring()
    page = max(request.args.get("page", 1, type=int), 1)
    pagination = db.paginate(stmt, page=page, per_page=50, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("certificates/expiring.html", form=form, pagination=pagination,
                           args=args, now=utcnow())


@bp.route("/certificates/expiring.csv")
@authz.role_required(*authz.MANAGER_ROLES)
def expiring_csv() -> Any:
    """The expiring certificates as CSV (semicolons are not used: plain RFC 4180)."""
    form, stmt = _expiring()
    rows = ([c.id, c.code, c.snapshot["learner"]["name"],
             _cert_text(c.snapshot["program"]["title"]), c.snapshot["cohort"]["name"],
             c.issued_at.date().isoformat(),
             c.valid_until.date().isoformat() if c.valid_until else "",
             c.refresher_enrollment_id or ""] for c in db.session.scalars(stmt))
    return csvexport.download(
        f"certificates-expiring-{form.days.data}-days.csv",
        ["number", "code", "learner", "program", "cohort", "issued_at", "valid_until",
         "refresher_enrollment"], rows)


# -- settings per program ---------------------------------------------------------------------

@bp.route("/certificates/programs")
@authz.role_required(*authz.STAFF_ROLES)
def programs() -> Any:
    """The programs and their certificate settings (template, validity)."""
    rows = db.session.scalars(select(Program).where(
        Program.organization_id == authz.current_organization().id).order_by(Program.id)).all()
    settings = {p.id: services.settings_for(p.id) for p in rows}
    names = {t.key: t.name for t in definitions.available()}
    return render_template("certificates/programs.html", programs=rows, settings=settings,
                           names=names)


@bp.app_template_filter("isodate")
def isodate(value: str) -> date:
    """A snapshot's ISO date ("2026-11-22") as a date, for Babel's date filters."""
    return date.fromisoformat(value[:10])


@bp.app_context_processor
def _certificate_links() -> dict[str, Any]:
    # Lets the program page link here without courses importing certificates.
    return {"certificate_settings_url": lambda program: url_for(
        "certificates.program_settings", program_id=program.id),
        "certificate_base_url_is_default": base_url_is_local()}


def base_url_is_local() -> bool:
    """Whether RELAIS_BASE_URL points at this computer (its default, 127.0.0.1 or localhost):
    certificates' QR codes would then open nowhere else.
    """
    host = urlsplit(absolute_url()).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1", "0.0.0.0") or host.endswith(".localhost")


@bp.route("/certificates/programs/<int:program_id>/settings", methods=["GET", "POST"])
@authz.role_required(*authz.STAFF_ROLES)
def program_settings(program_id: int) -> Any:
    """Choose a program's template, colour, logo, validity and refresher cohort."""
    program = authz.get_in_org_or_404(Program, program_id)
    current = services.settings_for(program.id)
    form = SettingsForm(obj=None)
    templates = definitions.available()
    form.template.choices = [SelectChoice(t.key, _cert_text(t.name) or t.key)
                             for t in templates]
    cohorts = db.session.execute(select(Cohort.id, Cohort.name).where(
        Cohort.program_id == program.id).order_by(Cohort.name)).all()
    form.refresher_cohort.choices = [
        SelectChoice("", _("A new “Recertification <year>” cohort"))] + [
        SelectChoice(str(i), n) for i, n in cohorts]
    if request.method == "GET":
        form.template.data = current.template_key if current else services.DEFAULT_TEMPLATE
        form.accent_color.data = current.accent_color if current else ""
        form.validity_months.data = current.validity_months if current else None
        form.renewal_lead_days.data = current.renewal_lead_days if current else 30
        form.refresher_cohort.data = str(current.refresher_cohort_id) \
            if current and current.refresher_cohort_id else ""
    if form.validate_on_submit():
        refresher = authz.get_in_org_or_404(Cohort, int(form.refresher_cohort.data)) \
            if (form.refresher_cohort.data or "").isdigit() else None
        upload = form.logo.data
        if commit_or_mark(form, lambda: services.update_settings(
                program=program, template_key=form.template.data,
                validity_months=form.validity_months.data,
                renewal_lead_days=form.renewal_lead_days.data, refresher_cohort=refresher,
                accent_color=form.accent_color.data or None,
                logo=upload.read() if upload else None, remove_logo=form.remove_logo.data,
                apply_to_issued=form.apply_to_issued.data),
                _("Certificate settings saved.")):
            return redirect(url_for("certificates.program_settings", program_id=program.id))
    return render_template("certificates/settings.html", form=form, program=program,
                           settings=current, templates=templates), \
        422 if form.is_submitted() else 200
