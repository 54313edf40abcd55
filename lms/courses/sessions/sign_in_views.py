"""Sign-in pages: QR-code sign-in (the trainer's screen, the scan, the learner's confirmation)
and the PDF sign-in sheet.

The scan address (``/sign-in/<session>/<code>``) lives outside ``/o/<org>/``: a learner who is
not logged in on their phone yet must not see the short-lived code expire while they type their
password. So the scan checks the code first and keeps a ticket in the (signed) session cookie;
the confirmation page under ``/o/<org>/`` then needs the login and the ticket, valid
``sign_in.TICKET_SECONDS``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from lms.accounts.authz import MANAGER_ROLES, STAFF_ROLES, current_membership, role_required
from lms.accounts.models import Organization, Role
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.core.web import absolute_url, flash_error
from lms.courses.sessions import sign_in, sign_in_sheet
from lms.courses.sessions.models import TrainingSession
from lms.courses.sessions.services import local_zone
from lms.courses.web import bp, page_context, session_or_404
from lms.extensions import db

scan_bp = Blueprint("sign_in", __name__)
TICKET_KEY = "sign_in_ticket"


def _qr_svg(url: str) -> Markup:
    svg = segno.make(url, error="m").svg_inline(scale=10, dark="#1d2733", light="#ffffff",
                                                 border=3, omitsize=True)
    return Markup(svg)  # noqa: S704  (segno's own SVG: no user text in it)


def scan_url(s: TrainingSession, when: datetime | None = None) -> str:
    """The absolute address the QR code holds now (under ``BASE_URL``, which phones reach)."""
    return absolute_url(url_for("sign_in.scan", session_id=s.id, token=sign_in.token_for(s, when)))


# --- the trainer's screen --------------------------------------------------------------------


@bp.get("/sessions/<int:session_id>/sign-in-code")
@role_required(*STAFF_ROLES)
def sign_in_code(session_id: int) -> Any:
    """The rotating QR code to show on the screen; the page reloads itself as the code turns."""
    s = session_or_404(session_id)
    now = utcnow()
    is_open = sign_in.is_open(s, now)
    present, seated = sign_in.signed_count(s, now)
    if is_open:
        refresh = min(sign_in.seconds_left(now) + 1, 15)
    elif now < sign_in.opens_at(s):
        refresh = max(1, min(60, int((sign_in.opens_at(s) - now).total_seconds()) + 1))
    else:
        refresh = None
    url = scan_url(s, now) if is_open else None
    return render_template("courses/sign_in_code.html", session=s, is_open=is_open,
                           qr=_qr_svg(url) if url else None, url=url, refresh=refresh,
                           present=present, seated=seated, opens_at=sign_in.opens_at(s),
                           **page_context())


# --- the learner's scan and confirmation -----------------------------------------------------


@scan_bp.get("/sign-in/<int:session_id>/<token>")
def scan(session_id: int, token: str) -> Any:
    """A scanned code: checked now, then the learner confirms (after logging in if needed)."""
    try:
        sign_in.check_token(session_id, token)
    except sign_in.SignInRefused as exc:
        return render_template("courses/sign_in_scan_error.html", code=exc.code), \
            410 if exc.code == "expired_code" else 404
    s = db.get_or_404(TrainingSession, session_id)
    session[TICKET_KEY] = {"session": s.id, "at": utcnow().timestamp()}
    org = db.get_or_404(Organization, s.organization_id)
    return redirect(url_for("courses.sign_in_confirm", org_slug=org.slug, session_id=s.id))


def _ticket_for(s: TrainingSession) -> bool:
    ticket = session.get(TICKET_KEY) or {}
    return ticket.get("session") == s.id and \
        0 <= utcnow().timestamp() - float(ticket.get("at", 0)) <= sign_in.TICKET_SECONDS


@bp.route("/sessions/<int:session_id>/sign-in", methods=["GET", "POST"])
@role_required(Role.LEARNER)
def sign_in_confirm(session_id: int) -> Any:
    """Confirm one's presence after scanning the session's code."""
    s = session_or_404(session_id)
    me = current_membership()
    refusal: sign_in.SignInRefused | None = None
    found = None
    try:
        found = sign_in.check(session=s, membership=me)
    except sign_in.SignInRefused as exc:
        refusal = exc
    has_ticket = _ticket_for(s)
    if request.method == "POST":
        if refusal is None and has_ticket:
            try:
                mark = sign_in.sign_in(session=s, membership=me)
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                flash_error(exc)
            except IntegrityError:
                # A double tap: the other request recorded the presence; the page says so.
                db.session.rollback()
            else:
                session.pop(TICKET_KEY, None)
                flash(_("You are signed in at %(time)s. Enjoy the session!",
                        time=mark.signed_at.astimezone(local_zone()).strftime("%H:%M")
                        if mark.signed_at else ""), "success")
        return redirect(url_for(".sign_in_confirm", session_id=s.id))
    status = 200
    if refusal is not None and refusal.code != "already_signed":
        status = 409 if refusal.code in ("not_open",) else 403
    return render_template("courses/sign_in_confirm.html", session=s, found=found,
                           refusal=refusal, has_ticket=has_ticket, **page_context()), status


# --- the PDF sign-in sheet -------------------------------------------------------------------


def sheet_response(s: TrainingSession) -> Response:
    """The session's sign-in sheet as a PDF download."""
    data = sign_in_sheet.render_pdf(s)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{sign_in_sheet.filename(s)}"'})


@bp.get("/sessions/<int:session_id>/sign-in-sheet.pdf")
@role_required(*MANAGER_ROLES)
def sign_in_sheet_pdf(session_id: int) -> Any:
    """Download the printable sign-in sheet (feuille d'émargement)."""
    return sheet_response(session_or_404(session_id))
