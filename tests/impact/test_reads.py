"""What one impact page reads: the organization's lists once, and the events of the compared
weeks once, shared by the estimate, the formats compared and the ROI — with the same figures as
each part read on its own.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from lms.extensions import db
from lms.impact import comparison, roi, services
from tests.impact.test_comparison import PER_MONTH, world  # noqa: F401  (the shared fixture)


@pytest.fixture()
def statements(app):
    """The SQL statements run while the test reads them (a list that fills as they run)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_the_page_reads_the_events_and_the_lists_once(world, client, login,  # noqa: F811
                                                      statements):
    login(world["hr"])
    org, pilot = world["org"], world["pilot"]
    statements.clear()
    page = client.get(f"/o/{org.slug}/impact/cohorts/{pilot.id}?format=coached&scope=cohort")
    assert page.status_code == 200
    # The figures read the events once; the parrot section reads the posts' texts once more.
    events = [s for s in statements if "FROM advocacy_events" in s
              and "advocacy_events.text" not in s]
    texts = [s for s in statements if "FROM advocacy_events" in s
             and "advocacy_events.text" in s]
    enrolments = [s for s in statements if "FROM enrollments" in s and "advocacy" not in s]
    consents = [s for s in statements if "FROM advocacy_consents" in s
                or "advocacy_consents" in s.split("WHERE")[-1]]
    assert len(events) == 1, events
    assert len(texts) == 1, texts
    assert len(enrolments) == 1, enrolments
    assert len(consents) == 1, consents


def test_a_shared_roster_gives_the_figures_of_each_part_read_alone(world):  # noqa: F811
    services.save_settings(organization=world["org"], data={
        "outcome_values": {"clicks": "1.50"}, "trainer_day_rate": "700"})
    db.session.commit()
    pilot = world["pilot"]
    roster = comparison.Roster.of(pilot.organization_id)
    shared = comparison.compare_cohort(pilot, weeks=4, roster=roster, event_metric="value")
    alone = comparison.compare_cohort(pilot, weeks=4, event_metric="value")
    assert shared.estimates == alone.estimates and shared.event_study == alone.event_study
    assert roi.cohort_roi(shared, roster) == roi.cohort_roi(alone)
    # Value per share: 2 clicks at 1.50; the week of the training holds the trained's 5 or 3
    # shares and the others' 2.
    assert shared.event_study[4] == pytest.approx((0, 3 * (3 * 5 + 3 * 3) / 6, 3 * 2.0))
    assert shared.estimates["value"].point == pytest.approx(3 * 2 * PER_MONTH)
    for scope in comparison.SCOPES:
        together = comparison.compare_formats(pilot, "coached", scope=scope, weeks=4,
                                              roster=roster)
        apart = comparison.compare_formats(pilot, "coached", scope=scope, weeks=4)
        assert (together.yes, together.no, together.estimates) == \
            (apart.yes, apart.no, apart.estimates)
    assert roi.program_roi(pilot, weeks=4, roster=roster) == roi.program_roi(pilot, weeks=4)
