"""Pages: the platform's login and launch, the tool's JWKS, the deep-linking picker, and the
organization's platform registrations.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import authz, sessions
from lms.accounts.forms import ConfirmForm
from lms.accounts.models import Role
from lms.core.errors import DomainError
from lms.core.security import is_https
from lms.core.web import PostForm, absolute_url, flash_error, require_submitted
from lms.courses.programs.models import Module, Program
from lms.extensions import db
from lms.lti import claims as c
from lms.lti import deep_linking, jobs, keys, landing, launch, services
from lms.lti.forms import PlatformForm
from lms.lti.models import LtiContext, LtiPlatform
from lms.lti.services import LtiFailed

bp = Blueprint("lti", __name__, template_folder="templates")
org_bp = authz.org_blueprint("lti_admin", __name__, template_folder="templates")


def _failure(exc: DomainError) -> Any:
    return render_template("lti/error.html", error=exc), getattr(exc, "status", 400)


# -- the platform's side -------------------------------------------------------------------------

@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> Any:
    """Third-party login initiation: remember a state and nonce, go to the platform."""
    try:
        started = launch.start_login({k: str(v) for k, v in request.values.items()})
    except LtiFailed as exc:
        db.session.rollback()
        return _failure(exc)
    db.session.commit()
    response = redirect(started.url)
    https = is_https()
    # The launch comes back as a cross-site POST: only a SameSite=None cookie (https only)
    # travels with it; on plain http (development) the platform must be on the same site.
    response.set_cookie(launch.state_cookie(started.state), started.state,
                        max_age=int(launch.STATE_TTL.total_seconds()), httponly=True,
                        secure=https, samesite="None" if https else "Lax", path="/lti/")
    return response


@bp.post("/lti/launch")
def launch_view() -> Any:
    """The platform's launch: check the id_token, log the person in, open the module."""
    state = request.form.get("state")
    try:
        checked = launch.finish_launch(
            state=state, id_token=request.form.get("id_token"),
            cookie=request.cookies.get(launch.state_cookie(state)) if state else None,
            error=request.form.get("error"))
    except LtiFailed as exc:
        db.session.commit()  # a used state stays used
        return _failure(exc)
    db.session.commit()
    try:
        target = _land(checked)
    except DomainError as exc:
        db.session.rollback()
        return _failure(exc)
    db.session.commit()
    response = redirect(target)
    if state:
        response.delete_cookie(launch.state_cookie(state), path="/lti/")
    return response


def _land(checked: launch.Launch) -> str:
    """Log the launching person in and return where they go."""
    claims = checked.claims
    member = services.person(platform=checked.platform, sub=claims.get("sub"),
                             email=claims.get("email"), name=claims.get("name"),
                             role=services.relais_role(claims.get(c.ROLES)))
    if checked.message_type == c.DEEP_LINKING_REQUEST:
        if member.role == Role.LEARNER:
            raise LtiFailed(_("Only teachers choose Relais modules for a course."),
                            code="forbidden", status=403)
        token = deep_linking.start(launch=checked, user=member.user)
        sessions.log_in(member.user)
        return url_for("lti.deep_link", token=token)
    target = services.target_of(platform=checked.platform, launch=claims)
    _link, context = services.remember_launch(platform=checked.platform, launch=claims,
                                              target=target, member=member)
    if member.role == Role.LEARNER:
        enrollment = services.enrollment_for(member=member, program=target.program,
                                             context=context)
        url = landing.learner_url(enrollment, target.module)
    else:
        url = landing.staff_url(member.organization.slug, target.program, target.module)
    sessions.log_in(member.user)
    return url


@bp.get("/lti/jwks")
def jwks() -> Any:
    """The tool's public keys (current and in grace)."""
    data = keys.jwks()
    db.session.commit()  # the first key is made on first use
    return data, {"Cache-Control": "public, max-age=300"}


@bp.route("/lti/deep-link/<token>", methods=["GET", "POST"])
@login_required
def deep_link(token: str) -> Any:
    """The teacher picks a module or program; the answer goes back to the platform."""
    pending = deep_linking.pending(token, current_user)
    if pending is None:
        abort(404)
    form = PostForm()
    error = None
    if form.validate_on_submit():
        kind, _sep, ident = (request.form.get("choice") or "").partition(":")
        module = db.session.get(Module, int(ident)) if kind == "module" and ident.isdigit() \
            else None
        program = module.program if module else (
            db.session.get(Program, int(ident)) if kind == "program" and ident.isdigit()
            else None)
        if program is None:
            error = _("Choose a module or a program.")
        else:
            return_url = pending.return_url
            try:
                answer = deep_linking.respond(request=pending, program=program, module=module)
            except DomainError as exc:
                db.session.rollback()
                return _failure(exc)
            db.session.commit()
            return render_template("lti/autopost.html", action=return_url,
                                   fields={"JWT": answer})
    return render_template("lti/deep_link.html", form=form, programs=deep_linking.choices(
        pending), platform=pending.platform, error=error), 422 if error else 200


# -- the organization's registrations -------------------------------------------------------------

def _tool_urls() -> dict[str, str]:
    base = absolute_url()
    return {"tool_url": launch.launch_url(), "login_url": f"{base}/lti/login",
            "redirect_uri": launch.launch_url(), "jwks_url": f"{base}/lti/jwks",
            "deep_linking_url": launch.launch_url()}


def _save(form: PlatformForm, platform: LtiPlatform | None) -> LtiPlatform | None:
    try:
        saved = services.save_platform(
            organization=authz.current_organization(), platform=platform, name=form.name.data or "",
            issuer=form.issuer.data or "", client_id=form.client_id.data or "",
            deployment_ids=form.deployment_ids.data or "",
            auth_login_url=form.auth_login_url.data or "",
            auth_token_url=form.auth_token_url.data or "", jwks_url=form.jwks_url.data or "")
    except DomainError as exc:
        db.session.rollback()
        for field, message in exc.fields.items():
            getattr(form, field).errors.append(message)
        return None
    db.session.commit()
    flash(_("Platform registration saved."), "success")
    return saved


@org_bp.route("/settings/lti", methods=["GET", "POST"])
@authz.role_required(Role.ADMIN)
def platforms() -> Any:
    """The organization's LTI platforms and the form to register one."""
    form = PlatformForm()
    if form.validate_on_submit():
        saved = _save(form, None)
        if saved is not None:
            return redirect(url_for(".platform", platform_id=saved.id))
    return render_template("lti/platforms.html", form=form, urls=_tool_urls(),
                           platforms=services.platforms_of(authz.current_organization())), \
        422 if form.is_submitted() else 200


@org_bp.route("/settings/lti/<int:platform_id>", methods=["GET", "POST"])
@authz.role_required(Role.ADMIN)
def platform(platform_id: int) -> Any:
    """One registration: its settings, its courses and their rosters."""
    row = authz.get_in_org_or_404(LtiPlatform, platform_id)
    if request.method == "GET":
        form = PlatformForm(obj=row, deployment_ids="\n".join(row.deployment_ids))
    else:
        form = PlatformForm()
        if form.validate_on_submit() and _save(form, row) is not None:
            return redirect(url_for(".platform", platform_id=row.id))
    contexts = services.contexts_of(row)
    return render_template("lti/platform.html", form=form, platform=row, urls=_tool_urls(),
                           contexts=contexts, confirm=ConfirmForm(),
                           rosters={ctx.id: jobs.roster_jobs(ctx) for ctx in contexts}), \
        422 if form.is_submitted() else 200


@org_bp.post("/settings/lti/<int:platform_id>/delete")
@authz.role_required(Role.ADMIN)
def delete_platform(platform_id: int) -> Any:
    """Remove a registration."""
    row = authz.get_in_org_or_404(LtiPlatform, platform_id)
    if ConfirmForm().validate_on_submit():
        services.delete_platform(platform=row)
        db.session.commit()
        flash(_("Platform registration removed."), "success")
    return redirect(url_for(".platforms"))


@org_bp.post("/settings/lti/<int:platform_id>/contexts/<int:context_id>/roster")
@authz.role_required(Role.ADMIN)
def import_roster(platform_id: int, context_id: int) -> Any:
    """Queue the import of a course's roster into its cohort."""
    row = authz.get_in_org_or_404(LtiPlatform, platform_id)
    context = db.session.get(LtiContext, context_id)
    if context is None or context.platform_id != row.id:
        abort(404)
    require_submitted(ConfirmForm())
    try:
        job = jobs.start_roster(context=context, created_by=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash_error(exc)
        return redirect(url_for(".platform", platform_id=row.id))
    db.session.commit()
    return redirect(url_for("jobs.job", job_id=job.id))

