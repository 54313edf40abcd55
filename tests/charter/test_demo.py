"""The demo's charter: version 1 accepted by everyone, version 2 by some (HR has people to
remind), each acceptance a statement; digest preferences chosen; Camille's next digest shows
what is waiting for her."""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import Organization
from lms.charter import queries
from lms.demo import DEMO_SLUG
from lms.extensions import db
from lms.notifications import services as digests
from lms.notifications.models import DAILY, NEVER, DigestPreference
from lms.xapi.models import Statement
from tests.support import load_demo_once


def test_demo_has_two_versions_acceptances_of_each_and_preferences():
    load_demo_once()
    org = db.session.scalar(select(Organization).where(Organization.slug == DEMO_SLUG))
    v2, v1 = queries.versions(org.id)
    assert (v1.number, v2.number) == (1, 2) and v2.summary
    assert v1.published_at < v2.published_at
    first = queries.tallies(queries.people(org.id, v1), org.id)["all"][0]
    second = queries.people(org.id, v2)
    # Everyone there three months ago accepted version 1 (the 11 people of the first demo
    # steps); the second wave and the colleagues who came later accepted version 2 only.
    assert first.accepted == 11 and first.total == len(second)
    pending = sorted(r.membership.user.display_name for r in second if r.accepted_at is None)
    assert {"Léa Dubois", "Lucas Richard", "Jules Durand"} <= set(pending)
    accepted = db.session.scalars(select(Statement).where(
        Statement.verb_id == "http://activitystrea.ms/schema/1.0/accept")).all()
    assert len(accepted) == first.accepted + (len(second) - len(pending))
    frequencies = {p.frequency for p in db.session.scalars(select(DigestPreference))}
    assert {DAILY, NEVER} <= frequencies
    lea = next(r.membership.user for r in second if r.membership.user.display_name == "Léa Dubois")
    [digest] = digests.build(lea)
    assert digest.sections[0].key == "charter"
