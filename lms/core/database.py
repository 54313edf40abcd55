"""Database set-up shared by every module: SQLite pragmas and engine clean-up."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


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


def init_app(app: Flask) -> None:
    """Register database hooks on ``app``."""

    @app.teardown_appcontext
    def _rollback_unfinished(exc: BaseException | None) -> None:
        # Flask-SQLAlchemy removes the session; an exception means nothing may be half-written.
        if exc is not None:
            from lms.extensions import db

            db.session.rollback()
