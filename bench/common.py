"""What the benchmark scripts in ``bench/`` share, so that each keeps only what it measures.

The scripts run as ``.venv/bin/python bench/NAME.py``, so this folder is on ``sys.path``; they
``import common as bench``. Importing it also puts the repository first on ``sys.path``.

Set-up:

* ``options(learners=10_000, …)``: the command line, ``--NAME N`` (a whole number) for each
  default, then ``--database URL``; it returns the parser, to add the script's other options;
* ``bench_app(database, wipe=False, **config)``: the app on a new temporary instance folder
  (``app.instance_path``, also exported as ``RELAIS_INSTANCE_PATH`` for worker processes), its
  database ``database`` (an SQLAlchemy URL) or a new SQLite file in that folder, migrated with
  ``upgrade_database``. ``wipe=True`` empties a given database first (``wipe_database``: drop
  the PostgreSQL schema, delete the SQLite file); without it the database must be empty.
  Requests of the test client each get an empty ``g`` (the scripts hold one app context);
* ``PASSWORD``, ``staff(org, email, role)`` (a member who can log in), ``organization(*roles)``
  (organization ``bench`` with a member ``{role}@bench.example`` per role),
  ``login(client, email)``, ``catalogue_program(org)`` (the catalogue loaded, its six-week
  path copied), ``make_cohorts(program, count, **fields)`` ("Vague 1", "Vague 2"…),
  ``lrs_statement_headers(app)`` (organization ``bench`` with LRS credentials: the headers of
  a statement POST through the test client, and its id).

Bulk loading, straight into the tables (the reads measured do not care how the rows came):

* ``bulk_learners(org, n, prefix)`` → ``Learner(membership_id, user_id)`` rows, in order;
* ``bulk_enrol(org, cohorts, membership_ids, enrolled_at)`` → the enrolment rows (dicts),
  the learners dealt round-robin over the cohorts;
* ``insert_rows(model, rows)`` (chunks of 5,000) and ``refresh_statistics()`` (commit, then
  ANALYZE on PostgreSQL, as autovacuum would after a load).

Timing (durations in seconds in, milliseconds out):

* ``samples(fn, runs, warmups, reset)``: each timed run's seconds (``reset`` runs untimed
  before every call); ``timed(fn, runs=30, warmups=3)`` → ``(median_ms, p95_ms)`` of those;
  ``median_p95(seconds)``; ``percentile(values, q)``: linear between the closest ranks
  (numpy's default);
* ``get_ok(client, url)``: a test-client GET that must answer 200, to hand to ``timed``;
* ``backend_cpu()``: CPU seconds of this session's PostgreSQL backend so far (None on SQLite);
  ``database_cpu()`` of every backend connected to the database (the test client's too), by
  pid, and ``database_cpu_since(before)`` their CPU seconds since.

For the scripts that run ``relais`` in subprocesses: ``ROOT``, ``RELAIS``, ``free_port()``,
``relais(env, *args)`` (a CLI command's output), ``lrs_auth(env, slug)`` (``Authorization``
for new LRS credentials of an organization), ``Server(env)`` (``relais serve`` on a free port,
once it answers, or at once with ``wait=False`` then ``wait_ready()``; in a process group of its
own; ``cpu_seconds()`` of it and its workers;
``stop()``; ``kill()``: SIGKILL to the whole group, as a crash or an OOM kill would) and
``run_threads(threads)`` (start them, join them: the wall seconds).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
RELAIS = str(Path(sys.executable).with_name("relais"))
sys.path.insert(0, str(ROOT))

from flask import Flask, g, request_started  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402

from lms import create_app  # noqa: E402
from lms.accounts import services as accounts  # noqa: E402
from lms.accounts.models import Membership, Organization, Role, User  # noqa: E402
from lms.core.models import utcnow  # noqa: E402
from lms.courses.cohorts.models import Cohort, Enrollment, new_uuid  # noqa: E402
from lms.courses.cohorts.services import create_cohort  # noqa: E402
from lms.courses.programs.models import Program  # noqa: E402
from lms.courses.programs.services import copy_from_catalogue, load_catalogue  # noqa: E402
from lms.extensions import db  # noqa: E402

PASSWORD = "bench-password"
SIX_WEEKS = "parcours-ambassadeurs-6-semaines"


# --- set-up -------------------------------------------------------------------------------

def options(description: str | None = None, **defaults: int) -> argparse.ArgumentParser:
    """``--NAME N`` for each of ``defaults`` (underscores as dashes), then ``--database``."""
    parser = argparse.ArgumentParser(description=description)
    for name, default in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    parser.add_argument("--database", default=None,
                        help="SQLAlchemy URL (default: a new SQLite file)")
    return parser


def wipe_database(url: str) -> None:
    """Empty a throw-away database: drop PostgreSQL's public schema, delete an SQLite file."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)


def _fresh_g(sender: Flask, **_extra: Any) -> None:
    """Each request gets an empty ``g`` (requests here share one app context, like tests)."""
    for name in list(vars(g)):
        delattr(g, name)


def bench_app(database: str | None = None, *, wipe: bool = False, **config: Any) -> Flask:
    """The app on a new temporary instance folder and a migrated database (see the module)."""
    from lms.cli import upgrade_database

    folder = tempfile.mkdtemp(prefix="relais-bench-")
    os.environ["RELAIS_INSTANCE_PATH"] = folder
    if database and wipe:
        wipe_database(database)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database or f"sqlite:///{folder}/bench.db",
                      "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "BASE_URL": "http://relais.bench", **config})
    request_started.connect(_fresh_g, app)
    with app.app_context():
        upgrade_database()
    return app


def staff(org: Organization, email: str, role: str | Role, display_name: str | None = None,
          password: str = PASSWORD) -> Membership:
    """A member of ``org`` who can log in with ``password``."""
    membership = accounts.provision_member(organization=org, email=email, role=role,
                                           display_name=display_name).membership
    accounts.set_password(membership.user, password)
    return membership


def login(client: Any, email: str, password: str = PASSWORD) -> None:
    client.post("/login", data={"email": email, "password": password})


def organization(*roles: Role, name: str = "Bench") -> tuple[Organization, dict[Role, Membership]]:
    """Organization ``bench`` and, for each role, a member ``{role}@bench.example`` who can log
    in (named after the role)."""
    org = accounts.create_organization(slug="bench", name=name)
    return org, {role: staff(org, f"{role}@bench.example", role, str(role)) for role in roles}


def catalogue_program(org: Organization, slug: str = SIX_WEEKS) -> Program:
    """Load the built-in catalogue and copy one of its programs into ``org``."""
    load_catalogue()
    return copy_from_catalogue(organization=org, slug=slug)


def make_cohorts(program: Program, count: int, **fields: Any) -> list[Cohort]:
    return [create_cohort(program=program, name=f"Vague {n + 1}", **fields)
            for n in range(count)]


# --- bulk loading -------------------------------------------------------------------------

class Learner(NamedTuple):
    membership_id: int
    user_id: int


def bulk_learners(org: Organization, n: int, prefix: str = "l", *,
                  name: str = "Learner {n}", created_at: datetime | None = None,
                  fields: Callable[[int], dict[str, Any]] | None = None) -> list[Learner]:
    """``n`` users ``{prefix}{i}@bench.example`` named ``name.format(n=i)``, each a learner of
    ``org`` (with ``fields(i)`` on the membership); their ids in the order of ``i``."""
    when = created_at or utcnow()
    user_ids = db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
        {"email": f"{prefix}{i}@bench.example", "display_name": name.format(n=i),
         "active": True, "created_at": when} for i in range(n)]).all()
    member_ids = db.session.scalars(
        insert(Membership).returning(Membership.id, sort_by_parameter_order=True), [
            {"organization_id": org.id, "user_id": uid, "role": Role.LEARNER,
             "created_at": when, **(fields(i) if fields else {})}
            for i, uid in enumerate(user_ids)]).all()
    return [Learner(m, u) for m, u in zip(member_ids, user_ids, strict=True)]


def bulk_enrol(org: Organization, cohorts: Sequence[Cohort], membership_ids: Iterable[int],
               enrolled_at: datetime) -> list[dict[str, Any]]:
    """Active enrolments of the members, dealt round-robin over ``cohorts``; the rows."""
    rows = [{"id": new_uuid(), "organization_id": org.id,
             "cohort_id": cohorts[n % len(cohorts)].id, "membership_id": mid,
             "status": "active", "enrolled_at": enrolled_at}
            for n, mid in enumerate(membership_ids)]
    db.session.execute(insert(Enrollment), rows)
    return rows


def insert_rows(model: Any, rows: list[dict[str, Any]], chunk: int = 5000) -> None:
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(model), rows[start:start + chunk])


def refresh_statistics(*, sqlite: bool = False) -> None:
    """Commit, then ANALYZE as autovacuum would after a bulk load (on SQLite only if asked:
    its planner behaves differently with statistics)."""
    db.session.commit()
    if db.engine.dialect.name == "postgresql" or sqlite:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


# --- timing -------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 to 1), interpolated linearly between the closest ranks."""
    ordered = sorted(values)
    at = q * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def median_p95(seconds: Sequence[float]) -> tuple[float, float]:
    """Median and 95th percentile of durations in seconds, in milliseconds."""
    return 1000 * statistics.median(seconds), 1000 * percentile(seconds, 0.95)


def samples(fn: Callable[[], object], runs: int, warmups: int = 0,
            reset: Callable[[], object] | None = None) -> list[float]:
    """Call ``fn`` ``warmups`` times, then ``runs`` times timed; each timed run's seconds.
    ``reset`` (untimed) comes before every call."""
    times = []
    for n in range(warmups + runs):
        if reset is not None:
            reset()
        start = time.perf_counter()
        fn()
        if n >= warmups:
            times.append(time.perf_counter() - start)
    return times


def timed(fn: Callable[[], object], runs: int = 30, warmups: int = 3,
          reset: Callable[[], object] | None = None) -> tuple[float, float]:
    """``(median_ms, p95_ms)`` of ``runs`` calls of ``fn`` after ``warmups`` untimed ones."""
    return median_p95(samples(fn, runs, warmups, reset))


def get_ok(client: Any, url: str, **kwargs: Any) -> Callable[[], object]:
    """A GET of ``url`` through the test client that must answer 200."""
    def get() -> object:
        response = client.get(url, **kwargs)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return get


# --- subprocesses -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_threads(threads: Sequence[threading.Thread]) -> float:
    """Start the threads and wait for all of them; the seconds that took."""
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def relais(env: dict[str, str], *args: str) -> str:
    """Run ``relais ARGS`` with ``env``; its standard output."""
    return subprocess.run([RELAIS, *args], env=env, cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout


def lrs_auth(env: dict[str, str], slug: str) -> str:
    """New LRS credentials of organization ``slug`` as an ``Authorization`` header value."""
    out = relais(env, "lrs-credentials", "--org", slug)
    key, secret = (re.search(rf"{name}:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
                   for name in ("key", "secret"))
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def lrs_statement_headers(app: Flask) -> tuple[dict[str, str], int]:
    """Organization ``bench`` with LRS credentials (in ``app``'s database): the headers of a
    JSON statement request sent with them, and the organization's id."""
    from lms.xapi.services import create_lrs_credentials

    with app.app_context():
        org = accounts.create_organization(slug="bench", name="Bench")
        credential, secret = create_lrs_credentials(organization=org, label="bench")
        key, org_id = credential.key, org.id
        db.session.commit()
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json"}, org_id


def _stat(pid: str) -> list[str]:
    """The fields of ``/proc/PID/stat`` after the command name; none if it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return []


def process_cpu(pid: int | str) -> float | None:
    """CPU seconds (user + system) process ``pid`` of this machine has used so far; None when
    it has gone."""
    fields = _stat(str(pid))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else None


class Server:
    """``relais serve`` in a subprocess on a free port, started once it answers."""

    def __init__(self, env: dict[str, str], *, wait: bool = True) -> None:
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="relais-bench-", suffix=".log",
                                               delete=False)
        # The benchmarks send far more from one credential than the rate limits allow a
        # client in production: they measure throughput, not the limits.
        env = {"RELAIS_RATELIMIT_ENABLED": "false", **env}
        # The server runs this checkout's code, as the bench does (sys.path above): the
        # venv's `relais` would otherwise import the checkout the venv was installed from
        # (an editable install), and a bench run from another worktree with a shared venv
        # would measure that one.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
        # A group of its own, so that kill() reaches gunicorn's worker processes too.
        self.proc = subprocess.Popen(
            [RELAIS, "serve", "--port", str(self.port)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
            start_new_session=True)
        if wait:
            self.wait_ready()

    def wait_ready(self, seconds: float = 180) -> None:
        """Return once the server answers (``wait=False`` starts several at once). Generous:
        on a busy machine gunicorn and its workers take a while to import Relais."""
        deadline = time.time() + seconds
        while time.time() < deadline and self.proc.poll() is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/xapi/about")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.2)
        # Not left running (its workers and job runners would weigh on every later measure).
        self.kill()
        raise SystemExit(f"server did not start; see {self.log.name}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and its worker processes."""
        stats = {int(entry): _stat(entry) for entry in os.listdir("/proc") if entry.isdigit()}
        ours = [fields for pid, fields in stats.items() if fields and (
            pid == self.proc.pid or int(fields[1]) == self.proc.pid)]
        ticks = os.sysconf("SC_CLK_TCK")
        return sum(int(fields[11]) + int(fields[12]) for fields in ours) / ticks

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()

    def kill(self) -> None:
        """SIGKILL the server and its workers at once: no request is finished, nothing is
        flushed, as when a machine or a container is lost."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log.close()


# --- CPU time -----------------------------------------------------------------------------

def backend_cpu() -> float | None:
    """CPU seconds used so far by this session's PostgreSQL backend, when the server runs on
    this machine (read from /proc); None on SQLite or a remote server."""
    if db.engine.dialect.name != "postgresql":
        return None
    return process_cpu(db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar())


def database_cpu() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the bench's database, when
    the server runs on this machine (read from /proc); empty on SQLite. All of them: the test
    client's requests take a connection of the pool, not the script's own.
    """
    if db.engine.dialect.name != "postgresql":
        return {}
    pids = db.session.connection().exec_driver_sql(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend'").scalars().all()
    return {pid: cpu for pid in pids if (cpu := process_cpu(pid)) is not None}


def database_cpu_since(before: dict[int, float]) -> float:
    """CPU seconds the bench database's backends used since :func:`database_cpu` gave
    ``before`` (0.0 on SQLite)."""
    return sum(v - before.get(pid, 0.0) for pid, v in database_cpu().items())


def database_backends_cpu(url: str) -> float | None:
    """CPU seconds used so far by the PostgreSQL backends connected to the database of
    ``url`` (the server's pools; this query's own backend left out), when the server runs on
    this machine; None on SQLite or a remote server. Backends that have exited are not
    counted: compare two readings around work done on long-lived connections.
    """
    if not url.startswith("postgresql"):
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            pids = conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")).scalars().all()
    finally:
        engine.dispose()
    return sum(process_cpu(pid) or 0.0 for pid in pids)


class CpuClock:
    """Wall time, this process's CPU time and the PostgreSQL backend's, from its creation:
    on a busy machine the CPU seconds tell the work done, the wall time mostly the others."""

    def __init__(self) -> None:
        self.backend = backend_cpu()
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def elapsed(self) -> float:
        return time.perf_counter() - self.wall

    def note(self) -> str:
        note = f"CPU: this process {time.process_time() - self.cpu:.2f} s"
        now = backend_cpu() if self.backend is not None else None
        if now is not None and self.backend is not None:
            note += f", PostgreSQL backend {now - self.backend:.2f} s"
        return note
