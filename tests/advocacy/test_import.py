"""CSV import: presets, whole-file validation, all-or-nothing, skip-invalid, idempotency,
consent, statements, CLI."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from lms.advocacy import csvimport, services
from lms.advocacy.models import AdvocacyEvent
from lms.extensions import db
from lms.xapi.models import Statement
from tests.advocacy.helpers import consent


def count(model=AdvocacyEvent) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture()
def people(create_org, create_user):
    org = create_org(slug="acme")
    alice = create_user(org=org, email="alice@acme.example", name="Alice Martin")
    bob = create_user(org=org, email="bob@acme.example", name="Bob Durand")
    carol = create_user(org=org, email="carol@acme.example", name="Carol Petit")  # no consent
    consent(org, alice, bob)
    return org, alice, bob, carol


GENERIC = (
    "email;network;kind;url;date;impressions;clicks;reactions;with_own_comment\n"
    "alice@acme.example;linkedin;share;https://acme.example/p/1;2026-11-02;1 200;35;12,0;oui\n"
    "bob@acme.example;twitter;post;https://x.com/bob/1;12/11/2026 09:30;300;4;1;non\n"
)


def test_parse_count_handles_spaces_and_decimal_commas():
    assert services.parse_count("1 234", "x") == 1234
    assert services.parse_count("1\u202f234", "x") == 1234
    assert services.parse_count("12,0", "x") == 12
    assert services.parse_count("3,6", "x") == 4
    assert services.parse_count("1.234,5", "x") == 1234
    assert services.parse_count("1,234", "x") == 1234
    assert services.parse_count("1.234", "x") == 1234
    assert services.parse_count("", "x") == 0
    with pytest.raises(ValueError):
        services.parse_count("abc", "clicks")
    with pytest.raises(ValueError):
        services.parse_count("-3", "clicks")


def test_generic_import_reads_dates_aliases_and_decimal_commas(people):
    org, alice, bob, _ = people
    result = csvimport.import_activity(organization=org, data=GENERIC.encode())
    db.session.commit()
    assert result.summary() == {"read": 2, "created": 2, "updated": 0, "unchanged": 0,
                                "rejected": 0}
    a = db.session.scalar(select(AdvocacyEvent).where(AdvocacyEvent.user_id == alice.id))
    assert (a.network, a.kind, a.impressions, a.clicks, a.reactions, a.with_own_comment) == (
        "linkedin", "share", 1200, 35, 12, True)
    assert a.occurred_at == datetime(2026, 11, 2, tzinfo=UTC)
    b = db.session.scalar(select(AdvocacyEvent).where(AdvocacyEvent.user_id == bob.id))
    assert (b.network, b.occurred_at) == ("x", datetime(2026, 11, 12, 9, 30, tzinfo=UTC))
    assert b.source == "csv"


def test_everyonesocial_shares_preset(people):
    org, alice, bob, _ = people
    data = ("Post,Date,Shared by,Approved By,Shares,Clicks,Engagements,Branded\n"
            'https://acme.example/blog/t3,11/05/2026,alice@acme.example,Comms,3,"1,204",17,Yes\n'
            "Mon retour sur le salon,11/06/2026,bob@acme.example,Comms,1,8,4,No\n")
    result = csvimport.import_activity(organization=org, data=data.encode(),
                                       preset_name="everyonesocial-shares")
    db.session.commit()
    assert result.created == 2
    a = db.session.scalar(select(AdvocacyEvent).where(AdvocacyEvent.user_id == alice.id))
    assert (a.kind, a.url, a.clicks, a.reactions, a.reshares) == (
        "share", "https://acme.example/blog/t3", 1204, 17, 3)
    assert a.occurred_at == datetime(2026, 11, 5, tzinfo=UTC)  # month first in these exports
    b = db.session.scalar(select(AdvocacyEvent).where(AdvocacyEvent.user_id == bob.id))
    assert (b.kind, b.url, b.external_id is not None) == ("post", None, True)


def test_everyonesocial_users_preset_matches_names_and_overwrites_totals(people):
    org, alice, _, _ = people
    header = "Name,Type,Created On,Onboarded,Last Active,Reach,Posts,Shares,Clicks\n"
    first = header + "Alice Martin,User,01/10/2026,Yes,11/10/2026,\"12,5\",2,5,40\n"
    csvimport.import_activity(organization=org, data=first.encode(),
                              preset_name="everyonesocial-users")
    later = header + "Alice Martin,User,01/10/2026,Yes,11/20/2026,2 000,3,6,55\n"
    result = csvimport.import_activity(organization=org, data=later.encode(),
                                       preset_name="everyonesocial-users")
    db.session.commit()
    assert (result.created, result.updated) == (0, 1)
    event = db.session.scalar(select(AdvocacyEvent))
    assert (event.kind, event.impressions, event.clicks, event.reshares) == (
        "summary", 2000, 55, 9)
    assert event.occurred_at == datetime(2026, 11, 20, tzinfo=UTC)


def test_dynamic_signal_preset(people):
    org, _, bob, _ = people
    data = ("Email;Date;Post URL;Network;Post Views;Shares;Impressions;Clicks;Conversions;"
            "Reactions;Likes;Comments;Re-shares;Points\n"
            "bob@acme.example;2026-11-03;https://acme.example/o/1;LinkedIn;10;1;4 500,0;61;2;7;5;"
            "3;1;120\n")
    csvimport.import_activity(organization=org, data=data.encode(),
                              preset_name="dynamic-signal")
    db.session.commit()
    e = db.session.scalar(select(AdvocacyEvent))
    assert (e.user_id, e.network, e.impressions, e.clicks, e.reactions, e.comments,
            e.reshares, e.leads) == (bob.id, "linkedin", 4500, 61, 12, 3, 1, 2)


BAD = (
    "email,network,kind,url,date,clicks\n"
    "alice@acme.example,linkedin,share,https://acme.example/1,2026-11-01,3\n"
    "nobody@acme.example,linkedin,share,https://acme.example/2,2026-11-01,3\n"
    "alice@acme.example,myspace,share,https://acme.example/3,2026-11-01,3\n"
    "\n"
    "alice@acme.example,linkedin,share,https://acme.example/4,31/02/2026,3\n"
    "carol@acme.example,linkedin,share,https://acme.example/5,2026-11-01,3\n"
    "bob@acme.example,linkedin,share,https://acme.example/6,2026-11-01,beaucoup\n"
    "bob@acme.example,x,post,https://x.com/6,2026-11-01,1\n"
)


def test_whole_file_is_checked_and_report_lists_every_bad_row_by_line(people):
    org = people[0]
    with pytest.raises(csvimport.ImportRejected) as info:
        csvimport.import_activity(organization=org, data=BAD.encode())
    lines = [line for line, _ in info.value.errors]
    assert lines == [3, 4, 6, 7, 8]
    messages = dict(info.value.errors)
    assert "nobody@acme.example is not a member" in messages[3]
    assert "myspace" in messages[4]
    assert "date" in messages[6]
    assert "carol@acme.example has not opted in" in messages[7]
    assert "beaucoup" in messages[8]
    db.session.rollback()
    assert count() == 0 and count(Statement) == 0


def test_skip_invalid_writes_good_rows_and_returns_rejected_file(people):
    org = people[0]
    result = csvimport.import_activity(organization=org, data=BAD.encode(), skip_invalid=True)
    db.session.commit()
    assert result.summary()["created"] == 2 and result.summary()["rejected"] == 5
    assert count() == 2
    rows = list(csv.reader(io.StringIO(result.rejected_csv.decode())))
    assert rows[0][:3] == ["line", "error", "email"]
    assert [r[0] for r in rows[1:]] == ["3", "4", "6", "7", "8"]
    assert rows[1][2] == "nobody@acme.example"


def test_reimport_changes_nothing_and_new_metrics_overwrite(people):
    org = people[0]
    csvimport.import_activity(organization=org, data=GENERIC.encode())
    db.session.commit()
    statements = count(Statement)
    again = csvimport.import_activity(organization=org, data=GENERIC.encode())
    db.session.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert count() == 2 and count(Statement) == statements
    changed = GENERIC.replace(";35;", ";90;")
    third = csvimport.import_activity(organization=org, data=changed.encode())
    db.session.commit()
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    assert count() == 2
    assert db.session.scalar(select(func.max(AdvocacyEvent.clicks))) == 90
    assert count(Statement) == statements + 1


def test_each_event_is_recorded_as_a_statement(people, app):
    org, alice, _, _ = people
    csvimport.import_activity(organization=org, data=GENERIC.encode())
    db.session.commit()
    event = db.session.scalar(select(AdvocacyEvent).where(AdvocacyEvent.user_id == alice.id))
    row = db.session.scalar(select(Statement).where(
        Statement.statement_id == event.statement_id))
    import json
    data = json.loads(row.data)
    assert data["verb"]["id"] == "http://adlnet.gov/expapi/verbs/shared"
    assert data["object"]["id"] == "https://acme.example/p/1"
    assert data["actor"]["account"]["name"] == str(alice.id)
    assert data["result"]["extensions"]["http://relais.test/xapi/extensions/clicks"] == 35


def test_revoked_consent_stops_collection(people):
    org, alice, _, _ = people
    services.revoke_consent(organization=org, user=alice)
    db.session.commit()
    with pytest.raises(csvimport.ImportRejected) as info:
        csvimport.import_activity(organization=org, data=GENERIC.encode())
    assert info.value.errors == [(2, "alice@acme.example has not opted in to advocacy "
                                      "activity collection")]


def test_missing_columns_of_a_preset_are_named(people):
    with pytest.raises(services.ValidationFailed) as info:
        csvimport.import_activity(organization=people[0], data=b"Post,Date\nx,y\n",
                                  preset_name="everyonesocial-shares")
    assert "shared by" in info.value.message


def test_cli_all_or_nothing_then_skip_invalid(people, runner, tmp_path):
    path = tmp_path / "activity.csv"
    path.write_text(BAD)
    out = runner.invoke(args=["import-activity", str(path), "--org", "acme"])
    assert out.exit_code == 1
    assert "line 3: nobody@acme.example" in out.output
    assert count() == 0
    rejected = tmp_path / "rejected.csv"
    out = runner.invoke(args=["import-activity", str(path), "--org", "acme", "--skip-invalid",
                              "--rejected", str(rejected)])
    assert out.exit_code == 0, out.output
    assert "2 new" in out.output and "5 rejected" in out.output
    assert len(rejected.read_text().strip().splitlines()) == 6
    assert count() == 2
    out = runner.invoke(args=["import-activity", str(path), "--org", "nope"])
    assert out.exit_code == 1


def test_cli_webhook_secret_prints_and_rotates(people, runner):
    first = runner.invoke(args=["advocacy-webhook-secret", "--org", "acme"]).output.strip()
    same = runner.invoke(args=["advocacy-webhook-secret", "--org", "acme"]).output.strip()
    new = runner.invoke(args=["advocacy-webhook-secret", "--org", "acme", "--rotate"]
                        ).output.strip()
    assert first.startswith("whsec_") and first == same and new != first
