"""Erasing a demo learner: nothing of her identity is left anywhere in the database, every
aggregate stays the same, her session and her login end, her certificate stays verifiable."""

from __future__ import annotations

from sqlalchemy import select

from lms.advocacy import kpis
from lms.courses.models import Enrollment
from lms.extensions import db
from lms.privacy import services
from lms.reports.queries import standings
from lms.xapi.models import Statement
from tests.privacy.conftest import EMAIL, NAME


def dump() -> str:
    """Every row of every table, as text."""
    out = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            out.append(f"{table.name}: {row}")
    return "\n".join(out)


def figures(org_id: int, cohort_id: int) -> tuple[object, ...]:
    overview = kpis.overview(kpis.Scope(organization_id=org_id))
    team = kpis.scope_totals(kpis.Scope(organization_id=org_id, team="Ventes"))
    cohort = kpis.scope_totals(kpis.Scope(organization_id=org_id, cohort_id=cohort_id))
    enrollments = list(db.session.scalars(select(Enrollment).where(
        Enrollment.cohort_id == cohort_id).order_by(Enrollment.id)))
    progress = {e.id: (s.percent, s.done) for e, s in
                zip(enrollments, standings(enrollments).values(), strict=True)}
    statements = db.session.scalar(select(db.func.count()).select_from(Statement))
    return overview.totals, overview.networks, team, cohort, progress, statements


def test_erasure_leaves_no_identity_and_the_same_aggregates(demo, client):
    org, enrollment = demo.org, demo.enrollment
    sha1 = demo.sha1
    before = dump()
    assert NAME in before and EMAIL in before
    figures_before = figures(org.id, enrollment.cohort_id)
    certificate_code = db.session.execute(db.text(
        "SELECT code FROM certificates WHERE user_id = :u"), {"u": demo.user.id}).scalar_one()
    client.post("/login", data={"email": EMAIL, "password": demo.password})
    assert client.get("/o/demo/").status_code == 200

    result = services.erase_member(membership=demo.membership, by=None, address="127.0.0.1")
    db.session.commit()
    services.remove_files(result.files)
    db.session.expire_all()

    after = dump()
    for secret in (NAME, EMAIL, sha1):
        assert secret not in after, secret
    # Statements are kept (pseudonymised), and the pseudonym is what they now carry.
    assert result.pseudonym in after
    assert result.counts["statements_pseudonymised"] > 0
    assert figures(org.id, enrollment.cohort_id) == figures_before
    # Her saved session no longer opens pages, and she cannot log in again.
    page = client.get("/o/demo/")
    assert page.status_code in (302, 401, 403)
    client.post("/logout")
    refused = client.post("/login", data={"email": EMAIL, "password": demo.password})
    assert refused.status_code != 302
    # The certificate still verifies: status and program, no name.
    verified = client.get(f"/verify/{certificate_code}?format=json").get_json()
    assert verified["status"] in ("valid", "expired") and verified["program"]
    assert "learner" not in verified
    assert NAME not in client.get(f"/verify/{certificate_code}").get_data(as_text=True)
