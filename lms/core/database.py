"""Database set-up shared by every module (SQLite pragmas, engine clean-up) and the bulk-SQL
helpers of the hot write paths (the statement store, advocacy imports).
"""

from __future__ import annotations

import contextvars
import gc
import sqlite3
import sys
import threading
import time
import unicodedata
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple

from flask import Flask
from sqlalchemy import ColumnElement, Integer, String, any_, bindparam, cast, event, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError

from lms.core import checkpoints
from lms.core.models import UTCDateTime
from lms.extensions import db

# SQLite allows 32766 bound parameters per statement; keep IN lists well below.
CHUNK = 500
# PostgreSQL array types of the columns written in bulk that are not text (see insert_rows).
_PG_ARRAY_TYPES = {"organization_id": "int[]", "created_at": "timestamptz[]",
                   "updated_at": "timestamptz[]"}
_PG_CHUNK = 5000
# One instance: the dialect caches its processors per type instance.
_UTC = UTCDateTime()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite leaves foreign keys off by default; WAL lets readers run beside the one writer.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # The statement store's indexes are written at random keys: a larger page cache and
        # rarer checkpoints (each copies every page touched since the last) keep ingestion
        # flat as the store grows. 64 MB per connection at most; 40 MB of WAL between
        # checkpoints.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        # A connection's page cache is dropped whenever another connection writes; reading
        # through a memory map of the file shares the OS page cache instead of copying pages.
        cursor.execute("PRAGMA mmap_size=1073741824")
        cursor.close()


# A pooled connection that sat idle longer than this is checked (a round trip that answers
# nothing) before a request uses it: the server may have closed it meanwhile (a restart, an
# idle timeout of a proxy or firewall). One back in the pool for less is used as it is:
# SQLAlchemy's pool_pre_ping checked every checkout, a round trip on every request (a tenth
# of a single LRS POST's round trips). After a server restart, the first request of each
# busy process may then fail once: SQLAlchemy then drops every connection of that pool.
PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "relais_idle_since"


def _ping_idle_connections(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        # Never checked in: opened for this checkout, nothing to check.
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool then opens a new connection and checks out again
            raise DisconnectionError("the pooled connection no longer answers") from exc


def init_app(app: Flask) -> None:
    """Register database hooks on ``app``."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite" and not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get(
            "pool_pre_ping"):
        _ping_idle_connections(engine)
    checkpoints.watch(engine, checkpoints.Settings(
        pages=int(app.config["SQLITE_CHECKPOINT_PAGES"]),
        seconds=float(app.config["SQLITE_CHECKPOINT_SECONDS"]),
        limit_pages=int(app.config["SQLITE_WAL_LIMIT_PAGES"])))

    @app.teardown_appcontext
    def _rollback_unfinished(exc: BaseException | None) -> None:
        # Flask-SQLAlchemy removes the session; an exception means nothing may be half-written.
        if exc is not None:
            from lms.extensions import db

            db.session.rollback()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during bulk work: a large import makes millions
    of small objects without cycles (rows, events, statements, ORM objects) and the
    collections they trigger, each scanning the whole heap, would take a fifth of its time.
    Collection resumes afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Writes:
    """Writes of a bulk job run one batch behind the work that prepares the next (see
    :func:`background_writes`): :meth:`submit` a batch's writes, :meth:`wait` before the
    session is used again.
    """

    def __init__(self, threaded: bool) -> None:
        self._threaded = threaded
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` (it uses the session): in the writer thread when there is one, else now.
        The previous batch's writes must be over (:meth:`wait`).
        """
        assert self._thread is None, "wait() for the previous writes first"
        if not self._threaded:
            fn()
            return
        # The same context: the app context and so the same session and connection, used by
        # one thread at a time (the caller waits before using them again).
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._run, fn),
                                        name="relais-writes", daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as exc:  # handed to the caller by wait()
            self._error = exc

    def busy(self) -> bool:
        """Whether the writes submitted last are still running (in the writer thread)."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self) -> None:
        """Wait for the writes submitted last; raise what they raised."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        error, self._error = self._error, None
        if error is not None:
            raise error


@contextmanager
def background_writes(*, batches: int = 2) -> Iterator[Writes]:
    """Run a bulk job's writes beside its Python work, on PostgreSQL: each batch's writes
    (``COPY``, upserts) go to a writer thread while the caller checks and builds the next
    batch, so the server stores one batch as the client makes the next (psycopg waits for
    the server without holding the GIL). One connection and transaction throughout, used
    by one thread at a time: all or nothing as before. SQLite runs the writes where they
    are submitted: its module releases the GIL around every row it steps, and a writer
    thread would wait for the busy caller to hand it back after each row. So does a job of
    one batch (``batches``: nothing to overlap; a webhook's or an API call's events).
    """
    threaded = batches > 1 and db.session.get_bind().dialect.name == "postgresql"
    writes = Writes(threaded=threaded)
    if threaded:
        _quick_switches(1)
    try:
        yield writes
        writes.wait()
    except BaseException:
        # The session is the caller's again only once the writer has stopped (it may then
        # roll back); the first error is the one raised.
        try:
            writes.wait()
        except BaseException:  # noqa: S110 - the caller's error is the one to report
            pass
        raise
    finally:
        if threaded:
            _quick_switches(-1)


# While a writer thread runs, the GIL changes hands every 0.5 ms at most (Python's default:
# 5 ms). The writer gives it up at each wait for the server (every 32 kB of COPY data, every
# query) and then needs it back from the caller, busy building the next batch: after each
# wait it waited up to 5 ms, about 60 ms instead of 18 for a batch's statements alone
# (measured with a busy caller), so the server sat idle. Process-wide, so counted: the last
# writer to end puts the interval back.
_SWITCH_INTERVAL = 0.0005
_switches_lock = threading.Lock()
_switches = {"users": 0, "previous": 0.0}


def _quick_switches(change: int) -> None:
    with _switches_lock:
        if change > 0 and _switches["users"] == 0:
            _switches["previous"] = sys.getswitchinterval()
            sys.setswitchinterval(min(_SWITCH_INTERVAL, _switches["previous"]))
        _switches["users"] += change
        if change < 0 and _switches["users"] == 0:
            sys.setswitchinterval(_switches["previous"])


def chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    """``items`` in consecutive lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


_SESSION_CONNECTION = "relais_connection"


def session_connection() -> Any:
    """The session's connection (``db.session.connection()``), found again at no cost for the
    rest of its transaction.

    ``Session.connection()`` resolves the bind (Flask-SQLAlchemy's engines, the replica
    routing) and walks the transaction's state machine on every call: about 10 µs, and a
    single LRS POST asks eight times. The connection is kept in the session's ``info`` with
    the transaction it belongs to, and given back only while that very transaction is the
    session's, still active (not failed, waiting for a rollback) and the connection usable;
    a new transaction (after a commit or a rollback), a closed or invalidated connection
    asks the session again, with its checks.
    """
    session = db.session()
    transaction = session.get_transaction()
    kept = session.info.get(_SESSION_CONNECTION)
    if transaction is not None and kept is not None and kept[0] is transaction \
            and transaction.is_active:
        connection = kept[1]
        if not connection.closed and not connection.invalidated:
            return connection
    connection = session.connection()
    session.info[_SESSION_CONNECTION] = (session.get_transaction(), connection)
    return connection


def run_sql(sql: str, params: tuple[Any, ...] = ()) -> Any:
    """Run driver SQL written with ``?`` placeholders (turned into ``%s`` on PostgreSQL) in
    the session's transaction; the driver's result (rows have attribute access).

    For the small queries every request of a hot path runs (the LRS's credential check, its
    write lock): building and compiling SQLAlchemy constructs would cost more than the query.
    """
    connection = db.session.connection()
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    return connection.exec_driver_sql(sql, params)


class DriverResult:
    """What :func:`driver_sql` gives back: the rows (attribute access by column name) and, on
    SQLite, the key of the row an INSERT added (``lastrowid``).
    """

    __slots__ = ("lastrowid", "rows")

    def __init__(self, rows: list[Any], lastrowid: int | None) -> None:
        self.rows = rows
        self.lastrowid = lastrowid


# The row class of each statement's text (None: it returns no rows), made from the cursor's
# description the first time: a namedtuple class costs ~50 µs to make, and psycopg builds a
# description's columns anew at each call. The hot path's statements are few texts.
_ROW_TYPES: dict[str, Any] = {}
_NO_ROWS = object()
_CURSOR = "relais_cursor"


def _row_type(sql: str, description: Sequence[Any] | None) -> Any:
    if len(_ROW_TYPES) > 512:  # IN lists of every length (SQLite), at most
        _ROW_TYPES.clear()
    row_type = _ROW_TYPES[sql] = _NO_ROWS if description is None else namedtuple(  # type: ignore[misc]
        "Row", [column[0] for column in description], rename=True)
    return row_type


def driver_sql(sql: str, params: Any = (), *, many: bool = False) -> DriverResult:
    """Run driver SQL written with ``?`` placeholders (turned into ``%s`` on PostgreSQL; ``%b``
    stays) on the session's connection, in its transaction, straight on the driver's cursor;
    ``many``: ``params`` is a list of rows (an executemany). Rows are fetched at once.

    For the few queries every LRS write runs (a single POST is a handful of them):
    SQLAlchemy's execution of a driver statement (its context, events, result set-up) cost
    15 µs a query on SQLite and about 45 µs on PostgreSQL on top of the driver's 3 and 23.
    Driver errors are raised as SQLAlchemy's (``IntegrityError`` …), and a lost connection is
    invalidated, as SQLAlchemy would. When something listens to the engine's cursor events
    (a test counting queries), the statement goes through SQLAlchemy, so it is seen.
    """
    connection = session_connection()
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    if connection.dispatch.before_cursor_execute or connection.dispatch.after_cursor_execute:
        result = connection.exec_driver_sql(sql, params)
        return DriverResult(list(result.all()) if result.returns_rows else [],
                            result.lastrowid if connection.dialect.name == "sqlite" and not many
                            else None)
    pooled = connection.connection
    raw: Any = pooled.driver_connection
    # One cursor kept per driver connection (in its pool record): making and closing one
    # costs psycopg about 20 µs a query. Each use fetches everything it asked for.
    kept = pooled.info.get(_CURSOR)
    if kept is None or kept[0] is not raw:
        kept = pooled.info[_CURSOR] = (raw, raw.cursor())
    cursor = kept[1]
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
        row_type = _ROW_TYPES.get(sql) or _row_type(sql, cursor.description)
        rows = [] if row_type is _NO_ROWS else list(map(row_type._make, cursor.fetchall()))
        return DriverResult(rows, getattr(cursor, "lastrowid", None))
    except connection.dialect.loaded_dbapi.Error as exc:
        lost = connection.dialect.is_disconnect(exc, raw, cursor)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(sql, params, exc, connection.dialect.loaded_dbapi.Error,
                                  connection_invalidated=lost) from exc


# Letters Unicode does not decompose, written as French sorts them ("Œdipe" with the O's).
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def folded(text: str) -> str:
    """``text`` without accents nor case ("Élodie Hervé" → "elodie herve", "Œ" → "oe"): how
    people's names are sorted and searched (``User.name_key``), the same on either database,
    since SQLite compares bytes ("Émilie" after "Zoé") and a PostgreSQL database's collation
    may too.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold().translate(_LIGATURES)


def contains_text(text: str, *columns: Any) -> ColumnElement[bool]:
    """One of ``columns`` contains ``text``, ignoring case (``%`` and ``_`` typed by a person
    match themselves): a search box's condition. SQLite folds the case of ASCII letters only:
    "élodie" does not find "Élodie" there; PostgreSQL folds them all.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(column.ilike(f"%{escaped}%", escape="\\") for column in columns))


def text_list(values: Iterable[str]) -> str:
    r"""Texts as one parameter for PostgreSQL's ``string_to_array(?, E'\x1f')``: binding one
    text costs psycopg a fraction of a text array of the same values (about 5 µs an element
    in its Python array dumper). For ids, IRIs, agent keys and e-mail addresses, none of
    which holds the separator (the unit separator, a control character): a value that does
    is left out, so it matches nothing.
    """
    return "\x1f".join(v for v in values if "\x1f" not in v)


def select_in(sql: str, organization_id: int, values: list[Any]) -> list[Any]:
    """Run ``sql`` (ending in ``IN``, with ``?`` for the organization) for every chunk of
    ``values``; rows have attribute access.

    Plain driver SQL: the hot reads of bulk writes run per request, and building SQLAlchemy
    constructs for them would cost more than the queries themselves.
    """
    rows: list[Any] = []
    if not values:
        return rows
    for chunk in chunks(values):
        query = sql + " (" + ", ".join("?" * len(chunk)) + ")"
        rows.extend(driver_sql(query, (organization_id, *chunk)).rows)
    return rows


def one_of(column: Any, ids: list[int]) -> ColumnElement[bool]:
    """``column IN ids`` for a list of whole numbers that may be long (a cohort's people).

    PostgreSQL: one array parameter (``= ANY``), so the statement's text is the same whatever
    the number of ids: SQLAlchemy renders no placeholder per id, psycopg parses (and once run
    five times, prepares) it once — with an ``IN`` list of 400 ids, re-rendering and
    re-parsing the statement cost about a third of a query's client CPU. SQLite: ``IN``.
    """
    if _on_postgresql():
        return column == any_(cast(bindparam(None, ids_value(ids), type_=String),
                                   ARRAY(Integer)))
    return column.in_(list(ids))  # type: ignore[no-any-return]


def one_of_param(column: Any, name: str) -> ColumnElement[bool]:
    """:func:`one_of` with the ids given when the statement runs, as the parameter ``name``
    (:func:`ids_value`): one statement built once and run for several lists of people (each
    cohort of a page), instead of built again for each.
    """
    if _on_postgresql():
        return column == any_(cast(bindparam(name, type_=String), ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]


def ids_value(ids: Iterable[int]) -> Any:
    """The value of a :func:`one_of_param` parameter: on PostgreSQL the array as one text
    (``'{1,2,3}'``, cast by the server: psycopg dumps a list of ints number by number in
    Python, ~2 ms of client CPU for 400 ids); on SQLite the list.
    """
    if _on_postgresql():
        return "{" + ",".join(str(int(i)) for i in ids) + "}"
    return list(ids)


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def select_matching(table: str, columns: str, organization_id: int, column: str,
                    values: list[Any], *, pg_type: str = "text[]") -> list[Any]:
    """Rows (``columns``) of ``table`` in the organization whose ``column`` is one of
    ``values``; rows have attribute access. For tables indexed on (organization_id, column).

    PostgreSQL: one query joining the values as an array (``unnest``), so each one is looked
    up in the index whatever the table's statistics say. An ``IN`` list (or ``= ANY``) is
    estimated from them: on a table that grew since its last ANALYZE the planner filters
    every row of the organization instead (measured on 100,000 statements never analysed,
    500 ids: 120-200 ms with ``IN`` or ``= ANY``, 1.7 ms joined). SQLite: ``IN`` lists of
    ``CHUNK`` values, which its planner always looks up in the index.
    """
    if not values:
        return []
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # %b: the array sent in binary, as insert_rows does (a text array quotes each element
        # with a regular expression: half this call's CPU for the ids of a batch of 100).
        sql = (f"SELECT {columns} FROM unnest(%b::{pg_type}) AS wanted(value) "
               f"JOIN {table} ON {table}.{column} = wanted.value "
               f"WHERE {table}.organization_id = %s")
        return driver_sql(sql, (list(dict.fromkeys(values)), organization_id)).rows
    return select_in(f"SELECT {columns} FROM {table} WHERE organization_id = ? AND {column} IN",
                     organization_id, values)


def time_processor() -> Callable[[datetime], Any]:
    """Converts an aware datetime to the driver value SQLAlchemy binds for a UTC timestamp
    column (on SQLite the same text, so that stored rows compare right with bound values).
    """
    dialect = db.session.get_bind().dialect
    if dialect.name == "sqlite":
        return _sqlite_time
    # Built once per dialect: every LRS request asks several times, and building the type's
    # processor (a closure) cost more than the query it serves.
    processor = _TIME_PROCESSORS.get(dialect)
    if processor is None:
        processor = _UTC.dialect_impl(dialect).bind_processor(dialect) or _same
        _TIME_PROCESSORS[dialect] = processor
    return processor


_TIME_PROCESSORS: weakref.WeakKeyDictionary[Any, Callable[[datetime], Any]] = \
    weakref.WeakKeyDictionary()


def _same(value: Any) -> Any:
    return value


def _sqlite_time(value: datetime | None) -> str | None:
    """The text SQLAlchemy writes for a UTC timestamp on SQLite ("2026-09-01 08:30:00.000000"),
    made in one C call: an import converts hundreds of thousands of times, and the type's
    processors (time zone check, conversion, then a format with a dict) cost 3 µs each.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
    if value.utcoffset():
        value = value.astimezone(UTC)
    # An aware value's ISO form ends with its offset: the first 26 characters are the time.
    return value.isoformat(" ", "microseconds")[:26]


def insert_rows(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]],
                suffix: str = "", pg_types: dict[str, str] | None = None) -> list[Any]:
    """Insert many rows of driver values (``suffix``: e.g. an ON CONFLICT clause, and on
    PostgreSQL a RETURNING clause; ``pg_types``: PostgreSQL array types of columns that are
    not text, by name). Returns the rows RETURNING gave (PostgreSQL), else ``[]``. One row
    goes in with :func:`insert_row`.

    SQLite: one executemany (a loop in C). PostgreSQL: an executemany is one round of the
    protocol per row; ``INSERT … SELECT FROM unnest(arrays)`` sends thousands of rows as one
    statement, several times faster for the large batches of imports.
    """
    if not rows:
        return []
    if len(rows) == 1:
        return insert_row(table, columns, rows[0], suffix).rows
    if session_connection().dialect.name == "postgresql":
        types = {**_PG_ARRAY_TYPES, **(pg_types or {})}
        # %b: arrays sent in binary (no quoting of each element, as text arrays need).
        arrays = ", ".join(f"%b::{types.get(c, 'text[]')}" for c in columns)
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
               f"SELECT * FROM unnest({arrays}) {suffix}")
        returned: list[Any] = []
        for start in range(0, len(rows), _PG_CHUNK):
            returned.extend(driver_sql(sql, tuple(
                list(column) for column in zip(*rows[start:start + _PG_CHUNK],
                                               strict=True))).rows)
        return returned
    driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' * len(columns))}) {suffix}", rows, many=True)
    return []


def upsert_rows(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]],
                suffix: str, pg_types: dict[str, str] | None = None) -> None:
    """:func:`insert_rows` (``suffix``: its ON CONFLICT clause, no RETURNING) for the large
    upserts at the end of an import: on PostgreSQL, from :data:`_STAGED` rows on, a binary
    ``COPY`` into a temporary table of those columns, then one ``INSERT … SELECT`` from it.
    The same statement for the server; psycopg sends the arrays of :func:`insert_rows` element
    by element in Python (an import's 84,600 daily figures: about a quarter of a second in
    which the server waits).
    """
    if len(rows) < _STAGED or session_connection().dialect.name != "postgresql":
        insert_rows(table, columns, rows, suffix, pg_types)
        return
    names = ", ".join(columns)
    stage = f"relais_stage_{table}"
    connection = session_connection()
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "
                               f"SELECT {names} FROM {table} WITH NO DATA")
    copy_rows(stage, columns, CopyFormat(stage, columns).format(rows))
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "
                               f"{suffix}")
    connection.exec_driver_sql(f"DROP TABLE {stage}")


_STAGED = 2000


def insert_row(table: str, columns: tuple[str, ...], row: tuple[Any, ...],
               suffix: str = "") -> DriverResult:
    """Insert one row of driver values (``suffix`` as for :func:`insert_rows`) with a plain
    ``VALUES`` list: for one row, building and sending arrays (PostgreSQL) or an executemany
    (SQLite) costs more than the insert. Returns the rows of a RETURNING clause, and on
    SQLite the new row's key as ``lastrowid``.
    """
    return driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) "
                      f"VALUES ({', '.join('?' * len(columns))}) {suffix}", tuple(row))


class Formatted(NamedTuple):
    """Rows made ready for :func:`copy_rows` ahead of it (:meth:`CopyFormat.format`): on
    PostgreSQL the ``COPY`` data itself, on SQLite the rows.
    """

    data: bytes | None  # PostgreSQL: the COPY data, header and trailer included
    rows: list[tuple[Any, ...]] | None  # elsewhere
    binary: bool


class _Collected:
    """A psycopg copy writer that keeps the data instead of sending it."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: Any) -> None:
        self.parts.append(bytes(data))

    def finish(self, exc: BaseException | None = None) -> None:
        pass


class CopyFormat:
    """Formats rows of a table's columns for :func:`copy_rows` before it runs, without using
    the connection: a bulk job formats the next batch while its writer thread sends the
    previous one (see :func:`background_writes`), and the writer then hands the server
    ready data in one call instead of formatting row by row with the GIL (which the
    formatting thread holds most of the time). Made while the connection is free: on
    PostgreSQL it reads the columns' types. Formatting uses a cursor that never runs anything:
    of the connection it reads only its adapters and client encoding, which a bulk write
    does not change.

    ``binary``: PostgreSQL's binary ``COPY`` format. Each value is then sent as its column's
    type: psycopg packs integers, booleans and times in C instead of writing them as text,
    and the server does not parse them back (an import's events: 0.50 → 0.15 s of the
    client's CPU, 1.28 → 1.14 s of the server's). The values must be of the columns' types
    (no text for a number or a UUID).
    """

    def __init__(self, table: str, columns: tuple[str, ...], *, binary: bool = True) -> None:
        connection = session_connection()
        self.binary = binary
        self._cursor: Any = None
        self._types: list[int] | None = None
        if connection.dialect.name == "postgresql":
            raw: Any = connection.connection.dbapi_connection
            if binary:
                with raw.cursor() as cursor:
                    by_name = dict(cursor.execute(
                        "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = "
                        "%s::regclass AND attnum > 0 AND NOT attisdropped", (table,)).fetchall())
                self._types = [by_name[c] for c in columns]
            # Never executes anything: the formatting's adapters only.
            self._cursor = raw.cursor()

    def format(self, rows: Iterable[tuple[Any, ...]]) -> Formatted:
        """The rows ready for :func:`copy_rows` (no database work)."""
        if self._cursor is None:
            return Formatted(None, list(rows), self.binary)
        from psycopg import Copy

        out = _Collected()
        # A Copy with a writer of its own sends nothing and runs nothing on the cursor.
        with Copy(self._cursor, binary=self.binary, writer=out) as copy:  # type: ignore[arg-type]
            if self._types is not None:
                copy.set_types(self._types)
            for row in rows:
                copy.write_row(row)
        return Formatted(b"".join(out.parts), None, self.binary)


def copy_rows(table: str, columns: tuple[str, ...],
              rows: Iterable[tuple[Any, ...]] | Formatted) -> None:
    """Insert many new rows of driver values that cannot conflict with stored ones (there is
    no ON CONFLICT clause): PostgreSQL ``COPY … FROM STDIN``, the cheapest way in for the
    server too (no statement to plan, no arrays to unpack); elsewhere :func:`insert_rows`.
    A row that breaks a constraint fails the whole copy (``IntegrityError``). ``rows`` may
    have been formatted already (:class:`CopyFormat`, for the same table and columns).
    """
    connection = session_connection()
    formatted = rows if isinstance(rows, Formatted) else None
    if connection.dialect.name != "postgresql":
        insert_rows(table, columns, (formatted.rows or []) if formatted is not None
                    else list(rows))  # type: ignore[arg-type]
        return
    raw: Any = connection.connection.dbapi_connection
    binary = formatted is not None and formatted.binary
    try:
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                + (" (FORMAT BINARY)" if binary else "")) as copy:
            if formatted is not None:
                copy.write(formatted.data)
            else:
                for row in rows:  # type: ignore[union-attr]
                    copy.write_row(row)
    except connection.dialect.loaded_dbapi.IntegrityError as exc:
        raise IntegrityError(f"COPY {table}", None, exc) from exc


def next_ids(sequence_of: str, count: int) -> list[int]:
    """``count`` new values of the sequence of the serial column ``sequence_of``
    ("table.column"), PostgreSQL only: rows written with :func:`copy_rows` know their keys
    beforehand (COPY returns none).
    """
    table, column = sequence_of.split(".")
    # The sequence is found once (in FROM), not once per value: pg_get_serial_sequence and
    # the name's cast in nextval() per row were five sixths of the server's work (99 batches
    # of 1,000 keys: 0.5 → 0.08 CPU-seconds).
    return list(db.session.connection().exec_driver_sql(
        "SELECT nextval(s) FROM CAST(pg_get_serial_sequence(%s, %s) AS regclass) AS s, "
        "generate_series(1, %s)", (table, column, count)).scalars())
