"""Recertification by behaviour: an organization's rule re-enrols certified learners whose
advocacy activity fell below it, once per certificate, and tells them."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from lms.advocacy import services as advocacy
from lms.certificates.models import Certificate
from lms.core.models import utcnow
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.extensions import db
from lms.impact import behaviour
from lms.impact.models import ImpactSettings


def _share(org, user, n, days_ago):
    now = utcnow()
    return advocacy.normalize_event(
        {"network": "linkedin", "kind": "share", "occurred_at": now - timedelta(days=days_ago),
         "url": f"https://www.linkedin.com/feed/update/{user.id}-{n}"},
        user_id=user.id, source="api", now=now)


def test_quiet_certified_learners_go_back_to_a_refresher(cert_world, caplog):
    w = cert_world
    for e in w.enrollments:
        w.complete(e)
    certificates = {c.user_id: c for c in db.session.scalars(select(Certificate))}
    assert len(certificates) == 3
    for c in certificates.values():
        c.issued_at = utcnow() - timedelta(weeks=20)
    quiet, active, new = w.learners
    certificates[new.id].issued_at = utcnow() - timedelta(weeks=2)  # too soon to tell
    for u in w.learners:
        advocacy.give_consent(organization=w.org, user=u)
    events = [_share(w.org, quiet, 0, 10), _share(w.org, quiet, 1, 120)]  # 1 in 12 weeks
    events += [_share(w.org, active, n, 5 + n) for n in range(3)]  # 3 in 12 weeks
    advocacy.ingest(organization=w.org, events=events, names={})
    # No rule: nobody is touched.
    assert behaviour.quiet_certified(w.org) == []
    db.session.add(ImpactSettings(organization_id=w.org.id, recertify_below_actions=2,
                                  recertify_weeks=12))
    db.session.commit()
    assert [m.user_id for _c, m in behaviour.quiet_certified(w.org)] == [quiet.id]
    with caplog.at_level(logging.INFO, logger="lms.core.mail"):
        assert behaviour.recertify_quiet_all() == 1
    # The notice is sent (logged without a mail server) in the person's language.
    assert "Votre formation de rappel" in caplog.text or "Your refresher" in caplog.text
    cohort = db.session.scalar(select(Cohort).where(Cohort.name.like("Recertification%")))
    enrolled = db.session.scalars(select(Enrollment).where(
        Enrollment.cohort_id == cohort.id)).all()
    assert [e.membership.user_id for e in enrolled] == [quiet.id]
    db.session.refresh(certificates[quiet.id])
    assert certificates[quiet.id].refresher_enrollment_id == enrolled[0].id
    # Once per certificate.
    assert behaviour.recertify_quiet_all() == 0
