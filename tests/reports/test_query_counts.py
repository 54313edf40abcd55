"""How many SQL queries the heavy pages cost: a fixed number, whatever the cohort's size.

A page that starts running one query per learner fails here, long before a company with
thousands of learners notices it slowing down.
"""

from __future__ import annotations

from lms.accounts.models import Role
from lms.core.models import utcnow
from lms.courses.cohorts.services import enrol
from lms.courses.elearning.services import view_lesson
from lms.courses.exercises.services import add_journal_entry, set_tutor
from lms.extensions import db

# Each page with the most queries it may run (as measured): a change that adds queries to one
# says so here, and raises the figure on purpose. Every logged-in request reads its
# server-side session (one query, lms/accounts/sessions.py) and, after a password login,
# whether an organization requires a second factor the person lacks (one query,
# lms/accounts/second_factor.py).
PAGES = {
    # Staff pages: one more for the menu, which shows "Tutoring" to anyone who tutors an
    # on-the-job (AFEST) plan. Every dashboard: two for the charter (the version in force, and
    # whether the member accepted it).
    # The cohort page: one to count its learners for the pages, two for the whole cohort's
    # completion (its grid shows a page of learners at a time).
    Role.TRAINER: {"/o/acme/": 20, "/o/acme/cohorts": 12, "/o/acme/cohorts/{cohort}": 23},
    # The advocacy page: two more for the tiles' previous period and the weekly trends, one
    # for the charter's gate (does the organization count only those who accepted it?).
    # HR: one on each page for the menu's "My team" entry (does the member manage anyone?).
    Role.HR: {"/o/acme/": 16, "/o/acme/advocacy": 20},
}
# One for "has the learner a skill map yet?", one for the open calls for volunteers, one for
# the surveys waiting for an answer, two for the charter, one for the content to share.
LEARNER_DASHBOARD = 35


def _queries(client, count_queries, url: str) -> int:
    # A page's first visit may create per-organization settings (the advocacy page does):
    # measure a later visit. Each real request starts with an empty session: forget what
    # earlier ones loaded.
    assert client.get(url).status_code == 200, url
    db.session.expire_all()
    with count_queries() as statements:
        client.get(url)
    return len(statements)


def _more_learners(w, create_user, n: int) -> None:
    for i in range(n):
        learner = create_user("learner", org=w.org, name=f"Extra {i}", team="Marketing")
        e = enrol(cohort=w.cohort, membership=w.member(learner))
        lesson = w.module("profil").lessons[0]
        view_lesson(enrollment=e, lesson=lesson)
    db.session.commit()


def _counts(client, count_queries, w, urls: dict[str, int]) -> dict[str, int]:
    return {url: _queries(client, count_queries, url.format(cohort=w.cohort.id)) for url in urls}


def test_trainer_and_hr_pages_run_as_many_queries_for_4_or_16_learners(
        enrolled, client, login, create_user, count_queries):
    w = enrolled
    hr = create_user(Role.HR, org=w.org, name="Hélène RH")
    counts = {}
    for user, role in ((w.trainer, Role.TRAINER), (hr, Role.HR)):
        login(user)
        counts[role] = _counts(client, count_queries, w, PAGES[role])
        client.post("/logout")
    _more_learners(w, create_user, 12)
    for user, role in ((w.trainer, Role.TRAINER), (hr, Role.HR)):
        login(user)
        assert _counts(client, count_queries, w, PAGES[role]) == counts[role], role
        client.post("/logout")
    for role, pages in PAGES.items():
        for url, most in pages.items():
            assert counts[role][url] <= most, (role, url, counts[role][url])


def test_learner_dashboard_costs_the_same_with_more_classmates(
        enrolled, client, login, create_user, count_queries):
    w = enrolled
    login(w.learners[0])
    before = _queries(client, count_queries, "/o/acme/")
    _more_learners(w, create_user, 12)
    assert _queries(client, count_queries, "/o/acme/") == before
    assert before <= LEARNER_DASHBOARD, before


# The AFEST record, for staff: the enrolment, module, cohort, record and journal, the menu's
# two (manager, tutor), the learner, and the tutor field's few suggestions in one query that
# loads the current tutor too — never one row per member of the organization.
AFEST_RECORD = 16


def test_the_afest_record_costs_the_same_with_more_members(
        enrolled, client, login, create_user, count_queries):
    w = enrolled
    learner, module = w.enrollments[0], w.module("exercice-premier-post")
    url = f"/o/acme/exercises/afest/{learner.id}/{module.id}"
    set_tutor(enrollment=learner, module=module, email=w.learners[1].email)
    db.session.commit()
    login(w.trainer)
    before = _queries(client, count_queries, url)
    _more_learners(w, create_user, 12)
    # More tutors to suggest (each new learner tutors the next one), and a manager.
    extra = [e for e in w.cohort.enrollments if e not in w.enrollments]
    for e, tutor in zip(extra, extra[1:], strict=False):
        set_tutor(enrollment=e, module=module, email=tutor.membership.user.email)
    w.member(w.learners[0]).manager = w.member(w.learners[3])
    db.session.commit()
    assert _queries(client, count_queries, url) == before
    assert before <= AFEST_RECORD, before


# The AFEST records list, for staff: the cohorts with an AFEST exercise (the filter), the rows
# counted, then a page of them with their learner, cohort, exercise, record, tutor and
# journal's size in one query — never one per cohort, learner or record (it was 19 queries
# for 4 learners, 43 for 34). The tutor's own list: the same two for its rows, no cohorts (it
# was one more per record: 15 for 1, 117 for 31). PostgreSQL runs one more, to plan the two
# for their values (lms/courses/exercises/queries.py: afest_page).
AFEST_LIST = {"staff": 12, "tutor": 11}


def test_the_afest_list_costs_the_same_with_more_learners(
        enrolled, client, login, create_user, count_queries):
    w = enrolled
    module = w.module("exercice-premier-post")
    tutor = create_user("learner", org=w.org, name="Tina Tutrice", email="tina@example.com")
    set_tutor(enrollment=w.enrollments[0], module=module, email=tutor.email)
    db.session.commit()
    urls = {"staff": "/o/acme/exercises/afest", "tutor": "/o/acme/exercises/afest?q=e"}
    counts = {}
    for who, user in (("staff", w.trainer), ("tutor", tutor)):
        login(user)
        counts[who] = _queries(client, count_queries, urls[who])
        client.post("/logout")
    _more_learners(w, create_user, 30)  # more than a page, each with a record and a journal
    for e in w.cohort.enrollments:
        if e not in w.enrollments:
            set_tutor(enrollment=e, module=module, email=tutor.email)
            add_journal_entry(enrollment=e, module=module, kind="work_situation",
                              day=utcnow().date(), duration_minutes=30, notes="Observé.",
                              recorded_by=tutor)
    db.session.commit()
    for who, user in (("staff", w.trainer), ("tutor", tutor)):
        login(user)
        assert _queries(client, count_queries, urls[who]) == counts[who], who
        client.post("/logout")
        assert counts[who] <= AFEST_LIST[who], (who, counts[who])
