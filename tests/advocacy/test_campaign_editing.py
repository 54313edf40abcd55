"""Editing campaigns: objective, target, deadline; content items; archive and delete after a
confirmation."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.advocacy import queries, services
from lms.advocacy.models import AdvocacyEvent, Campaign, ContentItem
from lms.extensions import db
from tests.advocacy.helpers import consent


@pytest.fixture()
def world(create_org, create_user):
    org = create_org(slug="lumiere")
    trainer = create_user(Role.TRAINER, org=org)
    learner = create_user(Role.LEARNER, org=org)
    campaign = services.create_campaign(organization=org, kind="campaign",
                                        title="Lancement T3", target_metric="signups",
                                        target_value=3000, deadline=date(2026, 9, 30))
    item = services.add_content_item(campaign=campaign, title="Page d'inscription",
                                     url="https://www.example.com/t3", angle="Votre avis")
    db.session.commit()
    consent(org, learner)
    services.record_event(organization=org, user=learner, source="manual", data={
        "network": "linkedin", "kind": "share", "occurred_at": "2026-09-01",
        "url": "https://www.example.com/t3", "content_item_id": item.id, "signups": 7})
    db.session.commit()
    return {"org": org, "trainer": trainer, "learner": learner, "campaign": campaign,
            "item": item}


def _base(world):
    return f"/o/{world['org'].slug}/advocacy/campaigns/{world['campaign'].id}"


def test_create_and_edit_a_campaign(world, client, login):
    org = world["org"]
    login(world["trainer"])
    page = client.get(f"/o/{org.slug}/advocacy/campaigns")
    assert page.status_code == 200 and "Lancement T3" in page.get_data(as_text=True)
    created = client.post(f"/o/{org.slug}/advocacy/campaigns", data={
        "title": "12 embauches par cooptation", "kind": "talent", "target_metric": "hires",
        "target_value": "12", "deadline": "2026-12-31"})
    assert created.status_code == 302
    talent = db.session.scalar(select(Campaign).where(Campaign.kind == "talent"))
    assert (talent.target_metric, talent.target_value, talent.deadline) == (
        "hires", 12, date(2026, 12, 31))
    edited = client.post(_base(world), data={
        "c-title": "Lancement T3 : 4 000 inscriptions", "c-kind": "awareness",
        "c-target_metric": "clicks", "c-target_value": "4000", "c-deadline": "2026-10-15",
        "c-submit": "Save"})
    assert edited.status_code == 302
    db.session.expire_all()
    c = db.session.get(Campaign, world["campaign"].id)
    assert (c.title, c.kind, c.target_metric, c.target_value, c.deadline) == (
        "Lancement T3 : 4 000 inscriptions", "awareness", "clicks", 4000, date(2026, 10, 15))


def test_bad_input_is_shown_on_the_form(world, client, login):
    login(world["trainer"])
    response = client.post(_base(world), data={
        "c-title": "", "c-kind": "awareness", "c-target_metric": "clicks",
        "c-target_value": "-3", "c-submit": "Save"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    db.session.expire_all()
    assert db.session.get(Campaign, world["campaign"].id).title == "Lancement T3"
    bad_url = client.post(_base(world) + "/items", data={
        "item-title": "Vidéo", "item-url": "javascript:alert(1)"})
    assert bad_url.status_code == 422
    assert db.session.scalar(select(db.func.count()).select_from(ContentItem)) == 1


def test_add_edit_and_remove_content_items(world, client, login):
    login(world["trainer"])
    added = client.post(_base(world) + "/items", data={
        "item-title": "Vidéo des coulisses", "item-url": "https://www.example.com/video",
        "item-angle": "Une photo de votre stand"})
    assert added.status_code == 302
    video = db.session.scalar(select(ContentItem).where(ContentItem.title.like("Vidéo%")))
    assert video.campaign_id == world["campaign"].id and video.angle.startswith("Une photo")
    item = world["item"]
    edited = client.post(f"{_base(world)}/items/{item.id}", data={
        "title": "Inscriptions T3", "url": "https://www.example.com/t3-inscriptions",
        "angle": ""})
    assert edited.status_code == 302
    db.session.expire_all()
    item = db.session.get(ContentItem, item.id)
    assert (item.title, item.url, item.angle) == ("Inscriptions T3",
                                                  "https://www.example.com/t3-inscriptions",
                                                  None)
    # Removing asks first, saying the linked action is kept.
    confirm = client.get(f"{_base(world)}/items/{item.id}/delete")
    assert confirm.status_code == 200 and "1 recorded actions" in confirm.get_data(as_text=True)
    assert db.session.get(ContentItem, item.id) is not None
    assert client.post(f"{_base(world)}/items/{item.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(ContentItem, item.id) is None
    event = db.session.scalar(select(AdvocacyEvent))
    assert event.content_item_id is None and event.signups == 7


def test_archive_then_restore(world, client, login):
    org = world["org"]
    login(world["trainer"])
    confirm = client.get(_base(world) + "/archive")
    assert confirm.status_code == 200 and "Archive the campaign" in confirm.get_data(
        as_text=True)
    assert client.post(_base(world) + "/archive").status_code == 302
    db.session.expire_all()
    assert queries.campaigns(org.id) == []  # no longer offered to learners
    assert "archived" in client.get(f"/o/{org.slug}/advocacy/campaigns").get_data(as_text=True)
    assert client.post(_base(world) + "/archive").status_code == 302
    db.session.expire_all()
    assert [c.id for c in queries.campaigns(org.id)] == [world["campaign"].id]


def test_delete_after_confirmation_keeps_the_activity(world, client, login):
    login(world["trainer"])
    confirm = client.get(_base(world) + "/delete")
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.get_data(as_text=True)
    assert db.session.get(Campaign, world["campaign"].id) is not None
    assert client.post(_base(world) + "/delete").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(Campaign)) == 0
    assert db.session.scalar(select(db.func.count()).select_from(ContentItem)) == 0
    event = db.session.scalar(select(AdvocacyEvent))
    assert (event.campaign_id, event.content_item_id, event.signups) == (None, None, 7)


def test_learners_and_other_organizations_cannot_edit(world, client, login, create_user,
                                                      create_org):
    login(world["learner"])
    assert client.get(f"/o/{world['org'].slug}/advocacy/campaigns").status_code == 403
    assert client.post(_base(world) + "/delete").status_code == 403
    client.post("/logout")
    other = create_org()
    login(create_user(Role.TRAINER, org=other))
    assert client.get(f"/o/{other.slug}/advocacy/campaigns/{world['campaign'].id}"
                      ).status_code == 404


def test_a_content_item_answers_only_under_its_own_campaign(world, client, login):
    """An item reached through another campaign's address, or another organization's, is 404."""
    org, item = world["org"], world["item"]
    other = services.create_campaign(organization=org, kind="talent", title="Cooptation",
                                     target_metric="hires", target_value=12, deadline=None)
    db.session.commit()
    login(world["trainer"])
    own = f"{_base(world)}/items/{item.id}"
    assert client.get(own).status_code == 200
    assert client.get(own + "/delete").status_code == 200
    wrong = f"/o/{org.slug}/advocacy/campaigns/{other.id}/items/{item.id}"
    assert client.get(wrong).status_code == 404
    assert client.post(wrong + "/delete").status_code == 404
    assert db.session.get(ContentItem, item.id) is not None


def test_the_confirmation_in_french(world, client, login):
    login(world["trainer"])
    html = client.get(_base(world) + "/delete", headers={"Accept-Language": "fr"}
                      ).get_data(as_text=True)
    assert "Supprimer la campagne «\u00a0Lancement T3\u00a0»\u00a0?" in html


def test_progress_is_summed_in_sql_as_the_kpi_says(world):
    from lms.advocacy import campaigns, kpis

    org, campaign = world["org"], world["campaign"]
    services.record_event(organization=org, user=world["learner"], source="manual", data={
        "network": "x", "kind": "comment", "occurred_at": "2026-09-02",
        "url": "https://x.com/p/1", "campaign_id": campaign.id, "signups": 5})
    db.session.commit()
    sql = campaigns.progress(org.id, [campaign])[campaign.id]
    # 7 + 5 sign-ups of a 3,000 target.
    assert sql == {"value": 12, "percent": pytest.approx(0.4), "events": 2}
    assert sql == kpis.campaign_progress(queries.event_records(org.id), campaign_id=campaign.id,
                                         target_metric="signups", target_value=3000)
