"""The demo step adds consent, campaigns and a few hundred events through the services."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.advocacy.models import AdvocacyConsent, AdvocacyEvent, Campaign
from lms.content import load_builtin_content
from lms.demo import load_demo
from lms.extensions import db


def test_demo_has_advocacy_activity():
    load_builtin_content()
    load_demo()
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AdvocacyEvent)) == 300
    campaigns = list(db.session.scalars(select(Campaign)))
    assert any("3 000 inscriptions" in c.title for c in campaigns)
    consents = db.session.scalar(select(func.count()).select_from(AdvocacyConsent))
    assert consents >= 2
    networks = set(db.session.scalars(select(AdvocacyEvent.network).distinct()))
    assert {"linkedin", "x"} <= networks
