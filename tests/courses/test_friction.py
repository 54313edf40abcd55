"""Fewer steps for trainers: copies named apart, many learners enrolled at once, seats on the
cohort page, confirmations after opening a cohort and scheduling a session.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.core.errors import ValidationFailed
from lms.courses.cohorts.models import Enrollment
from lms.courses.cohorts.services import enrol, enrol_many, split_emails, withdraw
from lms.courses.programs.models import Program
from lms.extensions import db
from tests.courses.conftest import at


def _enrolled(cohort_id: int) -> set[int]:
    return set(db.session.scalars(select(Enrollment.membership_id).where(
        Enrollment.cohort_id == cohort_id, Enrollment.status != "withdrawn")))


def test_copies_are_named_copy_in_each_language_of_the_title(world, client, login):
    w = world
    # The fixture copied the catalogue entry outside a request (as the demo does): French still.
    assert w.program.title["fr"] == "Parcours ambassadeurs en six semaines (copie)"
    assert all(text.endswith(" (copy)") for lang, text in w.program.title.items() if lang == "en")
    login(w.trainer)
    for headers in ({"Accept-Language": "fr"}, {"Accept-Language": "en"}):
        client.post("/o/acme/programs/copy", data={"slug": "sensibilisation-reseaux-sociaux"},
                    headers=headers)
    response = client.post(f"/o/acme/programs/{w.program.id}/copy",
                           headers={"Accept-Language": "en"})
    assert response.status_code == 302
    titles = [p.title for p in db.session.scalars(select(Program).where(
        Program.organization_id == w.org.id).order_by(Program.id))]
    first, second, third = (t["fr"] for t in titles[1:])
    assert first.endswith(" (copie)") and second.endswith(" (copie 2)")
    assert third == "Parcours ambassadeurs en six semaines (copie) (copie)"
    assert len({tuple(sorted(t.items())) for t in titles}) == len(titles)
    # Another organization's program cannot be copied through this one.
    assert client.post("/o/acme/programs/999999/copy").status_code == 404


def test_split_emails_accepts_lines_commas_and_semicolons():
    assert split_emails(" A@x.fr\nb@x.fr, c@x.fr;a@x.fr ;\n\n") == ["a@x.fr", "b@x.fr", "c@x.fr"]


def test_enrol_many_in_one_go_skips_the_enrolled_and_refuses_unknown_addresses(
        world, create_user):
    w = world
    outsider = create_user("learner", org=w.org, name="Zoé Autre", team="Support")
    members = [w.member(u) for u in w.learners]
    enrol(cohort=w.cohort, membership=members[0])
    gone = enrol(cohort=w.cohort, membership=members[1])
    withdraw(enrollment=gone)
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        enrol_many(cohort=w.cohort, memberships=[members[2]],
                   emails=f"{outsider.email}\nnobody@example.com")
    assert "nobody@example.com" in str(refused.value.fields["emails"])
    db.session.rollback()
    assert _enrolled(w.cohort.id) == {members[0].id}
    with pytest.raises(ValidationFailed):
        enrol_many(cohort=w.cohort)
    with pytest.raises(ValidationFailed):
        enrol_many(cohort=w.cohort, memberships=[w.member(w.trainer)])
    db.session.rollback()
    # The Sales team (the four learners), one chosen twice and one pasted address.
    result = enrol_many(cohort=w.cohort, memberships=[members[2]], team="Sales",
                        emails=f"{outsider.email.upper()}; {w.learners[3].email}")
    db.session.commit()
    assert len(result.enrollments) == 4 and result.skipped == 1  # the withdrawn one is back
    assert _enrolled(w.cohort.id) == {m.id for m in members} | {w.member(outsider).id}


def test_cohort_page_enrols_many_and_keeps_what_was_typed(world, client, login, create_user):
    w = world
    login(w.trainer)
    url = f"/o/acme/cohorts/{w.cohort.id}"
    enrol(cohort=w.cohort, membership=w.member(w.learners[0]))
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert 'name="membership_ids" multiple' in page and 'id="emails"' in page
    assert f'value="{w.member(w.learners[0]).id}"' not in page  # already enrolled: not offered
    ids = [w.member(u).id for u in w.learners[:2]]
    typed = f"{w.learners[2].email}, inconnu@example.com"
    response = client.post(f"{url}/enrol", data={"how": "many", "membership_ids": ids,
                                                 "emails": typed})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="emails-error"' in html and "inconnu@example.com" in html
    assert f">{typed}</textarea>" in html
    assert f'<option value="{ids[1]}" selected>' in html
    assert _enrolled(w.cohort.id) == {ids[0]}
    response = client.post(f"{url}/enrol", follow_redirects=True, headers={
        "Accept-Language": "fr"}, data={"how": "many", "membership_ids": ids,
                                        "emails": w.learners[2].email})
    html = response.get_data(as_text=True)
    assert "2 apprenants inscrits." in html and "1 était déjà inscrit." in html
    assert len(_enrolled(w.cohort.id)) == 3
    # The single-learner form still works (the API and older pages use it).
    client.post(f"{url}/enrol", data={"how": "one", "membership_id": w.member(w.learners[3]).id})
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 4


def test_confirmations_and_seats_on_the_cohort_page(enrolled, client, login):
    w = enrolled
    login(w.trainer)
    response = client.post("/o/acme/cohorts/new", follow_redirects=True, data={
        "program_id": w.program.id, "name": "Vague 2"})
    assert "The cohort Vague 2 is open." in response.get_data(as_text=True)
    first = at(1, 9).date()  # the fixtures' December calendar (tests/courses/conftest.py)
    response = client.post(f"/o/acme/cohorts/{w.cohort.id}/sessions", follow_redirects=True,
                           data={"module_id": w.module("lancement").id, "day": first.isoformat(),
                                 "start": "09:00", "end": "12:00", "place": "Lyon",
                                 "capacity": "2"})
    shown = f"The session is scheduled on {first.strftime('%d/%m/%Y')} 09:00."
    assert shown in response.get_data(as_text=True)
    client.post(f"/o/acme/cohorts/{w.cohort.id}/sessions", data={
        "module_id": w.module("lancement").id, "day": (first + timedelta(days=1)).isoformat(),
        "start": "09:00",
        "end": "12:00", "place": "Paris"})
    page = client.get(f"/o/acme/cohorts/{w.cohort.id}").get_data(as_text=True)
    assert "Seats taken: 0 / 2" in page and "Seats taken: 0 (no limit)" in page
