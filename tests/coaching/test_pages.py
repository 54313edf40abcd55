"""Coaching pages: the coach schedules, holds and records a follow-up; the learner reads the
notes, ticks action items and downloads the calendar file; lists, filters, links, French."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.coaching import services
from lms.coaching.models import ActionItem, FollowUp
from lms.core.models import utcnow
from lms.courses.cohorts.queries import progress_by_module
from lms.extensions import db
from tests.support import PASSWORD


def _login(client, user):
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def _schedule(w, learner=0, when=None, key="suivi-1"):
    f = services.schedule(enrollment=w.enrollments[learner], module=w.module(key),
                          coach=w.member(w.trainer),
                          scheduled_at=when or utcnow() - timedelta(hours=1),
                          place="Salle Confluence")
    db.session.commit()
    return f


def test_coach_schedules_holds_and_the_module_completes(client, enrolled):
    w = enrolled
    _login(client, w.trainer)
    e = w.enrollments[0]
    page = client.get(f"/o/acme/coaching/learners/{e.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Schedule a follow-up" in html and 'name="day"' in html
    day = (utcnow() - timedelta(days=1)).date().isoformat()
    response = client.post(f"/o/acme/coaching/learners/{e.id}/schedule", data={
        "module_id": w.module("suivi-1").id, "day": day, "time": "10:00",
        "duration_minutes": "30", "place": "", "video_link": "https://visio.example/abc",
        "coach_id": w.member(w.trainer).id, "how": "one"})
    assert response.status_code == 302
    followup = db.session.scalar(select(FollowUp))
    assert followup.video_link == "https://visio.example/abc"
    listing = client.get("/o/acme/coaching").get_data(as_text=True)
    assert "Overdue" in listing and "Learner 0" in listing
    response = client.post(f"/o/acme/coaching/followups/{followup.id}/hold", data={
        "notes": "Très bon premier post.\nÀ suivre : la régularité.",
        "action_text": ["Publier chaque mardi", "", "Répondre aux commentaires"],
        "action_due": [(utcnow() + timedelta(days=7)).date().isoformat(), "", ""],
        "next_followup_on": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert followup.status == "held"
    assert [a.text for a in followup.action_items] == ["Publier chaque mardi",
                                                       "Répondre aux commentaires"]
    progress = progress_by_module(e.id)[w.module("suivi-1").id]
    assert progress.state == "completed"
    # Nothing to hold any more.
    assert "No follow-up to hold" in client.get("/o/acme/coaching").get_data(as_text=True)


def test_bad_schedule_input_is_a_message_not_a_500(client, enrolled):
    w = enrolled
    _login(client, w.trainer)
    e = w.enrollments[0]
    response = client.post(f"/o/acme/coaching/learners/{e.id}/schedule", data={
        "module_id": w.module("suivi-1").id, "day": "not-a-day", "time": "10:00",
        "place": "", "video_link": "ftp://x", "how": "one"}, follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The follow-up was not scheduled." in html
    assert db.session.scalar(select(FollowUp)) is None


def test_learner_reads_notes_ticks_actions_and_gets_the_calendar(client, enrolled):
    w = enrolled
    held = _schedule(w)
    services.record_held(followup=held, notes="Notes partagées <b>ok</b>",
                         actions=[("Mettre à jour son titre", None)])
    coming = _schedule(w, when=utcnow() + timedelta(days=3), key="suivi-2")
    db.session.commit()
    _login(client, w.learners[0])
    html = client.get("/o/acme/my/followups").get_data(as_text=True)
    assert "Notes partagées &lt;b&gt;ok&lt;/b&gt;" in html  # escaped
    assert "Mettre à jour son titre" in html and "Next follow-up" in html
    item = db.session.scalar(select(ActionItem))
    response = client.post(f"/o/acme/my/actions/{item.id}", data={"status": "done"})
    assert response.status_code == 302
    db.session.expire_all()
    assert item.status == "done" and item.completed_by_id == w.learners[0].id
    ics = client.get(f"/o/acme/coaching/followups/{coming.id}/calendar.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    body = ics.get_data(as_text=True)
    assert "BEGIN:VEVENT" in body and "LOCATION:Salle Confluence" in body
    # My training shows the coaching module's state and links to the follow-ups.
    program = client.get(f"/o/acme/training/{w.enrollments[0].id}").get_data(as_text=True)
    assert "Follow-ups held: 1 of 1" in program and "/o/acme/my/followups#module-" in program


def test_a_learner_cannot_see_or_tick_another_learners_follow_ups(client, enrolled):
    w = enrolled
    held = _schedule(w)
    services.record_held(followup=held, notes="privé", actions=[("Action", None)])
    db.session.commit()
    _login(client, w.learners[1])
    assert "privé" not in client.get("/o/acme/my/followups").get_data(as_text=True)
    item = db.session.scalar(select(ActionItem))
    assert client.post(f"/o/acme/my/actions/{item.id}", data={"status": "done"}).status_code \
        == 404
    assert client.get(f"/o/acme/coaching/followups/{held.id}/calendar.ics").status_code == 404
    assert client.get(f"/o/acme/coaching/followups/{held.id}").status_code == 403


def test_cancel_asks_for_confirmation(client, enrolled):
    w = enrolled
    f = _schedule(w, when=utcnow() + timedelta(days=2))
    _login(client, w.trainer)
    page = client.get(f"/o/acme/coaching/followups/{f.id}/close?outcome=cancelled")
    assert page.status_code == 200 and "Cancel the follow-up of" in page.get_data(as_text=True)
    db.session.expire_all()
    assert f.status == "scheduled"
    client.post(f"/o/acme/coaching/followups/{f.id}/close", data={"outcome": "cancelled"})
    db.session.expire_all()
    assert f.status == "cancelled"


def test_list_filters_by_cohort_and_paginates(client, enrolled):
    from lms.courses.cohorts.services import create_cohort

    w = enrolled
    other = create_cohort(program=w.program, name="Vague 2")
    db.session.commit()
    for i in range(30):
        services.schedule(enrollment=w.enrollments[i % 4], module=w.module("suivi-1"),
                          coach=None, scheduled_at=utcnow() + timedelta(days=1, hours=i),
                          place="Salle")
    db.session.commit()
    _login(client, w.trainer)
    first = client.get("/o/acme/coaching").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert "No follow-up to hold" in client.get(
        f"/o/acme/coaching?cohort={other.id}").get_data(as_text=True)
    assert "Page 2 of 2" in client.get("/o/acme/coaching?page=2").get_data(as_text=True)


def test_cohort_page_links_to_coaching(client, enrolled):
    w = enrolled
    _login(client, w.trainer)
    html = client.get(f"/o/acme/cohorts/{w.cohort.id}").get_data(as_text=True)
    assert f"/o/acme/coaching?cohort={w.cohort.id}" in html
    assert f"/o/acme/coaching/learners/{w.enrollments[0].id}" in html


def test_pages_in_french(client, enrolled):
    w = enrolled
    _schedule(w, when=utcnow() - timedelta(days=1))
    _login(client, w.trainer)
    client.get("/language/fr")
    html = client.get("/o/acme/coaching").get_data(as_text=True)
    assert "Suivis de coaching" in html and "En retard" in html


def test_a_round_is_planned_from_the_list(client, enrolled):
    w = enrolled
    _login(client, w.trainer)
    html = client.get("/o/acme/coaching").get_data(as_text=True)
    assert "Plan a round of follow-ups" in html
    target = f"{w.cohort.id}:{w.module('suivi-2').id}"
    response = client.post("/o/acme/coaching/round", data={
        "target": target, "day": "2030-01-07", "time": "09:00", "gap_minutes": "10",
        "place": "Salle Bellecour", "coach_id": w.member(w.trainer).id},
        follow_redirects=True)
    assert "4 follow-ups scheduled." in response.get_data(as_text=True)
    assert client.post("/o/acme/coaching/round", data={"target": "0:0"}).status_code == 302


def test_a_cohort_without_coaching_modules_has_no_coaching_links(client, enrolled):
    from lms.courses.cohorts.services import create_cohort, enrol
    from lms.courses.programs.services import copy_from_catalogue

    w = enrolled
    program = copy_from_catalogue(organization=w.org,
                                  slug="sensibilisation-reseaux-sociaux")
    cohort = create_cohort(program=program, name="Atelier")
    enrol(cohort=cohort, membership=w.member(w.learners[0]))
    db.session.commit()
    _login(client, w.trainer)
    html = client.get(f"/o/acme/cohorts/{cohort.id}").get_data(as_text=True)
    assert "/coaching/learners/" not in html and "/o/acme/coaching?cohort=" not in html


def test_my_follow_ups_anchor_each_module_once(client, enrolled):
    import re

    w = enrolled
    for days in (2, 9):
        _schedule(w, when=utcnow() + timedelta(days=days))
    _login(client, w.learners[0])
    html = client.get("/o/acme/my/followups").get_data(as_text=True)
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert f'id="module-{w.module("suivi-1").id}"' in html


def test_a_follow_up_recorded_by_mistake_is_undone_after_confirmation(client, enrolled):
    w = enrolled
    f = _schedule(w)
    services.record_held(followup=f, notes="n")
    db.session.commit()
    _login(client, w.trainer)
    assert "Undo it" in client.get(f"/o/acme/coaching/followups/{f.id}").get_data(as_text=True)
    page = client.get(f"/o/acme/coaching/followups/{f.id}/reopen")
    assert page.status_code == 200 and "Undo the follow-up of" in page.get_data(as_text=True)
    db.session.expire_all()
    assert f.status == "held"
    client.post(f"/o/acme/coaching/followups/{f.id}/reopen")
    db.session.expire_all()
    assert f.status == "scheduled"


def test_an_undone_follow_up_offers_its_notes_again(client, enrolled):
    w = enrolled
    f = _schedule(w)
    services.record_held(followup=f, notes="Notes à garder")
    services.reopen(followup=f, by=w.trainer)
    db.session.commit()
    _login(client, w.trainer)
    html = client.get(f"/o/acme/coaching/followups/{f.id}").get_data(as_text=True)
    assert "Record the follow-up as held" in html and ">Notes à garder</textarea>" in html


def test_deleting_a_coaching_module_says_its_follow_ups_go(client, enrolled):
    w = enrolled
    _schedule(w, learner=0)
    _schedule(w, learner=1)
    _login(client, w.trainer)
    url = f"/o/acme/programs/{w.program.id}/modules/{w.module('suivi-1').id}/delete"
    page = client.get(url).get_data(as_text=True)
    assert "2 coaching follow-ups, with their notes and action items" in page
    assert client.post(url).status_code == 302
    assert db.session.scalar(select(FollowUp)) is None
