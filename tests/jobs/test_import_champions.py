"""The members import sets champions through the same service as the page and the API."""

from __future__ import annotations

import csv
import io

from lms.accounts.models import Role
from lms.jobs import services
from tests.support import run_member_import


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
    job, members = run_member_import(org, hr, data)

    champions = {email: m.champion for email, m in members.items()}
    assert champions["ana@example.com"] is True
    assert champions["bob@example.com"] is False
    assert champions["eve@example.com"] is False
    # A champion without a team, and an unknown value: nothing written for those rows.
    assert "carl@example.com" not in champions and "dina@example.com" not in champions
    path = services.result_file(job)
    assert path is not None
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert [(r[0], r[1]) for r in rows[1:]] == [("4", "carl@example.com"),
                                                ("5", "dina@example.com")]
    assert "champion" in rows[1][2] and "champion" in rows[2][2]
