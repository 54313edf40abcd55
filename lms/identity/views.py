"""Pages: the company-account sign-in, the provider's callback, the organization's SSO settings."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from lms.accounts import sessions
from lms.accounts.authz import current_organization, org_blueprint, role_required
from lms.accounts.forms import ConfirmForm, LoginForm
from lms.accounts.models import Membership, Role, User
from lms.core.errors import DomainError
from lms.extensions import db
from lms.identity import oidc, services
from lms.identity.forms import CompanyLoginForm, SsoSettingsForm
from lms.identity.models import ScimToken
from lms.identity.services import SsoFailed

bp = Blueprint("identity", __name__, template_folder="templates")
org_bp = org_blueprint("identity_admin", __name__, template_folder="templates")

SESSION_STATE = "oidc_state"
# What people read for each failure: the cause and what to do, never a stack trace.
MESSAGES = {
    "provider_unavailable": _l("Your company's sign-in service cannot be reached right now. "
                               "Try again in a few minutes, or contact your IT department."),
    "bad_state": _l("This sign-in link has expired or was already used. Start again."),
    "provider_refused": _l("Your company's sign-in service did not let you in. Start again."),
    "invalid_token": _l("The answer of your company's sign-in service could not be verified. "
                        "Start again; if it persists, contact your IT department."),
    "token_expired": _l("The answer of your company's sign-in service has expired. "
                        "Start again (check that this computer's clock is right)."),
    "wrong_audience": _l("The answer of your company's sign-in service was meant for another "
                         "application. Your IT department should check the client ID."),
    "domain_not_allowed": _l("This e-mail address's domain is not allowed to sign in to this "
                             "organization."),
    "email_unverified": _l("Your company's sign-in service says this e-mail address is not "
                           "verified."),
    "no_email": _l("Your company's sign-in service did not send your e-mail address."),
    "member_deactivated": _l("Your access to this organization has been deactivated."),
    "not_configured": _l("Single sign-on is not set up for this organization."),
    "secret_unreadable": _l("Single sign-on is misconfigured: an administrator must enter the "
                            "client secret again."),
    "account_refused": _l("Your account could not be set up in this organization. Contact its "
                          "administrator."),
    "unknown_domain": _l("No company account is set up for this e-mail address: log in with "
                         "your password."),
}


def _login_page(message: Any, status: int) -> Any:
    return render_template("accounts/login.html", form=LoginForm(formdata=None),
                           sso_error=message, sso_form=CompanyLoginForm(formdata=None)), status


def _failure_page(exc: SsoFailed) -> Any:
    db.session.commit()  # a used state stays used
    return _login_page(MESSAGES.get(exc.code, MESSAGES["invalid_token"]), exc.status)


def _local_next() -> str | None:
    # Only a path on this site (no "//host", backslashes or control characters): an open
    # redirect after sign-in would help phishing.
    target = request.args.get("next") or request.form.get("next")
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 33 or ord(c) == 127 for c in target)):
        return None
    return target[:500]


def _redirect_to_provider(settings: Any, login_hint: str | None) -> Any:
    try:
        started = oidc.start(settings=settings, login_hint=login_hint, next_url=_local_next())
    except SsoFailed as exc:
        db.session.rollback()
        return _login_page(MESSAGES.get(exc.code, MESSAGES["provider_unavailable"]), exc.status)
    db.session.commit()
    session[SESSION_STATE] = started.state
    return redirect(started.url)


@bp.route("/sso/start", methods=["POST"])
def sso_start() -> Any:
    """Find the company provider by the e-mail's domain and send the browser there."""
    form = CompanyLoginForm()
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=LoginForm(formdata=None),
                               sso_form=form), 400
    settings = services.settings_for_email(form.sso_email.data)
    if settings is None:
        form.sso_email.errors.append(str(MESSAGES["unknown_domain"]))
        return render_template("accounts/login.html", form=LoginForm(formdata=None),
                               sso_form=form), 404
    return _redirect_to_provider(settings, form.sso_email.data.strip())


@bp.route("/sso/o/<org_slug>")
def sso_organization(org_slug: str) -> Any:
    """Sign in through this organization's provider (a link IT can publish)."""
    from lms.accounts.models import Organization

    org = db.session.scalar(select(Organization).where(Organization.slug == org_slug))
    settings = services.settings_for(org) if org else None
    if settings is None or not settings.enabled:
        return _login_page(MESSAGES["not_configured"], 404)
    return _redirect_to_provider(settings, None)


@bp.route("/sso/oidc/callback")
def oidc_callback() -> Any:
    """The provider's answer: check it, create or find the member, log them in."""
    try:
        finished = oidc.finish(state=request.args.get("state"),
                               session_state=session.pop(SESSION_STATE, None),
                               code=request.args.get("code"), error=request.args.get("error"))
    except SsoFailed as exc:
        return _failure_page(exc)
    except DomainError:
        # The accounts rules refused the person: nothing of theirs is kept, the state stays used.
        db.session.rollback()
        oidc.forget(request.args.get("state"))
        db.session.commit()
        return _login_page(MESSAGES["account_refused"], 422)
    # The company's identity provider did its own multi-factor authentication: Relais's
    # second-factor requirement does not apply to this session.
    sessions.log_in(finished.signed_in.user, method="sso")
    db.session.commit()
    org = finished.signed_in.membership.organization
    return redirect(finished.next_url or url_for("reports.dashboard", org_slug=org.slug))


# -- the organization's settings ---------------------------------------------------------------

def _admin_choices(form: SsoSettingsForm) -> None:
    admins = db.session.execute(
        select(User.id, User.display_name, User.email).join(Membership)
        .where(Membership.organization_id == current_organization().id,
               Membership.role == Role.ADMIN, Membership.active.is_(True))
        .order_by(User.display_name)).all()
    form.break_glass_user_id.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(str(a.id), f"{a.display_name} <{a.email}>") for a in admins]


def _settings_page(form: SsoSettingsForm, status: int = 200, new_token: str | None = None) -> Any:
    org = current_organization()
    base = current_app.config["BASE_URL"]
    settings = services.settings_for(org)
    tokens = db.session.scalars(
        select(ScimToken).where(ScimToken.organization_id == org.id)
        .order_by(ScimToken.created_at.desc()).limit(10)).all()
    return render_template("identity/settings.html", form=form, settings=settings,
                           tokens=tokens, new_token=new_token, token_form=ConfirmForm(),
                           redirect_uri=oidc.redirect_uri(),
                           sign_in_link=base + url_for("identity.sso_organization",
                                                       org_slug=org.slug),
                           scim_base=f"{base}/scim/v2/{org.slug}"), status


@org_bp.route("/settings/sso", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def sso_settings() -> Any:
    """Single sign-on and SCIM provisioning for the organization."""
    org = current_organization()
    settings = services.settings_for(org)
    if settings is not None and request.method == "GET":
        form = SsoSettingsForm(
            enabled=settings.enabled, issuer=settings.issuer, client_id=settings.client_id,
            allowed_domains=", ".join(d.domain for d in settings.domains),
            default_role=settings.default_role.value, groups_claim=settings.groups_claim,
            role_mapping="\n".join(f"{g} = {r}" for g, r in settings.role_mapping.items()),
            team_claim=settings.team_claim or "", require_sso=settings.require_sso,
            break_glass_user_id=str(settings.break_glass_user_id or ""))
    else:
        form = SsoSettingsForm()
    _admin_choices(form)
    if form.validate_on_submit():
        glass = (db.session.get(User, int(form.break_glass_user_id.data))
                 if form.break_glass_user_id.data else None)
        try:
            services.save_settings(
                organization=org, issuer=form.issuer.data, client_id=form.client_id.data,
                client_secret=form.client_secret.data or None,
                allowed_domains=form.allowed_domains.data, default_role=form.default_role.data,
                groups_claim=form.groups_claim.data or "groups",
                role_mapping=form.role_mapping.data or "", team_claim=form.team_claim.data,
                require_sso=form.require_sso.data, break_glass_user=glass,
                enabled=form.enabled.data)
        except DomainError as exc:
            db.session.rollback()
            for field, message in exc.fields.items():
                if hasattr(form, field):
                    getattr(form, field).errors.append(_field_message(field, message))
            return _settings_page(form, 422)
        db.session.commit()
        flash(_("Single sign-on settings saved."), "success")
        return redirect(url_for("identity_admin.sso_settings"))
    return _settings_page(form, 422 if form.is_submitted() else 200)


def _field_message(field: str, message: str) -> str:
    # The services speak English to logs and the CLI; pages show the translated sentence.
    known = {
        "issuer": _("Use the provider's https address."),
        "client_secret": _("Required."),
        "client_id": _("Required, at most 255 characters."),
        "default_role": _("Choose one of the roles."),
        "break_glass_user_id": _("Choose an administrator who keeps a password."),
    }
    if field == "allowed_domains" and message.startswith("already used"):
        return _("Already used by another organization: %(domains)s",
                 domains=message.partition(": ")[2])
    if field == "allowed_domains":
        return _("Give e-mail domains such as acme.com (%(detail)s).", detail=message)
    if field == "role_mapping":
        return _("Write one “group = role” per line with a known role (%(detail)s).",
                 detail=message)
    return str(known.get(field, message))


@org_bp.route("/settings/scim-token", methods=["POST"])
@role_required(Role.ADMIN)
def scim_token() -> Any:
    """Issue a new SCIM token (shown once); earlier tokens stop working."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    _token, raw = services.issue_scim_token(organization=current_organization())
    db.session.commit()
    form = SsoSettingsForm(formdata=None)
    _admin_choices(form)
    return _settings_page(form, new_token=raw)


@org_bp.route("/settings/scim-token/revoke", methods=["POST"])
@role_required(Role.ADMIN)
def revoke_scim_token() -> Any:
    """Revoke every SCIM token of the organization."""
    if ConfirmForm().validate_on_submit():
        services.revoke_scim_tokens(organization=current_organization())
        db.session.commit()
        flash(_("SCIM tokens revoked."), "success")
    return redirect(url_for("identity_admin.sso_settings"))


def login_sso_form() -> CompanyLoginForm:
    """The login page's company-account form (a template global)."""
    return CompanyLoginForm(formdata=None)

