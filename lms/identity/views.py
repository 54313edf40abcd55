"""Pages: the company-account sign-in, the provider's callback, the organization's SSO settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from lms.accounts import sessions
from lms.accounts.authz import current_organization, org_blueprint, role_required
from lms.accounts.forms import ConfirmForm, LoginForm
from lms.accounts.models import Membership, Organization, Role, User
from lms.core.errors import DomainError
from lms.core.web import absolute_url, commit_or_mark, require_submitted
from lms.extensions import csrf, db
from lms.identity import oidc, saml, services
from lms.identity.forms import CompanyLoginForm, SamlSettingsForm, SsoPolicyForm, SsoSettingsForm
from lms.identity.models import OidcSettings, SamlSettings, ScimToken
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
    "unsigned_assertion": _l("The answer of your company's sign-in service is not signed, and "
                             "Relais accepts only signed assertions. Your IT department should "
                             "turn on assertion signing."),
    "bad_signature": _l("The signature of your company's sign-in service could not be "
                        "verified. Your IT department should update the identity provider "
                        "metadata in Relais."),
    "saml_wrong_audience": _l("The answer of your company's sign-in service was meant for "
                              "another application. Your IT department should check the "
                              "Entity ID (Identifier)."),
    "wrong_destination": _l("The answer of your company's sign-in service was sent to another "
                            "address. Your IT department should check the ACS (reply) URL."),
    "invalid_assertion": _l("The answer of your company's sign-in service could not be read. "
                            "Start again; if it persists, contact your IT department."),
    "saml_key_unreadable": _l("Single sign-on is misconfigured: an administrator must save the "
                              "SAML settings again and give the new metadata to the identity "
                              "provider."),
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


def _redirect_to_provider(settings: OidcSettings | SamlSettings, login_hint: str | None) -> Any:
    try:
        if isinstance(settings, SamlSettings):
            url = saml.start(settings=settings, next_url=_local_next())
        else:
            started = oidc.start(settings=settings, login_hint=login_hint,
                                 next_url=_local_next())
            url = started.url
    except SsoFailed as exc:
        db.session.rollback()
        return _login_page(MESSAGES.get(exc.code, MESSAGES["provider_unavailable"]), exc.status)
    db.session.commit()
    if not isinstance(settings, SamlSettings):
        session[SESSION_STATE] = started.state
    return redirect(url)


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
    org = _organization(org_slug)
    settings = services.policy_for(org) if org else None
    if settings is None or not settings.enabled:
        return _login_page(MESSAGES["not_configured"], 404)
    return _redirect_to_provider(settings, None)


@bp.route("/sso/oidc/callback")
def oidc_callback() -> Any:
    """The provider's answer: check it, create or find the member, log them in."""
    state = request.args.get("state")
    return _finish(lambda: oidc.finish(state=state,
                                       session_state=session.pop(SESSION_STATE, None),
                                       code=request.args.get("code"),
                                       error=request.args.get("error")),
                   forget=lambda: oidc.forget(state))


def _finish(finish: Callable[[], Any], *, forget: Callable[[], None]) -> Any:
    """Check a provider's answer with ``finish`` (OIDC or SAML) and log the person in; a refusal
    shows the login page, and ``forget`` keeps the request used when the accounts rules refused.
    """
    try:
        finished = finish()
    except SsoFailed as exc:
        return _failure_page(exc)
    except DomainError:
        # The accounts rules refused the person: nothing of theirs is kept, the request stays used.
        db.session.rollback()
        forget()
        db.session.commit()
        return _login_page(MESSAGES["account_refused"], 422)
    return _logged_in(finished.signed_in, finished.next_url)


def _logged_in(signed_in: services.SignedIn, next_url: str | None) -> Any:
    # The company's identity provider did its own multi-factor authentication: Relais's
    # second-factor requirement does not apply to this session.
    sessions.log_in(signed_in.user, method="sso")
    db.session.commit()
    org = signed_in.membership.organization
    return redirect(next_url or url_for("reports.dashboard", org_slug=org.slug))


def _organization(org_slug: str) -> Organization | None:
    return db.session.scalar(select(Organization).where(Organization.slug == org_slug))


@bp.route("/o/<org_slug>/saml/metadata")
def saml_metadata(org_slug: str) -> Any:
    """The organization's SAML service-provider metadata (its entity ID is this URL)."""
    org = _organization(org_slug)
    if org is None:
        abort(404)
    try:
        xml = saml.sp_metadata(org)
    except SsoFailed:
        abort(503)
    return Response(xml, mimetype="application/samlmetadata+xml")


@bp.route("/o/<org_slug>/saml/acs", methods=["POST"])
@csrf.exempt
def saml_acs(org_slug: str) -> Any:
    """The IdP's answer (HTTP-POST binding): check it, create or find the member, log them in."""
    answer = request.form.get("SAMLResponse")
    return _finish(lambda: saml.finish(organization=_organization(org_slug),
                                       saml_response=answer),
                   forget=lambda: saml.forget(answer))


# -- the organization's settings ---------------------------------------------------------------

def _admin_choices(form: SsoPolicyForm) -> None:
    admins = db.session.execute(
        select(User.id, User.display_name, User.email).join(Membership)
        .where(Membership.organization_id == current_organization().id,
               Membership.role == Role.ADMIN, Membership.active.is_(True))
        .order_by(User.name_key)).all()
    form.break_glass_user_id.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(str(a.id), f"{a.display_name} <{a.email}>") for a in admins]


def _oidc_form(org: Organization) -> SsoSettingsForm:
    """The OpenID Connect form filled with the stored settings (not from a POST)."""
    settings = services.settings_for(org)
    if settings is None:
        form = SsoSettingsForm(formdata=None)
    else:
        form = SsoSettingsForm(
            formdata=None, enabled=settings.enabled, issuer=settings.issuer,
            client_id=settings.client_id, allowed_domains=", ".join(settings.domain_names),
            default_role=settings.default_role.value, groups_claim=settings.groups_claim,
            role_mapping=_mapping_text(settings.role_mapping),
            team_claim=settings.team_claim or "", require_sso=settings.require_sso,
            break_glass_user_id=str(settings.break_glass_user_id or ""))
    _admin_choices(form)
    return form


def _mapping_text(mapping: dict[str, Any]) -> str:
    return "\n".join(f"{group} = {role}" for group, role in mapping.items())


def _saml_form(org: Organization) -> SamlSettingsForm:
    """The SAML form filled with the stored settings (on a GET)."""
    saml_settings = services.saml_settings_for(org)
    if saml_settings is None:
        form = SamlSettingsForm(prefix="saml", formdata=None)
    else:
        form = SamlSettingsForm(
            prefix="saml", formdata=None, enabled=saml_settings.enabled,
            idp_metadata_url=saml_settings.idp_metadata_url or "",
            allowed_domains=", ".join(saml_settings.domain_names),
            default_role=saml_settings.default_role.value,
            email_attribute=saml_settings.email_attribute,
            name_attribute=saml_settings.name_attribute or "",
            groups_attribute=saml_settings.groups_attribute,
            role_mapping=_mapping_text(saml_settings.role_mapping),
            team_attribute=saml_settings.team_attribute or "",
            require_sso=saml_settings.require_sso,
            break_glass_user_id=str(saml_settings.break_glass_user_id or ""))
    _admin_choices(form)
    return form


def _settings_page(form: SsoSettingsForm, status: int = 200, new_token: str | None = None,
                   saml_form: SamlSettingsForm | None = None) -> Any:
    org = current_organization()
    settings = services.settings_for(org)
    tokens = db.session.scalars(
        select(ScimToken).where(ScimToken.organization_id == org.id)
        .order_by(ScimToken.created_at.desc()).limit(10)).all()
    return render_template("identity/settings.html", form=form, settings=settings,
                           saml_form=saml_form or _saml_form(org),
                           saml_settings=services.saml_settings_for(org),
                           saml_entity_id=saml.entity_id(org), saml_acs_url=saml.acs_url(org),
                           tokens=tokens, new_token=new_token, token_form=ConfirmForm(),
                           redirect_uri=oidc.redirect_uri(),
                           sign_in_link=absolute_url(url_for("identity.sso_organization",
                                                             org_slug=org.slug)),
                           scim_base=absolute_url(f"/scim/v2/{org.slug}")), status


@org_bp.route("/settings/sso", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def sso_settings() -> Any:
    """Single sign-on and SCIM provisioning for the organization."""
    org = current_organization()
    form = _oidc_form(org) if request.method == "GET" else SsoSettingsForm()
    _admin_choices(form)
    if form.validate_on_submit():
        if _saved(form, lambda glass: services.save_settings(
                organization=org, issuer=form.issuer.data, client_id=form.client_id.data,
                client_secret=form.client_secret.data or None,
                allowed_domains=form.allowed_domains.data, default_role=form.default_role.data,
                groups_claim=form.groups_claim.data or "groups",
                role_mapping=form.role_mapping.data or "", team_claim=form.team_claim.data,
                require_sso=form.require_sso.data, break_glass_user=glass,
                enabled=form.enabled.data, by=current_user),
                _("Single sign-on settings saved.")):
            return redirect(url_for("identity_admin.sso_settings"))
        return _settings_page(form, 422)
    return _settings_page(form, 422 if form.is_submitted() else 200)


def _saved(form: SsoPolicyForm, save: Callable[[User | None], object], success: str) -> bool:
    """Save an identity provider's settings with the break-glass administrator chosen in
    ``form``: commit and flash ``success``, or roll back and put the refusals by their fields.
    """
    glass = (db.session.get(User, int(form.break_glass_user_id.data))
             if form.break_glass_user_id.data else None)
    return commit_or_mark(form, lambda: save(glass) or True, success, summary=False,
                          field_text=_field_message) is not None


@org_bp.route("/settings/sso/saml", methods=["POST"])
@role_required(Role.ADMIN)
def saml_settings() -> Any:
    """Save the organization's SAML 2.0 identity provider."""
    org = current_organization()
    form = SamlSettingsForm(prefix="saml")
    _admin_choices(form)
    if form.validate_on_submit() and _saved(form, lambda glass: saml.save_settings(
            organization=org, idp_metadata=form.idp_metadata.data,
            idp_metadata_url=form.idp_metadata_url.data,
            allowed_domains=form.allowed_domains.data, default_role=form.default_role.data,
            email_attribute=form.email_attribute.data,
            name_attribute=form.name_attribute.data,
            groups_attribute=form.groups_attribute.data or "groups",
            role_mapping=form.role_mapping.data or "",
            team_attribute=form.team_attribute.data, require_sso=form.require_sso.data,
            break_glass_user=glass, enabled=form.enabled.data, actor=current_user,
            address=request.remote_addr), _("SAML settings saved.")):
        return redirect(url_for("identity_admin.sso_settings"))
    return _settings_page(_oidc_form(org), 422, saml_form=form)


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
    require_submitted(ConfirmForm())
    _token, raw = services.issue_scim_token(organization=current_organization(),
                                           by=current_user)
    db.session.commit()
    return _settings_page(_oidc_form(current_organization()), new_token=raw)


@org_bp.route("/settings/scim-token/revoke", methods=["POST"])
@role_required(Role.ADMIN)
def revoke_scim_token() -> Any:
    """Revoke every SCIM token of the organization."""
    if ConfirmForm().validate_on_submit():
        services.revoke_scim_tokens(organization=current_organization(), by=current_user)
        db.session.commit()
        flash(_("SCIM tokens revoked."), "success")
    return redirect(url_for("identity_admin.sso_settings"))


def login_sso_form() -> CompanyLoginForm:
    """The login page's company-account form (a template global)."""
    return CompanyLoginForm(formdata=None)

