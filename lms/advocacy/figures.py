"""Daily figures: the advocacy events summed per UTC day, person, network, kind, campaign and
content item (:class:`AdvocacyDailyFigure`), and over everyone — kept equal to the events by
every write, and read by the advocacy dashboard instead of the events.

Why per day and per person: the pages filter by person (team, cohort, charter gate, the
comparison groups) and by period, and a week would not compose the periods they ask for
(the last 90 days from now). A period is read as its whole days from the figures and its cut
days at either end from the events, so every figure is the one the events give. The impact
pages still read the events: at a few actions per person per week, a person's days are almost
as many rows as their events, and the days a training hour cuts made it slower (measured).

What keeps the table right, in the transaction that changes the events:

- :class:`Tally`: the one intake (:func:`lms.advocacy.services.ingest`) counts each chunk's
  changes and writes an intake's whole change with one upsert per table;
- :func:`remove_events`: events about to be deleted (retention);
- :func:`move`: events unlinked from a deleted campaign or content item;
- erasure moves a person's rows to their pseudonymous account with their events
  (``lms.privacy.services``);
- :func:`watch_orm`: events written through the ORM one by one (a console, a test);
- :func:`rebuild`: from the events, for ``relais rebuild-advocacy-figures`` and the migration.

Each person's months (:data:`MONTHS`, :class:`AdvocacyPersonMonth`) sum their daily rows
per UTC calendar month, with only the leaderboard's sums: :func:`people` reads a long
period's whole months from them (a row per person and month instead of one per person-day),
and every write above keeps them with the daily figures (:func:`_apply`).

Each team's weeks (:data:`TEAM_WEEKS`, :class:`AdvocacyTeamWeek`) sum the daily rows of the
people :data:`TEAM_PEOPLE` lists in the team (:func:`_team_weeks`: a person is listed with their
membership's team when their first figures are written, with their whole history), per ISO
week: a team's page reads its whole weeks from them (:func:`rows` with ``weeks``) instead of
its people's days. "Team" on a page is the person's *current* team, over their whole history,
so the weeks are read only while the list is the team's current members with figures
(:func:`team_in_step`); an ORM hook moves a person whose membership changes (:func:`regroup`),
and the rebuild relists everyone. A path that changes teams without the ORM costs speed (the
page reads the daily figures), never a wrong figure.

The day is the UTC calendar day of ``occurred_at``, as the dashboard's weekly trend counts it
(its weeks start at midnight UTC).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    cast,
    event,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from lms.accounts.models import Membership
from lms.advocacy.models import (
    EVERYONE,
    METRICS,
    AdvocacyCampaignTotal,
    AdvocacyDailyFigure,
    AdvocacyEvent,
    AdvocacyPersonMonth,
    AdvocacyPersonTotal,
    AdvocacyTeamPerson,
    AdvocacyTeamWeek,
)
from lms.core.database import chunks, insert_rows, run_sql, select_in, upsert_rows
from lms.core.web import request_memo
from lms.extensions import db

# The posts and shares: the "shares" figure (as lms.advocacy.kpis counts them).
DISTRIBUTING_KINDS = ("post", "share")
TABLE = "advocacy_daily_figures"
KEY = ("organization_id", "user_id", "day", "network", "kind", "campaign_id",
       "content_item_id")
SUMS = ("events", "with_own_comment", *METRICS)
_PG_TYPES = {**dict.fromkeys(("user_id", "campaign_id", "content_item_id", "shares", *SUMS),
                              "int[]"),
             "day": "date[]", "month": "date[]", "last_day": "date[]", "week": "date[]"}


def _upsert(table: str, key: Sequence[str], sums: Sequence[str]) -> str:
    return (f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            + ", ".join(f"{s} = {table}.{s} + excluded.{s}" for s in sums))


_UPSERT = _upsert(TABLE, KEY, SUMS)
# Each person's month (lms.advocacy.models.AdvocacyPersonMonth): the leaderboard's sums.
MONTHS = "advocacy_person_months"
MONTH_KEY = ("organization_id", "user_id", "month")
MONTH_SUMS = ("events", "with_own_comment", "clicks")
_MONTH_UPSERT = _upsert(MONTHS, MONTH_KEY, MONTH_SUMS)
_MONTH_PICK = [SUMS.index(name) for name in MONTH_SUMS]
assert len(_MONTH_PICK) == 3  # _months and _person_totals add the three by name
# Each person's totals and last day (lms.advocacy.models.AdvocacyPersonTotal): "all time"'s
# leaderboard, and activation.
PEOPLE = "advocacy_person_totals"
PEOPLE_KEY = ("organization_id", "user_id")
_PEOPLE_UPSERT = _upsert(PEOPLE, PEOPLE_KEY, MONTH_SUMS)
# Each campaign's running totals (lms.advocacy.models.AdvocacyCampaignTotal): its progress.
CAMPAIGNS = "advocacy_campaign_totals"
CAMPAIGN_KEY = ("organization_id", "campaign_id")
CAMPAIGN_SUMS = ("events", "shares", "with_own_comment", *METRICS)
_CAMPAIGN_UPSERT = _upsert(CAMPAIGNS, CAMPAIGN_KEY, CAMPAIGN_SUMS)
# Each team's weeks (lms.advocacy.models.AdvocacyTeamWeek) and the team each person's rows are
# summed into (AdvocacyTeamPerson): a team's dashboard over whole weeks.
TEAM_WEEKS = "advocacy_team_weeks"
TEAM_KEY = ("organization_id", "team", "week", "network", "kind", "campaign_id",
            "content_item_id")
_TEAM_UPSERT = _upsert(TEAM_WEEKS, TEAM_KEY, SUMS)
TEAM_PEOPLE = "advocacy_team_people"
# The stored columns of an event that its figures depend on, as select_in reads them.
_EVENT_COLUMNS = ("user_id", "occurred_at", "network", "kind", "campaign_id",
                  "content_item_id", "with_own_comment", *METRICS)


def day_of(value: Any) -> date:
    """The UTC day of a time: an aware datetime, or the naive UTC text SQLite stores."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return (value.astimezone(UTC) if value.tzinfo else value).date()


# -- keeping the figures equal to the events ------------------------------------------------------

Deltas = dict[tuple[Any, ...], list[int]]


def _add(deltas: Deltas, organization_id: int, row: Any, sign: int) -> None:
    """Count one event (a mapping or an object with the event's columns) ``sign`` times, for
    its person and for everyone.
    """
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name, None)
    values = [sign, sign if get("with_own_comment") else 0,
              *[sign * int(get(m) or 0) for m in METRICS]]
    day = day_of(get("occurred_at"))
    rest = (day, get("network"), get("kind"), get("campaign_id") or 0,
            get("content_item_id") or 0)
    for user_id in (get("user_id"), EVERYONE):
        totals = deltas.setdefault((organization_id, user_id, *rest), [0] * len(SUMS))
        for n, value in enumerate(values):
            totals[n] += value


def _months(deltas: Deltas) -> Deltas:
    """The people's month changes (:data:`MONTHS`) of daily changes."""
    months: Deltas = {}
    firsts: dict[date, date] = {}  # each day's month (an import's deltas hold few days)
    first_sum, second_sum, third_sum = _MONTH_PICK
    for key, values in deltas.items():
        user_id = key[1]
        if user_id == EVERYONE:
            continue
        day = key[2]
        month = firsts.get(day)
        if month is None:
            month = firsts[day] = day.replace(day=1)
        found = months.get((key[0], user_id, month))
        if found is None:
            months[(key[0], user_id, month)] = [values[first_sum], values[second_sum],
                                                values[third_sum]]
        else:
            found[0] += values[first_sum]
            found[1] += values[second_sum]
            found[2] += values[third_sum]
    return months


def _campaigns(deltas: Deltas) -> Deltas:
    """The campaigns' running totals' changes (:data:`CAMPAIGNS`) of daily changes: from
    everyone's rows, shares counted as :class:`Part` counts them.
    """
    totals: Deltas = {}
    for (organization_id, user_id, _day, _network, kind, campaign_id, _item), values in \
            deltas.items():
        if user_id != EVERYONE or not campaign_id:
            continue
        found = totals.setdefault((organization_id, campaign_id), [0] * len(CAMPAIGN_SUMS))
        found[0] += values[0]
        if kind in DISTRIBUTING_KINDS:
            found[1] += values[0]
        for n, value in enumerate(values[1:], 2):
            found[n] += value
    return totals


def _apply(deltas: Deltas) -> None:
    """Upsert the changes of the daily figures, of the people's months and of the campaigns'
    totals, one statement each (rows whose events fell to none go), then the totals of the
    people whose figures changed (:func:`_person_totals`) and their teams' weeks
    (:func:`_team_weeks`).
    """
    _upsert_rows(TABLE, KEY, SUMS, _UPSERT, deltas)
    _upsert_rows(MONTHS, MONTH_KEY, MONTH_SUMS, _MONTH_UPSERT, _months(deltas))
    _upsert_rows(CAMPAIGNS, CAMPAIGN_KEY, CAMPAIGN_SUMS, _CAMPAIGN_UPSERT, _campaigns(deltas),
                 dated=False)
    _person_totals(deltas)
    _team_weeks(deltas)
    _forget_in_step()


def monday_of(day: date) -> date:
    """The Monday of ``day``'s ISO week: the key of its team week."""
    return day - timedelta(days=day.weekday())


def _team_weeks(deltas: Deltas) -> None:
    """Add daily changes to the weeks of the team each person is listed in
    (:data:`TEAM_PEOPLE`). A person not listed yet is listed with their membership's team
    (None without one) and their whole daily history is added, not only this change: a
    person's rows are then always summed into exactly the team they are listed in, whatever
    path wrote them. Whether that team is still theirs is the reader's question
    (:func:`team_in_step`).
    """
    people: dict[int, set[int]] = {}
    for key in deltas:
        if key[1] != EVERYONE:
            people.setdefault(key[0], set()).add(key[1])
    changes: Deltas = {}
    for organization_id, ids in people.items():
        listed = _listed(organization_id, sorted(ids))
        added = _list_new(organization_id, sorted(ids - listed.keys()), listed)
        history: dict[str, list[int]] = {}
        for user_id in added:
            if (listed_team := listed[user_id]) is not None:
                history.setdefault(listed_team, []).append(user_id)
        for team, some in history.items():
            _add_history(organization_id, team, some, 1)
        for key, values in deltas.items():
            # Most people of an import may have no team: told before the key is unpacked.
            summed_into = listed.get(key[1]) if key[0] == organization_id else None
            if summed_into is None or key[1] in added:
                continue
            org, _user_id, day, *rest = key
            totals = changes.setdefault((org, summed_into, monday_of(day), *rest),
                                        [0] * len(SUMS))
            for n, value in enumerate(values):
                totals[n] += value
    _upsert_rows(TEAM_WEEKS, TEAM_KEY, SUMS, _TEAM_UPSERT, changes)


def _listed(organization_id: int, ids: Sequence[int]) -> dict[int, str | None]:
    """The team each of these people's rows are summed into, for those listed. Their rows
    are locked on PostgreSQL until the transaction ends: an intake adding a person's events
    and a change of their team then go one after the other, each seeing the other's team
    and figures (the second statement of each reads what the first committed).
    """
    lock = " FOR UPDATE" if db.session.connection().dialect.name == "postgresql" else ""
    found: dict[int, str | None] = {}
    for some in chunks(sorted(ids)):
        for row in run_sql(
                f"SELECT user_id, team FROM {TEAM_PEOPLE} WHERE organization_id = ? AND user_id "
                f"IN ({', '.join('?' * len(some))}){lock}", (organization_id, *some)):
            found[row.user_id] = row.team
    return found


def _list_new(organization_id: int, ids: Sequence[int], listed: dict[int, str | None]
              ) -> set[int]:
    """List people not listed yet with their membership's team (in ``listed`` too); returns
    those this transaction listed (another one may have listed some first: their team is
    read back).
    """
    if not ids:
        return set()
    teams = {row.user_id: row.team or None for row in select_in(
        "SELECT user_id, team FROM memberships WHERE organization_id = ? AND user_id IN",
        organization_id, list(ids))}
    postgresql = db.session.connection().dialect.name == "postgresql"
    returned = insert_rows(
        TEAM_PEOPLE, ("organization_id", "user_id", "team"),
        [(organization_id, user_id, teams.get(user_id)) for user_id in ids],
        suffix="ON CONFLICT (organization_id, user_id) DO NOTHING"
               + (" RETURNING user_id" if postgresql else ""), pg_types=_PG_TYPES)
    # SQLite has one writer at a time: every insert went in.
    added = {row.user_id for row in returned} if postgresql else set(ids)
    listed.update({user_id: teams.get(user_id) for user_id in added})
    if len(added) < len(ids):
        listed.update(_listed(organization_id, [i for i in ids if i not in added]))
    return added


def _week_sql(dialect: str, day: str = "day") -> str:
    """The Monday of a stored day's ISO week, in SQL."""
    if dialect == "sqlite":
        return f"date({day}, 'weekday 0', '-6 days')"
    return f"CAST(date_trunc('week', {day}) AS date)"


def _add_history(organization_id: int, team: str, ids: Sequence[int], sign: int) -> None:
    """Add (``sign`` 1) or take off (-1) these people's whole daily figures to the team's
    weeks; weeks left without events go.
    """
    connection = db.session.connection()
    week = _week_sql(connection.dialect.name)
    others = "network, kind, campaign_id, content_item_id"
    for some in chunks(sorted(ids)):
        connection.execute(text(
            f"INSERT INTO {TEAM_WEEKS} ({', '.join((*TEAM_KEY, *SUMS))}) "
            f"SELECT organization_id, :team, {week}, {others}, "
            + ", ".join(f"{int(sign)} * sum({s})" for s in SUMS)
            + f" FROM {TABLE} WHERE organization_id = :org AND user_id IN "
            f"({', '.join(str(int(i)) for i in some)}) "
            f"GROUP BY organization_id, {week}, {others} {_TEAM_UPSERT}"),
            {"team": team, "org": organization_id})
    if sign < 0:
        connection.execute(text(f"DELETE FROM {TEAM_WEEKS} WHERE organization_id = :org "
                                "AND team = :team AND events <= 0"),
                           {"team": team, "org": organization_id})


def regroup(organization_id: int, ids: Iterable[int]) -> None:
    """Move these people's figures to the team of their membership (none without one) in
    the teams' weeks: after their team changed, they joined or left the organization.
    """
    ids = sorted(set(ids))
    if not ids:
        return
    _forget_in_step()
    listed = _listed(organization_id, ids)
    current = {row.user_id: row.team or None for row in select_in(
        "SELECT user_id, team FROM memberships WHERE organization_id = ? AND user_id IN",
        organization_id, ids)}
    # People with figures who were never listed (a path that wrote rows without _apply).
    unlisted = [row.user_id for row in select_in(
        f"SELECT user_id FROM {PEOPLE} WHERE organization_id = ? AND user_id IN",
        organization_id, [i for i in ids if i not in listed])]
    leaving: dict[str, list[int]] = {}
    joining: dict[str, list[int]] = {}
    moved: list[tuple[int, int, str | None]] = []
    for user_id in [*listed, *unlisted]:
        old, new = listed.get(user_id), current.get(user_id)
        if user_id in listed and old == new:
            continue
        if old:
            leaving.setdefault(old, []).append(user_id)
        if new:
            joining.setdefault(new, []).append(user_id)
        moved.append((organization_id, user_id, new))
    for team, some in leaving.items():
        _add_history(organization_id, team, some, -1)
    for team, some in joining.items():
        _add_history(organization_id, team, some, 1)
    insert_rows(TEAM_PEOPLE, ("organization_id", "user_id", "team"), moved,
                suffix="ON CONFLICT (organization_id, user_id) DO UPDATE SET team = excluded.team",
                pg_types=_PG_TYPES)


def team_in_step(organization_id: int, team: str) -> bool:
    """Whether the team's weeks sum exactly the daily figures of its current members: every
    member with figures is listed in it and everyone listed in it is still a member. When not
    (a change of team no hook saw), pages read the daily figures until :func:`regroup` or
    ``relais rebuild-advocacy-figures`` brings them back in step.

    Asked once per request and team (a page reads a period and the one before it); a write
    of figures or memberships in the request asks again (:func:`_forget_in_step`).
    """
    return _once_a_request(("in step", organization_id, team), lambda: not run_sql(
        "SELECT 1 FROM memberships m JOIN advocacy_person_totals t "
        "ON t.organization_id = m.organization_id AND t.user_id = m.user_id "
        f"LEFT JOIN {TEAM_PEOPLE} p ON p.organization_id = m.organization_id "
        "AND p.user_id = m.user_id WHERE m.organization_id = ? AND m.team = ? "
        "AND (p.team IS NULL OR p.team <> m.team) "
        f"UNION ALL SELECT 1 FROM {TEAM_PEOPLE} p WHERE p.organization_id = ? AND p.team = ? "
        "AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = p.organization_id "
        "AND m.user_id = p.user_id AND m.team = p.team) LIMIT 1",
        (organization_id, team, organization_id, team)).fetchone())


_ANSWERS = "advocacy_team_answers"


def _once_a_request(key: tuple[Any, ...], ask: Callable[[], bool]) -> bool:
    """``ask()``'s answer, kept for the rest of the request (asked each time outside one)."""
    answers: dict[tuple[Any, ...], bool] = request_memo(_ANSWERS)
    if key not in answers:
        answers[key] = ask()
    return answers[key]


def _forget_in_step() -> None:
    """Drop the request's answers about the teams (figures or teams changed)."""
    request_memo(_ANSWERS).clear()


def team_counts_only(organization_id: int, team: str, users: Select[Any]) -> bool:
    """Whether everyone summed into the team's weeks is one of ``users`` (a subquery of user
    ids, e.g. the people the charter gate counts): the weeks then hold only what counts.
    """
    return _once_a_request(("counts only", organization_id, team), lambda: db.session.scalar(
        select(AdvocacyTeamPerson.user_id).where(
            AdvocacyTeamPerson.organization_id == organization_id,
            AdvocacyTeamPerson.team == team, AdvocacyTeamPerson.user_id.not_in(users))
        .limit(1)) is None)


def _person_totals(deltas: Deltas) -> None:
    """Keep each person's totals and last day (:data:`PEOPLE`) after their daily figures
    changed: the sums are added (a person left without events goes); a day that gained
    events moves the last day later; for a person whose days lost events (a day may have
    emptied) it is read again from their daily figures, through the key (a few rows each).
    """
    people: dict[tuple[int, int], list[Any]] = {}
    first_sum, second_sum, third_sum = _MONTH_PICK
    for key, values in deltas.items():
        user_id = key[1]
        if user_id == EVERYONE:
            continue
        # [events, with_own_comment, clicks, last day gained, lost a day's events]
        found = people.get((key[0], user_id))
        if found is None:
            found = people[(key[0], user_id)] = [0, 0, 0, None, False]
        found[0] += values[first_sum]
        found[1] += values[second_sum]
        found[2] += values[third_sum]
        if values[0] > 0:
            if found[3] is None or key[2] > found[3]:
                found[3] = key[2]
        elif values[0] < 0:
            found[4] = True
    if not people:
        return
    connection = db.session.connection()
    sqlite = connection.dialect.name == "sqlite"
    # A person who gained no day keeps theirs: the earliest day never wins.
    rows = [(organization_id, user_id,
             (day or date.min).isoformat() if sqlite else (day or date.min), *sums)
            for (organization_id, user_id), (*sums, day, _lost) in people.items()
            if day is not None or any(sums)]
    later = "max" if sqlite else "greatest"
    insert_rows(PEOPLE, (*PEOPLE_KEY, "last_day", *MONTH_SUMS), rows, pg_types=_PG_TYPES,
                suffix=f"{_PEOPLE_UPSERT}, last_day = {later}({PEOPLE}.last_day, "
                       "excluded.last_day)")
    lost: dict[int, list[int]] = {}
    for (organization_id, user_id), found in people.items():
        if found[4]:
            lost.setdefault(organization_id, []).append(user_id)
    for organization_id, ids in lost.items():
        for some in chunks(sorted(ids)):
            where = (f"organization_id = {int(organization_id)} "
                     f"AND user_id IN ({', '.join(str(int(i)) for i in some)})")
            connection.exec_driver_sql(f"DELETE FROM {PEOPLE} WHERE {where} AND events <= 0")
            connection.exec_driver_sql(
                f"UPDATE {PEOPLE} SET last_day = (SELECT max(d.day) FROM {TABLE} d WHERE "
                f"d.organization_id = {PEOPLE}.organization_id AND d.user_id = "
                f"{PEOPLE}.user_id) WHERE {where}")


def _upsert_rows(table: str, key: Sequence[str], sums: Sequence[str], upsert: str,
                 deltas: Deltas, *, dated: bool = True) -> None:
    kept = [(k, values) for k, values in deltas.items() if any(values)]
    if not kept:
        return
    changed = [(*k, *values) for k, values in kept]
    sqlite = db.session.connection().dialect.name == "sqlite"
    if sqlite and dated:  # the key's third column, a date, as the ISO text SQLAlchemy stores
        changed = [(*row[:2], row[2].isoformat(), *row[3:]) for row in changed]
    upsert_rows(table, (*key, *sums), changed, upsert, _PG_TYPES)
    emptied = [row[:len(key)] for row, (_k, values) in zip(changed, kept, strict=True)
               if values[0] < 0]
    if emptied:
        mark = "?" if sqlite else "%s"
        where = " AND ".join(f"{k} = {mark}" for k in key)
        db.session.connection().exec_driver_sql(
            f"DELETE FROM {table} WHERE {where} AND events <= 0", emptied)


def _stored(organization_id: int, ids: Sequence[int]) -> list[Any]:
    """The figure columns of stored events, by id."""
    return select_in(f"SELECT {', '.join(_EVENT_COLUMNS)} FROM advocacy_events "
                     "WHERE organization_id = ? AND id IN", organization_id, list(ids))


class Tally:
    """The figures' change of an intake, counted chunk by chunk and written once
    (:meth:`apply`): a large import writes each day, person and month it touches once, not
    once per chunk (everyone's rows and the people's months recur in every chunk).

    New events and changed ones are counted apart (:meth:`count_new`, :meth:`count_changed`),
    so that two threads may count at once: the intake counts a chunk's new events while
    it builds them, and its writer thread the previous chunk's changed events (which reads
    the database); :meth:`apply` adds the two up.
    """

    def __init__(self, organization_id: int) -> None:
        self.organization_id = organization_id
        self.deltas: Deltas = {}
        self.changes: Deltas = {}

    def count_new(self, created: Iterable[dict[str, Any]]) -> None:
        """Count ``created`` (new events, as the intake normalized them)."""
        _add_new(self.deltas, self.organization_id, created)

    def count_changed(self, changed: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Count ``changed`` ((id, new values) of stored events about to be overwritten:
        their stored figures are taken off, the new ones added — person, network and kind
        stay the stored ones, as the intake keeps them). Reads the changed events' stored
        values: call it before they are overwritten.
        """
        if not changed:
            return
        organization_id, deltas = self.organization_id, self.changes
        stored = {}
        for row in select_in(f"SELECT id, {', '.join(_EVENT_COLUMNS)} FROM advocacy_events "
                             "WHERE organization_id = ? AND id IN", organization_id,
                             [i for i, _e in changed]):
            stored[row.id] = row
        for event_id, new in changed:
            old = stored[event_id]
            _add(deltas, organization_id, old, -1)
            _add(deltas, organization_id, {**new, "user_id": old.user_id,
                                           "network": old.network, "kind": old.kind}, 1)

    def apply(self) -> None:
        """Write the change counted so far (one upsert per table) and start again."""
        deltas, changes, self.deltas, self.changes = self.deltas, self.changes, {}, {}
        for key, values in changes.items():
            totals = deltas.get(key)
            if totals is None:
                deltas[key] = values
            else:
                for n, value in enumerate(values):
                    totals[n] += value
        _apply(deltas)


# The intake's normalized events: every column the figures read is set.
_NEW_METRICS = itemgetter(*METRICS)


def _add_new(deltas: Deltas, organization_id: int, events: Iterable[dict[str, Any]]) -> None:
    """Count new events (dicts with every column set, as the intake makes them) once each,
    for their person and for everyone: the same sums as :func:`_add`, grouped by key first
    and summed column by column (100,000 events of an import in a fraction of the time).
    """
    groups: dict[tuple[Any, ...], list[tuple[int, ...]]] = {}
    for event_row in events:
        occurred = event_row["occurred_at"]
        key = (organization_id, event_row["user_id"],
               occurred.date() if occurred.tzinfo is UTC else day_of(occurred),
               event_row["network"], event_row["kind"], event_row["campaign_id"] or 0,
               event_row["content_item_id"] or 0)
        values = (1, 1 if event_row["with_own_comment"] else 0,
                  *map(int, _NEW_METRICS(event_row)))
        found = groups.get(key)
        if found is None:
            groups[key] = [values]
        else:
            found.append(values)
    for key, rows in groups.items():
        sums = [sum(column) for column in zip(*rows, strict=True)] if len(rows) > 1 \
            else list(rows[0])
        for target in (key, (organization_id, EVERYONE, *key[2:])):
            totals = deltas.get(target)
            if totals is None:
                deltas[target] = list(sums)
            else:
                for n, value in enumerate(sums):
                    totals[n] += value


def remove_events(organization_id: int, ids: Sequence[int]) -> None:
    """Take events about to be deleted off the figures."""
    deltas: Deltas = {}
    for row in _stored(organization_id, ids):
        _add(deltas, organization_id, row, -1)
    _apply(deltas)


def move(organization_id: int, column: str, old: Sequence[int], new: int = 0) -> None:
    """Re-key the figures of ``column`` (``campaign_id`` or ``content_item_id``) from the
    values ``old`` to ``new`` (0: none), merging with rows already there — as the events were
    unlinked from a deleted campaign or content item.
    """
    if not old:
        return
    assert column in ("campaign_id", "content_item_id")
    for f, key, table, upsert in ((AdvocacyDailyFigure, KEY, TABLE, _UPSERT),
                                  (AdvocacyTeamWeek, TEAM_KEY, TEAM_WEEKS, _TEAM_UPSERT)):
        rest = [c for c in key if c != column]
        moved = (select(*[getattr(f, c) for c in rest], literal(new).label(column),
                        *[func.sum(getattr(f, s)).label(s) for s in SUMS])
                 .where(f.organization_id == organization_id, getattr(f, column).in_(list(old)))
                 .group_by(*[getattr(f, c) for c in rest]))
        compiled = moved.compile(db.session.connection(),
                                 compile_kwargs={"literal_binds": True})
        db.session.execute(text(f"INSERT INTO {table} ({', '.join((*rest, column, *SUMS))}) "
                                f"{compiled} {upsert}"))
        db.session.execute(f.__table__.delete().where(  # type: ignore[attr-defined]
            f.organization_id == organization_id, getattr(f, column).in_(list(old))))
    if column == "campaign_id":
        # The campaigns' totals: the old campaigns' go to the new one (none: they go).
        t = AdvocacyCampaignTotal
        if new:
            merged = (select(t.organization_id, literal(new).label("campaign_id"),
                             *[func.sum(getattr(t, s)).label(s) for s in CAMPAIGN_SUMS])
                      .where(t.organization_id == organization_id, t.campaign_id.in_(list(old)))
                      .group_by(t.organization_id))
            compiled = merged.compile(db.session.connection(),
                                      compile_kwargs={"literal_binds": True})
            db.session.execute(text(
                f"INSERT INTO {CAMPAIGNS} ({', '.join((*CAMPAIGN_KEY, *CAMPAIGN_SUMS))}) "
                f"{compiled} {_CAMPAIGN_UPSERT}"))
        db.session.execute(t.__table__.delete().where(  # type: ignore[attr-defined]
            t.organization_id == organization_id, t.campaign_id.in_(list(old))))


def rebuild(organization_id: int | None = None) -> int:
    """Recompute the figures of one organization (all without ``organization_id``) from its
    events; returns the number of rows written.
    """
    connection = db.session.connection()
    where = "" if organization_id is None else f"WHERE organization_id = {int(organization_id)}"
    connection.exec_driver_sql(f"DELETE FROM {TABLE} {where}")
    connection.exec_driver_sql(f"DELETE FROM {MONTHS} {where}")
    connection.exec_driver_sql(f"DELETE FROM {PEOPLE} {where}")
    connection.exec_driver_sql(f"DELETE FROM {CAMPAIGNS} {where}")
    connection.exec_driver_sql(f"DELETE FROM {TEAM_WEEKS} {where}")
    connection.exec_driver_sql(f"DELETE FROM {TEAM_PEOPLE} {where}")
    for sql in rebuild_sql(connection.dialect.name, where):
        connection.exec_driver_sql(sql)
    return int(connection.exec_driver_sql(f"SELECT count(*) FROM {TABLE} {where}").scalar()
               or 0)


def rebuild_sql(dialect: str, where: str = "") -> list[str]:
    """The statements that fill the tables from the events (per person, then everyone's
    rows, the people's months, their totals and last days, the campaigns' totals, the team
    each person is listed in — their membership's — and the teams' weeks from them); the
    migrations run the same.
    """
    day = ("date(occurred_at)" if dialect == "sqlite"
           else "CAST(occurred_at AT TIME ZONE 'UTC' AS date)")
    columns = ", ".join((*KEY, *SUMS))
    per_person = (
        f"INSERT INTO {TABLE} ({columns}) SELECT organization_id, user_id, {day}, network, "
        "kind, COALESCE(campaign_id, 0), COALESCE(content_item_id, 0), count(*), "
        "sum(CASE WHEN with_own_comment THEN 1 ELSE 0 END), "
        + ", ".join(f"sum({m})" for m in METRICS)
        + f" FROM advocacy_events {where} GROUP BY organization_id, user_id, {day}, network, "
        "kind, COALESCE(campaign_id, 0), COALESCE(content_item_id, 0)")
    others = ", ".join(k for k in KEY if k not in ("organization_id", "user_id"))
    everyone = (
        f"INSERT INTO {TABLE} ({columns}) SELECT organization_id, {EVERYONE}, {others}, "
        + ", ".join(f"sum({s})" for s in SUMS)
        + f" FROM {TABLE} WHERE user_id <> {EVERYONE}"
        + (f" AND {where[6:]}" if where else "")
        + f" GROUP BY organization_id, {others}")
    month = ("date(day, 'start of month')" if dialect == "sqlite"
             else "CAST(date_trunc('month', day) AS date)")
    months = (
        f"INSERT INTO {MONTHS} ({', '.join((*MONTH_KEY, *MONTH_SUMS))}) "
        f"SELECT organization_id, user_id, {month}, "
        + ", ".join(f"sum({s})" for s in MONTH_SUMS)
        + f" FROM {TABLE} WHERE user_id <> {EVERYONE}"
        + (f" AND {where[6:]}" if where else "")
        + f" GROUP BY organization_id, user_id, {month}")
    people = (
        f"INSERT INTO {PEOPLE} ({', '.join((*PEOPLE_KEY, 'last_day', *MONTH_SUMS))}) "
        "SELECT organization_id, user_id, max(day), "
        + ", ".join(f"sum({s})" for s in MONTH_SUMS)
        + f" FROM {TABLE} WHERE user_id <> {EVERYONE}"
        + (f" AND {where[6:]}" if where else "")
        + " GROUP BY organization_id, user_id")
    shares = ", ".join(f"'{kind}'" for kind in DISTRIBUTING_KINDS)
    campaigns = (
        f"INSERT INTO {CAMPAIGNS} ({', '.join((*CAMPAIGN_KEY, *CAMPAIGN_SUMS))}) "
        "SELECT organization_id, campaign_id, sum(events), "
        f"sum(CASE WHEN kind IN ({shares}) THEN events ELSE 0 END), "
        + ", ".join(f"sum({s})" for s in SUMS[1:])
        + f" FROM {TABLE} WHERE user_id = {EVERYONE} AND campaign_id <> 0"
        + (f" AND {where[6:]}" if where else "")
        + " GROUP BY organization_id, campaign_id")
    and_org = f" AND t.{where[6:]}" if where else ""
    listed = (
        f"INSERT INTO {TEAM_PEOPLE} (organization_id, user_id, team) "
        "SELECT t.organization_id, t.user_id, CASE WHEN m.team <> '' THEN m.team END "
        f"FROM {PEOPLE} t LEFT JOIN memberships m ON m.organization_id = t.organization_id "
        f"AND m.user_id = t.user_id WHERE t.user_id <> {EVERYONE}{and_org}")
    week = _week_sql(dialect, "t.day")
    others = "t.network, t.kind, t.campaign_id, t.content_item_id"
    teams = (
        f"INSERT INTO {TEAM_WEEKS} ({', '.join((*TEAM_KEY, *SUMS))}) "
        f"SELECT t.organization_id, p.team, {week}, {others}, "
        + ", ".join(f"sum(t.{s})" for s in SUMS)
        + f" FROM {TABLE} t JOIN {TEAM_PEOPLE} p ON p.organization_id = t.organization_id "
        f"AND p.user_id = t.user_id WHERE p.team IS NOT NULL{and_org} "
        f"GROUP BY t.organization_id, p.team, {week}, {others}")
    return [per_person, everyone, months, people, campaigns, listed, teams]


def _orm_changes(session: Session, _context: Any) -> None:
    """Count the events the ORM inserted, deleted or changed in this flush (the intake and
    the bulk paths write with SQL and count their own).
    """
    deltas: Deltas = {}
    for obj in session.new:
        if isinstance(obj, AdvocacyEvent):
            _add(deltas, obj.organization_id, obj, 1)
    for obj in session.deleted:
        if isinstance(obj, AdvocacyEvent):
            _add(deltas, obj.organization_id, obj, -1)
    for obj in session.dirty:
        if isinstance(obj, AdvocacyEvent) and session.is_modified(obj):
            state = db.inspect(obj)
            before = {}
            for name in (*_EVENT_COLUMNS, "organization_id"):
                history = state.attrs[name].history
                before[name] = history.deleted[0] if history.deleted else getattr(obj, name)
            _add(deltas, before["organization_id"], before, -1)
            _add(deltas, obj.organization_id, obj, 1)
    if deltas:
        _apply(deltas)


def _membership_changes(session: Session, _context: Any) -> None:
    """Move the figures of people whose membership the ORM added, deleted or gave another
    team (or person) in this flush to their new team's weeks (:func:`regroup`).
    """
    people: dict[int, set[int]] = {}
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, Membership):
            people.setdefault(obj.organization_id, set()).add(obj.user_id)
    for obj in session.dirty:
        if not isinstance(obj, Membership):
            continue
        state = db.inspect(obj)
        if not any(state.attrs[name].history.deleted
                   for name in ("team", "user_id", "organization_id")):
            continue
        before = {name: (state.attrs[name].history.deleted or [getattr(obj, name)])[0]
                  for name in ("user_id", "organization_id")}
        people.setdefault(before["organization_id"], set()).add(before["user_id"])
        people.setdefault(obj.organization_id, set()).add(obj.user_id)
    for organization_id, ids in people.items():
        if organization_id is not None:
            regroup(organization_id, [i for i in ids if i is not None])


def watch_orm() -> None:
    """Keep the figures right when events are written through the ORM, and the teams' weeks
    when memberships are (once per process).
    """
    if not event.contains(Session, "after_flush", _orm_changes):
        event.listen(Session, "after_flush", _orm_changes)
    if not event.contains(Session, "after_flush", _membership_changes):
        event.listen(Session, "after_flush", _membership_changes)


# -- reading: whole days from the figures, cut days from the events -------------------------------

def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def first_whole_day(at: datetime) -> date:
    """The first day that begins at or after ``at``."""
    day = day_of(at)
    return day if _midnight(day) == at else day + timedelta(days=1)


class Part:
    """The columns of one source of figures, read alike: the daily figures (``events`` rows
    summed) or the events themselves (each one event).
    """

    def __init__(self, daily: bool) -> None:
        self.daily = daily
        self.table: Any = AdvocacyDailyFigure if daily else AdvocacyEvent

    def __getattr__(self, name: str) -> Any:
        return getattr(self.table, name)

    @property
    def count(self) -> Any:
        """What one row counts as events."""
        return self.table.events if self.daily else literal(1)

    def value(self, name: str) -> Any:
        """The figure ``name`` of a row: ``events``, ``shares``, ``with_own_comment`` or a
        metric.
        """
        if name == "events":
            return self.count
        if name == "shares":
            return case((self.table.kind.in_(DISTRIBUTING_KINDS), self.count), else_=0)
        if name == "with_own_comment" and not self.daily:
            return case((self.table.with_own_comment, 1), else_=0)
        return getattr(self.table, name)

    def since(self, at: datetime) -> ColumnElement[bool]:
        """The row is at or after ``at`` (a daily row lies wholly on one side of it)."""
        if self.daily:
            return self.table.day >= first_whole_day(at)
        return self.table.occurred_at >= at

    def before(self, at: datetime) -> ColumnElement[bool]:
        """The row is before ``at``."""
        if self.daily:
            return self.table.day < first_whole_day(at)
        return self.table.occurred_at < at

    def week(self, first: date) -> Any:
        """The row's week counted from the Monday ``first`` (0 for its week), -1 before it:
        day arithmetic, which SQLite and PostgreSQL write differently.
        """
        day = self.row_day()
        if db.session.connection().dialect.name == "sqlite":
            # julianday of an ISO day is its ordinal + 1721424.5 exactly.
            days: Any = cast(func.julianday(day) - (first.toordinal() + 1721424.5), Integer)
        else:
            days = day - literal(first, Date)
        return case((day < first, -1), else_=days // 7)

    def row_day(self) -> Any:
        """The row's UTC day."""
        if self.daily:
            return self.table.day
        if db.session.connection().dialect.name == "sqlite":
            return func.date(self.table.occurred_at)
        return cast(func.timezone("UTC", self.table.occurred_at), Date)


Who = Callable[[Part], list[ColumnElement[bool]]]


Extra = Callable[[Part], list[Any]]


def rows(organization_id: int, *, since: datetime | None = None, until: datetime | None = None,
         who: Who = lambda part: [], everyone: bool = False, narrow: bool = False,
         split: datetime | None = None, extra: Extra | None = None,
         weeks: Who | None = None) -> Subquery:
    """The figures of ``[since, until)`` as rows of one shape, whole days from the daily
    figures and the cut days at either end from the events: ``user_id`` (None from
    everyone's rows), ``day``, ``network``, ``kind``, ``campaign_id`` and ``content_item_id``
    (None for none), and the sums ``events``, ``shares``, ``with_own_comment`` and
    :data:`METRICS`.

    :param who: more conditions (the person, team, campaign…), on either part's columns.
    :param everyone: read everyone's rows (no condition on the person is then allowed).
    :param narrow: only ``user_id`` and the leaderboard's sums (:data:`MONTH_SUMS`): what the
        daily figures' index on the day holds, so that neither database reads the table.
    :param split: a time inside ``[since, …)`` (no ``until``) that the rows must fall wholly
        on one side of: its day, unless it begins there, is read from the events too.
    :param extra: more columns, made from either part (e.g. the side of ``split`` a row is
        on, :meth:`Part.since`).
    :param weeks: read the whole weeks from one team's weeks (:class:`TeamWeekPart`), with
        these conditions (the team's, the campaign's), and only the days around them from the
        daily figures with ``who``; their rows' ``user_id`` is None and ``day`` the week's
        Monday. Only for a team in step (:func:`team_in_step`).
    """
    lo = first_whole_day(since) if since is not None else None
    hi = day_of(until) if until is not None else None
    whole = lo is None or hi is None or lo < hi
    cut_day = None
    if split is not None:
        assert until is None, "a split needs an open-ended period"
        if _midnight(day_of(split)) != split and (lo is None or day_of(split) >= lo):
            cut_day = day_of(split)
    parts: list[Any] = []
    if whole and weeks is not None:
        assert not narrow and not everyone, "the teams' weeks hold no person"
        parts.extend(_by_week(organization_id, lo, hi, who, weeks, split, cut_day, extra))
    elif whole:
        f = Part(True)
        where = [f.organization_id == organization_id,
                 f.user_id == EVERYONE if everyone else f.user_id != EVERYONE, *who(f)]
        if lo is not None:
            where.append(f.day >= lo)
        if hi is not None:
            where.append(f.day < hi)
        if cut_day is not None:
            where.append(f.day != cut_day)
        parts.append(_shape(f, where, narrow, extra))
    e = Part(False)
    cut: list[Any] = []
    if cut_day is not None:
        cut.append(and_(e.since(_midnight(cut_day)),
                        e.before(_midnight(cut_day + timedelta(days=1)))))
    if not whole and since is not None and until is not None:
        cut.append(and_(e.since(since), e.before(until)))
    else:
        if since is not None and lo is not None and _midnight(lo) > since:
            cut.append(and_(e.since(since), e.before(_midnight(lo))))
        if until is not None and hi is not None and _midnight(hi) < until:
            cut.append(and_(e.since(_midnight(hi)), e.before(until)))
    if cut:
        parts.append(_shape(e, [e.organization_id == organization_id, or_(*cut), *who(e)],
                            narrow, extra))
    query: Any = union_all(*parts) if len(parts) > 1 else parts[0]
    return query.subquery("figures")


def _by_week(organization_id: int, lo: date | None, hi: date | None, who: Who, weeks: Who,
             split: datetime | None, cut_day: date | None, extra: Extra | None) -> list[Any]:
    """The selects of the whole days ``[lo, hi)`` (but ``cut_day``): their whole weeks from
    the team's weeks, the days around them from the daily figures. The days are first cut
    at ``split``'s first whole day, so that no week straddles it.
    """
    segments: list[tuple[date | None, date | None]] = [(lo, hi)]
    if split is not None:
        at = first_whole_day(split)
        if lo is None or at > lo:
            segments = [(lo, cut_day if cut_day is not None else at), (at, hi)]
    f = Part(True)
    person = [f.organization_id == organization_id, f.user_id != EVERYONE, *who(f)]
    parts: list[Any] = []
    for a, b in segments:
        if a is not None and b is not None and a >= b:
            continue
        first = a if a is None else monday_of(a + timedelta(days=6))  # the Monday at or after
        end = b if b is None else monday_of(b)
        if first is not None and end is not None and first >= end:
            days = [(a, b)]  # no whole week
        else:
            days = [(a, first), (end, b)]
            w = TeamWeekPart()
            where = [w.organization_id == organization_id, *weeks(w)]
            if first is not None:
                where.append(w.table.week >= first)
            if end is not None:
                where.append(w.table.week < end)
            parts.append(_shape(w, where, extra=extra))
        for start, stop in days:
            if start is None and stop is None:
                continue
            if start is not None and stop is not None and start >= stop:
                continue
            where = list(person)
            if start is not None:
                where.append(f.day >= start)
            if stop is not None:
                where.append(f.day < stop)
            parts.append(_shape(f, where, extra=extra))
    return parts


def _shape(part: Part, where: list[Any], narrow: bool = False, extra: Extra | None = None
           ) -> Any:
    t = part.table
    more = extra(part) if extra is not None else []
    user_id = t.user_id if hasattr(t, "user_id") else cast(None, Integer)
    if narrow:
        return select(t.user_id.label("user_id"),
                      *[part.value(s).label(s) for s in MONTH_SUMS], *more).where(*where)

    def blank(column: Any) -> Any:
        # None for no campaign or content item, as the events hold it.
        return func.nullif(column, 0) if part.daily else column

    return select(
        user_id.label("user_id"), part.row_day().label("day"), t.network.label("network"),
        t.kind.label("kind"), blank(t.campaign_id).label("campaign_id"),
        blank(t.content_item_id).label("content_item_id"),
        *[part.value(s).label(s) for s in ("events", "shares", "with_own_comment", *METRICS)],
        *more,
    ).where(*where)


class MonthPart(Part):
    """The people's months, for the conditions of a :data:`Who` (the person's columns)."""

    def __init__(self) -> None:
        self.daily = True
        self.table = AdvocacyPersonMonth


class TeamWeekPart(Part):
    """The teams' weeks (:class:`AdvocacyTeamWeek`), for the conditions of a :data:`Who`
    (the team's, the campaign's): a row's day is its week's Monday, and rows lie wholly on
    one side of a bound only when :func:`rows` reads them so.
    """

    def __init__(self) -> None:
        self.daily = True
        self.table = AdvocacyTeamWeek

    def since(self, at: datetime) -> ColumnElement[bool]:
        """The week begins at or after ``at``'s first whole day."""
        return self.table.week >= first_whole_day(at)

    def before(self, at: datetime) -> ColumnElement[bool]:
        """The week begins before ``at``'s first whole day."""
        return self.table.week < first_whole_day(at)

    def row_day(self) -> Any:
        """The week's Monday."""
        return self.table.week


class TotalPart(Part):
    """The people's totals, for the conditions of a :data:`Who` (the person's columns)."""

    def __init__(self) -> None:
        self.daily = True
        self.table = AdvocacyPersonTotal


def active(organization_id: int, *, since: datetime, who: Who = lambda part: []) -> Subquery:
    """The people with an event at or after ``since``, as ``user_id`` rows (one may come
    twice: count them distinct): those whose last day (:data:`PEOPLE`) is a whole day
    after it, and those with an event in the cut hours of its day, from the events.
    """
    lo = first_whole_day(since)
    last = TotalPart()
    parts: list[Any] = [select(last.user_id.label("user_id")).where(
        last.organization_id == organization_id, last.last_day >= lo, *who(last))]
    if _midnight(lo) > since:
        e = Part(False)
        parts.append(select(e.user_id.label("user_id")).where(
            e.organization_id == organization_id, e.since(since), e.before(_midnight(lo)),
            *who(e)))
    query: Any = union_all(*parts) if len(parts) > 1 else parts[0]
    return query.subquery("active")


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def people(organization_id: int, *, since: datetime | None = None,
           until: datetime | None = None, who: Who = lambda part: []) -> Subquery:
    """Each person's ``events``, ``with_own_comment`` and ``clicks`` of ``[since, until)``
    as rows (a person may have several; sum them by ``user_id``): the whole months from the
    people's months (:data:`MONTHS`), the days around them from the daily figures and the cut
    hours from the events (:func:`rows`); all time from each person's totals (:data:`PEOPLE`).
    ``who`` may not ask for a campaign (the months have none).
    """
    if since is None and until is None:
        # All time: a row per person (:data:`PEOPLE`).
        t = TotalPart()
        return select(t.user_id, t.events, t.with_own_comment, t.clicks).where(
            t.organization_id == organization_id, *who(t)).subquery("people")
    lo = first_whole_day(since) if since is not None else None
    hi = day_of(until) if until is not None else None
    first = _next_month(lo) if lo is not None and lo.day != 1 else lo
    end = _month_start(hi) if hi is not None else None
    if first is not None and end is not None and first >= end:
        # No whole month: the days and hours alone.
        return rows(organization_id, since=since, until=until, who=who, narrow=True)
    m = AdvocacyPersonMonth
    where = [m.organization_id == organization_id, *who(MonthPart())]
    if first is not None:
        where.append(m.month >= first)
    if end is not None:
        where.append(m.month < end)
    parts: list[Any] = [select(m.user_id, m.events, m.with_own_comment, m.clicks).where(*where)]
    if since is not None and first is not None and _midnight(first) > since:
        parts.extend(_inline(rows(organization_id, since=since, until=_midnight(first),
                                  who=who, narrow=True)))
    if until is not None and end is not None and _midnight(end) < until:
        parts.extend(_inline(rows(organization_id, since=_midnight(end), until=until,
                                  who=who, narrow=True)))
    query: Any = union_all(*parts) if len(parts) > 1 else parts[0]
    return query.subquery("people")


def _inline(figures: Subquery) -> list[Any]:
    """The selects of a :func:`rows` subquery, to join a union (SQLite nests none)."""
    statement: Any = figures.element
    return list(statement.selects) if isinstance(statement, CompoundSelect) else [statement]
