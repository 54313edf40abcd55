"""The demo step adds consent, campaigns and a few hundred events through the services."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent, Campaign
from lms.extensions import db
from tests.support import load_demo_once


def test_demo_has_advocacy_activity():
    load_demo_once()
    # The advocacy step's events (the impact step adds the colleagues' own, without ids, and
    # the pilot's post texts, "demo-parrot-…").
    assert db.session.scalar(select(func.count()).select_from(AdvocacyEvent).where(
        AdvocacyEvent.external_id.is_not(None),
        AdvocacyEvent.external_id.not_like("demo-parrot-%"))) == 300
    campaigns = list(db.session.scalars(select(Campaign)))
    assert any("3 000 inscriptions" in c.title for c in campaigns)
    consents = db.session.scalar(select(func.count()).select_from(AdvocacyConsent))
    assert consents >= 2
    networks = set(db.session.scalars(select(AdvocacyEvent.network).distinct()))
    assert {"linkedin", "x"} <= networks


def test_demo_shows_impact_and_an_exercise_verified_from_activity():
    from lms.advocacy import impact
    from lms.courses.cohorts.models import Cohort
    from lms.courses.exercises.models import ExerciseSubmission

    load_demo_once()
    pilot = db.session.scalar(select(Cohort).where(Cohort.pilot.is_(True)))
    report = impact.cohort_impact(pilot, weeks=4)
    assert report.training is not None and report.training.source == "session"
    # A few early adopters before the kick-off; everyone who consented after it.
    assert report.active["before"] <= 3 < report.active["after"]
    assert report.change("shares") > 100
    verified = list(db.session.scalars(select(ExerciseSubmission).where(
        ExerciseSubmission.status == "verified")))
    assert len(verified) == 1
    assert verified[0].enrollment.membership.user.display_name.startswith("Hugo")
    assert len(verified[0].verification["events"]) == 2
