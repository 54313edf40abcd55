"""SQLite's WAL checkpointed by a thread of each process (lms/core/checkpoints.py): the WAL
stays bounded under writes, what was committed is in the database file, the thread lives as
long as its engine, and nothing of it runs on PostgreSQL."""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from lms.core import checkpoints
from lms.extensions import db

# A WAL frame: a 24-byte header and a page (4 KiB, SQLite's default); the file a 32-byte header.
FRAME = 24 + 4096


def wal_frames(path: Path) -> int:
    """Frames the WAL file has room for: its size only grows until a checkpoint truncates it,
    so this is the most it held since."""
    wal = Path(f"{path}-wal")
    return max(0, wal.stat().st_size - 32) // FRAME if wal.exists() else 0


def frames_now(path: Path) -> int:
    """Frames of the current WAL (those after it are left from before it last started again)."""
    salts, there = checkpoints.wal_has_frame(str(path), None, 1)
    if not there:
        return 0
    low, high = 1, 1
    while checkpoints.wal_has_frame(str(path), salts, high * 2)[1]:
        high *= 2
    low, high = high, high * 2  # frame low is there, frame high is not
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if checkpoints.wal_has_frame(str(path), salts, middle)[1] \
            else (low, middle)
    return low


def caught_up(worker: checkpoints.Checkpointer, path: Path) -> None:
    """Wait until ``worker`` has copied every page of the WAL into the database file."""
    deadline = time.monotonic() + 30
    while not (worker.last is not None and worker.last[1] == worker.last[2] == frames_now(path)
               and worker.last_salts == checkpoints.wal_has_frame(str(path), None, 1)[0]):
        assert time.monotonic() < deadline, "the checkpointer did not catch up"
        time.sleep(0.005)


def threads_for(path: Path) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"relais-checkpoints {path}"]


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's WAL")


def test_the_checkpointer_keeps_the_wal_bounded_and_commits_reach_the_database_file(
        sqlite_only, other_app, tmp_path):
    path = tmp_path / "bounded.db"
    # The requests' own automatic checkpoint never fires at this limit: only the thread copies.
    app = other_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SQLITE_CHECKPOINT_PAGES=50,
                    SQLITE_CHECKPOINT_SECONDS=0.01, SQLITE_WAL_LIMIT_PAGES=1_000_000)
    with app.app_context():
        connection = db.session.connection()
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 2_000_000
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER PRIMARY KEY, payload BLOB)")
        db.session.commit()
        worker = checkpoints.checkpointer(db.engine)
        assert worker is not None
        largest = 0
        for batch in range(30):
            for n in range(20):  # 20 commits of a row of 3 pages or so: about 60 frames
                db.session.connection().exec_driver_sql(
                    "INSERT INTO t VALUES (?, randomblob(10000))", (batch * 20 + n,))
                db.session.commit()
            db.session.remove()
            largest = max(largest, wal_frames(path))
            caught_up(worker, path)
        # 600 commits wrote about 1,800 frames; the WAL started again after each checkpoint.
        assert largest < 300, largest
        assert worker.last is not None and worker.last[1] == worker.last[2]  # all copied

    # The database file alone, without its WAL, holds every committed row: the checkpoints
    # copied them there.
    alone = tmp_path / "alone.db"
    shutil.copyfile(path, alone)
    with sqlite3.connect(alone) as copy:
        assert copy.execute("SELECT count(*) FROM t").fetchone() == (600,)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.close()


def test_past_its_limit_the_wal_starts_again_from_its_beginning(sqlite_only, other_app,
                                                                tmp_path):
    path = tmp_path / "limit.db"
    # 500 pages in the WAL before any checkpointer runs (none copied yet).
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, payload BLOB)")
    for n in range(150):
        writer.execute("INSERT INTO t VALUES (?, randomblob(10000))", (n,))
    # Left open: the last connection to close would checkpoint and delete the WAL.
    assert wal_frames(path) > 400

    app = other_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SQLITE_CHECKPOINT_PAGES=50,
                    SQLITE_CHECKPOINT_SECONDS=0.01, SQLITE_WAL_LIMIT_PAGES=200)
    with app.app_context():
        assert db.session.connection().exec_driver_sql("SELECT count(*) FROM t").scalar() == 150
        db.session.remove()
        writer.close()
        worker = checkpoints.checkpointer(db.engine)
        assert worker is not None
        caught_up(worker, path)
        assert worker.restarts >= 1
        db.session.connection().exec_driver_sql("INSERT INTO t VALUES (150, x'00')")
        db.session.commit()
        db.session.remove()
        caught_up(worker, path)
        # The new commit was written at the WAL's beginning: a few frames, all copied.
        assert worker.last is not None and worker.last[1] < 10 and worker.last[1] == worker.last[2]


def test_the_thread_lives_as_long_as_its_engine(sqlite_only, other_app, tmp_path):
    path = tmp_path / "life.db"
    app = other_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SQLITE_CHECKPOINT_PAGES=50)
    with app.app_context():
        assert not threads_for(path)  # started by the first connection, not before
        db.session.connection().exec_driver_sql("SELECT 1")
        db.session.remove()
        (thread,) = threads_for(path)
        db.engine.dispose()
        assert not thread.is_alive()
        assert checkpoints.checkpointer(db.engine) is None
        # The engine still works after dispose(): its next connection starts a new one.
        db.session.connection().exec_driver_sql("SELECT 1")
        db.session.remove()
        assert checkpoints.checkpointer(db.engine) is not None
        (thread,) = threads_for(path)

    # An engine dropped without dispose() (an application a test made and forgot): its thread
    # ends too.
    dropped = tmp_path / "dropped.db"
    engine = create_engine(f"sqlite:///{dropped}")
    checkpoints.watch(engine, checkpoints.Settings(pages=50, seconds=0.01,
                                                         limit_pages=1000))
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    (thread,) = threads_for(dropped)
    engine.pool.dispose()  # its connections closed, the engine not disposed of
    del engine, conn
    gc.collect()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_no_thread_when_turned_off(sqlite_only, other_app, tmp_path):
    path = tmp_path / "off.db"
    app = other_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SQLITE_CHECKPOINT_PAGES=0)
    with app.app_context():
        connection = db.session.connection()
        # SQLite's automatic checkpoint, as without the thread.
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 10_000
        assert checkpoints.checkpointer(db.engine) is None
        db.session.remove()
    assert not threads_for(path)


def test_a_checkpointer_only_on_sqlite(app):
    db.session.connection().exec_driver_sql("SELECT 1")
    running = checkpoints.checkpointer(db.engine)
    assert (running is not None) == (db.engine.dialect.name == "sqlite")
    named = [t for t in threading.enumerate() if t.name.startswith("relais-checkpoints ")]
    if db.engine.dialect.name != "sqlite":
        assert not named


def test_processes_writing_the_same_file_each_checkpoint_it(sqlite_only, other_app, tmp_path):
    """A forked process (a gunicorn or Celery worker) starts its own thread at its first
    connection; the parent's and the child's commits all land."""
    path = tmp_path / "forked.db"
    app = other_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SQLITE_CHECKPOINT_PAGES=50,
                    SQLITE_CHECKPOINT_SECONDS=0.01, SQLITE_WAL_LIMIT_PAGES=100)
    with app.app_context():
        db.session.connection().exec_driver_sql(
            "CREATE TABLE t (n INTEGER PRIMARY KEY, payload BLOB)")
        db.session.commit()
        db.session.remove()
        pid = os.fork()
        if pid == 0:  # the child: new connections, as the serving code's post_fork gives it
            code = 1
            try:
                db.engine.dispose(close=False)
                for n in range(1000, 1200):
                    db.session.connection().exec_driver_sql(
                        "INSERT INTO t VALUES (?, randomblob(5000))", (n,))
                    db.session.commit()
                worker = checkpoints.checkpointer(db.engine)
                code = 0 if worker is not None and worker.pid == os.getpid() else 2
            finally:
                os._exit(code)
        for n in range(200):
            db.session.connection().exec_driver_sql(
                "INSERT INTO t VALUES (?, randomblob(5000))", (n,))
            db.session.commit()
        db.session.remove()
        _pid, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert db.session.connection().exec_driver_sql("SELECT count(*) FROM t").scalar() == 400
        assert db.session.connection().exec_driver_sql(
            "PRAGMA integrity_check").scalar() == "ok"
        db.session.remove()
