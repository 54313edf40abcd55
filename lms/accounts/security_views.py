"""Pages: your second factor (set up, recovery codes, turn off) and the organization's
requirement of one for administrators and HR.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from lms.accounts import second_factor, services
from lms.accounts.authz import current_organization, org_blueprint, role_required
from lms.accounts.forms import (
    ConfirmIdentityForm,
    EnrolSecondFactorForm,
    SecondFactorRequirementForm,
    SetUpSecondFactorForm,
)
from lms.accounts.models import Role, User
from lms.core.errors import DomainError
from lms.core.web import commit_or_flash, committed
from lms.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

account_bp = Blueprint("account_security", __name__)
org_security_bp = org_blueprint("org_security", __name__)

TEMPLATE = "accounts/second_factor.html"


def _address() -> str:
    return request.remote_addr or "unknown"


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _page(status: int = 200, **context: Any) -> Any:
    """The second-factor page in its current state, with ``context`` overriding forms."""
    user = _user()
    enabled = second_factor.is_enabled(user)
    values: dict[str, Any] = {
        "enabled": enabled, "required": second_factor.is_required(user.id),
        "has_password": user.password_hash is not None,
        "codes_left": second_factor.recovery_codes_left(user) if enabled else 0,
        "setup_form": SetUpSecondFactorForm(formdata=None),
        "codes_form": ConfirmIdentityForm(formdata=None, prefix="codes"),
        "disable_form": ConfirmIdentityForm(formdata=None, prefix="off"),
        "enrol_form": None, "recovery_codes": None,
    }
    values.update(context)
    return render_template(TEMPLATE, **values), status


def _enrol_page(secret: str, form: EnrolSecondFactorForm, status: int = 200) -> Any:
    uri = second_factor.provisioning_uri(_user(), secret)
    qr = Markup(second_factor.qr_svg(uri))  # noqa: S704  (segno's own SVG: no user text)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return _page(status, enrol_form=form, qr=qr, secret=grouped)


def _throttled_page(exc: services.TooManyAttempts, **context: Any) -> Any:
    db.session.rollback()
    flash(exc.message, "error")
    page, status = _page(429, **context)
    return page, status, {"Retry-After": str(exc.retry_after)}


def _identity_checked(form: ConfirmIdentityForm, name: str) -> Any:
    """None when the password or code typed in ``form`` is right, else the page to answer.

    :param name: the form's name in the page (``codes_form``, ``disable_form``).
    """
    if not form.validate_on_submit():
        return _page(400, **{name: form})
    try:
        second_factor.confirm_identity(user=_user(), secret=form.secret.data,
                                       address=_address())
    except services.TooManyAttempts as exc:
        return _throttled_page(exc, **{name: form})
    except second_factor.CodeRefused:
        db.session.commit()  # keep the recorded failure
        form.secret.errors.append(_("This is neither your password nor a valid code."))
        return _page(401, **{name: form})
    return None


def _identity_confirmed(prefix: str, name: str) -> Callable[[F], F]:
    """Decorate a change to your second factor: it runs once the password or code typed in the
    page's form ``name`` (its fields prefixed ``prefix``) is right; else the page answers.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            answer = _identity_checked(ConfirmIdentityForm(prefix=prefix), name)
            return view(*args, **kwargs) if answer is None else answer

        return wrapped  # type: ignore[return-value]

    return decorator


@account_bp.route("/account/second-factor")
@login_required
def second_factor_page() -> Any:
    """Your second factor: set it up, replace the recovery codes, turn it off."""
    return _page()


@account_bp.route("/account/second-factor/setup", methods=["POST"])
@login_required
def second_factor_setup() -> Any:
    """Check the password, then show a new secret as a QR code to scan."""
    form = SetUpSecondFactorForm()
    if not form.validate_on_submit():
        return _page(400, setup_form=form)
    try:
        second_factor.confirm_identity(user=_user(), secret=form.password.data,
                                       address=_address())
        secret = second_factor.start_enrolment(_user())
    except services.TooManyAttempts as exc:
        return _throttled_page(exc, setup_form=form)
    except second_factor.CodeRefused:
        db.session.commit()  # keep the recorded failure
        form.password.errors.append(_("This is not your current password."))
        return _page(401, setup_form=form)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("account_security.second_factor_page"))
    db.session.commit()
    return _enrol_page(secret, EnrolSecondFactorForm(formdata=None))


@account_bp.route("/account/second-factor/confirm", methods=["POST"])
@login_required
def second_factor_confirm() -> Any:
    """Turn the second factor on with a code from the app; show the recovery codes once."""
    secret = second_factor.pending_secret(_user())
    if secret is None or second_factor.is_enabled(_user()):
        return redirect(url_for("account_security.second_factor_page"))
    form = EnrolSecondFactorForm()
    if not form.validate_on_submit():
        return _enrol_page(secret, form, 400)
    try:
        codes = second_factor.confirm_enrolment(user=_user(), code=form.code.data,
                                                address=_address())
    except DomainError:
        db.session.rollback()
        form.code.errors.append(_("This code does not match: check the app shows “Relais” "
                                  "and type the code it shows now."))
        return _enrol_page(secret, form, 422)
    db.session.commit()
    flash(_("Your second factor is on: a code will be asked after your password."), "success")
    return _page(recovery_codes=codes)


@account_bp.route("/account/second-factor/recovery-codes", methods=["POST"])
@login_required
@_identity_confirmed("codes", "codes_form")
def second_factor_codes() -> Any:
    """Replace your recovery codes (after your password or a code); show the new ones once."""
    codes = commit_or_flash(
        lambda: second_factor.regenerate_recovery_codes(user=_user(), address=_address()),
        _("New recovery codes: the old ones no longer work."))
    if codes is None:
        return redirect(url_for("account_security.second_factor_page"))
    return _page(recovery_codes=codes)


@account_bp.route("/account/second-factor/disable", methods=["POST"])
@login_required
@_identity_confirmed("off", "disable_form")
def second_factor_disable() -> Any:
    """Turn your second factor off (after your password or a code)."""
    if committed(lambda: second_factor.turn_off(user=_user(), actor=_user(),
                                                address=_address())):
        flash(_("Your second factor is off."), "info")
    return redirect(url_for("account_security.second_factor_page"))


@org_security_bp.route("/settings/security", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def settings() -> Any:
    """Whether the organization requires a second factor of its administrators and HR."""
    org = current_organization()
    form = SecondFactorRequirementForm(data={"required": org.require_second_factor}
                                       if request.method == "GET" else None)
    if form.validate_on_submit():
        second_factor.set_requirement(organization=org, required=bool(form.required.data),
                                      actor=_user(), address=_address())
        db.session.commit()
        flash(_("Security settings saved."), "success")
        return redirect(url_for("org_security.settings"))
    members, enrolled = second_factor.requirement_counts(org)
    return render_template("accounts/security_settings.html", form=form, members=members,
                           enrolled=enrolled), 400 if form.is_submitted() else 200
