"""Pages: the editorial calendar (month and week, content items with their window, CSV import
and export, the subscription feed), "To share" for everyone, content proposals and their
review, and the calendar feed calendar apps subscribe to without a session.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from lms.accounts import authz
from lms.accounts.models import Organization
from lms.advocacy import calendar, calendar_csv, ical, proposals, queries
from lms.advocacy.models import NETWORKS, ContentItem, ContentProposal
from lms.advocacy.views import NETWORK_LABELS
from lms.core import csvexport
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.core.web import commit_or_flash, commit_or_mark, current_language, form_date
from lms.extensions import db

bp = authz.org_blueprint("advocacy_calendar", __name__, template_folder="templates")
feed_bp = Blueprint("advocacy_feed", __name__)

VIEWS = ("month", "week")
STATUS_LABELS = {"pending": _l("Waiting for review"), "approved": _l("Approved"),
                 "declined": _l("Declined")}


class NetworksField(SelectMultipleField):
    """Networks as a group of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _network_choices() -> list[SelectChoice]:
    return [SelectChoice(n, NETWORK_LABELS[n]) for n in NETWORKS]


def _calendar_text(label: Any, description: Any = "") -> TextAreaField:
    """An optional text of a content item (an angle, a sample post), up to ``TEXT_MAX``."""
    return TextAreaField(label, validators=[Optional(), Length(max=calendar.TEXT_MAX)],
                         description=description)


class WindowForm(FlaskForm):
    """Where an item goes on the calendar: its window and networks."""

    starts_on = DateField(_l("To share from"), validators=[Optional()])
    ends_on = DateField(_l("Until (included)"), validators=[Optional()],
                        description=_l("Leave empty for content that stays relevant."))
    networks = NetworksField(_l("Target networks"), choices=_network_choices(),
                             validators=[Optional()])


class ItemForm(WindowForm):
    """A content item of the editorial calendar."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    url = StringField(_l("Address (URL)"), validators=[Optional(), Length(max=2000)],
                      description=_l("Optional for a text to share without a link."))
    angle = _calendar_text(_l("Suggested angle (French)"),
                           _l("An idea for the learner's own words, not a text to copy."))
    angle_en = _calendar_text(_l("Suggested angle (English)"))
    sample_post = _calendar_text(_l("Sample post (French)"),
                                 _l("A starting point; learners are asked to rewrite it in "
                                    "their own words."))
    sample_post_en = _calendar_text(_l("Sample post (English)"))
    campaign_id = SelectField(_l("Campaign"), coerce=str, validators=[Optional()])
    owner_id = SelectField(_l("Owner"), coerce=str, validators=[Optional()])
    submit = SubmitField(_l("Save"))


class ImportForm(FlaskForm):
    """A calendar CSV file to import."""

    file = FileField(_l("CSV file"))
    submit = SubmitField(_l("Import"))


class ProposalForm(FlaskForm):
    """An idea for the calendar: a link or a text, and a note for the reviewer."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    url = StringField(_l("Link (optional)"), validators=[Optional(), Length(max=2000)])
    text = TextAreaField(_l("Text (optional)"),
                         validators=[Optional(), Length(max=calendar.TEXT_MAX)],
                         description=_l("News, an idea for a post, a customer story…"))
    note = TextAreaField(_l("Note for the reviewer"),
                         validators=[Optional(), Length(max=proposals.NOTE_MAX)])
    submit = SubmitField(_l("Propose"))


class ApproveForm(WindowForm):
    """Approve a proposal into the calendar."""

    submit = SubmitField(_l("Approve into the calendar"))


class DeclineForm(FlaskForm):
    """Decline a proposal with a reason."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=proposals.NOTE_MAX)])
    submit = SubmitField(_l("Decline"))


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _fields(form: ItemForm) -> calendar.ItemFields:
    return calendar.ItemFields(
        title=form.title.data or "", url=form.url.data, starts_on=form.starts_on.data,
        ends_on=form.ends_on.data, networks=form.networks.data or [], angle=form.angle.data,
        angle_en=form.angle_en.data, sample_post=form.sample_post.data,
        sample_post_en=form.sample_post_en.data, campaign_id=_int(form.campaign_id.data),
        owner_id=_int(form.owner_id.data))


def _item_form(item: ContentItem | None = None) -> ItemForm:
    org = authz.current_organization()
    form = ItemForm(obj=item)
    form.campaign_id.choices = [SelectChoice("", _("No campaign"))] + [
        SelectChoice(str(c.id), c.title) for c in queries.campaigns(org.id)]
    form.owner_id.choices = [SelectChoice("", _("Me"))] + [
        SelectChoice(str(u.id), u.display_name) for u in calendar.staff(org.id)]
    if not form.is_submitted():
        form.campaign_id.data = str(item.campaign_id or "") if item else ""
        form.owner_id.data = str(item.owner_id or "") if item else ""
        form.networks.data = item.network_list if item else []
        if item is None:
            form.starts_on.data = form_date(request.args.get("day")) or utcnow().date()
    return form


def _day() -> date:
    return form_date(request.args.get("day")) or utcnow().date()


@bp.get("/advocacy/calendar")
@authz.role_required(*authz.MANAGER_ROLES)
def calendar_page() -> Any:
    """The editorial calendar: a month or a week of content to share."""
    view = request.args.get("view") if request.args.get("view") in VIEWS else "month"
    return _calendar_page(view or "month", _day())


def _calendar_page(view: str, day: date, errors: list[str] | None = None) -> str:
    org = authz.current_organization()
    shown = calendar.period(view, day)
    items = calendar.between(org.id, shown.first, shown.last)
    return render_template(
        "advocacy/calendar.html", period=shown, view=view,
        days=calendar.by_start_day(items, shown.first), count=len(items),
        today=utcnow().date(), unscheduled=calendar.unscheduled(org.id),
        pending=len(proposals.listed(org.id, statuses=["pending"])),
        import_form=ImportForm(), errors=errors, network_labels=NETWORK_LABELS)


@bp.route("/advocacy/calendar/items/new", methods=["GET", "POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def item_new() -> Any:
    """Add content to the calendar."""
    form = _item_form()
    if form.validate_on_submit():
        item = commit_or_mark(form, lambda: calendar.save_item(
            organization=authz.current_organization(), fields=_fields(form), by=current_user),
            _("Content added to the calendar."))
        if item is not None:
            return redirect(url_for(".calendar_page", day=item.starts_on))
    return render_template("advocacy/calendar_item.html", form=form, item=None)


@bp.route("/advocacy/calendar/items/<int:item_id>", methods=["GET", "POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def item_edit(item_id: int) -> Any:
    """Change a content item: window, networks, angles, sample posts, owner."""
    item = authz.get_in_org_or_404(ContentItem, item_id)
    form = _item_form(item)
    if form.validate_on_submit():
        saved = commit_or_mark(form, lambda: calendar.save_item(
            organization=authz.current_organization(), fields=_fields(form), item=item,
            by=current_user), _("Content saved."))
        if saved is not None:
            return redirect(url_for(".calendar_page", day=saved.starts_on))
    return render_template("advocacy/calendar_item.html", form=form, item=item)


@bp.get("/advocacy/calendar/export.csv")
@authz.role_required(*authz.MANAGER_ROLES)
def calendar_export() -> Response:
    """The calendar as CSV (the columns the import reads)."""
    org = authz.current_organization()
    return csvexport.download(f"calendar-{org.slug}.csv", calendar_csv.COLUMNS,
                              calendar_csv.export_rows(org.id))


@bp.post("/advocacy/calendar/import")
@authz.role_required(*authz.MANAGER_ROLES)
def calendar_import() -> Any:
    """Import a calendar CSV: all rows or none, bad rows reported by line."""
    org = authz.current_organization()
    file = request.files.get("file")
    errors: list[str] = []
    if file is None or not file.filename:
        errors = [_("Choose a CSV file.")]
    else:
        try:
            result = calendar_csv.import_csv(organization=org, data=file.read(),
                                             by=current_user)
        except calendar_csv.CalendarImportRejected as exc:
            db.session.rollback()
            errors = [exc.message] + [_("Line %(line)d: %(error)s", line=line, error=text)
                                      for line, text in exc.errors]
        except DomainError as exc:
            db.session.rollback()
            errors = [exc.message, *exc.fields.values()]
        else:
            db.session.commit()
            flash(_("Calendar imported: %(created)d added, %(updated)d changed.",
                    created=result.created, updated=result.updated), "success")
            return redirect(url_for(".calendar_page"))
    return _calendar_page("month", utcnow().date(), errors), 422


@bp.route("/advocacy/calendar/feed", methods=["GET", "POST"])
@authz.role_required(*authz.MANAGER_ROLES)
def calendar_feed() -> Any:
    """The personal subscription address: create a new one (shown once) or revoke it."""
    org = authz.current_organization()
    address = None
    if request.method == "POST":
        if request.form.get("action") == "revoke":
            commit_or_flash(lambda: calendar.revoke_feed(organization=org, user=current_user),
                            _("The address is revoked: calendar apps no longer receive the "
                              "calendar."))
            return redirect(url_for(".calendar_feed"))
        token = commit_or_flash(lambda: calendar.issue_feed(organization=org,
                                                            user=current_user))
        if token is not None:
            address = url_for("advocacy_feed.feed", token=token, _external=True)
    return render_template("advocacy/calendar_feed.html", address=address,
                           feed=calendar.active_feed(org.id, current_user.id))


@feed_bp.get("/calendar/<token>.ics")
def feed(token: str) -> Response:
    """The editorial calendar for calendar apps: the secret address is the credential."""
    found = calendar.feed_for(token)
    if found is None:
        abort(404)
    first, last = ical.window(utcnow().date())
    items = calendar.between(found.organization_id, first, last)
    org = db.session.get(Organization, found.organization_id)
    body = ical.feed(items, name=_("Editorial calendar — %(org)s", org=org.name if org else ""),
                     stamp=utcnow())
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=900"
    return response


# -- To share, for everyone ----------------------------------------------------------------------

def _lang_text(item: ContentItem, name: str) -> str | None:
    french, english = getattr(item, name), getattr(item, f"{name}_en")
    return (english or french) if current_language() == "en" else (french or english)


@bp.get("/advocacy/to-share")
def to_share() -> Any:
    """The content open for sharing now, with angles and sample posts to rewrite."""
    org = authz.current_organization()
    items = calendar.open_now(org.id, utcnow().date())
    calendar.record_seen(organization=org, user=current_user, items=items)
    db.session.commit()
    return render_template(
        "advocacy/to_share.html", items=items, text=_lang_text,
        shared=calendar.shared_item_ids(org.id, current_user.id, [i.id for i in items]),
        networks=NETWORKS, network_labels=NETWORK_LABELS)


def _visible_item(item_id: int) -> ContentItem:
    """An item a member may read: open today for everyone, any of them for managers."""
    item = authz.get_in_org_or_404(ContentItem, item_id)
    if (authz.current_membership().role not in authz.MANAGER_ROLES
            and not item.is_open(utcnow().date())):
        abort(404)
    return item


@bp.get("/advocacy/to-share/<int:item_id>")
def shared_item(item_id: int) -> Any:
    """One content item to share."""
    item = _visible_item(item_id)
    org = authz.current_organization()
    calendar.record_seen(organization=org, user=current_user, items=[item])
    db.session.commit()
    return render_template(
        "advocacy/to_share.html", items=[item], text=_lang_text, single=True,
        shared=calendar.shared_item_ids(org.id, current_user.id, [item.id]),
        networks=NETWORKS, network_labels=NETWORK_LABELS)


@bp.post("/advocacy/to-share/<int:item_id>/shared")
def mark_shared(item_id: int) -> Any:
    """"I shared it": an advocacy event on the item (consent needed, as for every event)."""
    item = _visible_item(item_id)
    commit_or_flash(lambda: calendar.mark_shared(
        organization=authz.current_organization(), user=current_user, item=item,
        network=request.form.get("network", ""), url=request.form.get("url") or None),
        _("Thank you: your share is recorded in your activity."))
    return redirect(url_for(".to_share", _anchor=f"item-{item.id}"))


# -- proposals ----------------------------------------------------------------------------------

@bp.route("/advocacy/proposals", methods=["GET", "POST"])
def proposal_list() -> Any:
    """Propose content for the calendar, and see what became of one's proposals."""
    org = authz.current_organization()
    form = ProposalForm()
    if form.validate_on_submit():
        done = commit_or_mark(form, lambda: proposals.propose(
            organization=org, user=current_user, title=form.title.data or "",
            url=form.url.data, text=form.text.data, note=form.note.data),
            _("Thank you: your proposal is sent to the communication team."))
        if done is not None:
            return redirect(url_for(".proposal_list"))
    status = 422 if form.errors else 200
    return render_template("advocacy/proposals.html", form=form,
                           mine=proposals.listed(org.id, user_id=current_user.id),
                           status_labels=STATUS_LABELS), status


def _review_page(forms: dict[int, tuple[ApproveForm, DeclineForm]] | None = None) -> str:
    org = authz.current_organization()
    listed = proposals.listed(org.id)
    forms = forms or {}
    for p in listed:
        if p.status == "pending" and p.id not in forms:
            forms[p.id] = _blank_forms(p.id)
    return render_template("advocacy/proposals_review.html", proposals=listed, forms=forms,
                           status_labels=STATUS_LABELS)


def _blank_forms(proposal_id: int) -> tuple[ApproveForm, DeclineForm]:
    """A pending proposal's approve form (its window starting today) and decline form, empty."""
    approve = ApproveForm(prefix=f"a{proposal_id}", formdata=None)
    approve.starts_on.data = utcnow().date()
    return approve, DeclineForm(prefix=f"d{proposal_id}", formdata=None)


def _proposal(proposal_id: int) -> ContentProposal:
    return authz.get_in_org_or_404(ContentProposal, proposal_id)


@bp.get("/advocacy/proposals/review")
@authz.role_required(*authz.MANAGER_ROLES)
def proposal_review() -> Any:
    """Proposals to review, and those reviewed."""
    return _review_page()


@bp.post("/advocacy/proposals/<int:proposal_id>/<any(approve, decline):decision>")
@authz.role_required(*authz.MANAGER_ROLES)
def proposal_decide(proposal_id: int, decision: str) -> Any:
    """Approve a proposal into the calendar, with its window, or decline it with a reason its
    author reads; refused, the review page shows again with this proposal's form as typed.
    """
    proposal = _proposal(proposal_id)
    organization = authz.current_organization()
    blank_approve, blank_decline = _blank_forms(proposal.id)
    if decision == "approve":
        approve = ApproveForm(prefix=f"a{proposal.id}")
        if approve.validate_on_submit():
            item = commit_or_mark(approve, lambda: proposals.approve(
                organization=organization, proposal=proposal, reviewer=current_user,
                fields=calendar.ItemFields(starts_on=approve.starts_on.data,
                                           ends_on=approve.ends_on.data,
                                           networks=approve.networks.data or [])),
                _("Approved: the content is on the calendar."))
            if item is not None:
                return redirect(url_for(".calendar_page", day=item.starts_on))
        return _review_page({proposal.id: (approve, blank_decline)}), 422
    decline = DeclineForm(prefix=f"d{proposal.id}")
    if decline.validate_on_submit():
        done = commit_or_mark(decline, lambda: proposals.decline(
            organization=organization, proposal=proposal, reviewer=current_user,
            reason=decline.reason.data or ""), _("Proposal declined."), field="reason")
        if done is not None:
            return redirect(url_for(".proposal_review"))
    return _review_page({proposal.id: (blank_approve, decline)}), 422
