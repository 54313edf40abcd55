"""The daily figures stay equal to a rebuild from the events after every write (imports,
re-imports, the webhook, the API, manual entry, the ORM, campaign deletion, erasure,
retention), and the pages read from them the figures the events give, cut hours included.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Membership, User
from lms.advocacy import campaigns, csvimport, figures, kpis, queries, services
from lms.advocacy.models import (
    EVERYONE,
    AdvocacyDailyFigure,
    AdvocacyEvent,
    AdvocacyPersonMonth,
)
from lms.advocacy.webhook import sign
from lms.core import database
from lms.core.models import utcnow
from lms.extensions import db
from tests.advocacy.helpers import consent

# Days of the month before last: always in the past, whatever today is, and its 2nd to 6th
# in one month (the people's months gather them).
MONTH = (utcnow().date().replace(day=1) - timedelta(days=32)).replace(day=1)


def day_text(n: int) -> str:
    """The ``n``-th of :data:`MONTH`, as ISO text."""
    return MONTH.replace(day=n).isoformat()


def day_at(n: int, hour: int = 0) -> datetime:
    """``hour`` o'clock UTC on the ``n``-th of :data:`MONTH`."""
    return datetime(MONTH.year, MONTH.month, n, hour, tzinfo=UTC)


def stored(organization_id: int) -> list[tuple]:
    f = AdvocacyDailyFigure
    columns = [getattr(f, c) for c in (*figures.KEY, *figures.SUMS)]
    return [tuple(row) for row in db.session.execute(
        select(*columns).where(f.organization_id == organization_id).order_by(*columns))]


def stored_months(organization_id: int) -> list[tuple]:
    m = AdvocacyPersonMonth
    columns = [getattr(m, c) for c in (*figures.MONTH_KEY, *figures.MONTH_SUMS)]
    return [tuple(row) for row in db.session.execute(
        select(*columns).where(m.organization_id == organization_id).order_by(*columns))]


def assert_as_rebuilt(organization_id: int) -> list[tuple]:
    """The figures kept by the writes (daily figures and the people's months) are those a
    rebuild from the events gives.
    """
    kept, months = stored(organization_id), stored_months(organization_id)
    figures.rebuild(organization_id)
    assert kept == stored(organization_id)
    assert months == stored_months(organization_id)
    return kept


@pytest.fixture()
def org(create_org, create_user):
    org = create_org(slug="daily")
    alice = create_user(org=org, email="alice@daily.example", name="Alice")
    bob = create_user(org=org, email="bob@daily.example", name="Bob")
    consent(org, alice, bob)
    return org


def alice_in(org) -> Membership:
    """Alice's membership, found by her address: the organization's first membership would
    be whichever row the database returns first without an ORDER BY — on PostgreSQL, where
    an earlier test's deleted rows left free space (its index returns equal keys in the
    order of their place in the table), that may be Bob's.
    """
    return db.session.scalar(select(Membership).join(User, User.id == Membership.user_id)
                             .where(Membership.organization_id == org.id,
                                    User.email == "alice@daily.example"))


def day_row(organization_id: int, user_id: int, day: str) -> tuple[int, int]:
    """(events, clicks) of a person's (or everyone's) day, all networks and kinds."""
    f = AdvocacyDailyFigure
    rows = db.session.execute(select(f.events, f.clicks).where(
        f.organization_id == organization_id, f.user_id == user_id,
        f.day == datetime.fromisoformat(day).date())).all()
    return sum(r[0] for r in rows), sum(r[1] for r in rows)


CSV = ("email;network;kind;url;date;clicks\n"
       f"alice@daily.example;linkedin;share;https://daily.example/1;{day_text(2)} 23:30;5\n"
       f"alice@daily.example;linkedin;post;https://daily.example/2;{day_text(2)} 08:00;1\n"
       f"bob@daily.example;x;share;https://daily.example/3;{day_text(3)} 00:10;7\n")


def test_imports_and_re_imports_keep_the_figures(org):
    alice = alice_in(org)
    csvimport.import_activity(organization=org, data=CSV.encode())
    db.session.commit()
    assert day_row(org.id, alice.user_id, day_text(2)) == (2, 6)
    assert day_row(org.id, EVERYONE, day_text(2)) == (2, 6)
    assert day_row(org.id, EVERYONE, day_text(3)) == (1, 7)
    assert_as_rebuilt(org.id)
    # The same file with new metrics: the events are updated, their figures follow.
    csvimport.import_activity(organization=org, data=CSV.replace(";5\n", ";9\n").encode())
    db.session.commit()
    assert day_row(org.id, EVERYONE, day_text(2)) == (2, 10)
    assert_as_rebuilt(org.id)


def test_an_event_moved_to_another_day_by_its_source_moves_its_figures(org):
    event = {"email": "alice@daily.example", "network": "linkedin", "kind": "share",
             "url": "https://daily.example/9", "external_id": "ext-9", "clicks": 3,
             "occurred_at": f"{day_text(2)}T10:00:00Z"}
    services.record_events(organization=org, items=[(event["email"], event)], source="api")
    services.record_events(organization=org, items=[(event["email"], {
        **event, "occurred_at": f"{day_text(5)}T10:00:00Z", "clicks": 4})], source="api")
    db.session.commit()
    assert day_row(org.id, EVERYONE, day_text(2)) == (0, 0)
    assert day_row(org.id, EVERYONE, day_text(5)) == (1, 4)
    assert_as_rebuilt(org.id)


def test_webhook_api_manual_and_orm_writes_keep_the_figures(org, client, api_token):
    alice = alice_in(org)
    secret = services.rotate_webhook_secret(organization=org)
    db.session.commit()
    payload = {"email": "alice@daily.example", "network": "linkedin", "kind": "share",
               "url": "https://daily.example/w", "occurred_at": f"{day_text(4)}T10:00:00Z",
               "external_id": "w-1", "clicks": 12}
    for clicks in (12, 30):
        body = json.dumps({**payload, "clicks": clicks}).encode()
        ts = str(int(time.time()))
        r = client.post("/hooks/advocacy/daily", data=body, headers={
            "Content-Type": "application/json", "X-Relais-Timestamp": ts,
            "X-Relais-Signature": sign(secret, ts, body)})
        assert r.status_code == 200, r.json
    r = client.post("/api/v1/orgs/daily/advocacy/events", headers=api_token(alice.user), json={
        "network": "linkedin", "kind": "post", "url": "https://daily.example/a",
        "occurred_at": f"{day_text(4)}T11:00:00Z", "clicks": 2})
    assert r.status_code == 201, r.json
    services.record_event(organization=org, user=alice.user, source="manual", data={
        "network": "x", "kind": "comment", "url": "https://daily.example/m",
        "occurred_at": day_text(4), "clicks": "1"})
    db.session.add(AdvocacyEvent(organization_id=org.id, user_id=alice.user_id,
                                 network="linkedin", kind="share", source="manual",
                                 occurred_at=day_at(4, 12),
                                 idem_key="orm-1", clicks=100))
    db.session.commit()
    assert day_row(org.id, alice.user_id, day_text(4)) == (4, 133)
    assert_as_rebuilt(org.id)
    # The ORM's changes and deletions too.
    orm = db.session.scalar(select(AdvocacyEvent).where(AdvocacyEvent.idem_key == "orm-1"))
    orm.clicks, orm.occurred_at = 50, day_at(6, 12)
    db.session.commit()
    assert day_row(org.id, EVERYONE, day_text(4)) == (3, 33)
    assert_as_rebuilt(org.id)
    db.session.delete(orm)
    db.session.commit()
    assert day_row(org.id, EVERYONE, day_text(6)) == (0, 0)
    assert_as_rebuilt(org.id)


def test_deleting_a_campaign_or_an_item_unlinks_the_figures(org):
    campaign = services.create_campaign(organization=org, kind="campaign", title="Salon")
    item = services.add_content_item(campaign=campaign, title="A", url="https://daily.example/i")
    other = services.add_content_item(campaign=campaign, title="B", url="https://daily.example/j")
    events = [(n, {"network": "linkedin", "kind": "share", "url": f"https://daily.example/{n}",
                   "occurred_at": f"{day_text(4)}T10:00:00Z", "clicks": n, **link})
              for n, link in enumerate([{"content_item_id": item.id},
                                        {"content_item_id": other.id},
                                        {"campaign_id": campaign.id}, {}])]
    services.record_events(organization=org, items=[("alice@daily.example", e)
                                                    for _n, e in events], source="api")
    db.session.commit()
    campaigns.delete_content_item(item=item)
    db.session.commit()
    assert_as_rebuilt(org.id)
    campaigns.delete_campaign(campaign=campaign)
    db.session.commit()
    rows = assert_as_rebuilt(org.id)
    # Everything unlinked: one row per person (and everyone's) for the day, network, kind.
    assert [(r[1] == EVERYONE, r[5], r[6], r[7]) for r in rows] == [
        (True, 0, 0, 4), (False, 0, 0, 4)]


def test_erasure_moves_the_figures_with_the_events(org, create_org):
    from lms.privacy.services import erase_member

    alice = alice_in(org)
    accounts.add_member(organization=create_org(slug="ailleurs"), user=alice.user,
                        role="learner")
    csvimport.import_activity(organization=org, data=CSV.encode())
    db.session.commit()
    her = alice.user_id
    erase_member(membership=alice, by=None)
    db.session.commit()
    rows = assert_as_rebuilt(org.id)
    # Her figures left her account with her events, for the pseudonymous one (the metrics
    # stay in the totals).
    assert alice.user_id != her
    assert not [r for r in rows if r[1] == her]
    assert day_row(org.id, alice.user_id, day_text(2)) == (2, 6)
    assert [r[1:] for r in stored_months(org.id)] == sorted([
        (alice.user_id, MONTH, 2, 0, 6),
        (db.session.scalar(select(User.id).where(User.email == "bob@daily.example")),
         MONTH, 1, 0, 7)])


def test_retention_deletes_the_figures_of_the_events_it_deletes(org, app):
    from lms.privacy import retention

    now = utcnow()
    old, recent = now - timedelta(days=800), now - timedelta(days=3)
    events = [{"network": "linkedin", "kind": "share", "url": f"https://daily.example/r{n}",
               "occurred_at": at.isoformat(), "clicks": 1}
              for n, at in enumerate([old, old + timedelta(hours=1), recent])]
    services.record_events(organization=org, items=[("bob@daily.example", e) for e in events],
                           source="api")
    db.session.commit()
    retention.save_settings(organization=org, values={"advocacy_events": 24}, by=None)
    db.session.commit()
    app.config["RETENTION_BATCH_SIZE"] = 1  # several transactions, each one right
    retention.run(organization=org, commit=db.session.commit)
    rows = assert_as_rebuilt(org.id)
    assert {r[2] for r in rows} == {recent.date()}


def test_cut_hours_at_both_ends_are_read_from_the_events(org):
    """A period from 13:00 to 09:00 counts the events of its first and last days by the hour,
    as the pure functions over the events do.
    """
    base = day_at(2)
    hours = [-30, 12, 13, 14, 30, 50, 56, 57, 58, 80]
    services.record_events(organization=org, items=[(
        "alice@daily.example" if h % 2 else "bob@daily.example",
        {"network": "linkedin" if h < 50 else "x", "kind": "share" if h % 3 else "post",
         "url": f"https://daily.example/h{h}", "occurred_at": (base + timedelta(hours=h))
         .isoformat(), "clicks": h + 40}) for h in hours], source="api")
    db.session.commit()
    since, until = base + timedelta(hours=13), base + timedelta(hours=57)
    records = queries.event_records(org.id, since=since, until=until)
    assert len(records) == 5
    for scope in (kpis.Scope(org.id, since=since, until=until),
                  kpis.Scope(org.id, since=since, until=until, team="none-such"),
                  kpis.Scope(org.id, since=since, until=base + timedelta(hours=20))):
        found = queries.event_records(org.id, since=scope.since, until=scope.until)
        if scope.team:
            found = []
        figures_overview = kpis.overview(scope)
        assert figures_overview.totals == kpis.totals(found)
        assert figures_overview.networks == kpis.by_network(found)
        assert figures_overview.leaderboard == kpis.leaderboard(found)


def test_the_command_rebuilds_from_the_events(org, runner):
    csvimport.import_activity(organization=org, data=CSV.encode())
    db.session.commit()
    kept = stored(org.id)
    db.session.execute(AdvocacyDailyFigure.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["rebuild-advocacy-figures", "--org", "daily"])
    assert result.exit_code == 0, result.output
    assert "rows of daily figures written" in result.output
    assert stored(org.id) == kept
    assert runner.invoke(args=["rebuild-advocacy-figures", "--org", "nope"]).exit_code != 0


def test_everyones_rows_are_the_sum_of_the_peoples(org):
    csvimport.import_activity(organization=org, data=CSV.encode())
    db.session.commit()
    rows = stored(org.id)
    people = sum(r[7] for r in rows if r[1] != EVERYONE)
    everyone = sum(r[7] for r in rows if r[1] == EVERYONE)
    assert people == everyone == 3


def test_the_leaderboard_reads_whole_months_and_the_days_around_them(org, create_user):
    """Over periods holding whole months (a year, all time, a period ending mid-month), the
    leaderboard and the people counted are those of the events, hours cut included.
    """
    carol = create_user(org=org, email="carol@daily.example", name="Carol")
    consent(org, carol)
    now = utcnow()
    people = ["alice@daily.example", "bob@daily.example", "carol@daily.example"]
    hours = [1, 5, 26, 70, 200, 700, 1500, 2100, 2161, 2180, 4000, 8000, 8770, 8800, 9000,
             12000]
    services.record_events(organization=org, items=[(
        people[n % 3], {"network": "linkedin", "kind": "share",
                        "url": f"https://daily.example/l{h}",
                        "occurred_at": (now - timedelta(hours=h)).isoformat(),
                        "clicks": (h * 7) % 13, "with_own_comment": n % 2 == 0})
        for n, h in enumerate(hours)], source="api")
    db.session.commit()
    assert_as_rebuilt(org.id)
    periods = [(now - timedelta(days=90), None), (now - timedelta(days=365), None),
               (None, None), (now - timedelta(days=400), now - timedelta(days=40)),
               (None, now - timedelta(days=100)), (now - timedelta(days=3), None)]
    for since, until in periods:
        found = queries.event_records(org.id, since=since, until=until)
        overview = kpis.overview(kpis.Scope(org.id, since=since, until=until))
        assert overview.leaderboard == kpis.leaderboard(found), (since, until)
        assert overview.totals["people"] == kpis.totals(found)["people"], (since, until)
    assert sum(r.with_own_comment for r in queries.event_records(org.id)) == 8


def test_an_import_of_several_chunks_mixing_new_and_changed_events_keeps_the_figures(org):
    # Chunks of 1,000: the new events of a chunk are counted as it is built, the changed ones
    # as it is written (on PostgreSQL in the writer thread, beside the next chunk's
    # counting); both land on the same days, people and networks, added up once at the end.
    def csv(rows: range, clicks: int) -> bytes:
        return ("email;network;kind;url;date;clicks\n" + "".join(
            f"{('alice', 'bob')[n % 2]}@daily.example;{('linkedin', 'x')[n % 3 == 0]};share;"
            f"https://daily.example/c/{n};{day_text(2 + n % 5)} {n % 24:02d}:{n % 60:02d};"
            f"{clicks + n % 4}\n" for n in rows)).encode()

    first = csvimport.import_activity(organization=org, data=csv(range(2000), 1))
    db.session.commit()
    assert first.created == 2000
    assert_as_rebuilt(org.id)
    # Every other row of the first file changed and 1,000 rows more, taken in turns (each
    # chunk holds both), then the unchanged rows.
    changed = csv(range(0, 2000, 2), 5).splitlines(keepends=True)[1:]
    added = csv(range(2000, 3000), 1).splitlines(keepends=True)[1:]
    data = b"".join(a + b for a, b in zip(changed, added, strict=True)) + b"".join(
        csv(range(1, 2000, 2), 1).splitlines(keepends=True)[1:])
    second = csvimport.import_activity(organization=org,
                                       data=b"email;network;kind;url;date;clicks\n" + data)
    db.session.commit()
    assert (second.created, second.updated, second.unchanged) == (1000, 1000, 1000)
    kept = assert_as_rebuilt(org.id)
    assert sum(row[len(figures.KEY)] for row in kept if row[1] == EVERYONE) == 3000


def test_upserts_staged_through_a_temporary_table_keep_the_figures(org, monkeypatch):
    # On PostgreSQL a large upsert of figures goes through a binary COPY into a temporary
    # table and one INSERT … SELECT (database.upsert_rows, from _STAGED rows on): here from
    # two rows, so this small file takes that path — new rows, then updated ones, twice in
    # one transaction and again after its commit. SQLite inserts as always.
    monkeypatch.setattr(database, "_STAGED", 2)
    alice = alice_in(org)
    csvimport.import_activity(organization=org, data=CSV.encode())
    csvimport.import_activity(organization=org, data=CSV.replace(";5\n", ";9\n").encode())
    db.session.commit()
    assert day_row(org.id, alice.user_id, day_text(2)) == (2, 10)
    assert day_row(org.id, EVERYONE, day_text(3)) == (1, 7)
    assert_as_rebuilt(org.id)
    csvimport.import_activity(organization=org, data=CSV.encode())
    db.session.commit()
    assert day_row(org.id, EVERYONE, day_text(2)) == (2, 6)
    assert_as_rebuilt(org.id)
