"""The e-mail digest: what it holds (the charter to accept, exercises due, follow-ups coming,
and any section a package adds), the person's frequency, the one-click unsubscribe link, and
the periodic sending through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.charter import services as charter
from lms.coaching import services as coaching
from lms.core.models import utcnow
from lms.extensions import db
from lms.jobs.periodic import PERIODIC, run_due
from lms.notifications import services
from lms.notifications.models import DAILY, NEVER, DigestPreference
from lms.notifications.sections import SECTIONS, Item, Section
from tests.support import smtp_listener


@pytest.fixture()
def smtp(app):
    with smtp_listener() as server:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.server_address[1])
        yield server


def _mails(server):
    return [message_from_bytes(raw, policy=policy.default) for raw in server.messages]


@pytest.fixture()
def learner_world(enrolled):
    """A charter to accept, the profile exercise due soon, a follow-up in three days."""
    w = enrolled
    charter.publish(organization=w.org, body_fr="Je parle en mon nom.", body_en="", by=None)
    enrollment = w.enrollments[0]
    module = w.module("suivi-1")
    coaching.schedule(enrollment=enrollment, module=module, coach=w.member(w.trainer),
                      scheduled_at=utcnow() + timedelta(days=3), place="Salle Lumière")
    db.session.commit()
    return w


def test_the_digest_gathers_the_charter_exercises_and_follow_ups(learner_world):
    w = learner_world
    [digest] = services.build(w.learners[0])
    keys = [s.key for s in digest.sections]
    assert keys == ["charter", "coaching"], keys
    # The first exercise is due 14 days after the cohort starts (in 11 days): it comes into
    # the digest two weeks before, and says so once overdue.
    soon = services.build(w.learners[0], now=utcnow() + timedelta(days=12))[0].sections
    [exercises] = [s for s in soon if s.key == "exercises"]
    assert "/o/acme/training/" in exercises.items[0].url
    late = services.build(w.learners[0], now=utcnow() + timedelta(days=30))[0].sections
    assert any(i.text.startswith("Overdue") for s in late if s.key == "exercises"
               for i in s.items)
    charter_item = digest.sections[0].items[0]
    assert charter_item.url == "http://relais.test/o/acme/charter"
    # Someone who accepted the charter and has no follow-up gets no charter section.
    charter.accept(membership=w.member(w.learners[1]))
    db.session.commit()
    assert "charter" not in {s.key for d in services.build(w.learners[1]) for s in d.sections}


def test_a_package_adds_its_own_section(learner_world):
    w = learner_world

    def to_share(membership, now):
        return Section("share", "À partager", [Item("Le lancement Éclat", "http://x/1")],
                       order=5)

    SECTIONS.add(to_share)
    try:
        [digest] = services.build(w.learners[0])
    finally:
        SECTIONS.remove(to_share)
    assert digest.sections[0].key == "share"


def test_the_page_shows_my_next_digest_and_saves_my_frequency(learner_world, client, login):
    w = learner_world
    login(w.learners[0])
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "/o/acme/charter" in page and 'value="weekly" checked' in page
    client.post("/account/notifications", data={"frequency": "daily"})
    assert services.preference_of(w.learners[0]).frequency == DAILY
    client.post("/account/notifications", data={"frequency": "hourly"})
    assert services.preference_of(w.learners[0]).frequency == DAILY  # refused, kept


def test_due_digests_go_by_smtp_with_a_one_click_unsubscribe_header(learner_world, smtp,
                                                                   client, app):
    w = learner_world
    sent = services.send_due()
    db.session.commit()
    # Every learner has the charter to accept; the trainer too.
    assert sent == len(smtp.messages) == 5
    mails = {m["To"]: m for m in _mails(smtp)}
    mail = mails[w.learners[0].email]
    link = str(mail["List-Unsubscribe"]).strip().strip("<>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.startswith("http://relais.test/notifications/unsubscribe/")
    text = mail.get_body(("plain",)).get_content()
    assert "http://relais.test/o/acme/charter" in text and "Salle" not in text
    assert "Suivis de coaching à venir" in text  # in her language (French by default)
    # Sent once per period: a second run sends nothing.
    assert services.send_due() == 0
    # A mail scanner following the link changes nothing; the one-click POST unsubscribes.
    path = link.removeprefix("http://relais.test")
    assert client.get(path).status_code == 200
    assert services.preference_of(w.learners[0]).frequency != NEVER
    # The mail program posts without a CSRF token: the signed link is the proof.
    app.config["WTF_CSRF_ENABLED"] = True
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert services.preference_of(w.learners[0]).frequency == NEVER
    assert client.post(path[:-3] + "xyz").status_code == 404


def test_daily_comes_again_the_next_day_weekly_a_week_later_never_not_at_all(learner_world,
                                                                           smtp):
    w = learner_world
    daily, weekly, never = w.learners[:3]
    services.set_frequency(user=daily, frequency=DAILY)
    services.set_frequency(user=never, frequency=NEVER)
    db.session.commit()
    services.send_due()
    assert never.email not in {m["To"] for m in _mails(smtp)}
    smtp.messages.clear()
    services.send_due(now=utcnow() + timedelta(days=1))
    assert {m["To"] for m in _mails(smtp)} == {daily.email}
    smtp.messages.clear()
    services.send_due(now=utcnow() + timedelta(days=7))
    assert weekly.email in {m["To"] for m in _mails(smtp)}


def test_nothing_to_say_sends_nothing_and_a_refusing_server_gives_the_digest_back(
        learner_world, app, create_user, create_org):
    w = learner_world
    quiet = create_user(Role.LEARNER, org=create_org())
    with smtp_listener() as server:
        port = server.server_address[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)  # closed now: refused
    assert services.send_due() == 0
    pref = db.session.get(DigestPreference, w.learners[0].id)
    assert pref.last_digest_at is None  # given back for the next run
    quiet_pref = db.session.get(DigestPreference, quiet.id)
    assert quiet_pref is not None and quiet_pref.last_digest_at is not None  # nothing to say


def test_the_periodic_work_sends_the_digests(learner_world, smtp):
    assert "notifications.digests" in PERIODIC
    assert "notifications.digests" in run_due()
    assert smtp.messages
    assert db.session.scalar(select(DigestPreference.last_digest_at).limit(1)) is not None


def test_content_opened_this_week_and_not_yet_shared_is_in_the_digest(learner_world):
    """The editorial calendar's items open since a week come under "New content to share";
    an item opened earlier, or not open yet, does not."""
    from lms.advocacy.calendar import ItemFields, save_item

    w = learner_world
    today = utcnow().date()
    for title, start in (("Nouvelle offre", today - timedelta(days=2)),
                         ("Ancienne offre", today - timedelta(days=20)),
                         ("Offre à venir", today + timedelta(days=3))):
        save_item(organization=w.org, fields=ItemFields(
            title=title, url="https://example.com/offre", starts_on=start,
            ends_on=today + timedelta(days=10), networks=["linkedin"]))
    db.session.commit()
    [digest] = services.build(w.learners[0])
    [share] = [s for s in digest.sections if s.key == "to-share"]
    assert [i.text for i in share.items] == ["Nouvelle offre"]
    assert "/o/acme/advocacy/to-share/" in share.items[0].url
