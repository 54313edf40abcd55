"""Pages: log in and out, accept an invitation, profile, API tokens, members and invitations."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from sqlalchemy import or_, select
from werkzeug.security import check_password_hash

from lms.accounts import SESSION_KEY, authz, devices, second_factor, services, sessions
from lms.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    NewTokenForm,
    ProfileForm,
    ResetPasswordForm,
    SecondFactorForm,
)
from lms.accounts.models import ApiToken, Invitation, Membership, Role, User, person_matches
from lms.core.database import contains_text
from lms.core.errors import DomainError, NotFound
from lms.core.mail import send_mail
from lms.core.models import utcnow
from lms.core.web import commit_or_flash, commit_or_mark, local_path, require_submitted
from lms.extensions import db

bp = Blueprint("accounts", __name__)
org_bp = authz.org_blueprint("members", __name__)


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _open_session(user: User) -> None:
    """Log ``user`` in with a new server-side session (committed here)."""
    sessions.log_in(user)
    db.session.commit()


def _close_session() -> None:
    """End this browser's session on the server and forget it here (committed here)."""
    sessions.end(session.get(SESSION_KEY))
    db.session.commit()
    logout_user()
    session.clear()


def _device_cookie() -> str | None:
    return request.cookies.get(devices.COOKIE)


def _throttled(exc: services.TooManyAttempts, template: str, **context: Any) -> Any:
    """The page again with 429, the reason, and ``Retry-After``."""
    flash(exc.message, "error")
    response = make_response(render_template(template, **context), 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _begin_login(user: User, next_url: str | None) -> Any:
    """The password (or a reset link, an invitation) was right: ask for the second factor when
    the person has one, else log them in. Nothing opens a page before the second step.
    """
    if second_factor.is_enabled(user):
        session.pop(SESSION_KEY, None)
        session[sessions.PENDING_KEY] = {"u": user.id, "at": int(utcnow().timestamp()),
                                         "next": next_url}
        db.session.commit()
        return redirect(url_for("accounts.login_code"))
    return _complete_login(user, next_url)


def _complete_login(user: User, next_url: str | None) -> Any:
    """Log ``user`` in and make this browser a known device of theirs (committed here)."""
    services.login_succeeded(user=user, address=_client_address(),
                             device_cookie=_device_cookie())
    sessions.log_in(user)
    db.session.commit()
    response = redirect(local_path(next_url) or url_for("home"))
    devices.remember(response, _device_cookie(), user.id)
    return response


def _pending_user() -> User | None:
    """The person whose password was right and whose code is awaited, if still in time."""
    pending = session.get(sessions.PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    user_id, at = pending.get("u"), pending.get("at")
    if not isinstance(user_id, int) or not isinstance(at, int):
        return None
    if utcnow().timestamp() - at > current_app.config["LOGIN_SECOND_STEP_SECONDS"]:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or not second_factor.is_enabled(user):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Log in with e-mail and password (then the second factor, for those who have one)."""
    if current_user.is_authenticated:
        return redirect(local_path(request.args.get("next")) or url_for("home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(email=form.email.data, password=form.password.data,
                                         address=_client_address(),
                                         device_cookie=_device_cookie())
        except services.TooManyAttempts as exc:
            db.session.rollback()
            return _throttled(exc, "accounts/login.html", form=form)
        except services.InvalidCredentials:
            status = 401
            form.password.errors.append(_("Wrong e-mail or password."))
        except services.PasswordLoginRefused:
            status = 403
            form.password.errors.append(_("Your organization requires single sign-on: use "
                                          "“Continue with your company account” below."))
        else:
            return _begin_login(user, local_path(request.args.get("next")))
        db.session.commit()  # keep the recorded failure
    elif form.is_submitted():
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> Any:
    """The second step of a login: a code from the authenticator app or a recovery code."""
    user = _pending_user()
    if user is None:
        session.pop(sessions.PENDING_KEY, None)
        flash(_("Log in again: the time to enter the code ran out."), "info")
        return redirect(url_for("accounts.login"))
    form = SecondFactorForm()
    status = 200
    if form.validate_on_submit():
        try:
            second_factor.check_code(user=user, code=form.code.data, address=_client_address(),
                                     device=services.device_for(user, _device_cookie()))
        except services.TooManyAttempts as exc:
            db.session.rollback()
            return _throttled(exc, "accounts/login_code.html", form=form)
        except second_factor.CodeRefused:
            db.session.commit()  # keep the recorded failure
            status = 401
            form.code.errors.append(_("This code is wrong, expired or already used."))
        else:
            return _complete_login(user, session[sessions.PENDING_KEY].get("next"))
    elif form.is_submitted():
        status = 400
    return render_template("accounts/login_code.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """Log out (POST only, with CSRF, so a link on another site cannot log people out)."""
    _close_session()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> Any:
    """Ask for a reset link by e-mail; the answer is the same whether the account exists."""
    form = ForgotPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            found = services.request_password_reset(email=form.email.data,
                                                    address=_client_address())
        except services.TooManyAttempts as exc:
            db.session.rollback()
            return _throttled(exc, "accounts/forgot_password.html", form=form)
        else:
            db.session.commit()  # the request counts for the rate limit
            if found is not None:
                user, token = found
                minutes = current_app.config["PASSWORD_RESET_TTL_SECONDS"] // 60
                with force_locale(user.locale or str(get_locale())):
                    send_mail(to=user.email, subject=_("Reset your Relais password"), body=_(
                        "Someone, probably you, asked to reset your Relais password.\n\n"
                        "Choose a new one here (the link works once, for %(minutes)d "
                        "minutes): %(link)s\n\nIf you did not ask, ignore this e-mail: your "
                        "password stays as it is.",
                        minutes=minutes, link=services.password_reset_url(token)))
            flash(_("If an account exists for %(email)s, we sent it an e-mail with a link to "
                    "choose a new password.", email=form.email.data.strip()), "info")
            return redirect(url_for("accounts.login"))
    elif form.is_submitted():
        status = 400
    return render_template("accounts/forgot_password.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    """Choose a new password through a reset link; every other session of the person ends."""
    try:
        services.user_for_reset_token(token)
    except NotFound:
        return render_template("accounts/reset_invalid.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token=token, password=form.password.data)
        except NotFound:
            db.session.rollback()
            return render_template("accounts/reset_invalid.html"), 404
        except DomainError as exc:
            db.session.rollback()
            form.password.errors.append(exc.fields.get("password", exc.message))
        else:
            db.session.commit()
            if current_user.is_authenticated:
                _close_session()
            flash(_("Your password is changed. You are logged out everywhere else."),
                  "success")
            # set_password ended every session of theirs; this browser gets a new one, after
            # the second factor: a reset link alone (a mailbox) does not bypass it.
            return _begin_login(user, None)
        return render_template("accounts/reset_password.html", form=form), 422
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    """Accept an invitation: choose a name and a password, then join the organization."""
    try:
        invitation = services.invitation_for_token(token)
    except NotFound:
        return render_template("accounts/invitation_invalid.html"), 404
    org = invitation.organization
    if services.invitation_needs_login(invitation):
        # The address has an account already: its owner accepts by logging in, never by
        # choosing a new password through the link.
        if not current_user.is_authenticated or current_user.email != invitation.email:
            if current_user.is_authenticated:
                _close_session()
            flash(_("You already have an account: log in as %(email)s to join %(org)s.",
                    email=invitation.email, org=org.name), "info")
            return redirect(url_for("accounts.login", next=request.path))
        confirm = ConfirmForm()
        if confirm.validate_on_submit():
            services.join(token=token, user=current_user)
            db.session.commit()
            flash(_("Welcome to %(org)s!", org=org.name), "success")
            return redirect(url_for("reports.dashboard", org_slug=org.slug))
        return render_template("accounts/accept_invitation.html", form=None,
                               confirm_form=confirm, invitation=invitation)
    existing = services.find_user(invitation.email)
    form = AcceptInvitationForm(display_name=existing.display_name if existing else None)
    if form.validate_on_submit():
        user = commit_or_mark(form, lambda: services.accept_invitation(
            token=token, display_name=form.display_name.data, password=form.password.data),
            summary=False)
        if user is not None:
            if current_user.is_authenticated:
                _close_session()
            flash(_("Welcome to %(org)s!", org=org.name), "success")
            return _begin_login(user, url_for("reports.dashboard", org_slug=org.slug))
    return render_template("accounts/accept_invitation.html", form=form, invitation=invitation)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile() -> Any:
    """Your name and language."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        current_user.display_name = form.display_name.data.strip()
        current_user.locale = form.locale.data or None
        current_user.named_in_results = bool(form.named_in_results.data)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form, password_form=ChangePasswordForm(),
                           end_all_form=ConfirmForm(), live_sessions=sessions.count(current_user))


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password() -> Any:
    """Change your password; every other session of yours ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not (user.password_hash
                and check_password_hash(user.password_hash, form.current_password.data)):
            form.current_password.errors.append(_("This is not your current password."))
        else:
            try:
                services.set_password(user, form.password.data)
            except DomainError as exc:
                db.session.rollback()
                form.password.errors.append(exc.fields.get("password", exc.message))
            else:
                # set_password ended every session; this browser gets a new one.
                _open_session(user)
                flash(_("Your password is changed. You are logged out everywhere else."),
                      "success")
                return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=ProfileForm(obj=current_user),
                           password_form=form, end_all_form=ConfirmForm(),
                           live_sessions=sessions.count(current_user)), 422


@bp.route("/account/sessions/end-all", methods=["POST"])
@login_required
def end_all_sessions() -> Any:
    """Log out of every device, this one included."""
    require_submitted(ConfirmForm())
    sessions.end_all(current_user)
    _close_session()
    flash(_("You are logged out on every device."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> Any:
    """Your personal API tokens: create and revoke."""
    form = NewTokenForm()
    new_token = None
    if form.validate_on_submit():
        _token, new_token = services.issue_api_token(user=current_user, name=form.name.data,
                                                         by=current_user)
        db.session.commit()
        form = NewTokenForm(formdata=None)
    rows = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id)
        .order_by(ApiToken.created_at.desc())
    ).all()
    return render_template("accounts/tokens.html", form=form, tokens=rows, new_token=new_token,
                           revoke_form=ConfirmForm())


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> Any:
    """Revoke one of your tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        services.revoke_api_token(token=token, by=current_user)
        db.session.commit()
        flash(_("Token “%(name)s” revoked.", name=token.name), "success")
    return redirect(url_for("accounts.tokens"))


def _invite_form(**kwargs: Any) -> InviteForm:
    """The invitation form, offering only the roles the current member may grant."""
    form = InviteForm(**kwargs)
    grantable = authz.GRANTABLE_ROLES[authz.current_membership().role]
    form.role.choices = [choice for choice in form.role.choices  # type: ignore[union-attr]
                         if Role(choice.value) in grantable]
    return form


def _members_page(invite_form: InviteForm, status: int = 200) -> Any:
    """The members, 50 a page by name; ``q`` keeps those whose name, e-mail address or team
    contains it.
    """
    page = max(request.args.get("page", 1, type=int), 1)
    search = request.args.get("q", "").strip()[:100]
    stmt = authz.scoped(select(Membership), Membership).join(User)
    if search:
        stmt = stmt.where(or_(person_matches(search), contains_text(search, Membership.team)))
    stmt = stmt.order_by(User.name_key, Membership.id)
    pagination = db.paginate(stmt, page=page, per_page=50, error_out=False)
    pending = db.session.scalars(
        authz.scoped(select(Invitation), Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.expires_at >= utcnow())
        .order_by(Invitation.created_at.desc())
    ).all()
    return render_template("accounts/members.html", pagination=pagination, pending=pending,
                           search=search,
                           invite_form=invite_form, remove_form=ConfirmForm()), status


@org_bp.route("/members", methods=["GET"])
@authz.role_required(*authz.MANAGER_ROLES)
def members() -> Any:
    """The organization's members and pending invitations."""
    return _members_page(_invite_form())


@org_bp.route("/members/invite", methods=["POST"])
@authz.role_required(*authz.STAFF_ROLES)
def invite() -> Any:
    """Invite someone by e-mail; without a mail server the link is shown to the inviter."""
    form = _invite_form()
    org = authz.current_organization()
    if form.validate_on_submit():
        def send() -> tuple[Invitation, str]:
            authz.check_can_grant(authz.current_membership(), form.role.data)
            return services.invite(organization=org, email=form.email.data,
                                   role=form.role.data, invited_by=current_user)

        invited = commit_or_mark(form, send, summary=False)
        if invited is not None:
            invitation, raw = invited
            link = services.invitation_url(raw)
            sent = send_mail(
                to=invitation.email,
                subject=_("You are invited to %(org)s on Relais", org=org.name),
                body=_("%(who)s invites you to join %(org)s on Relais.\n\nAccept here: %(link)s",
                       who=current_user.display_name, org=org.name, link=link),
            )
            if sent:
                flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
            else:
                flash(_("No mail server is configured: send this link to %(email)s yourself: "
                        "%(link)s", email=invitation.email, link=link), "invitation")
            return redirect(url_for("members.members"))
    return _members_page(form, 422)


@org_bp.route("/members/<int:membership_id>/remove", methods=["POST"])
@authz.role_required(Role.ADMIN)
def remove_member(membership_id: int) -> Any:
    """Remove a member from the organization (their account and history stay)."""
    membership = authz.get_in_org_or_404(Membership, membership_id)
    if membership.user_id == current_user.id:
        flash(_("You cannot remove yourself."), "error")
    elif ConfirmForm().validate_on_submit():
        name = membership.user.display_name
        try:
            services.remove_member(membership=membership)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("%(name)s no longer belongs to this organization.", name=name), "success")
    return redirect(url_for("members.members"))


@org_bp.route("/members/<int:membership_id>/manager", methods=["GET", "POST"])
@authz.role_required(Role.HR, Role.ADMIN)
def member_manager(membership_id: int) -> Any:
    """Set or clear a member's manager (who approves their registrations), by e-mail."""
    member = authz.get_in_org_or_404(Membership, membership_id)
    form = ConfirmForm()
    email = member.manager.user.email if member.manager else ""
    error = None
    if request.method == "POST":
        email = (request.form.get("manager_email") or "").strip()
        if form.validate_on_submit():
            try:
                manager = services.find_manager(organization=authz.current_organization(),
                                                email=email) if email else None
                services.set_manager(membership=member, manager=manager)
            except DomainError as exc:
                db.session.rollback()
                error = next(iter(exc.fields.values()), exc.message)
            else:
                db.session.commit()
                flash(_("%(name)s's manager is now %(manager)s.", name=member.user.display_name,
                        manager=manager.user.display_name) if manager else
                      _("%(name)s has no manager now.", name=member.user.display_name),
                      "success")
                return redirect(url_for("members.members"))
    return render_template("accounts/member_manager.html", member=member, form=form,
                           email=email, error=error), 422 if error else 200


@org_bp.route("/members/<int:membership_id>/champion", methods=["POST"])
@authz.role_required(Role.HR, Role.ADMIN)
def member_champion(membership_id: int) -> Any:
    """Make a member their team's champion ("référent"), or stop it."""
    member = authz.get_in_org_or_404(Membership, membership_id)
    wanted = request.form.get("champion") == "1"
    if ConfirmForm().validate_on_submit():
        name = member.user.display_name
        commit_or_flash(lambda: services.set_champion(membership=member, champion=wanted),
                        _("%(name)s is now the champion of the team %(team)s.", name=name,
                          team=member.team) if wanted else
                        _("%(name)s is no longer a champion.", name=name))
    return redirect(url_for("members.members", page=request.args.get("page", type=int),
                            q=request.args.get("q") or None))
