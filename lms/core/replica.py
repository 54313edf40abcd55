"""Reads of the heaviest pages from a read replica (``RELAIS_READ_REPLICA_URL``).

The HR dashboards and their exports read a year of activity; on a large customer they are
what loads the database most. With a read replica configured, the views wearing
:func:`reads_from_replica` send their ``SELECT``s to it; every write, flush, driver-level SQL
and every other page stays on the primary. A streaming replica lags the primary by a moment:
those pages may miss the last seconds of activity, which a dashboard can afford and a form
cannot — so forms and the learners' pages never read from it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import flask_sqlalchemy.session
from flask import Response, g, has_app_context, stream_with_context
from sqlalchemy import Select

# The bind key of the replica's engine (config.configure adds it to SQLALCHEMY_BINDS).
REPLICA = "replica"
_FLAG = "relais_reads_from_replica"

View = TypeVar("View", bound=Callable[..., Any])


def reads_from_replica(view: View) -> View:
    """Let ``view`` (a dashboard, an export) read from the replica when one is configured.

    A streamed response (a long CSV export) reads its rows while it is sent, after the view
    has returned: those reads go to the replica too.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        setattr(g, _FLAG, True)
        try:
            result = view(*args, **kwargs)
        finally:
            setattr(g, _FLAG, False)
        if isinstance(result, Response) and result.is_streamed:
            result.response = stream_with_context(_reading_from_replica(result.response))
        return result

    return wrapper  # type: ignore[return-value]


def _reading_from_replica(chunks: Any) -> Any:
    """``chunks``, each produced with the replica flag set (and cleared in between, so that
    whatever runs between two chunks reads from the primary).
    """
    iterator = iter(chunks)
    try:
        while True:
            setattr(g, _FLAG, True)
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            finally:
                setattr(g, _FLAG, False)
            yield chunk
    finally:
        # A download cut short: the export's own generator closes its query too.
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class RoutingSession(flask_sqlalchemy.session.Session):
    """The session of ``db``: a ``SELECT`` of a view wearing :func:`reads_from_replica` goes to
    the replica, unless this session holds changes not yet committed (then its own reads must
    see them: the primary). Anything else goes where Flask-SQLAlchemy sends it.
    """

    def get_bind(self, mapper: Any | None = None, clause: Any | None = None,
                 bind: Any | None = None, **kwargs: Any) -> Any:
        """The replica's engine for a dashboard's read, else the primary's (see the class)."""
        if (bind is None and isinstance(clause, Select) and has_app_context()
                and g.get(_FLAG) and not self._flushing
                and not (self.new or self.dirty or self.deleted)):
            engine = self._db.engines.get(REPLICA)
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def replica_engine_options(url: str, primary_options: dict[str, Any]) -> dict[str, Any]:
    """The replica's engine settings: the primary's pool settings, and read-only on Relais's
    side too, so that a write sent there by mistake fails instead of going unseen.
    """
    options = {key: value for key, value in primary_options.items() if key != "connect_args"}
    if url.startswith("sqlite"):
        # A SQLite "replica" (a copy of the file, for trying this out) opened read-only.
        path = url.split(":///", 1)[1]
        options.pop("pool_pre_ping", None)
        return {**options, "url": f"sqlite:///file:{path}?mode=ro&uri=true",
                "connect_args": {"timeout": 30}}
    if url.startswith("postgresql"):
        # Dashboards are few and heavy: a ping before each is cheap, and a replica that
        # restarted (or was failed over) is then met by a new connection, not an error page.
        return {**options, "url": url, "pool_pre_ping": True,
                "connect_args": {"options": "-c default_transaction_read_only=on"}}
    return {**options, "url": url}
