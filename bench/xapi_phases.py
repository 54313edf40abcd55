"""Where the CPU of a single ``POST /xapi/statements`` goes, phase by phase; prints it.

    .venv/bin/python bench/xapi_phases.py [--singles 2000] [--limits] [--database URL]

The LRS's request path in one process (the test client, as ``bench/xapi_cpu.py``): 300
single POSTs to warm up, then ``--singles`` more, each phase's CPU (``time.process_time``)
summed by a wrapper around it and printed in µs a POST. Phases nest (``record`` holds the
queries it runs; ``driver_sql`` holds ``Session.connection``): the lines do not add up. What
the whole request costs is ``the WSGI application``; what no line names is Flask and
Werkzeug (the request context, routing, the response) and the test client's environ.
``--limits`` turns the rate limits on (counts in memory), as production has them.

Each wrapper costs about a microsecond: compare runs with each other, not with
``bench/xapi_cpu.py``.
"""

from __future__ import annotations

import functools
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import common as bench
import sqlalchemy.engine.default as engine_default
import sqlalchemy.orm.scoping as scoping
import sqlalchemy.orm.session as orm_session
import sqlalchemy.pool.base as pool_base
from xapi_ingest import Corpus

import lms.core.database as database
import lms.xapi.lrs as lrs
import lms.xapi.record as store
import lms.xapi.statements as statements

SPENT: Counter[str] = Counter()


def timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, its CPU added to ``SPENT[label]`` at each call."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            SPENT[label] += time.process_time() - start

    return wrapper


def instrument(app: Any) -> None:
    """Wrap the request path's phases (module functions, SQLAlchemy's, the app's hooks)."""
    for module, names in ((store, ("record", "_prepare", "_rows", "_lock_store",
                                   "_not_stored_yet", "_references", "_statement_rows",
                                   "_insert", "_insert_with_index", "_insert_index",
                                   "_update_activities", "_dispatch")),
                          (lrs, ("authenticate_basic",)),
                          (statements, ("_read_statements", "_check_scope")),
                          (database, ("driver_sql", "time_processor"))):
        for name in names:
            setattr(module, name, timed(f"{module.__name__}.{name}", getattr(module, name)))
    # Taken by name when imported: point the callers at the wrappers.
    statements.record = store.record
    store.driver_sql = lrs.driver_sql = database.driver_sql
    lrs.time_processor = database.time_processor
    for owner, name, label in (
            (scoping.scoped_session, "commit", "db.session.commit()"),
            (orm_session.Session, "connection", "Session.connection()"),
            (engine_default.DefaultDialect, "do_commit", "the driver's commit"),
            (pool_base._ConnectionFairy, "_checkout", "the pool's checkout"),
            (pool_base._ConnectionFairy, "_checkin", "the pool's checkin")):
        original = owner.__dict__[name]
        wrapped = timed(label, original.__func__ if isinstance(original, classmethod)
                        else original)
        setattr(owner, name, classmethod(wrapped) if isinstance(original, classmethod)
                else wrapped)
    for hooks in (app.before_request_funcs, app.after_request_funcs):
        for blueprint, functions in hooks.items():
            hooks[blueprint] = [timed(f"hook {blueprint or 'app'}: {_name(f)}", f)
                                for f in functions]
    app.wsgi_app = timed("the WSGI application", app.wsgi_app)


def _name(function: Callable[..., Any]) -> str:
    """A hook's name; a ``functools.partial`` is named after the function it calls."""
    while isinstance(function, functools.partial):
        function = function.func
    return getattr(function, "__qualname__", repr(function))


def main() -> None:
    parser = bench.options(singles=2000)
    parser.add_argument("--limits", action="store_true", help="rate limits on (in memory)")
    args = parser.parse_args()
    app = bench.bench_app(args.database, wipe=bool(args.database),
                          RATELIMIT_ENABLED=args.limits)
    headers, _org_id = bench.lrs_statement_headers(app)
    client = app.test_client()
    corpus = Corpus()
    instrument(app)
    with app.app_context():
        for count in (300, args.singles):
            bodies = [json.dumps(corpus.statement()).encode() for _ in range(count)]
            SPENT.clear()
            timer = bench.CpuClock()
            for body in bodies:
                response = client.post("/xapi/statements", data=body, headers=headers)
                assert response.status_code == 200, response.get_data(as_text=True)[:300]
        wall = timer.elapsed()
        backend = bench.backend_cpu()
        note = "" if backend is None or timer.backend is None else \
            f"; the PostgreSQL backend {1e6 * (backend - timer.backend) / args.singles:,.0f} µs"
        print(f"{args.singles} single POSTs after 300, {args.singles / wall:,.0f}/s wall; µs of "
              f"CPU a POST{note} ({timer.note()}):")
    for label, seconds in SPENT.most_common():
        print(f"  {1e6 * seconds / args.singles:8,.1f}  {label}")


if __name__ == "__main__":
    main()
