"""The statement viewer for trainers and admins: /o/<slug>/statements and its JSON export.

It reads the organization's statement store through ``queries.find_statements`` (newest first,
voided statements left out) with the same index-driven filters as the LRS's GET, so a page
costs the same whatever the size of the store. Pages go by cursor (the last statement shown),
not by number: counting a large store on every page would be the slow part.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Flask, Response, render_template, request, stream_with_context, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import DateField, Form, IntegerField, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from lms.accounts.authz import current_organization, org_blueprint, role_required
from lms.accounts.models import Membership, Organization, Role, User
from lms.extensions import db
from lms.xapi import queries, validation
from lms.xapi.agents import agent_key
from lms.xapi.builders import agent_for_user
from lms.xapi.models import Activity, Statement
from lms.xapi.record import ACTIVITY, AGENT, VERB

bp = org_blueprint("xapi_viewer", __name__, template_folder="templates")

PAGE_SIZE = 50
EXPORT_BATCH = 500
# How many recent statements the verb and activity suggestions are drawn from.
SUGGESTION_WINDOW = 1000


def _iri(form: Form, field: Any) -> None:
    if field.data and not validation.is_iri(field.data):
        raise ValidationError(_("Enter a full IRI, such as http://adlnet.gov/expapi/verbs/completed."))


class FilterForm(Form):
    """The viewer's filters, read from the query string (a GET form: nothing to protect)."""

    learner = SelectField(_l("Learner"), coerce=int, validators=[Optional()], default=0)
    verb = StringField(_l("Verb"), validators=[Optional(), _iri],
                       description=_l("The verb's IRI; recent ones are suggested."),
                       render_kw={"list": "recent-verbs"})
    activity = StringField(_l("Activity"), validators=[Optional(), _iri],
                           description=_l("The activity's IRI; recent ones are suggested."),
                           render_kw={"list": "recent-activities"})
    since = DateField(_l("Recorded from"), validators=[Optional()])
    until = DateField(_l("Recorded until"), validators=[Optional()])
    before = IntegerField(validators=[Optional()])

    def validate_until(self, field: Any) -> None:
        """Refuse an end date before the start date."""
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("The end date is before the start date."))


@dataclass
class Row:
    """A statement as the page shows it: who did what to which activity, when."""

    pk: int
    who: str
    did: str
    what: str
    what_id: str
    when: datetime | None
    raw: str


# --- reads -----------------------------------------------------------------------------------

def _members(organization_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership).where(Membership.organization_id == organization_id)
        .order_by(User.name_key, User.id)))


def _recent(column: Any, organization_id: int) -> list[str]:
    """Distinct values of a column among the organization's latest statements."""
    recent = (select(column.label("value")).where(Statement.organization_id == organization_id)
              .order_by(Statement.pk.desc()).limit(SUGGESTION_WINDOW).subquery())
    values = db.session.scalars(select(recent.c.value).where(recent.c.value.is_not(None))
                                .distinct())
    return sorted(values)


def _activity_names(organization_id: int, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = db.session.execute(select(Activity.activity_id, Activity.definition).where(
        Activity.organization_id == organization_id, Activity.activity_id.in_(ids)))
    names = {}
    for row in rows:
        name = _pick(json.loads(row.definition or "{}").get("name"))
        if name:
            names[row.activity_id] = name
    return names


# --- presentation ----------------------------------------------------------------------------

def _pick(language_map: Any) -> str | None:
    """The value of a language map in the reader's language, else English, else any."""
    if not isinstance(language_map, dict) or not language_map:
        return None
    locale = str(get_locale() or "en")
    for tag, value in language_map.items():
        if tag.lower().split("-")[0] == locale.split("_")[0]:
            return str(value)
    for tag in ("en-US", "en-GB", "en"):
        if tag in language_map:
            return str(language_map[tag])
    return str(next(iter(language_map.values())))


def _tail(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1] or iri


def _agent_label(agent: Any, names: dict[str, str]) -> str:
    if not isinstance(agent, dict):
        return "?"
    try:
        key = agent_key(agent)
    except Exception:  # an anonymous group has no key
        key = None
    if key and key in names:
        return names[key]
    if agent.get("name"):
        return str(agent["name"])
    for ifi in ("mbox", "openid", "mbox_sha1sum"):
        if ifi in agent:
            return str(agent[ifi]).removeprefix("mailto:")
    if isinstance(agent.get("account"), dict):
        return str(agent["account"].get("name", "?"))
    return _("a group")


def _row(pk: int, data: str, names: dict[str, str], activities: dict[str, str]) -> Row:
    st = json.loads(data)
    verb = st.get("verb") or {}
    obj = st.get("object") or {}
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        what_id = obj.get("id", "")
        what = (_pick((obj.get("definition") or {}).get("name")) or activities.get(what_id)
                or _tail(what_id))
    elif object_type in ("Agent", "Group"):
        what, what_id = _agent_label(obj, names), ""
    elif object_type == "StatementRef":
        what, what_id = _("statement %(id)s", id=obj.get("id", "")), ""
    else:
        what, what_id = _("a sub-statement"), ""
    when = None
    if st.get("timestamp"):
        try:
            when = validation.parse_timestamp(st["timestamp"], "timestamp")
        except Exception:  # stored statements are valid; stay readable if one is not
            when = None
    return Row(pk=pk, who=_agent_label(st.get("actor"), names),
               did=_pick(verb.get("display")) or _tail(verb.get("id", "")),
               what=what, what_id=what_id, when=when,
               raw=json.dumps(st, indent=2, ensure_ascii=False))


# --- filters ---------------------------------------------------------------------------------

def _filters() -> tuple[Organization, FilterForm, list[User]]:
    """The current organization, the filter form read from the query string, and the members
    it offers as learners.
    """
    org = current_organization()
    members = _members(org.id)
    form = FilterForm(request.args)
    form.learner.choices = [(0, _("Everyone"))] + [(m.id, m.display_name) for m in members]
    return org, form, members


def _query(form: FilterForm, members: list[User]) -> dict[str, Any]:
    """The ``find_statements`` arguments of valid filters."""
    filters: dict[str, str] = {}
    if form.learner.data:
        user = next(m for m in members if m.id == form.learner.data)
        filters[AGENT] = agent_key(agent_for_user(user))
    if form.verb.data:
        filters[VERB] = form.verb.data
    if form.activity.data:
        filters[ACTIVITY] = form.activity.data
    since = datetime.combine(form.since.data, time(), UTC) if form.since.data else None
    # "until" is a whole day: everything recorded before the next midnight (UTC).
    until = (datetime.combine(form.until.data + timedelta(days=1), time(), UTC)
             - timedelta(microseconds=1)) if form.until.data else None
    return {"filters": filters, "since": since, "until": until}


def _filter_args(form: FilterForm) -> dict[str, Any]:
    """The filters as query-string arguments (for the next page and the export links)."""
    args: dict[str, Any] = {}
    if form.learner.data:
        args["learner"] = form.learner.data
    for name in ("verb", "activity"):
        if getattr(form, name).data:
            args[name] = getattr(form, name).data
    for name in ("since", "until"):
        value: date | None = getattr(form, name).data
        if value:
            args[name] = value.isoformat()
    return args


# --- views -----------------------------------------------------------------------------------

@bp.route("/statements")
@role_required(Role.TRAINER, Role.ADMIN)
def statements() -> Any:
    """List the organization's statements, newest first, with filters."""
    org, form, members = _filters()
    rows: list[Row] = []
    next_before = None
    valid = form.validate()
    if valid:
        found = queries.find_statements(org.id, **_query(form, members),
                                        after_pk=form.before.data, limit=PAGE_SIZE + 1)
        if len(found) > PAGE_SIZE:
            found = found[:PAGE_SIZE]
            next_before = found[-1].pk
        names = {agent_key(agent_for_user(m)): m.display_name for m in members}
        datas = [json.loads(r.data) for r in found]
        ids = sorted({d["object"].get("id") for d in datas
                      if d.get("object", {}).get("objectType", "Activity") == "Activity"})
        activities = _activity_names(org.id, ids)
        rows = [_row(r.pk, r.data, names, activities) for r in found]
    args = _filter_args(form) if valid else {}
    return render_template(
        "xapi/statements.html", form=form, rows=rows, args=args,
        next_url=url_for(".statements", before=next_before, **args) if next_before else None,
        first_url=url_for(".statements", **args) if form.before.data else None,
        verbs=_recent(Statement.verb_id, org.id),
        activities=_recent(Statement.object_activity_id, org.id),
    ), 200 if valid else 400


@bp.route("/statements/export.json")
@role_required(Role.TRAINER, Role.ADMIN)
def export() -> Any:
    """Download the filtered statements as a JSON array, streamed page by page."""
    org, form, members = _filters()
    if not form.validate():
        return Response(json.dumps({"errors": form.errors}), status=400,
                        mimetype="application/json")
    arguments = _query(form, members)
    organization_id = org.id

    def generate() -> Iterator[str]:
        yield "["
        first = True
        after = form.before.data
        while True:
            page = queries.find_statements(organization_id, **arguments, after_pk=after,
                                           limit=EXPORT_BATCH)
            for row in page:
                yield ("\n" if first else ",\n") + row.data
                first = False
            if len(page) < EXPORT_BATCH:
                break
            after = page[-1].pk
            # Each batch is its own read: don't keep rows of the previous one in the session.
            db.session.expunge_all()
        yield "\n]\n"

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(stream_with_context(generate()), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="statements-{org.slug}-{stamp}.json"'})


def init_viewer(app: Flask) -> None:
    """Register the statement viewer pages."""
    app.register_blueprint(bp)
