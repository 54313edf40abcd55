"""Pages: campaigns — list, create, edit (objective, target, deadline), content items, archive
and delete after a confirmation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

from lms.accounts import authz
from lms.advocacy import campaigns, services
from lms.advocacy.models import CAMPAIGN_KINDS, METRICS, Campaign, ContentItem
from lms.advocacy.views import METRIC_LABELS
from lms.core.web import commit_or_mark
from lms.extensions import db

bp = authz.org_blueprint("advocacy_campaigns", __name__, template_folder="templates")

KIND_LABELS = {"awareness": _l("Awareness"), "campaign": _l("Campaign (sign-ups, leads)"),
               "talent": _l("Talent (hires)")}


class CampaignForm(FlaskForm):
    """An advocacy campaign: a business objective, its kind, target and deadline."""

    title = StringField(_l("Objective"), validators=[DataRequired(), Length(max=300)],
                        description=_l("A business objective with a number, e.g. \"3,000 "
                                       "confirmed sign-ups for the launch event\"."))
    kind = SelectField(_l("Kind of objective"),
                       choices=[SelectChoice(k, KIND_LABELS[k]) for k in CAMPAIGN_KINDS])
    target_metric = SelectField(_l("Target metric"), choices=[
        SelectChoice(m, METRIC_LABELS[m]) for m in ("shares", *METRICS)])
    target_value = IntegerField(_l("Target value"),
                                validators=[Optional(), NumberRange(min=0, max=2_000_000_000)],
                                description=_l("Leave empty for no numeric target."))
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    submit = SubmitField(_l("Save"))


class ContentItemForm(FlaskForm):
    """A content item of a campaign for learners to share: title, address, suggested angle."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    url = StringField(_l("Address (URL)"), validators=[DataRequired(), Length(max=2000),
                                                       URL(require_tld=False)])
    angle = TextAreaField(_l("Suggested angle"), validators=[Optional(), Length(max=2000)],
                          description=_l("An idea for the learner's own words, not a text to "
                                         "copy."))
    submit = SubmitField(_l("Save"))


class ConfirmForm(FlaskForm):
    """An empty form: a confirmation button protected by CSRF."""

    submit = SubmitField(_l("Confirm"))


def _saved(form: FlaskForm, change: Callable[[], Any], message: str,
           target: Callable[[Any], str]) -> Any | None:
    """Run a service call, then commit and redirect; on a domain error, roll back and put its
    messages on the form (None: show the form again).
    """
    result = commit_or_mark(form, change, message)
    return redirect(target(result)) if result is not None else None


def _campaign_fields(form: CampaignForm) -> dict[str, Any]:
    return {"kind": form.kind.data or "", "title": form.title.data or "",
            "target_metric": form.target_metric.data, "target_value": form.target_value.data,
            "deadline": form.deadline.data}


def _campaign(campaign_id: int) -> Campaign:
    return authz.get_in_org_or_404(Campaign, campaign_id)


def _item(campaign_id: int, item_id: int) -> ContentItem:
    """The content item ``item_id`` of the organization's campaign ``campaign_id``, else 404."""
    item = authz.get_in_org_or_404(ContentItem, item_id)
    if item.campaign_id != campaign_id:
        abort(404)
    return item


@bp.route("/advocacy/campaigns", methods=["GET", "POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def campaign_list() -> Any:
    """The organization's campaigns (current and archived) and a form to create one."""
    org = authz.current_organization()
    form = CampaignForm()
    if form.validate_on_submit():
        done = _saved(form, lambda: services.create_campaign(organization=org,
                                                             **_campaign_fields(form)),
                      _("Campaign created: add the content to share."),
                      lambda c: url_for(".campaign_edit", campaign_id=c.id))
        if done is not None:
            return done
    everything = list(db.session.scalars(select(Campaign).where(
        Campaign.organization_id == org.id).order_by(
        Campaign.archived_at.is_not(None), Campaign.deadline.is_(None), Campaign.deadline,
        Campaign.id)))
    progress = campaigns.progress(org.id, everything)
    return render_template("advocacy/campaigns.html", form=form, campaigns=everything,
                           progress=progress, kind_labels=KIND_LABELS,
                           metric_labels=METRIC_LABELS)


@bp.route("/advocacy/campaigns/<int:campaign_id>", methods=["GET", "POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def campaign_edit(campaign_id: int) -> Any:
    """Edit a campaign's objective, target and deadline; list and add its content items."""
    campaign = _campaign(campaign_id)
    form = CampaignForm(obj=campaign, prefix="c")
    if not form.is_submitted():
        form.target_metric.data = campaign.target_metric or "shares"
    item_form = ContentItemForm(prefix="item")
    if form.submit.data and form.validate_on_submit():
        done = _saved(form, lambda: campaigns.update_campaign(campaign=campaign,
                                                              **_campaign_fields(form)),
                      _("Campaign saved."), lambda c: url_for(".campaign_edit",
                                                              campaign_id=c.id))
        if done is not None:
            return done
    return render_template("advocacy/campaign_edit.html", campaign=campaign, form=form,
                           item_form=item_form, confirm=ConfirmForm())


@bp.post("/advocacy/campaigns/<int:campaign_id>/items")
@authz.role_required(*authz.MANAGER_ROLES)
def item_add(campaign_id: int) -> Any:
    """Add a content item to share."""
    campaign = _campaign(campaign_id)
    item_form = ContentItemForm(prefix="item")
    back = url_for(".campaign_edit", campaign_id=campaign.id)
    if item_form.validate_on_submit():
        done = _saved(item_form, lambda: services.add_content_item(
            campaign=campaign, title=item_form.title.data or "",
            url=(item_form.url.data or "").strip(),
            angle=(item_form.angle.data or "").strip() or None),
            _("Content item added."), lambda _item: back)
        if done is not None:
            return done
    form = CampaignForm(obj=campaign, prefix="c", formdata=None)
    return render_template("advocacy/campaign_edit.html", campaign=campaign, form=form,
                           item_form=item_form, confirm=ConfirmForm()), 422


@bp.route("/advocacy/campaigns/<int:campaign_id>/items/<int:item_id>",
          methods=["GET", "POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def item_edit(campaign_id: int, item_id: int) -> Any:
    """Edit a content item's title, URL and suggested angle."""
    item = _item(campaign_id, item_id)
    form = ContentItemForm(obj=item)
    if form.validate_on_submit():
        done = _saved(form, lambda: campaigns.update_content_item(
            item=item, title=form.title.data or "", url=form.url.data or "",
            angle=form.angle.data), _("Content item saved."),
            lambda _item: url_for(".campaign_edit", campaign_id=campaign_id))
        if done is not None:
            return done
    return render_template("advocacy/content_item_edit.html", campaign=item.campaign, item=item,
                           form=form)


@bp.route("/advocacy/campaigns/<int:campaign_id>/items/<int:item_id>/delete",
          methods=["GET", "POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def item_delete(campaign_id: int, item_id: int) -> Any:
    """Remove a content item, after a confirmation saying what happens to its events."""
    item = _item(campaign_id, item_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        campaigns.delete_content_item(item=item)
        db.session.commit()
        flash(_("Content item removed."), "success")
        return redirect(url_for(".campaign_edit", campaign_id=campaign_id))
    return render_template("advocacy/campaign_confirm.html", campaign=item.campaign, form=form,
                           action="delete_item", item=item,
                           events=campaigns.item_events(item))


@bp.route("/advocacy/campaigns/<int:campaign_id>/archive", methods=["GET", "POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def campaign_archive(campaign_id: int) -> Any:
    """Archive a campaign (after a confirmation) or bring an archived one back."""
    campaign = _campaign(campaign_id)
    archive = campaign.archived_at is None
    return _confirmed(campaign, "archive" if archive else "unarchive",
                      lambda: campaigns.set_archived(campaign=campaign, archived=archive),
                      _("Campaign archived.") if archive else _("Campaign restored."))


@bp.route("/advocacy/campaigns/<int:campaign_id>/delete", methods=["GET", "POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def campaign_delete(campaign_id: int) -> Any:
    """Delete a campaign and its content items, after a confirmation."""
    campaign = _campaign(campaign_id)
    return _confirmed(campaign, "delete", lambda: campaigns.delete_campaign(campaign=campaign),
                      _("Campaign deleted."))


def _confirmed(campaign: Campaign, action: str, change: Callable[[], object], done: str) -> Any:
    """The page asking to confirm ``action`` on a campaign, with the events linked to it; once
    confirmed, the change, committed, and back to the list saying ``done``.
    """
    form = ConfirmForm()
    if form.validate_on_submit():
        change()
        db.session.commit()
        flash(done, "success")
        return redirect(url_for(".campaign_list"))
    return render_template("advocacy/campaign_confirm.html", campaign=campaign, form=form,
                           action=action, events=campaigns.linked_events(campaign))
