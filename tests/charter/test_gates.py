"""What an accepted charter gates, when the organization turns it on: hand-ins of exercises
on personal accounts, certificates (held back, then issued on acceptance), and advocacy
figures (events kept, counted only for people who accepted)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.advocacy import kpis
from lms.advocacy.models import AdvocacyEvent
from lms.advocacy.queries import event_records
from lms.certificates.models import Certificate
from lms.certificates.services import issue_manually
from lms.charter import services
from lms.charter.queries import gated_advocacy_users
from lms.core.errors import Forbidden
from lms.core.models import utcnow
from lms.courses.exercises.services import submit_evidence
from lms.extensions import db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
POST = "https://www.linkedin.com/posts/camille-martin_relais-activity-1"


def _charter(org, **gates):
    services.publish(organization=org, body_fr="Je parle en mon nom.", body_en="", by=None)
    services.set_gates(organization=org, **{"advocacy": False, "exercises": False,
                                            "certificates": False, **gates})
    db.session.commit()


def test_a_hand_in_waits_for_the_charter_with_a_clear_message(enrolled, client, login):
    w = enrolled
    enrollment, module = w.enrollments[0], w.module("exercice-profil")
    _charter(w.org, exercises=True)
    with pytest.raises(Forbidden) as refused:
        submit_evidence(enrollment=enrollment, module=module, post_url=POST,
                        reflection="Mon titre est réécrit.", screenshot=PNG)
    assert refused.value.code == "charter_not_accepted"
    db.session.rollback()
    login(w.learners[0])
    url = f"/o/acme/training/{enrollment.id}/exercises/{module.id}"
    assert 'id="charter-needed"' in client.get(url).get_data(as_text=True)
    page = client.post(url, data={"url": POST, "reflection": "Mon titre est réécrit."})
    assert page.status_code == 422
    assert "Accept your organization&#39;s social-media charter first" in page.get_data(
        as_text=True)
    services.accept(membership=enrollment.membership)
    db.session.commit()
    done = submit_evidence(enrollment=enrollment, module=module, post_url=POST,
                           reflection="Mon titre est réécrit.", screenshot=PNG)
    assert done.status == "submitted"


def test_without_the_gate_hand_ins_do_not_wait(enrolled):
    w = enrolled
    _charter(w.org)  # a charter, no gate
    done = submit_evidence(enrollment=w.enrollments[1], module=w.module("exercice-profil"),
                           post_url=POST, reflection="Fait.", screenshot=PNG)
    assert done.status == "submitted"


def test_a_certificate_waits_for_the_charter_then_is_issued_on_acceptance(cert_world):
    w = cert_world
    _charter(w.org, certificates=True)
    enrollment = w.enrollments[0]
    w.complete(enrollment)
    assert enrollment.status == "completed"
    assert db.session.scalar(select(Certificate)) is None
    with pytest.raises(Forbidden):
        issue_manually(enrollment=enrollment, issued_by=w.trainer, reason="Présent à tout")
    db.session.rollback()
    services.accept(membership=enrollment.membership)
    db.session.commit()
    [certificate] = db.session.scalars(select(Certificate)).all()
    assert certificate.enrollment_id == enrollment.id


def test_advocacy_of_people_without_an_accepted_charter_is_kept_but_not_counted(cert_world,
                                                                              client, login):
    w = cert_world
    signed, unsigned = (w.member(u) for u in w.learners[:2])
    when = utcnow() - timedelta(days=1)
    for member in (signed, unsigned):
        db.session.add(AdvocacyEvent(organization_id=w.org.id, user_id=member.user_id,
                                     network="linkedin", kind="share", occurred_at=when,
                                     source="manual", idem_key=f"k{member.id}", clicks=5))
    _charter(w.org, advocacy=True)
    services.accept(membership=signed)
    db.session.commit()
    scope = kpis.Scope(w.org.id)
    assert kpis.overview(scope).totals["events"] == 1
    assert [r.user_id for r in event_records(w.org.id)] == [signed.user_id]
    assert db.session.query(AdvocacyEvent).count() == 2  # kept
    login(w.learners[1])
    page = client.get("/o/acme/advocacy/me").get_data(as_text=True)
    assert "only once you have accepted its social-media charter" in page
    # A new version does not take counted activity back: accepting once is enough here.
    services.publish(organization=w.org, body_fr="Version 2", body_en="", by=None)
    db.session.commit()
    assert kpis.overview(scope).totals["events"] == 1
    services.set_gates(organization=w.org, advocacy=False, exercises=False,
                       certificates=False)
    db.session.commit()
    assert kpis.overview(scope).totals["events"] == 2


def test_a_gated_page_asks_once_whether_a_charter_was_published(enrolled, app,
                                                                 count_queries):
    w = enrolled
    services.set_gates(organization=w.org, advocacy=True, exercises=False, certificates=False)
    db.session.commit()
    with app.test_request_context():
        # No charter yet: the gate counts everyone, and a version published in the same
        # request is seen at once.
        assert gated_advocacy_users(w.org.id) is None
        services.publish(organization=w.org, body_fr="Je parle en mon nom.", body_en="",
                         by=None)
        assert gated_advocacy_users(w.org.id) is not None
        # Once seen, the answer is kept for the request: a dashboard's many figures do not
        # each ask again.
        with count_queries() as queries:
            for _ in range(5):
                assert gated_advocacy_users(w.org.id) is not None
        assert not [q for q in queries if "charter_versions" in q]
