"""The editorial calendar: windows, To share, proposals and their statements, the iCal feed,
CSV import and export, the pages and the API, isolated per organization."""

from __future__ import annotations

import io
from datetime import date, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.advocacy import calendar, calendar_csv, proposals, services
from lms.advocacy.models import AdvocacyEvent, ContentItem, ContentProposal
from lms.core.errors import ValidationFailed
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi.models import Statement
from tests.advocacy.helpers import consent
from tests.support import load_demo_once, statements_by_verb

EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"


def _today() -> date:
    return utcnow().date()


def _item(org, title, start_in, length=None, **extra):
    start = _today() + timedelta(days=start_in)
    return calendar.save_item(organization=org, fields=calendar.ItemFields(
        title=title, url="https://www.example.com/" + title.lower().replace(" ", "-"),
        starts_on=start, ends_on=start + timedelta(days=length) if length is not None else None,
        **extra))


@pytest.fixture()
def world(create_org, create_user):
    org = create_org(slug="cal-a")
    other = create_org(slug="cal-b")
    trainer = create_user(Role.TRAINER, org=org)
    hr = create_user(Role.HR, org=org)
    learner = create_user(Role.LEARNER, org=org)
    outsider = create_user(Role.TRAINER, org=other)
    past = _item(org, "Past news", -20, 5)
    open_now = _item(org, "Open now", -2, 7, networks=["linkedin", "x"],
                     angle="Votre avis en une phrase", angle_en="Your view in a sentence",
                     sample_post="Ce que je retiens…")
    open_ended = _item(org, "Open ended", -1)
    future = _item(org, "Next week", 7, 3)
    foreign = _item(other, "Foreign", -1, 5)
    db.session.commit()
    return {"org": org, "other": other, "trainer": trainer, "hr": hr, "learner": learner,
            "outsider": outsider, "past": past, "open": open_now, "open_ended": open_ended,
            "future": future, "foreign": foreign}


def test_a_window_must_make_sense(world):
    org = world["org"]
    with pytest.raises(ValidationFailed) as exc:
        calendar.save_item(organization=org, fields=calendar.ItemFields(
            title="", url="ftp://x", starts_on=_today(), ends_on=_today() - timedelta(days=1),
            networks=["myspace"]))
    assert set(exc.value.fields) == {"title", "url", "ends_on", "networks"}
    with pytest.raises(ValidationFailed) as exc:
        calendar.save_item(organization=org, fields=calendar.ItemFields(title="No date"))
    assert "starts_on" in exc.value.fields
    # Another organization's campaign or a learner cannot be used.
    with pytest.raises(ValidationFailed) as exc:
        calendar.save_item(organization=org, fields=calendar.ItemFields(
            title="x", starts_on=_today(), owner_id=world["learner"].id))
    assert "owner_id" in exc.value.fields


def test_open_now_and_open_items_for_the_digest(world):
    org, learner = world["org"], world["learner"]
    open_ids = [i.id for i in calendar.open_now(org.id, _today())]
    assert open_ids == [world["open_ended"].id, world["open"].id]
    since = _today() - timedelta(days=1)
    assert [i.id for i in calendar.open_items(org, learner, since)] == [world["open_ended"].id]
    consent(org, learner)
    calendar.mark_shared(organization=org, user=learner, item=world["open_ended"],
                         network="linkedin")
    db.session.commit()
    # Once shared, it is no longer news for that person.
    assert calendar.open_items(org, learner, since) == []
    assert calendar.open_items(org, world["hr"], since) == [world["open_ended"]]


def test_sharing_a_closed_item_or_without_consent_is_refused(world):
    org, learner = world["org"], world["learner"]
    with pytest.raises(ValidationFailed):
        calendar.mark_shared(organization=org, user=learner, item=world["future"],
                             network="linkedin")
    with pytest.raises(ValidationFailed) as exc:
        calendar.mark_shared(organization=org, user=learner, item=world["open"],
                             network="linkedin")
    assert exc.value.code == services.NO_CONSENT


def test_learner_sees_open_items_and_records_a_share(world, client, login):
    org, learner = world["org"], world["learner"]
    consent(org, learner)
    login(learner)
    page = client.get(f"/o/{org.slug}/advocacy/to-share")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Open now" in text and "Open ended" in text
    assert "Past news" not in text and "Next week" not in text and "Foreign" not in text
    # The page is in English here: the English angle, and the French sample post for want
    # of an English one.
    assert "Your view in a sentence" in text and "Ce que je retiens" in text
    assert "parrot effect" in text or "effet perroquet" in text
    # Seeing the list is a statement naming the items shown (and only those).
    [seen] = statements_by_verb(EXPERIENCED)
    assert seen["object"]["id"] == f"http://relais.test/xapi/activities/to-share/{org.slug}"
    assert seen["actor"]["account"]["name"] == str(learner.id)
    assert sorted(a["id"] for a in seen["context"]["contextActivities"]["other"]) == sorted(
        f"http://relais.test/xapi/activities/content-item/{world[k].id}"
        for k in ("open", "open_ended"))
    # An open item has its own page; a future one does not exist for a learner.
    assert client.get(f"/o/{org.slug}/advocacy/to-share/{world['open'].id}").status_code == 200
    assert [a["id"] for a in statements_by_verb(EXPERIENCED)[-1]["context"][
        "contextActivities"]["other"]] == [
        f"http://relais.test/xapi/activities/content-item/{world['open'].id}"]
    assert client.get(
        f"/o/{org.slug}/advocacy/to-share/{world['future'].id}").status_code == 404
    assert client.get(
        f"/o/{org.slug}/advocacy/to-share/{world['foreign'].id}").status_code == 404
    done = client.post(f"/o/{org.slug}/advocacy/to-share/{world['open'].id}/shared",
                       data={"network": "linkedin"})
    assert done.status_code == 302
    event = db.session.scalar(select(AdvocacyEvent).where(
        AdvocacyEvent.user_id == learner.id))
    assert event.content_item_id == world["open"].id and event.kind == "share"
    assert event.statement_id is not None
    dashboard = client.get(f"/o/{org.slug}/").get_data(as_text=True)
    assert "Open now" in dashboard


def test_the_calendar_pages_month_week_and_empty(world, client, login):
    org = world["org"]
    login(world["trainer"])
    today = _today()
    month = client.get(f"/o/{org.slug}/advocacy/calendar?day={today.isoformat()}")
    text = month.get_data(as_text=True)
    assert month.status_code == 200 and "Open now" in text and "Foreign" not in text
    week = client.get(f"/o/{org.slug}/advocacy/calendar?view=week&day="
                      f"{(today + timedelta(days=7)).isoformat()}")
    assert "Next week" in week.get_data(as_text=True)
    empty = client.get(f"/o/{org.slug}/advocacy/calendar?day=2000-01-15")
    assert "Nothing is planned" in empty.get_data(as_text=True)
    # Bad dates fall back to today rather than failing.
    assert client.get(f"/o/{org.slug}/advocacy/calendar?day=2026-13-45").status_code == 200
    client.post("/logout")
    login(world["learner"])
    assert client.get(f"/o/{org.slug}/advocacy/calendar").status_code == 403


def test_adding_content_keeps_what_was_typed_on_error(world, client, login):
    org = world["org"]
    login(world["trainer"])
    bad = client.post(f"/o/{org.slug}/advocacy/calendar/items/new", data={
        "title": "Témoignage", "url": "pas une adresse", "starts_on": "2027-03-10",
        "ends_on": "2027-03-01", "networks": ["linkedin"]})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "Témoignage" in text
    assert "http://" in text  # the URL's message next to its field
    good = client.post(f"/o/{org.slug}/advocacy/calendar/items/new", data={
        "title": "Témoignage", "url": "https://www.example.com/t", "starts_on": "2027-03-10",
        "ends_on": "2027-03-20", "networks": ["linkedin", "x"], "angle_en": "Your story"})
    assert good.status_code == 302
    item = db.session.scalar(select(ContentItem).where(ContentItem.title == "Témoignage"))
    assert item.network_list == ["linkedin", "x"] and item.owner_id == world["trainer"].id
    assert item.angle_en == "Your story"
    # Another organization's item is not found.
    assert client.get(f"/o/{org.slug}/advocacy/calendar/items/"
                      f"{world['foreign'].id}").status_code == 404


def _statements(org_id: int, verb: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Statement).where(
        Statement.organization_id == org_id, Statement.verb_id.like(f"%/xapi/verbs/{verb}")))


def test_proposals_are_reviewed_and_recorded_as_statements(world, client, login):
    org, learner, trainer = world["org"], world["learner"], world["trainer"]
    login(learner)
    refused = client.post(f"/o/{org.slug}/advocacy/proposals", data={"title": "Idée"})
    assert refused.status_code == 422 and "Idée" in refused.get_data(as_text=True)
    client.post(f"/o/{org.slug}/advocacy/proposals", data={
        "title": "Notre stand au salon", "url": "https://www.example.com/salon",
        "note": "Photos chez moi"})
    client.post(f"/o/{org.slug}/advocacy/proposals", data={
        "title": "Recette maison", "text": "Une idée hors sujet"})
    first, second = sorted(proposals.listed(org.id), key=lambda p: p.id)
    assert _statements(org.id, "proposed") == 2
    assert client.get(f"/o/{org.slug}/advocacy/proposals/review").status_code == 403
    client.post("/logout")
    login(trainer)
    start = _today() + timedelta(days=2)
    approved = client.post(f"/o/{org.slug}/advocacy/proposals/{first.id}/approve", data={
        f"a{first.id}-starts_on": start.isoformat(), f"a{first.id}-networks": ["linkedin"]})
    assert approved.status_code == 302
    no_reason = client.post(f"/o/{org.slug}/advocacy/proposals/{second.id}/decline",
                            data={f"d{second.id}-reason": " "})
    assert no_reason.status_code == 422
    client.post(f"/o/{org.slug}/advocacy/proposals/{second.id}/decline",
                data={f"d{second.id}-reason": "Hors du sujet de l'entreprise"})
    db.session.expire_all()
    first, second = db.session.get(ContentProposal, first.id), db.session.get(
        ContentProposal, second.id)
    assert first.status == "approved" and first.content_item.starts_on == start
    assert first.content_item.url == "https://www.example.com/salon"
    assert second.status == "declined"
    assert _statements(org.id, "approved") == 1 and _statements(org.id, "declined") == 1
    with pytest.raises(proposals.AlreadyReviewed):
        proposals.decline(organization=org, proposal=first, reviewer=trainer, reason="x")
    client.post("/logout")
    login(learner)
    mine = client.get(f"/o/{org.slug}/advocacy/proposals").get_data(as_text=True)
    assert "Hors du sujet de l&#39;entreprise" in mine or "Hors du sujet de l'entreprise" in mine


def test_ical_feed_by_secret_address_and_revocation(world, client, login):
    org, trainer = world["org"], world["trainer"]
    login(trainer)
    page = client.post(f"/o/{org.slug}/advocacy/calendar/feed", data={"action": "issue"})
    text = page.get_data(as_text=True)
    address = text.split('id="feed-url" type="text" readonly value="')[1].split('"')[0]
    path = address.split("://", 1)[1].split("/", 1)[1]
    client.post("/logout")
    with client.session_transaction() as session:
        session.clear()
    feed = client.get("/" + path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(feed.data)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert {"Open now", "Open ended", "Next week", "Past news"} <= set(events)
    assert "Foreign" not in events
    window = events["Open now"]
    assert window.decoded("dtstart") == world["open"].starts_on
    assert window.decoded("dtend") == world["open"].ends_on + timedelta(days=1)
    login(trainer)
    client.post(f"/o/{org.slug}/advocacy/calendar/feed", data={"action": "revoke"})
    assert client.get("/" + path).status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_csv_export_round_trips_and_a_bad_import_writes_nothing(world, client, login):
    org = world["org"]
    login(world["hr"])
    exported = client.get(f"/o/{org.slug}/advocacy/calendar/export.csv")
    assert exported.status_code == 200
    text = exported.data.decode("utf-8-sig")
    assert "Open now" in text and "Foreign" not in text
    before = db.session.scalar(select(func.count()).select_from(ContentItem))
    bad = ("title;starts_on;ends_on;networks;url\n"
           "Bon;2027-05-01;2027-05-10;linkedin;https://www.example.com/a\n"
           "Mauvais;01/13/2027;;myspace;https://www.example.com/b\n"
           ";2027-05-01;;;\n")
    page = client.post(f"/o/{org.slug}/advocacy/calendar/import", data={
        "file": (io.BytesIO(bad.encode()), "calendar.csv")},
        content_type="multipart/form-data")
    body = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Line 3" in body or "Ligne 3" in body
    assert "Line 4" in body or "Ligne 4" in body
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == before
    # The export, edited, comes back: an id changes that item, a row without one adds one.
    edited = text.replace("Open now", "Open now (edited)") + (
        ",Nouvelle,https://www.example.com/n,10/05/2027,,linkedin,,,,,,\n")
    try:
        result = calendar_csv.import_csv(organization=org, data=edited.encode())
    except calendar_csv.CalendarImportRejected as exc:
        raise AssertionError(exc.errors) from exc
    db.session.commit()
    assert result.created == 1 and result.updated == 4
    assert db.session.get(ContentItem, world["open"].id).title == "Open now (edited)"
    # Another organization's id is refused.
    foreign = f"id;title;starts_on\n{world['foreign'].id};Volé;2027-01-01\n"
    with pytest.raises(calendar_csv.CalendarImportRejected) as exc:
        calendar_csv.import_csv(organization=org, data=foreign.encode())
    assert exc.value.errors[0][0] == 2


def test_api_content_items_calendar_and_proposals(world, client, api_token):
    org = world["org"]
    base = f"/api/v1/orgs/{org.slug}/advocacy"
    learner, trainer = api_token(world["learner"]), api_token(world["trainer"])
    seen = client.get(f"{base}/content-items", headers=learner).get_json()["items"]
    assert {i["title"] for i in seen} == {"Open now", "Open ended"}
    assert client.post(f"{base}/content-items", headers=learner,
                       json={"title": "x"}).status_code == 403
    bad = client.post(f"{base}/content-items", headers=trainer,
                      json={"title": "x", "starts_on": "2027-02-10", "ends_on": "2027-02-01"})
    assert bad.status_code == 422 and "ends_on" in bad.get_json()["error"]["fields"]
    created = client.post(f"{base}/content-items", headers=trainer, json={
        "title": "Vidéo usine", "url": "https://www.example.com/v", "starts_on": "2027-02-10",
        "networks": ["youtube"], "angles": {"fr": "Votre poste", "en": "Your job"},
        "sample_posts": {"fr": "Voici…"}})
    assert created.status_code == 201
    item = created.get_json()
    assert item["angles"] == {"fr": "Votre poste", "en": "Your job"}
    patched = client.patch(f"{base}/content-items/{item['id']}", headers=trainer,
                           json={"ends_on": "2027-02-20"})
    assert patched.get_json()["ends_on"] == "2027-02-20"
    assert patched.get_json()["title"] == "Vidéo usine"
    assert client.patch(f"{base}/content-items/{world['foreign'].id}", headers=trainer,
                        json={}).status_code == 404
    ranged = client.get(f"{base}/calendar?start=2027-02-01&end=2027-02-28", headers=trainer)
    # The open-ended item is still running then; the week-long ones are over.
    assert [i["title"] for i in ranged.get_json()["items"]] == ["Open ended", "Vidéo usine"]
    assert client.get(f"{base}/calendar?start=2027-02-01&end=2026-01-01",
                      headers=trainer).status_code == 400
    assert client.get(f"{base}/calendar?start=2027-02-31", headers=trainer).status_code == 400
    proposal = client.post(f"{base}/proposals", headers=learner,
                           json={"title": "Idée", "text": "Un texte"}).get_json()
    assert proposal["status"] == "pending"
    reviewed = client.post(f"{base}/proposals/{proposal['id']}/review", headers=trainer,
                           json={"decision": "approve", "starts_on": "2027-03-01"})
    assert reviewed.status_code == 200 and reviewed.get_json()["status"] == "approved"
    again = client.post(f"{base}/proposals/{proposal['id']}/review", headers=trainer,
                        json={"decision": "decline", "reason": "x"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_reviewed"
    outsider = api_token(world["outsider"])
    assert client.get(f"{base}/proposals", headers=outsider).status_code == 404
    mine = client.get(f"{base}/proposals", headers=learner).get_json()["items"]
    assert [p["id"] for p in mine] == [proposal["id"]]


def test_demo_has_a_month_of_calendar_and_two_proposals():
    load_demo_once()
    today = _today()
    month = calendar.between(db.session.scalar(select(ContentItem.organization_id)),
                             today - timedelta(days=15), today + timedelta(days=15))
    assert len(month) >= 8
    statuses = sorted(db.session.scalars(select(ContentProposal.status)))
    assert statuses == ["approved", "pending"]
