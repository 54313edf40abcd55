"""Approval pages: the registrations waiting for a manager's decision, and a program's
approval setting.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.accounts.authz import STAFF_ROLES, current_membership, org_blueprint, role_required
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.core.web import flash_error
from lms.courses.sessions import approvals
from lms.courses.web import bp, page_context, program_or_404
from lms.extensions import db

# Approvals concern managers of any role (a learner may manage people): their own blueprint, so
# the page is not taken for part of "My training".
approvals_bp = org_blueprint("approvals", __name__)


# --- approvals -------------------------------------------------------------------------------


@approvals_bp.get("/approvals")
def page() -> Any:
    """Registrations waiting for my approval (as a manager, HR or admin), or decided ones."""
    me = current_membership()
    decided = request.args.get("show") == "decided"
    page = max(request.args.get("page", 1, type=int), 1)
    pagination = db.paginate(approvals.requests_for(me, pending=not decided), page=page,
                             per_page=50, error_out=False)
    return render_template("courses/approvals.html", pagination=pagination, decided=decided,
                           concerned=approvals.may_see_approvals(me), now=utcnow(),
                           **page_context())


@approvals_bp.post("/approvals/<int:registration_id>")
def decide(registration_id: int) -> Any:
    """Approve or decline one request (declining needs a reason)."""
    me = current_membership()
    try:
        registration = approvals.get_for(me, registration_id)
    except DomainError:
        abort(404)
    name = registration.enrollment.membership.user.display_name
    try:
        if request.form.get("decision") == "approve":
            approvals.approve(registration=registration, by=me)
        elif request.form.get("decision") == "decline":
            approvals.decline(registration=registration, by=me,
                              reason=request.form.get("reason", ""))
        else:
            abort(400)
    except DomainError as exc:
        db.session.rollback()
        flash_error(exc)
        return redirect(url_for(".page"))
    db.session.commit()
    approvals.notify_decided(registration)
    if registration.status == "declined":
        flash(_("The request of %(name)s was declined.", name=name), "success")
    elif registration.status == "waitlisted":
        flash(_("Approved: the session is full, %(name)s is on the waiting list.", name=name),
              "success")
    else:
        flash(_("Approved: %(name)s has a seat.", name=name), "success")
    return redirect(url_for(".page"))


@bp.post("/programs/<int:program_id>/approval")
@role_required(*STAFF_ROLES)
def program_approval(program_id: int) -> Any:
    """Turn manager approval of session registrations on or off for a program."""
    prog = program_or_404(program_id)
    approvals.set_approval_required(program=prog,
                                    required=request.form.get("approval_required") == "on")
    db.session.commit()
    flash(_("Registrations to this program's sessions now need the manager's approval.")
          if prog.approval_required else
          _("Registrations to this program's sessions no longer need approval."), "success")
    return redirect(url_for(".program", program_id=prog.id))


@bp.app_context_processor
def _approvals_nav() -> dict[str, Any]:
    def show_approvals() -> bool:
        """Whether the current member sees the Approvals link (HR, admins, managers)."""
        try:
            return approvals.may_see_approvals(current_membership())
        except AttributeError:  # outside an organization
            return False

    return {"show_approvals": show_approvals}
