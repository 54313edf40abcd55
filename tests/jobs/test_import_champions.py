"""The members import sets champions through the same service as the page and the API."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from lms.accounts.models import Membership, Role
from lms.extensions import db
from lms.jobs import members_import, services
from lms.jobs.runner import run_job


def test_the_champion_column_makes_champions_and_bad_values_are_reported_by_line(
        create_user, create_org):
    org = create_org()
    hr = create_user(Role.HR, org=org)
    data = ("email;team;référent\n"
            "ana@example.com;Ventes;oui\n"
            "bob@example.com;Ventes;non\n"
            "carl@example.com;;oui\n"
            "dina@example.com;Ventes;peut-être\n"
            "eve@example.com;Ventes;\n").encode()
    job = members_import.start_import(organization=org, created_by=hr, data=data)
    db.session.commit()

    assert run_job(job.id) == "succeeded"

    db.session.rollback()
    champions = {m.user.email: m.champion for m in db.session.scalars(
        select(Membership).where(Membership.organization_id == org.id))}
    assert champions["ana@example.com"] is True
    assert champions["bob@example.com"] is False
    assert champions["eve@example.com"] is False
    # A champion without a team, and an unknown value: nothing written for those rows.
    assert "carl@example.com" not in champions and "dina@example.com" not in champions
    job = db.session.get(type(job), job.id)
    path = services.result_file(job)
    assert path is not None
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert [(r[0], r[1]) for r in rows[1:]] == [("4", "carl@example.com"),
                                                ("5", "dina@example.com")]
    assert "champion" in rows[1][2] and "champion" in rows[2][2]
