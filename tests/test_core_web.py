"""The helpers every page shares (lms/core/web.py) and CSRF on every page form."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from wtforms import StringField

from lms.accounts.models import Organization
from lms.core.errors import ValidationFailed
from lms.core.web import (
    commit_or_errors,
    commit_or_flash,
    commit_or_mark,
    committed,
    form_date,
    form_datetime,
    form_int,
    get_or_404,
    localized,
    url_per_id,
)
from lms.extensions import db


@pytest.mark.parametrize(("accept", "text", "shown"), [
    ("fr", {"en": "Hello", "fr": "Bonjour"}, "Bonjour"),
    ("en", {"en": "Hello", "fr": "Bonjour"}, "Hello"),
    # Missing in the reader's language: French first, whatever order the text has.
    ("en", {"de": "Hallo", "fr": "Bonjour"}, "Bonjour"),
    ("en", {"de": "Hallo", "fr": "", "it": "Ciao"}, "Hallo"),
    ("fr", {"en": "Hello"}, "Hello"),
    ("fr", {}, ""),
    ("fr", None, ""),
])
def test_localized_reader_language_then_french_then_any(app, accept, text, shown):
    with app.test_request_context(headers={"Accept-Language": accept}):
        assert localized(text) == shown


def test_localized_in_a_given_language(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert localized({"en": "Hello", "fr": "Bonjour"}, "en") == "Hello"
        assert localized({"de": "Hallo", "fr": "Bonjour"}, "en") == "Bonjour"


def test_form_values():
    assert form_int("12") == 12 and form_int("") is None and form_int("douze") is None
    assert form_int(None) is None
    day = date.today() + timedelta(days=40)
    assert form_date(f" {day.isoformat()} ") == day
    assert form_date(day.strftime("%d/%m/%Y")) is None and form_date(None) is None
    paris = ZoneInfo("Europe/Paris")
    assert form_datetime(day.isoformat(), "09:30", paris) == datetime.combine(
        day, time(9, 30), tzinfo=paris)
    assert form_datetime(day.isoformat(), "", paris) is None
    assert form_datetime("", "09:30", paris) is None


# Page blueprints whose forms used to check the token themselves (``_checked()``) and now rely
# on CSRFProtect alone.
BLUEPRINTS = ("courses", "coaching", "skills")


def _post_urls(app):
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.endpoint.split(".")[0] not in BLUEPRINTS:
            continue
        values = {name: ("acme" if name == "org_slug" else 1) for name in rule.arguments}
        yield rule.endpoint, rule.build(values)[1]


def test_every_post_of_those_pages_needs_the_csrf_token(app, client):
    urls = list(_post_urls(app))
    assert len(urls) > 40
    app.config["WTF_CSRF_ENABLED"] = True  # the autouse fixture turns it off again
    for endpoint, url in urls:
        response = client.post(url, data={"direction": "up"})
        assert response.status_code == 400, endpoint
        assert "CSRF" in response.get_data(as_text=True), endpoint


def _add_organization(slug: str, refuse: bool = False) -> Organization:
    organization = Organization(slug=slug, name=slug)
    db.session.add(organization)
    db.session.flush()
    if refuse:
        raise ValidationFailed("Refused.", fields={"name": "Name taken."})
    return organization


def _slugs() -> set[str]:
    return set(db.session.scalars(select(Organization.slug)))


def test_commit_or_flash_commits_or_rolls_back_with_the_reason(app):
    with app.test_request_context():
        made = commit_or_flash(lambda: _add_organization("kept"), lambda o: f"Made {o.slug}.")
        assert made is not None and made.slug == "kept"
        assert commit_or_flash(lambda: _add_organization("gone", refuse=True), "Never.") is None
        db.session.remove()
        assert "kept" in _slugs() and "gone" not in _slugs()
        assert get_flashed_messages(with_categories=True) == [
            ("success", "Made kept."), ("error", "Refused. Name taken.")]


class _NameForm(FlaskForm):
    name = StringField()
    other = StringField()


def test_commit_or_mark_puts_the_refusal_next_to_its_field(app):
    with app.test_request_context(method="POST", data={"name": "Typed"}):
        form = _NameForm(meta={"csrf": False})
        assert commit_or_mark(form, lambda: _add_organization("x", refuse=True)) is None
        assert form.name.errors == ["Name taken."] and form.name.data == "Typed"
        assert "x" not in _slugs()
        form = _NameForm(meta={"csrf": False})
        refusal = ValidationFailed("Nothing to do with a field.")
        assert commit_or_mark(form, lambda: (_ for _ in ()).throw(refusal), field="other") is None
        assert form.other.errors == ["Nothing to do with a field."]


def test_a_change_is_committed_or_its_refusal_shown(app, create_org):
    org = create_org(slug="lumiere", name="Lumière")

    def rename() -> Organization:
        org.name = "Maison Lumière"
        return org

    def refuse() -> None:
        org.name = "Refusée"
        raise ValidationFailed("The name was not saved.", fields={"name": "Too long."})

    with app.test_request_context():
        assert commit_or_flash(rename) is org
        assert commit_or_flash(refuse) is None and committed(refuse) is False
        assert get_flashed_messages(with_categories=True) == [
            ("error", "The name was not saved. Too long.")] * 2
        db.session.rollback()  # as the end of the request does
        assert commit_or_errors(refuse) == {"name": "Too long."}
        assert committed(lambda: None) is True and commit_or_errors(lambda: None) is None
    db.session.expire_all()
    assert db.session.get(Organization, org.id).name == "Maison Lumière"


def test_get_or_404_refuses_a_missing_row_and_another_s(create_org):
    org = create_org(slug="lumiere")
    assert get_or_404(Organization, org.id) is org
    assert get_or_404(Organization, org.id, outside=lambda row: row.slug != "lumiere") is org
    with pytest.raises(NotFound):
        get_or_404(Organization, org.id, outside=lambda row: row.slug != "autre")
    with pytest.raises(NotFound):
        get_or_404(Organization, org.id + 1000)


def test_url_per_id_writes_what_url_for_writes():
    from flask import Flask, url_for

    flask_app = Flask("links")
    flask_app.add_url_rule("/o/<slug>/learners/<int:member>/timeline", "timeline",
                           lambda slug, member: "")
    with flask_app.test_request_context():
        # A slug holding digits like an id's changes nothing: the id's segment is replaced.
        link = url_per_id("timeline", "member", slug="team-987654321987")
        for ident in (1, 42, 987654321987, 10**15):
            assert link(ident) == url_for("timeline", member=ident, slug="team-987654321987")
