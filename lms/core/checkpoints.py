"""SQLite: WAL checkpoints in a thread of each process, off the requests' path.

In WAL mode every commit appends the pages it changed to the ``-wal`` file; a checkpoint
copies them back into the database file and syncs both. SQLite's automatic checkpoint runs
in the request whose commit passes ``wal_autocheckpoint`` pages: that request copies
thousands of pages and waits for two ``fdatasync`` (17 % of an LRS batch's time at a few
thousand stored, measured with py-spy). Here each process that opens the database runs a
thread that does it instead (``PRAGMA wal_checkpoint(PASSIVE)``, which never waits for
writers or readers), once ``SQLITE_CHECKPOINT_PAGES`` pages were written since its last
checkpoint, or ``SQLITE_CHECKPOINT_SECONDS`` after a write. Fewer, larger checkpoints copy a
page rewritten by several commits once: a checkpoint every 0.2 s cost about 10 % more CPU a
statement than SQLite's every 10,000 pages.

How many pages were written is read from the WAL file itself (its documented format): the
header's salts, and whether the frame N pages further on carries them (a frame of the
current WAL does; one left from before the WAL last started again does not). Two ``pread``
calls every ``_POLL_SECONDS``, no lock: SQLite locks the database and its ``-shm`` file,
never the ``-wal`` (closing a descriptor of the ``-shm`` would drop every POSIX lock the
process holds on it, its connections' included).

The WAL only starts again from its beginning when a writer finds every page of it copied as
its transaction begins; under a steady stream of writes a passive checkpoint ends after new
commits, and the file would grow without end. Past ``SQLITE_WAL_LIMIT_PAGES`` the thread
runs a ``RESTART`` checkpoint: it holds new writers while it copies what is left and waits
for the readers (``_LIMIT_WAIT_SECONDS`` at most; one that could not finish is tried again
``_LIMIT_RETRY_SECONDS`` later), so that the next writer starts the file again. The
requests' connections keep SQLite's automatic checkpoint at twice that limit, a safety net
for a process whose thread is not running.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# How often the thread looks at the WAL file.
_POLL_SECONDS = 0.05
# Longest a RESTART checkpoint (the WAL past its limit) waits for the writer and then the
# readers; new writers wait behind it meanwhile.
_LIMIT_WAIT_SECONDS = 0.5
_LIMIT_RETRY_SECONDS = 5.0
# The WAL file (https://www.sqlite.org/fileformat.html#the_write_ahead_log): a 32-byte
# header (page size at byte 8, salts at 16–23), then frames of a 24-byte header (salts at
# 8–15) and a page.
_WAL_HEADER = 32
_FRAME_HEADER = 24


@dataclass(frozen=True)
class Settings:
    """When to checkpoint (see :func:`watch`): after ``pages`` pages written, or ``seconds``
    after a write; past ``limit_pages`` in the WAL, have it start again.
    """

    pages: int
    seconds: float
    limit_pages: int


def wal_has_frame(path: str, salts: bytes | None, frame: int) -> tuple[bytes | None, bool]:
    """The salts of the WAL of the database at ``path`` (None: no WAL), and whether its
    ``frame``-th frame (from 1) belongs to the current WAL. ``salts``: those read before,
    to compare (None: read them).
    """
    try:
        fd = os.open(path + "-wal", os.O_RDONLY)
    except OSError:
        return None, False
    try:
        header = os.pread(fd, _WAL_HEADER, 0)
        if len(header) < _WAL_HEADER:
            return None, False
        current = header[16:24]
        if salts is not None and current != salts:
            return current, False
        page_size = int.from_bytes(header[8:12], "big")
        page_size = 65536 if page_size == 1 else page_size
        offset = _WAL_HEADER + (frame - 1) * (_FRAME_HEADER + page_size)
        frame_header = os.pread(fd, _FRAME_HEADER, offset)
        return current, len(frame_header) == _FRAME_HEADER and frame_header[8:16] == current
    except OSError:
        return None, False
    finally:
        os.close(fd)


class Checkpointer:
    """The thread that checkpoints one database file for one process."""

    def __init__(self, path: str, settings: Settings) -> None:
        self.path = path
        self.settings = settings
        self.pid = os.getpid()
        # What it did, for tests and benches: checkpoints run, restarts among them, the last
        # one's answer (busy, pages in the WAL, pages copied) as SQLite gives it and the salts
        # of the WAL it was about, and the thread's CPU seconds.
        self.checkpoints = 0
        self.restarts = 0
        self.last: tuple[int, int, int] | None = None
        self.last_salts: bytes | None = None
        self.cpu_seconds = 0.0
        self._stop = threading.Event()
        self._connection: sqlite3.Connection | None = None
        self._failing = False
        # Where the WAL was at this thread's last checkpoint: its salts and pages.
        self._salts: bytes | None = None
        self._pages = 0
        # The WAL it last had start again (until its next writer does), and when a RESTART
        # that could not finish may be tried again.
        self._restarted: bytes | None = None
        self._restart_after = 0.0
        # When a page was first seen written since the last checkpoint.
        self._written_since: float | None = None
        # Held during a checkpoint, and by a fork of the process (see _before_fork): a child
        # never inherits a connection in the middle of one (holding the WAL index's locks).
        self.busy = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"relais-checkpoints {path}",
                                        daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, *, wait: bool = True) -> None:
        """Ask the thread to end (it closes its connection); ``wait``: until it has."""
        self._stop.set()
        if wait and self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    @property
    def running(self) -> bool:
        """Whether its thread runs in this process (a forked child has none)."""
        return (self.pid == os.getpid() and self._thread.is_alive()
                and not self._stop.is_set())

    def _run(self) -> None:
        try:
            while not self._stop.wait(_POLL_SECONDS):
                try:
                    self._poll()
                except Exception:  # the thread goes on; said once per run of failures
                    if not self._failing:
                        log.exception("event=sqlite_checkpoint_failed path=%s", self.path)
                    self._failing = True
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _poll(self) -> None:
        """Look at the WAL; checkpoint if it is time."""
        salts, enough = wal_has_frame(self.path, self._salts, self._pages + self.settings.pages)
        if salts is None:
            return
        if salts != self._salts:  # the WAL started again since
            self._salts, self._pages = salts, 0
            _salts, enough = wal_has_frame(self.path, salts, self.settings.pages)
        if not enough and self._may_restart(salts):
            # Past the limit: at once, not after the next pages or seconds.
            enough = wal_has_frame(self.path, salts, self.settings.limit_pages)[1]
        if not enough:
            if self._written_since is None and wal_has_frame(
                    self.path, salts, self._pages + 1)[1]:
                self._written_since = time.monotonic()
            if (self._written_since is None
                    or time.monotonic() - self._written_since < self.settings.seconds):
                return
        cpu = time.thread_time()
        self._checkpoint()
        self.cpu_seconds += time.thread_time() - cpu
        self._written_since = None

    def _may_restart(self, salts: bytes | None) -> bool:
        """Whether a RESTART may be tried on the WAL of these salts: not one already restarted
        (its next writer starts it again), nor before a failed try's delay is over.
        """
        return salts != self._restarted and time.monotonic() >= self._restart_after

    def _checkpoint(self) -> None:
        with self.busy:
            self._checkpoint_now()

    def _checkpoint_now(self) -> None:
        try:
            connection = self._connection
            if connection is None:
                # mode=rw: a file deleted meanwhile is not made again, empty.
                connection = self._connection = sqlite3.connect(
                    f"file:{quote(self.path)}?mode=rw", uri=True, timeout=_LIMIT_WAIT_SECONDS,
                    isolation_level=None)
            salts = wal_has_frame(self.path, None, 1)[0]
            busy, pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            # Pages are counted from here (a restart of the WAL in between changes its salts:
            # counted from 0 then).
            self._salts, self._pages = salts, max(pages, 0)
            if pages >= self.settings.limit_pages and self._may_restart(salts):
                busy, pages, copied = connection.execute(
                    "PRAGMA wal_checkpoint(RESTART)").fetchone()
                self.restarts += 1
                if busy:  # a read (or a write) longer than _LIMIT_WAIT_SECONDS
                    self._restart_after = time.monotonic() + _LIMIT_RETRY_SECONDS
                else:
                    self._restarted = salts
            self.last, self.last_salts = (busy, pages, copied), salts
            self.checkpoints += 1
            self._failing = False
        except sqlite3.Error as exc:
            # The requests' automatic checkpoint (past the limit) still bounds the WAL; said
            # once per run of failures, not every period.
            if not self._failing:
                log.warning("event=sqlite_checkpoint_failed path=%s error=%s", self.path, exc)
            self._failing = True
            if self._connection is not None:
                self._connection.close()
                self._connection = None


class _EngineCheckpoints:
    """The checkpointer of one engine: started in each process at its first connection,
    stopped when the engine is disposed of or collected.
    """

    def __init__(self, path: str, settings: Settings) -> None:
        self.path = path
        self.settings = settings
        self.current: Checkpointer | None = None
        self._lock = threading.Lock()

    def connected(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # A safety net: a commit that finds the WAL twice as long as the limit checkpoints it
        # itself, as SQLite does by default (were the thread stopped, or its RESTART held off
        # by long reads).
        cursor.execute(f"PRAGMA wal_autocheckpoint={2 * int(self.settings.limit_pages)}")
        cursor.close()
        current = self.current
        if current is None or not current.running:
            self._start()

    def _start(self) -> None:
        with self._lock:
            current = self.current
            if current is not None and current.running:
                return
            if current is not None and current.pid != os.getpid():
                # A forked child's copy of its parent's: never touched here (closing the
                # parent's SQLite connection from a child is not safe), kept referenced.
                _INHERITED.append(current)
            self.current = Checkpointer(self.path, self.settings)
            self.current.start()

    def stop(self, *_: Any, wait: bool = True) -> None:
        current = self.current
        if current is not None and current.pid == os.getpid():
            current.stop(wait=wait)

    def running(self) -> Checkpointer | None:
        current = self.current
        return current if current is not None and current.running else None

    def forked(self) -> None:
        self._lock = threading.Lock()


_STATES: weakref.WeakKeyDictionary[Engine, _EngineCheckpoints] = weakref.WeakKeyDictionary()
_INHERITED: list[Checkpointer] = []


_FORK_HELD: list[Checkpointer] = []


def _before_fork() -> None:
    # Wait for a checkpoint under way: its connection holds locks of the WAL index that a
    # child's copy would believe held by its own process.
    for state in list(_STATES.values()):
        current = state.running()
        if current is not None:
            current.busy.acquire()
            _FORK_HELD.append(current)


def _after_fork_in_parent() -> None:
    while _FORK_HELD:
        _FORK_HELD.pop().busy.release()


def _after_fork_in_child() -> None:
    _after_fork_in_parent()
    # A lock another thread held at the fork would stay held in the child.
    for state in list(_STATES.values()):
        state.forked()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                    after_in_child=_after_fork_in_child)


def watch(engine: Engine, settings: Settings) -> None:
    """Checkpoint the SQLite file of ``engine`` from a thread of each process that connects
    to it, instead of in the committing requests; nothing for another database, an
    in-memory one, or ``settings.pages`` 0 (SQLite's automatic checkpoint stays).
    """
    path = engine.url.database
    if (engine.dialect.name != "sqlite" or settings.pages <= 0 or not path
            or path == ":memory:" or path.startswith("file:") or engine in _STATES):
        return
    state = _STATES[engine] = _EngineCheckpoints(os.path.abspath(path), settings)
    event.listen(engine, "connect", state.connected)
    event.listen(engine, "engine_disposed", state.stop)
    # An engine dropped without being disposed of (an application a test made): its thread
    # ends at its next poll.
    weakref.finalize(engine, state.stop, wait=False)


def checkpointer(engine: Engine) -> Checkpointer | None:
    """The checkpointer running for ``engine`` in this process, if any."""
    state = _STATES.get(engine)
    return state.running() if state is not None else None
