"""Pages: my e-mail digest (how often, and what the next one holds); the one-click
unsubscribe link of every digest, which needs no login.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.core.web import commit_or_flash
from lms.extensions import csrf, db
from lms.notifications import services
from lms.notifications.models import FREQUENCIES

bp = Blueprint("notifications", __name__, template_folder="templates")


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def preferences() -> Any:
    """How often my digest comes, and what my next digest holds now."""
    if request.method == "POST":
        frequency = request.form.get("frequency") or ""
        commit_or_flash(lambda: services.set_frequency(user=current_user, frequency=frequency),
                        _("Your digest preference is saved."))
        return redirect(url_for("notifications.preferences"))
    pref = services.preference_of(current_user)
    return render_template("notifications/preferences.html", pref=pref,
                           frequencies=FREQUENCIES, labels=services.FREQUENCY_LABELS,
                           digests=services.build(current_user),
                           next_due=services.next_due(pref))


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> Any:
    """GET: a page with the button (mail scanners follow links: a GET changes nothing).
    POST: stop the digests — from that button, or from the mail client's own one-click
    button (RFC 8058, body ``List-Unsubscribe=One-Click``), hence no CSRF token.
    """
    user = services.user_for_token(token)
    if user is None:
        return render_template("notifications/unsubscribe.html", invalid=True), 404
    if request.method == "POST":
        services.unsubscribe(user=user)
        db.session.commit()
        return render_template("notifications/unsubscribe.html", done=True)
    return render_template("notifications/unsubscribe.html", token=token)
