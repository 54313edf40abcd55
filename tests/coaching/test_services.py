"""Coaching services: plans, scheduling with proposed dates, holding a follow-up (statements,
module completion), cancelling, action items, and the due list."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from lms.coaching import queries, services
from lms.coaching.models import CANCELLED, DONE, HELD, MISSED, OPEN, FollowUp
from lms.core.errors import Conflict, ValidationFailed
from lms.core.models import utcnow
from lms.courses.cohorts.queries import progress_by_module
from lms.extensions import db
from lms.xapi.models import Statement


def _statements(org_id: int, verb: str) -> list[dict]:
    rows = db.session.scalars(select(Statement.data).where(
        Statement.organization_id == org_id, Statement.verb_id == verb,
        Statement.voided.is_(False)))
    return [json.loads(r) for r in rows]


ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def _schedule(w, learner=0, key="suivi-1", when=None, **kw):
    return services.schedule(enrollment=w.enrollments[learner], module=w.module(key),
                             coach=w.member(w.trainer),
                             scheduled_at=when or utcnow() - timedelta(hours=2),
                             place=kw.pop("place", "Salle 2"), **kw)


def test_the_catalogue_plan_is_on_the_coaching_modules(enrolled):
    assert services.plan_of(enrolled.module("suivi-1")) == {
        "followups": 1, "spacing_days": 14, "duration_minutes": 30}
    assert services.plan_of(enrolled.module("suivi-2"))["duration_minutes"] == 45


def test_holding_the_required_follow_ups_completes_the_module(enrolled):
    w = enrolled
    module = w.module("suivi-1")
    services.set_plan(module=module, followups=2, spacing_days=7, duration_minutes=30)
    assert module.completion == {"type": "followups_held", "count": 2}
    first = _schedule(w)
    second = _schedule(w, when=utcnow() - timedelta(hours=1))
    db.session.commit()
    services.record_held(followup=first, notes="Bon départ.",
                         actions=[("Publier un post", date.today() + timedelta(days=7)),
                                  ("  ", None)], next_followup_on=date.today())
    db.session.commit()
    assert first.status == HELD and first.statement_id
    assert [a.text for a in first.action_items] == ["Publier un post"]
    progress = progress_by_module(w.enrollments[0].id)[module.id]
    assert progress.state == "in_progress"
    held = _statements(w.org.id, ATTENDED)
    coaching = [s for s in held if "/coaching/" in s["object"]["id"]]
    assert len(coaching) == 1
    assert coaching[0]["context"]["registration"] == w.enrollments[0].id
    assert coaching[0]["context"]["instructor"]["account"]["name"] == str(w.trainer.id)
    assert coaching[0]["result"]["duration"] == "PT30M"
    assert "Bon départ" not in json.dumps(coaching[0])  # notes stay between them

    services.record_held(followup=second, notes=None)
    db.session.commit()
    progress = progress_by_module(w.enrollments[0].id)[module.id]
    assert progress.state == "completed"
    direct = [s for s in _statements(w.org.id, COMPLETED)
              if s["object"]["id"].endswith(f"/module/{module.id}")]
    assert direct  # the module's own "completed" (and the derived one)
    # Another learner's module is untouched.
    assert module.id not in progress_by_module(w.enrollments[1].id)


def test_a_follow_up_is_held_once(enrolled):
    followup = _schedule(enrolled)
    services.record_held(followup=followup, notes="x")
    db.session.commit()
    with pytest.raises(Conflict):
        services.record_held(followup=followup, notes="y")
    with pytest.raises(Conflict):
        services.cancel(followup=followup)
    with pytest.raises(Conflict):
        services.reschedule(followup=followup, scheduled_at=utcnow(), place="x")


def test_cancelled_and_missed_follow_ups_do_not_count(enrolled):
    w = enrolled
    a, b = _schedule(w), _schedule(w)
    services.cancel(followup=a)
    services.mark_missed(followup=b)
    db.session.commit()
    assert (a.status, b.status) == (CANCELLED, MISSED)
    assert services.held_count(w.enrollments[0], w.module("suivi-1")) == 0
    assert not _statements(w.org.id, ATTENDED)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"place": "", "video_link": None}, "place"),
    ({"video_link": "http://visio.example/x"}, "video_link"),
    ({"duration_minutes": 2}, "duration_minutes"),
    ({"when": "naive"}, "scheduled_at"),
])
def test_scheduling_refuses_bad_input_by_field(enrolled, kwargs, field):
    if kwargs.get("when") == "naive":
        kwargs["when"] = datetime(2026, 12, 1, 10)
    with pytest.raises(ValidationFailed) as exc:
        _schedule(enrolled, **kwargs)
    assert field in exc.value.fields


def test_only_coaching_modules_of_the_learner_program_and_staff_coaches(enrolled, create_user):
    w = enrolled
    with pytest.raises(ValidationFailed) as exc:
        _schedule(w, key="lancement")
    assert "module" in exc.value.fields
    learner_coach = w.member(w.learners[1])
    with pytest.raises(ValidationFailed) as exc:
        services.schedule(enrollment=w.enrollments[0], module=w.module("suivi-1"),
                          coach=learner_coach, scheduled_at=utcnow(), place="x")
    assert "coach" in exc.value.fields


def test_proposed_dates_follow_the_plan_spacing_on_working_days(enrolled):
    w = enrolled
    module = w.module("suivi-1")
    services.set_plan(module=module, followups=3, spacing_days=7, duration_minutes=30)
    start = datetime(2026, 12, 5, 9, tzinfo=UTC)  # a Saturday
    dates = services.propose_dates(enrollment=w.enrollments[0], module=module, start=start)
    assert len(dates) == 3
    assert [d.weekday() for d in dates] == [0, 0, 0]  # moved to Mondays
    assert dates[1] - dates[0] == timedelta(days=7)
    made = services.schedule_plan(enrollment=w.enrollments[0], module=module,
                                  coach=w.member(w.trainer), start=start, place="Salle 2")
    assert len(made) == 3
    with pytest.raises(Conflict):
        services.schedule_plan(enrollment=w.enrollments[0], module=module, coach=None,
                               place="x")
    # The next module's first follow-up comes its spacing after the latest one.
    nxt = services.propose_dates(enrollment=w.enrollments[0], module=w.module("suivi-2"))
    assert len(nxt) == 1
    assert nxt[0].date() >= (made[-1].scheduled_at + timedelta(days=21)).date()


def test_plan_must_agree_with_the_rule_and_be_on_coaching_modules(enrolled):
    w = enrolled
    with pytest.raises(ValidationFailed) as exc:
        services.set_plan(module=w.module("lancement"), followups=1, spacing_days=7,
                          duration_minutes=30)
    assert "coaching" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        services.set_plan(module=w.module("suivi-1"), followups=0, spacing_days=400,
                          duration_minutes=30)
    assert set(exc.value.fields) == {"followups", "spacing_days"}


def test_action_items_ticked_record_and_untick_voids(enrolled):
    w = enrolled
    followup = _schedule(w)
    services.record_held(followup=followup, notes="n", actions=[("Mettre à jour le profil",
                                                                 None)])
    db.session.commit()
    item = followup.action_items[0]
    learner = w.learners[0]
    services.set_action_status(item=item, status=DONE, by=learner)
    db.session.commit()
    assert item.completed_by_id == learner.id and item.statement_id
    done = [s for s in _statements(w.org.id, COMPLETED) if "/coaching-action/" in
            s["object"]["id"]]
    assert len(done) == 1
    services.set_action_status(item=item, status=OPEN, by=w.trainer)
    db.session.commit()
    assert item.statement_id is None and item.completed_at is None
    assert not [s for s in _statements(w.org.id, COMPLETED) if "/coaching-action/" in
                s["object"]["id"]]
    with pytest.raises(ValidationFailed):
        services.set_action_status(item=item, status="maybe", by=learner)


def test_due_followups_and_next_followup(enrolled):
    w = enrolled
    overdue = _schedule(w, 0, when=utcnow() - timedelta(days=2))
    soon = _schedule(w, 1, when=utcnow() + timedelta(days=3))
    _schedule(w, 2, when=utcnow() + timedelta(days=20))  # later than a week
    held = _schedule(w, 3, when=utcnow() - timedelta(days=1))
    services.record_held(followup=held, notes=None)
    db.session.commit()
    due = queries.due_followups(w.org.id)
    assert [(d.followup.id, d.overdue) for d in due] == [(overdue.id, True), (soon.id, False)]
    assert queries.due_followups(w.org.id, coach=w.member(w.trainer)) == due
    assert queries.due_followups(w.org.id, coach=w.member(w.learners[0])) == []
    assert queries.next_followup(w.member(w.learners[1])).id == soon.id
    assert queries.next_followup(w.member(w.learners[0])) is None  # only an overdue one
    assert queries.next_followup(w.member(w.learners[3])) is None


def test_a_follow_up_under_way_is_still_the_next_one(enrolled):
    w = enrolled
    now = _schedule(w, when=utcnow() - timedelta(minutes=10))
    assert queries.next_followup(w.member(w.learners[0])).id == now.id


def test_withdrawn_learners_leave_the_due_list(enrolled):
    from lms.courses.cohorts.services import withdraw

    w = enrolled
    _schedule(w, 0, when=utcnow() + timedelta(days=1))
    withdraw(enrollment=w.enrollments[0])
    db.session.commit()
    assert queries.due_followups(w.org.id) == []


def test_holding_needs_a_past_time_and_a_later_next_date(enrolled):
    w = enrolled
    later = _schedule(w, when=utcnow() + timedelta(days=2))
    with pytest.raises(ValidationFailed) as exc:
        services.record_held(followup=later, notes=None)
    assert "held_at" in exc.value.fields
    past = _schedule(w)
    with pytest.raises(ValidationFailed) as exc:
        services.record_held(followup=past, notes=None,
                             next_followup_on=date.today() - timedelta(days=3))
    assert "next_followup_on" in exc.value.fields
    assert db.session.scalar(select(FollowUp.status).where(FollowUp.id == past.id)) == \
        "scheduled"


def test_the_date_agreed_at_the_last_follow_up_is_proposed_next(enrolled):
    w = enrolled
    held = _schedule(w)
    agreed = date.today() + timedelta(days=30)
    services.record_held(followup=held, notes=None, next_followup_on=agreed)
    (proposed,) = services.propose_dates(enrollment=w.enrollments[0], module=w.module("suivi-2"))
    local = proposed.astimezone(services.local_zone())
    assert local.date() >= agreed and (local.date() - agreed).days <= 2  # a working day
    assert local.time() == held.scheduled_at.astimezone(services.local_zone()).time()


def test_a_round_gives_each_learner_a_slot_one_after_the_other(enrolled):
    w = enrolled
    module = w.module("suivi-1")
    services.record_held(followup=_schedule(w, 3), notes=None)  # done: left out
    zone = services.local_zone()
    start = datetime(2030, 1, 7, 16, 0, tzinfo=zone)  # a Monday, 16:00
    made = services.schedule_round(cohort=w.cohort, module=module, coach=w.member(w.trainer),
                                   start=start, place="Salle 2", gap_minutes=15)
    assert [f.enrollment_id for f in made] == [e.id for e in w.enrollments[:3]]
    times = [f.scheduled_at.astimezone(zone) for f in made]
    assert times[0] == start and times[1] == start + timedelta(minutes=45)
    # 17:30 + 30 min is 18:00, the end of the day; the next slot would end later.
    assert times[2] == start + timedelta(minutes=90)
    with pytest.raises(Conflict):
        services.schedule_round(cohort=w.cohort, module=module, coach=None, start=start,
                                place="x")


def test_a_round_moves_late_slots_to_the_next_working_day(enrolled):
    w = enrolled
    zone = services.local_zone()
    start = datetime(2030, 1, 11, 17, 0, tzinfo=zone)  # a Friday, 17:00
    made = services.schedule_round(cohort=w.cohort, module=w.module("suivi-1"), coach=None,
                                   start=start, place="Salle", gap_minutes=0)
    times = [f.scheduled_at.astimezone(zone) for f in made]
    assert times[:2] == [start, start + timedelta(minutes=30)]
    assert times[2] == datetime(2030, 1, 14, 17, 0, tzinfo=zone)  # Monday, same time
    with pytest.raises(ValidationFailed) as exc:
        services.schedule_round(cohort=w.cohort, module=w.module("suivi-2"), coach=None,
                                start=None, place="x", gap_minutes=500)
    assert set(exc.value.fields) == {"start", "gap_minutes"}


def test_due_counts_agree_with_the_due_list(enrolled):
    w = enrolled
    for learner, days in ((0, -3), (1, -1), (2, 2), (3, 40)):
        _schedule(w, learner, when=utcnow() + timedelta(days=days))
    due = queries.due_followups(w.org.id)
    assert queries.due_counts(w.org.id) == (2, 1) == (
        sum(d.overdue for d in due), sum(not d.overdue for d in due))
    assert len(queries.due_followups(w.org.id, limit=2)) == 2
    assert queries.due_counts(w.org.id, coach=w.member(w.learners[0])) == (0, 0)


def test_a_module_with_another_rule_is_not_completed_by_follow_ups(enrolled):
    w = enrolled
    module = w.module("suivi-1")
    module.completion = {"type": "xapi_completed"}
    db.session.commit()
    services.record_held(followup=_schedule(w), notes=None)
    db.session.commit()
    assert progress_by_module(w.enrollments[0].id)[module.id].state == \
        "in_progress"


def test_a_small_group_round_meets_together(enrolled):
    w = enrolled
    start = datetime(2030, 1, 7, 17, 30, tzinfo=services.local_zone())
    made = services.schedule_round(cohort=w.cohort, module=w.module("suivi-1"), coach=None,
                                   start=start, video_link="https://visio.example/groupe",
                                   together=True)
    assert len(made) == 4 and {f.scheduled_at for f in made} == {start}
    assert len({f.enrollment_id for f in made}) == 4  # each keeps their own follow-up


def test_a_follow_up_held_by_mistake_is_undone_and_the_module_taken_back(enrolled):
    w = enrolled
    module = w.module("suivi-1")
    followup = _schedule(w)
    services.record_held(followup=followup, notes="Notes", actions=[("Action", None)])
    db.session.commit()
    assert progress_by_module(w.enrollments[0].id)[module.id].state == \
        "completed"
    services.reopen(followup=followup, by=w.trainer)
    db.session.commit()
    assert followup.status == "scheduled" and followup.statement_id is None
    assert followup.notes == "Notes" and len(followup.action_items) == 1
    assert progress_by_module(w.enrollments[0].id)[module.id].state != \
        "completed"
    assert not [s for s in _statements(w.org.id, ATTENDED) if "/coaching/" in s["object"]["id"]]
    assert not [s for s in _statements(w.org.id, COMPLETED)
                if s["object"]["id"].endswith(f"/module/{module.id}")]
    with pytest.raises(Conflict):
        services.reopen(followup=followup, by=w.trainer)
    # Recorded again: held once more, and the module completes again.
    services.record_held(followup=followup, notes="Notes")
    db.session.commit()
    assert progress_by_module(w.enrollments[0].id)[module.id].state == \
        "completed"
