"""Backups: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL

from lms.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore could not be done; the message says why."""


def _url() -> URL:
    return db.engine.url


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return url.database


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not on the PATH: install the PostgreSQL client tools "
                          "(Debian: postgresql-client) matching the server's version")
    return path


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    # The password goes through the environment, never the command line (visible in ps).
    args = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def backup(out: str) -> int:
    """Write a consistent copy of the database to ``out``; returns its size in bytes.

    :raise BackupError: unsupported database, missing tool or failed dump.
    """
    url = _url()
    target = Path(out)
    tmp = target.with_name(f".{target.name}.partial")
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(sqlite3.connect(_sqlite_path(url)), sqlite3.connect(tmp))
    elif url.get_backend_name() == "postgresql":
        args, env = _pg_args(url)
        proc = subprocess.run(
            [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
             "--file", str(tmp), *args, "--dbname", str(url.database)],
            env=env, capture_output=True, text=True, timeout=6 * 3600, check=False)
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {proc.stderr.strip()}")
    else:
        raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")
    os.replace(tmp, target)
    return target.stat().st_size


def _sqlite_copy(source: sqlite3.Connection, dest: sqlite3.Connection) -> None:
    # The backup API copies page by page under SQLite's locks: consistent while the
    # application keeps writing.
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


def restore(file: str) -> None:
    """Replace the database's content with the backup ``file``.

    :raise BackupError: the file does not match the database kind, or the restore failed.
    """
    url = _url()
    head = Path(file).read_bytes()[:16]
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{file} is not an SQLite backup")
        _sqlite_copy(sqlite3.connect(f"file:{file}?mode=ro", uri=True),
                     sqlite3.connect(_sqlite_path(url), timeout=30))
    elif url.get_backend_name() == "postgresql":
        if not head.startswith(PGDUMP_MAGIC):
            raise BackupError(f"{file} is not a pg_dump custom-format backup "
                              "(made by `relais backup` on PostgreSQL)")
        _pg_restore(url, file)
    else:
        raise BackupError(f"restores of {url.get_backend_name()} databases are not supported")


def _pg_restore(url: URL, file: str) -> None:
    """Replace the database's content with a pg_dump backup, all or nothing.

    ``pg_restore --clean`` cannot empty a database whose tables are partitioned (the
    statement store, by month): it drops each partition's key on its own, which PostgreSQL
    refuses for a key the partition inherits. So the backup is first written out as SQL (a
    failure there changes nothing), then run by ``psql`` in one transaction after emptying
    the ``public`` schema: an error anywhere rolls everything back.
    """
    args, env = _pg_args(url)
    with tempfile.TemporaryDirectory(prefix="relais-restore-") as folder:
        script = Path(folder) / "restore.sql"
        proc = subprocess.run(
            [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--file", str(script),
             file], env=env, capture_output=True, text=True, timeout=6 * 3600, check=False)
        if proc.returncode != 0:
            raise BackupError(f"pg_restore failed: {proc.stderr.strip()}")
        proc = subprocess.run(
            [_pg_tool("psql"), "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1",
             "--single-transaction", "-c", "DROP SCHEMA public CASCADE",
             "-c", "CREATE SCHEMA public", "-f", str(script), *args,
             "--dbname", str(url.database)],
            env=env, capture_output=True, text=True, timeout=6 * 3600, check=False)
        if proc.returncode != 0:
            raise BackupError(f"restore failed, nothing changed: {proc.stderr.strip()}")
