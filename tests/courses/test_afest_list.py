"""The AFEST records list: a page of (learner × exercise run as AFEST) rows at a time, by learner
name then exercise, chosen and paged by the database; a search on names and e-mail addresses,
a cohort and "without a tutor yet" filters kept by the pager; withdrawn learners left out; a
tutor sees only the learners they tutor."""

from __future__ import annotations

import re

from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol, withdraw
from lms.courses.exercises.services import add_journal_entry, set_tutor
from lms.extensions import db

URL = "/o/acme/exercises/afest"
AFEST = "exercice-premier-post"  # the six-week path's one exercise run as AFEST


def names(page: str) -> list[str]:
    """The learners of the list's rows, in order."""
    return re.findall(r"<tr><td>([^<]*)</td>", page)


def get(client, url: str = URL, **args) -> str:
    response = client.get(url, query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def more_learners(w, create_user, n: int, name: str = "Member {i:02}", cohort=None) -> list:
    """``n`` more learners enrolled (in the pilot cohort unless told), addressed
    ``member.07@example.com`` for "Member 07"."""
    enrolments = []
    for i in range(n):
        called = name.format(i=i)
        user = create_user("learner", org=w.org, name=called,
                           email=f"{called.lower().replace(' ', '.')}@example.com")
        enrolments.append(enrol(cohort=cohort or w.cohort, membership=w.member(user)))
    db.session.commit()
    return enrolments


def test_pages_of_25_in_the_database_order(enrolled, client, login, create_user):
    w = enrolled
    more_learners(w, create_user, 30)
    login(w.trainer)
    first = get(client)
    expected = [f"Learner {i}" for i in range(4)] + [f"Member {i:02}" for i in range(30)]
    assert names(first) == expected[:25]
    assert "1–25 of 34" in first and "Page 1 of 2" in first
    second = get(client, page=2)
    assert names(second) == expected[25:]
    # A page past the end (an old link) shows the last page; nonsense shows the first.
    assert names(get(client, page=99)) == expected[25:]
    assert names(get(client, page="two")) == expected[:25]
    # Each row: the exercise and cohort, no tutor yet, an empty journal, its record.
    module = w.module(AFEST)
    set_tutor(enrollment=w.enrollments[0], module=module, email=w.learners[3].email)
    add_journal_entry(enrollment=w.enrollments[0], module=module, kind="work_situation",
                      day=utcnow().date(), duration_minutes=30, notes="Observé.",
                      recorded_by=w.trainer)
    db.session.commit()
    row = get(client).split("</tr>")[1]
    assert "Pilot" in row and "Learner 3" in row and "1 entry" in row
    assert f"{URL}/{w.enrollments[0].id}/{module.id}" in row
    assert "not named yet" in get(client).split("</tr>")[2]


def test_search_by_name_or_e_mail_and_the_pager_keeps_it(enrolled, client, login, create_user):
    w = enrolled
    more_learners(w, create_user, 30)
    login(w.trainer)
    assert names(get(client, q="learner 2")) == ["Learner 2"]
    assert names(get(client, q="member.07@")) == ["Member 07"]
    page = get(client, q="MEMBER")
    assert len(names(page)) == 25 and "1–25 of 30" in page
    assert f'href="{URL}?page=2&amp;q=MEMBER"' in page
    assert names(get(client, q="MEMBER", page=2)) == [f"Member {i:02}" for i in range(25, 30)]
    # "%" and "_" typed are searched for, not wildcards; nothing matches: the message.
    for typed in ("%", "_"):
        page = get(client, q=typed)
        assert names(page) == [] and "No AFEST record matches these filters." in page
    french = client.get(URL, query_string={"q": "personne"},
                        headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Aucun dossier AFEST ne correspond à ces filtres." in french


def test_cohort_and_without_a_tutor_filters(enrolled, client, login, create_user):
    w = enrolled
    second = create_cohort(program=w.program, name="Vague 2")
    db.session.commit()
    more_learners(w, create_user, 27, name="Other {i:02}", cohort=second)
    set_tutor(enrollment=w.enrollments[1], module=w.module(AFEST), email=w.learners[0].email)
    db.session.commit()
    login(w.trainer)
    page = get(client)
    assert f'<option value="{second.id}">Vague 2</option>' in page
    page = get(client, cohort=w.cohort.id)
    assert names(page) == [f"Learner {i}" for i in range(4)]
    page = get(client, cohort=second.id)
    assert names(page) == [f"Other {i:02}" for i in range(25)]
    assert f'href="{URL}?page=2&amp;cohort={second.id}"' in page
    assert names(get(client, cohort=w.cohort.id, untutored=1)) == [
        "Learner 0", "Learner 2", "Learner 3"]
    page = get(client, untutored=1, q="learner")
    assert names(page) == ["Learner 0", "Learner 2", "Learner 3"]
    assert 'name="untutored" value="1" checked' in page
    assert names(get(client, cohort="nonsense")) == names(get(client))


def test_withdrawn_learners_are_left_out(enrolled, client, login):
    w = enrolled
    withdraw(enrollment=w.enrollments[2])
    db.session.commit()
    login(w.trainer)
    assert names(get(client)) == ["Learner 0", "Learner 1", "Learner 3"]


def test_a_tutor_sees_only_their_learners_a_page_at_a_time(enrolled, client, login,
                                                          create_user):
    w = enrolled
    tutor = create_user("learner", org=w.org, name="Tina Tutrice", email="tina@example.com")
    module = w.module(AFEST)
    others = more_learners(w, create_user, 28)
    for e in [*w.enrollments[:2], *others]:
        set_tutor(enrollment=e, module=module, email="tina@example.com")
    withdraw(enrollment=others[-1])
    db.session.commit()
    login(tutor)
    page = get(client)
    assert names(page) == ["Learner 0", "Learner 1"] + [f"Member {i:02}" for i in range(23)]
    assert 'id="cohort"' not in page and 'name="untutored"' not in page
    assert names(get(client, page=2)) == [f"Member {i:02}" for i in range(23, 27)]
    assert names(get(client, q="learner 1")) == ["Learner 1"]
    # Staff filters typed in the address do not widen a tutor's list.
    assert names(get(client, untutored=1, q="learner")) == ["Learner 0", "Learner 1"]
    client.post("/logout")
    login(w.learners[2])
    page = get(client)
    assert names(page) == [] and "Nobody has named you as a tutor yet." in page
