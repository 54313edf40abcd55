"""Admin page of statement forwarding: /o/<slug>/xapi/forwarding."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from lms.accounts.authz import current_organization, org_blueprint, role_required
from lms.accounts.models import Role
from lms.core.web import commit_or_mark, require_submitted
from lms.extensions import db

bp = org_blueprint("xapi_forwarding", __name__, template_folder="templates")


class ExternalLrsForm(FlaskForm):
    """The external LRS statements are forwarded to: endpoint, key and secret."""

    endpoint = StringField(
        _l("Endpoint"), validators=[DataRequired(), Length(max=500)],
        description=_l("The external LRS's xAPI base URL, e.g. https://lrs.example.com/xapi"))
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=255)])
    # PasswordField never renders its value back: the saved secret is not shown again.
    secret = PasswordField(_l("Secret"), validators=[Length(max=500)])
    enabled = BooleanField(_l("Forward statements to this LRS"), default=True)
    submit = SubmitField(_l("Save"))


class ButtonForm(FlaskForm):
    """A POST button protected by CSRF (test connection, retry one statement)."""

    submit = SubmitField(_l("Go"))


class RetryAllForm(FlaskForm):
    """Putting every dead-lettered statement back in the forwarding queue."""

    confirm = BooleanField(_l("Yes, put every dead-lettered statement back in the queue"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Retry all"))


def _page(form: ExternalLrsForm | None = None, retry_all: RetryAllForm | None = None,
          status: int = 200) -> Any:
    from lms.xapi import forwarding

    org = current_organization()
    target = forwarding.external_lrs_for(org.id)
    if form is None:
        form = ExternalLrsForm(obj=target) if target else ExternalLrsForm()
    form.secret.description = (_("Leave blank to keep the saved secret.") if target
                               else _("Required."))
    counts = forwarding.outbox_counts(org.id).get(org.id, forwarding.OutboxCounts())
    dead = forwarding.dead_entries(org.id, limit=100)
    ids = forwarding.statement_ids([e.statement_pk for e in dead])
    return render_template("xapi/forwarding.html", form=form, target=target, counts=counts,
                           dead=dead, statement_ids=ids, button=ButtonForm(),
                           retry_all=retry_all or RetryAllForm()), status


@bp.route("/xapi/forwarding", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def settings() -> Any:
    """Show and save the organization's external LRS, with the outbox's state."""
    from lms.xapi import forwarding

    form = ExternalLrsForm()
    if form.validate_on_submit():
        saved = commit_or_mark(form, lambda: forwarding.configure_external_lrs(
            organization_id=current_organization().id, endpoint=form.endpoint.data or "",
            key=form.key.data or "", secret=form.secret.data or None,
            enabled=bool(form.enabled.data)), _("External LRS saved."))
        if saved is None:
            return _page(form, status=422)
        return redirect(url_for(".settings"))
    if form.is_submitted():
        return _page(form, status=422)
    return _page()


@bp.post("/xapi/forwarding/test")
@role_required(Role.ADMIN)
def test() -> Any:
    """Call the external LRS's /about with the saved credentials."""
    from lms.xapi import forwarding

    require_submitted(ButtonForm())
    target = forwarding.external_lrs_for(current_organization().id)
    if target is None:
        flash(_("Save the external LRS first."), "error")
    else:
        ok, message = forwarding.check_connection(target)
        if ok:
            flash(_("Connection works: %(message)s", message=message), "success")
        else:
            flash(_("Connection failed: %(message)s", message=message), "error")
    return redirect(url_for(".settings"))


@bp.post("/xapi/forwarding/dead/<int:entry_id>/retry")
@role_required(Role.ADMIN)
def retry_one(entry_id: int) -> Any:
    """Put one dead-lettered statement back in the queue."""
    from lms.xapi import forwarding

    require_submitted(ButtonForm())
    count = forwarding.requeue_dead(organization_id=current_organization().id,
                                    entry_ids=[entry_id])
    if not count:
        abort(404)
    db.session.commit()
    flash(_("The statement is queued again."), "success")
    return redirect(url_for(".settings"))


@bp.post("/xapi/forwarding/dead/retry-all")
@role_required(Role.ADMIN)
def retry_all() -> Any:
    """Put every dead-lettered statement back in the queue, once confirmed."""
    from lms.xapi import forwarding

    form = RetryAllForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm."), "error")
        return _page(retry_all=form, status=422)
    count = forwarding.requeue_dead(organization_id=current_organization().id)
    db.session.commit()
    flash(_("%(n)d statements are queued again.", n=count), "success")
    return redirect(url_for(".settings"))


def init_forwarding(app: Flask) -> None:
    """Register the forwarding tables, page and ``relais xapi-outbox`` commands."""
    from lms.xapi import forwarding_models  # noqa: F401  (tables known to the metadata)
    from lms.xapi.forwarding_cli import xapi_outbox

    if "xapi_forwarding" not in app.blueprints:
        app.register_blueprint(bp)
    app.cli.add_command(xapi_outbox)
