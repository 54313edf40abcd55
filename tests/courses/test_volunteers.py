"""Calls for volunteers: a trainer opens one for a cohort, learners volunteer from their
dashboard while it is open, the trainer accepts (an enrolment) or declines, and sees the
group's diversity. Volunteering and acceptance are statements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.courses.cohorts.models import Enrollment
from lms.courses.cohorts.services import create_cohort
from lms.courses.volunteers import services
from lms.courses.volunteers.models import Volunteer, VolunteerCall
from lms.extensions import db
from lms.xapi.models import Statement


@pytest.fixture()
def wave(world):
    """A second, empty cohort of the program, for volunteers."""
    cohort = create_cohort(program=world.program, name="Vague 2", trainers=[
        world.member(world.trainer)])
    accounts.add_member(organization=world.org, user=world.learners[1], role=Role.LEARNER,
                        team="Marketing", job_family="marketing")
    db.session.commit()
    return world, cohort


def _open(client, w, cohort, **changes):
    form = {"text": "Testez la formation avec nous.", "criteria": "Toutes les équipes",
            "deadline": (services.today() + timedelta(days=7)).isoformat(), "seats": "2",
            **changes}
    return client.post(f"/o/{w.org.slug}/cohorts/{cohort.id}/volunteers", data=form)


def _verbs() -> list[str]:
    return [s.verb_id.rsplit("/", 1)[-1] for s in db.session.scalars(
        select(Statement).order_by(Statement.pk))]


def test_the_whole_call_from_the_trainer_to_the_dashboard_and_back(client, login, wave):
    w, cohort = wave
    login(w.trainer)
    assert _open(client, w, cohort).status_code == 302
    call = db.session.scalar(select(VolunteerCall))
    client.post("/logout")

    # Two learners volunteer from their dashboard, one with a note.
    for learner, note in ((w.learners[0], "Je publie déjà un peu."), (w.learners[1], "")):
        login(learner)
        page = client.get(f"/o/{w.org.slug}/").get_data(as_text=True)
        assert "Testez la formation avec nous." in page and "I volunteer" in page
        assert client.post(f"/o/{w.org.slug}/volunteer-calls/{call.id}/volunteer",
                           data={"note": note}).status_code == 302
        page = client.get(f"/o/{w.org.slug}/").get_data(as_text=True)
        assert "You have volunteered" in page
        client.post("/logout")
    assert _verbs().count("volunteered") == 2

    login(w.trainer)
    page = client.get(f"/o/{w.org.slug}/cohorts/{cohort.id}/volunteers").get_data(as_text=True)
    assert "Je publie déjà un peu." in page and "Diversity of the group" in page
    assert "Sales" in page and "Marketing" in page and "not assessed" in page
    first, second = db.session.scalars(select(Volunteer).order_by(Volunteer.id)).all()
    assert client.post(f"/o/{w.org.slug}/cohorts/{cohort.id}/volunteers/{first.id}/accept"
                       ).status_code == 302
    assert client.post(f"/o/{w.org.slug}/cohorts/{cohort.id}/volunteers/{second.id}/decline"
                       ).status_code == 302
    db.session.expire_all()
    assert (first.status, second.status) == ("accepted", "declined")
    enrolled = db.session.scalars(select(Enrollment).where(Enrollment.cohort_id == cohort.id))
    assert [e.membership_id for e in enrolled] == [first.membership_id]
    # Enrolled through the cohorts' one path ("registered"), and the acceptance recorded.
    assert _verbs()[-2:] == ["registered", "accepted"]
    # Deciding twice is refused.
    client.post(f"/o/{w.org.slug}/cohorts/{cohort.id}/volunteers/{first.id}/decline")
    db.session.expire_all()
    assert first.status == "accepted"


def test_bad_input_keeps_what_was_typed_next_to_the_fields(client, login, wave):
    w, cohort = wave
    login(w.trainer)
    yesterday = (services.today() - timedelta(days=1)).isoformat()
    response = _open(client, w, cohort, text="Mon appel", deadline=yesterday, seats="0")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The deadline is in the past." in page and "Between 1 and 1000 seats." in page
    assert "Mon appel" in page
    assert db.session.scalar(select(VolunteerCall)) is None


def test_a_closed_or_full_call_takes_no_more_volunteers(client, login, wave):
    w, cohort = wave
    trainer = w.member(w.trainer)
    call = services.save_call(cohort=cohort, text="Appel", criteria="",
                              deadline=services.today(), seats=1, by=trainer)
    v = services.volunteer(call=call, membership=w.member(w.learners[0]))
    services.accept(volunteer=v, by=trainer)
    db.session.commit()
    login(w.learners[1])
    # Full: gone from the dashboard, refused on post.
    assert "Appel" not in client.get(f"/o/{w.org.slug}/").get_data(as_text=True)
    response = client.post(f"/o/{w.org.slug}/volunteer-calls/{call.id}/volunteer",
                           data={"note": "moi aussi"})
    assert response.status_code == 409
    assert "This call for volunteers is closed." in response.get_data(as_text=True)
    assert db.session.query(Volunteer).count() == 1


def test_staff_cannot_volunteer_and_other_organizations_see_nothing(client, login, wave,
                                                                   create_user, create_org):
    w, cohort = wave
    call = services.save_call(cohort=cohort, text="Appel", criteria="",
                              deadline=services.today(), seats=3, by=w.member(w.trainer))
    db.session.commit()
    login(w.trainer)
    assert client.post(f"/o/{w.org.slug}/volunteer-calls/{call.id}/volunteer",
                       data={}).status_code == 403
    client.post("/logout")
    other = create_org(slug="other")
    stranger = create_user(Role.LEARNER, org=other)
    login(stranger)
    assert client.post(f"/o/{other.slug}/volunteer-calls/{call.id}/volunteer",
                       data={}).status_code == 404
    assert client.get(f"/o/{w.org.slug}/").status_code == 404


def test_the_api_for_calls_and_volunteers(client, api_token, wave):
    w, cohort = wave
    staff = api_token(w.trainer)
    base = f"/api/v1/orgs/{w.org.slug}"
    bad = client.put(f"{base}/cohorts/{cohort.id}/volunteer-call", headers=staff,
                     json={"text": "", "deadline": "2020-01-01", "seats": 0})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"text", "deadline", "seats"}
    deadline = (services.today() + timedelta(days=3)).isoformat()
    made = client.put(f"{base}/cohorts/{cohort.id}/volunteer-call", headers=staff,
                      json={"text": "Appel", "deadline": deadline, "seats": 2})
    assert made.status_code == 200
    call_id = made.get_json()["id"]

    learner = api_token(w.learners[1])
    listed = client.get(f"{base}/volunteer-calls", headers=learner).get_json()["items"]
    assert [c["id"] for c in listed] == [call_id] and listed[0]["mine"] is None
    done = client.post(f"{base}/volunteer-calls/{call_id}/volunteers", headers=learner,
                       json={"note": "Partante"})
    assert done.status_code == 201
    twice = client.post(f"{base}/volunteer-calls/{call_id}/volunteers", headers=learner,
                        json={})
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "conflict"
    assert client.post(f"{base}/volunteer-calls/{call_id}/volunteers", headers=staff,
                       json={}).status_code == 403

    detail = client.get(f"{base}/volunteer-calls/{call_id}", headers=staff).get_json()
    assert detail["diversity"]["teams"] == {"Marketing": {"volunteers": 1, "accepted": 0}}
    vid = detail["volunteers"][0]["id"]
    accepted = client.post(f"{base}/volunteer-calls/{call_id}/volunteers/{vid}/accept",
                           headers=staff)
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert db.session.get(Enrollment, accepted.get_json()["enrollment_id"]) is not None
    again = client.post(f"{base}/volunteer-calls/{call_id}/volunteers/{vid}/decline",
                        headers=staff)
    assert again.status_code == 409


def test_a_volunteer_s_note_is_exported_and_erased_with_them(wave):
    from lms.privacy.export import collect
    from lms.privacy.services import erase_member

    w, cohort = wave
    call = services.save_call(cohort=cohort, text="Appel", criteria="",
                              deadline=services.today(), seats=3, by=w.member(w.trainer))
    services.volunteer(call=call, membership=w.member(w.learners[0]), note="Je suis partante")
    db.session.commit()
    data, _files, _lines = collect(w.learners[0], w.org)
    assert [v["note"] for v in data["enrollments"]["volunteering"]] == ["Je suis partante"]
    erase_member(membership=w.member(w.learners[0]), by=None)
    db.session.commit()
    assert db.session.scalar(select(Volunteer.note)) == ""
