"""Load test of the whole service, then a server killed mid-run: what is acknowledged is kept.

    .venv/bin/python bench/load_test.py \\
        --database postgresql+psycopg://postgres@127.0.0.1:5432/relais_bench \\
        --broker redis://127.0.0.1:6379/13 --users 10,20,40,80 --step-seconds 30

It empties the database (point it at a throw-away one), migrates it and seeds an organization
(``--learners`` learners in one cohort of the six-week program, an xAPI package on one of its
e-learning modules, a past session with a sign-in sheet per trainer, HR accounts, the advocacy
webhook's secret, the learners' consent and ``--events`` advocacy events each), then:

1. **Load**: ``relais serve`` (``--serve-workers`` gunicorn processes) and, with a broker,
   ``--workers`` ``relais worker`` processes; the Locust scenario of ``bench/locustfile.py``
   (learners, packages, the webhook, HR, trainers) runs in its own process, stepping the users
   up through ``--users``, each step ``--step-seconds`` long once its users are logged in.
   It prints each step's p50/p95, requests/s, errors and the servers' CPU seconds, and the
   last step that held p95 ≤ ``--limit-ms`` with no error.
2. **Kill**: two ``relais serve`` processes on two ports sharing the database and the broker;
   ``--clients`` clients post statement batches (org LRS credentials) and signed webhook
   batches to both in turn for ``--kill-seconds``; half-way, one server's process group gets
   SIGKILL. A client whose request fails (connection lost or refused, 5xx, 409) resends the
   same body to the other server, as an xAPI client or a webhook sender does. Then it checks
   in the database that every statement id and event id the clients saw acknowledged (HTTP
   200) is stored exactly once, and that the others are stored at most once; it exits 1 if
   not.

Both runs go to 127.0.0.1 only, are bounded in users and time, and stop by themselves.
``--duration`` caps the whole load run. ``--skip-load`` / ``--skip-kill`` run one of them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import common as bench
from sqlalchemy import create_engine, text, update

from lms.accounts import services as accounts
from lms.accounts.models import Role, User
from lms.advocacy import services as advocacy
from lms.advocacy.models import AdvocacyConsent
from lms.core.models import utcnow
from lms.courses.cohorts.models import Enrollment
from lms.courses.cohorts.services import create_cohort
from lms.courses.sessions.services import half_days, local_zone, register, schedule_session
from lms.extensions import db
from lms.packages.services import upload_package
from lms.xapi.services import create_lrs_credentials

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PACKAGE_ROOT = "https://content.bench.example/courses/load-test"
TINCAN = f"""<?xml version="1.0" encoding="utf-8" ?>
<tincan xmlns="http://projecttincan.com/tincan.xsd"><activities>
  <activity id="{PACKAGE_ROOT}" type="http://adlnet.gov/expapi/activities/course">
    <name>Load test course</name><launch lang="und">index.html</launch>
  </activity></activities></tincan>
"""


# -- the data -----------------------------------------------------------------------------------

def seed_people(*, slug: str, learners: int, trainers: int = 1, hr: int = 1) -> dict[str, Any]:
    """An organization with HR, trainers and learners (all able to log in with
    ``bench.PASSWORD``), the learners' advocacy consent, the webhook's secret and organization
    LRS credentials; committed. The plan's part about people (see :func:`seed`)."""
    org = accounts.create_organization(slug=slug, name="Load test")
    hr_members = [bench.staff(org, f"hr{n}@{slug}.example", Role.HR) for n in range(hr)]
    trainer_members = [bench.staff(org, f"trainer{n}@{slug}.example", Role.TRAINER)
                       for n in range(trainers)]
    people = bench.bulk_learners(org, learners, prefix=f"{slug}-learner")
    # One real hash (production's cost) for everybody: logins cost what they cost in use.
    db.session.execute(update(User).where(User.id.in_([p.user_id for p in people]))
                       .values(password_hash=hr_members[0].user.password_hash))
    bench.insert_rows(AdvocacyConsent, [
        {"organization_id": org.id, "user_id": p.user_id, "opted_in_at": utcnow(),
         "leaderboard_opt_out": False} for p in people])
    secret = advocacy.rotate_webhook_secret(organization=org)
    credential, lrs_secret = create_lrs_credentials(organization=org, label="Load test")
    db.session.commit()
    emails = [f"{slug}-learner{n}@bench.example" for n in range(learners)]
    return {"slug": slug, "organization_id": org.id, "password": bench.PASSWORD,
            "hr": [m.user.email for m in hr_members],
            "trainer_memberships": [m.id for m in trainer_members],
            "trainers": [{"email": m.user.email} for m in trainer_members],
            "learner_memberships": [p.membership_id for p in people],
            "learners": [{"email": email} for email in emails],
            "webhook_secret": secret, "webhook_batch": 20,
            "lrs_auth": "Basic " + base64.b64encode(
                f"{credential.key}:{lrs_secret}".encode()).decode()}


def package_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tincan.xml", TINCAN)
        archive.writestr("index.html", "<!doctype html><title>Load test</title><p>Course</p>")
    return buffer.getvalue()


def seed(*, slug: str, learners: int, trainers: int, hr: int, seated: int,
         events: int) -> dict[str, Any]:
    """Everything the Locust scenario uses; committed. Returns the plan it reads."""
    from lms.accounts.models import Membership, Organization

    plan = seed_people(slug=slug, learners=learners, trainers=trainers, hr=hr)
    org = db.session.get(Organization, plan["organization_id"])
    assert org is not None
    program = bench.catalogue_program(org)
    trainer_members = [db.session.get(Membership, m) for m in plan["trainer_memberships"]]
    cohort = create_cohort(program=program, name="Vague 1", starts_on=None,
                           trainers=trainer_members)
    rows = bench.bulk_enrol(org, [cohort], plan["learner_memberships"],
                            enrolled_at=utcnow() - timedelta(days=14))
    for person, row in zip(plan["learners"], rows, strict=True):
        person["enrollment"] = row["id"]
    elearning = [m for m in program.modules if m.kind == "elearning"]
    plan["lessons"] = [lesson.id for m in elearning for lesson in m.lessons]
    plan["quizzes"] = [{
        "id": quiz.id,
        "right": {q.key: [o["key"] for o in q.options if o.get("correct")] or [q.options[0]["key"]]
                  for q in quiz.questions},
        "wrong": {q.key: [q.options[-1]["key"]] for q in quiz.questions},
    } for m in elearning for quiz in m.quizzes]
    package_module = elearning[-1]
    upload_package(module=package_module, uploaded_by=None, data=package_zip())
    plan["package_module"] = package_module.id

    # Each trainer's sheet: yesterday morning's workshop (a past half-day can be marked).
    workshop = next(m for m in program.modules if m.kind == "workshop")
    day = (utcnow() - timedelta(days=1)).astimezone(local_zone()).date()
    start = datetime.combine(day, clock(9), tzinfo=local_zone())
    for n, (trainer, membership) in enumerate(zip(plan["trainers"], trainer_members,
                                                  strict=True)):
        session = schedule_session(cohort=cohort, module=workshop, starts_at=start,
                                   ends_at=start + timedelta(hours=3), place=f"Salle {n + 1}",
                                   trainer=membership)
        chosen = rows[n * seated:(n + 1) * seated]
        for row in chosen:
            enrollment = db.session.get(Enrollment, row["id"])
            assert enrollment is not None
            register(session=session, enrollment=enrollment)
        trainer["session"] = session.id
        trainer["marks"] = [f"mark-{row['id']}-{d.isoformat()}-{half}"
                            for row in chosen for d, half in half_days(session)]
    db.session.commit()

    # Past advocacy activity, so that the dashboards have something to add up.
    rnd = random.Random(5)
    items = [(person["email"], {
        "network": rnd.choice(["linkedin", "x", "facebook"]),
        "kind": rnd.choice(["post", "share", "comment", "reaction"]),
        "url": f"https://www.linkedin.com/feed/update/{n}",
        "occurred_at": (utcnow() - timedelta(days=rnd.randrange(1, 180))).isoformat(),
        "external_id": f"history-{n}", "impressions": rnd.randrange(5000),
        "clicks": rnd.randrange(100)})
        for n, person in enumerate(p for p in plan["learners"] for _ in range(events))]
    for start_at in range(0, len(items), 2000):
        advocacy.record_events(organization=org, items=items[start_at:start_at + 2000],
                               source="csv")
        db.session.commit()
    bench.refresh_statistics()
    return plan


# -- processes ----------------------------------------------------------------------------------

def server_env(database: str, instance: str, broker: str | None, serve_workers: int
               ) -> dict[str, str]:
    """What every ``relais`` process of a run shares (the same secret key: any of them may
    serve any request of a session)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    env.update({"RELAIS_DATABASE_URL": database, "RELAIS_INSTANCE_PATH": instance,
                "RELAIS_SECRET_KEY": "load-test-secret", "RELAIS_LOG_LEVEL": "WARNING",
                "RELAIS_WORKERS": str(serve_workers), "RELAIS_BASE_URL": "http://127.0.0.1",
                # Rate limits guard production from one client's excess; here every simulated
                # person comes from one address and the run measures capacity, not the limits.
                "RELAIS_RATELIMIT_ENABLED": "false", "PYTHONWARNINGS": "ignore"})
    if broker:
        env["RELAIS_BROKER_URL"] = broker
    return env


def start_workers(env: dict[str, str], count: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    if "RELAIS_BROKER_URL" not in env:
        return []
    procs = []
    for n in range(count):
        with (logs / f"worker{n}.log").open("wb") as out:
            procs.append(subprocess.Popen(
                [bench.RELAIS, "worker", "--concurrency", "1", "--hostname", f"load{n}@%h"],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
    return procs


def database_cpu(database: str) -> float:
    """CPU seconds so far of the PostgreSQL backends serving ``database`` on this machine (their
    command line names it); 0 on SQLite, whose work is done in the servers' own processes."""
    if not database.startswith("postgresql"):
        return 0.0
    name = f" {database.rsplit('/', 1)[-1].split('?')[0]} ".encode()
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if name in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" "):
                total += bench.process_cpu(pid) or 0.0
        except OSError:
            continue
    return total


def stop_all(procs: Iterable[subprocess.Popen[bytes]]) -> None:
    import signal

    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# -- 1. the stepped load run --------------------------------------------------------------------

def load_run(env: dict[str, str], plan_path: Path, args: argparse.Namespace, logs: Path
             ) -> dict[str, Any] | None:
    """Serve, run the Locust steps; the last step that held (None if none did)."""
    server = bench.Server(env)
    workers = start_workers(env, args.workers, logs)
    held = None
    try:
        command = [sys.executable, str(LOCUSTFILE), "--plan", str(plan_path),
                   "--host", f"http://127.0.0.1:{server.port}", "--steps", args.users,
                   "--step-seconds", str(args.step_seconds), "--warmup", str(args.warmup),
                   "--spawn-rate", str(args.spawn_rate), "--limit-ms", str(args.limit_ms)]
        with (logs / "locust.log").open("wb") as errors:
            locust = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert locust.stdout is not None
        cpu = wall = db_cpu = 0.0
        timer = threading.Timer(args.duration, locust.kill)  # the whole run's bound
        timer.start()
        try:
            for line in locust.stdout:
                step = json.loads(line)
                if step["event"] == "start":
                    cpu, wall = server.cpu_seconds(), time.perf_counter()
                    db_cpu = database_cpu(env["RELAIS_DATABASE_URL"])
                    continue
                seconds = time.perf_counter() - wall
                used = server.cpu_seconds() - cpu
                db_used = database_cpu(env["RELAIS_DATABASE_URL"]) - db_cpu
                print(f"  {step['users']:>4} users: {step['rps']:6.1f} requests/s, "
                      f"p50 {step['p50']:4.0f} ms, p95 {step['p95']:5.0f} ms, "
                      f"{step['failures']} errors of {step['requests']}; servers "
                      f"{used:.1f} CPU-s in {seconds:.0f} s ({used / seconds:.2f} cores, "
                      f"{1000 * used / max(step['requests'], 1):.0f} ms a request), "
                      f"PostgreSQL {1000 * db_used / max(step['requests'], 1):.0f} ms a request; "
                      f"load average {os.getloadavg()[0]:.1f} — "
                      f"{'held' if step['held'] else 'NOT held'}", flush=True)
                print(f"         slowest: {'; '.join(step['slowest'])}")
                for error in step["errors"]:
                    print(f"         error: {error}")
                if step["start_failures"]:
                    print(f"         {step['start_failures']} logins or launches refused")
                if step["held"]:
                    held = step
        finally:
            timer.cancel()
            locust.wait(timeout=60)
    finally:
        stop_all(workers)
        server.stop()
    return held


# -- 2. a server killed mid-run -----------------------------------------------------------------

@dataclass
class Tally:
    """What the clients of the kill run saw."""

    acked: dict[str, list[str]] = field(default_factory=lambda: {"statements": [],
                                                                 "events": []})
    unacked: dict[str, list[str]] = field(default_factory=lambda: {"statements": [],
                                                                   "events": []})
    requests: int = 0
    interrupted: int = 0   # connection lost with the request sent: stored or not, unknown
    refused: int = 0       # the killed server's port: nothing sent
    resent: int = 0
    refusals: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def statement_batch(plan: dict[str, Any], rnd: random.Random, size: int
                    ) -> tuple[bytes, list[str]]:
    ids = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(size)]
    now = utcnow()
    body = [{"id": sid,
             "actor": {"objectType": "Agent",
                       "mbox": f"mailto:{rnd.choice(plan['learners'])['email']}"},
             "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced",
                      "display": {"en-US": "experienced"}},
             "object": {"objectType": "Activity",
                        "id": f"{PACKAGE_ROOT}/slide-{rnd.randrange(50)}"},
             "timestamp": (now - timedelta(seconds=n)).isoformat()}
            for n, sid in enumerate(ids)]
    return json.dumps(body).encode(), ids


def event_batch(plan: dict[str, Any], rnd: random.Random, size: int) -> tuple[bytes, list[str]]:
    ids = [f"kill-{uuid.UUID(int=rnd.getrandbits(128), version=4).hex}" for _ in range(size)]
    now = utcnow()
    body = {"events": [{"email": rnd.choice(plan["learners"])["email"], "network": "linkedin",
                        "kind": "share", "url": f"https://www.linkedin.com/feed/update/{eid}",
                        "occurred_at": (now - timedelta(hours=1)).isoformat(),
                        "external_id": eid, "clicks": rnd.randrange(50)} for eid in ids]}
    return json.dumps(body).encode(), ids


def _headers(plan: dict[str, Any], kind: str, body: bytes) -> dict[str, str]:
    if kind == "statements":
        return {"Authorization": plan["lrs_auth"], "X-Experience-API-Version": "1.0.3",
                "Content-Type": "application/json"}
    stamp = str(int(time.time()))
    mac = hmac.new(plan["webhook_secret"].encode(), stamp.encode() + b"." + body,
                   hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Relais-Timestamp": stamp,
            "X-Relais-Signature": f"sha256={mac}"}


def _send(plan: dict[str, Any], ports: list[int], first: int, kind: str, body: bytes,
          tally: Tally, attempts: int = 8) -> bool:
    """POST ``body`` until a server acknowledges it, trying the servers in turn from
    ``first``; whether one did."""
    path = "/xapi/statements" if kind == "statements" else f"/hooks/advocacy/{plan['slug']}"
    for attempt in range(attempts):
        port = ports[(first + attempt) % len(ports)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", path, body=body, headers=_headers(plan, kind, body))
            response = conn.getresponse()
            answer = response.read()
        except ConnectionRefusedError:
            with tally.lock:
                tally.refused += 1
            continue
        except (OSError, http.client.HTTPException):
            with tally.lock:
                tally.interrupted += 1
                tally.resent += 1
            continue
        finally:
            conn.close()
        with tally.lock:
            tally.requests += 1
        if response.status == 200:
            return True
        with tally.lock:
            tally.resent += 1
            if response.status not in (409, 429) and response.status < 500:
                tally.refusals.append(f"{response.status} {answer[:200]!r}")
                return False
        time.sleep(0.1 * (attempt + 1))
    return False


def _client(plan: dict[str, Any], ports: list[int], number: int, deadline: float,
            tally: Tally, batch: int) -> None:
    rnd = random.Random(number)
    turn = number
    while time.monotonic() < deadline:
        kind = "statements" if turn % 2 == 0 else "events"
        make = statement_batch if kind == "statements" else event_batch
        body, ids = make(plan, rnd, batch)
        ok = _send(plan, ports, turn, kind, body, tally)
        with tally.lock:
            (tally.acked if ok else tally.unacked)[kind].extend(ids)
        turn += 1


def counts(database: str, organization_id: int, kind: str, ids: list[str]) -> dict[str, int]:
    """How many rows each id has in the database (statement ids, or event external ids)."""
    table, column = (("xapi_statements", "statement_id") if kind == "statements"
                     else ("advocacy_events", "external_id"))
    found: dict[str, int] = {}
    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ", ".join(f":i{n}" for n in range(len(chunk)))
                rows = conn.execute(text(
                    f"SELECT {column}, count(*) FROM {table} WHERE organization_id = :org "
                    f"AND {column} IN ({marks}) GROUP BY {column}"),
                    {"org": organization_id, **{f"i{n}": v for n, v in enumerate(chunk)}})
                found.update({key: int(number) for key, number in rows})
    finally:
        engine.dispose()
    return found


@dataclass
class Verdict:
    """The kill run's outcome, per kind: acknowledged ids stored once, missing, doubled."""

    tally: Tally
    lines: list[str]
    exactly_once: bool


def check(database: str, organization_id: int, tally: Tally) -> Verdict:
    lines, ok = [], True
    for kind in ("statements", "events"):
        acked, unacked = tally.acked[kind], tally.unacked[kind]
        seen = counts(database, organization_id, kind, acked + unacked)
        once = sum(1 for i in acked if seen.get(i) == 1)
        missing = sum(1 for i in acked if i not in seen)
        doubled = sum(1 for i in acked + unacked if seen.get(i, 0) > 1)
        stored_unacked = sum(1 for i in unacked if i in seen)
        ok = ok and once == len(acked) and doubled == 0 and len(acked) > 0
        lines.append(f"{kind}: {len(acked)} acknowledged, {once} stored exactly once, "
                     f"{missing} missing, {doubled} stored twice or more; {len(unacked)} never "
                     f"acknowledged ({stored_unacked} of them stored, once each)")
    return Verdict(tally, lines, ok)


def kill_run(env: dict[str, str], plan: dict[str, Any], *, seconds: float, clients: int,
             batch: int, database: str) -> Verdict:
    """Two servers, clients on both, one SIGKILLed half-way; the check against the database."""
    servers = [bench.Server(env, wait=False) for _ in range(2)]
    try:
        for server in servers:
            server.wait_ready()
        ports = [server.port for server in servers]
        tally = Tally()
        deadline = time.monotonic() + seconds
        threads = [threading.Thread(target=_client, args=(plan, ports, n, deadline, tally, batch))
                   for n in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(seconds / 2)
        servers[0].kill()
        killed_at = len(tally.acked["statements"]) + len(tally.acked["events"])
        for thread in threads:
            thread.join(timeout=seconds + 120)
    finally:
        for server in servers:
            if server.proc.poll() is None:
                server.stop()
    verdict = check(database, plan["organization_id"], tally)
    verdict.lines.insert(0, f"SIGKILL of the server on port {ports[0]} after {killed_at} ids "
                            f"acknowledged; {tally.requests} answers, {tally.interrupted} "
                            f"requests cut by the kill, {tally.refused} refused connections, "
                            f"{tally.resent} resends")
    if tally.refusals:
        verdict.lines.append(f"refused by the server: {tally.refusals[:3]}")
    return verdict


# -- the command --------------------------------------------------------------------------------

def main() -> None:
    parser = bench.options(__doc__.split("\n")[0], learners=500, trainers=5, hr=3, seated=20,
                           events=20, workers=1, serve_workers=2, clients=4, kill_batch=10)
    parser.add_argument("--broker", default=None, help="Redis URL (default: embedded jobs)")
    parser.add_argument("--users", default="10,20,40,80,120",
                        help="concurrent users of each step (default 10,20,40,80,120)")
    parser.add_argument("--step-seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--limit-ms", type=float, default=300)
    parser.add_argument("--duration", type=float, default=900,
                        help="the load run's bound in seconds, whatever the steps")
    parser.add_argument("--kill-seconds", type=float, default=20)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-kill", action="store_true")
    args = parser.parse_args()

    logs = Path(tempfile.mkdtemp(prefix="relais-load-"))
    app = bench.bench_app(args.database, wipe=bool(args.database))
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    print(f"Relais load test — {db_name(database)}, broker {args.broker or 'none (embedded)'}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; logs in {logs}")
    started = time.perf_counter()
    with app.app_context():
        plan = seed(slug="load", learners=args.learners, trainers=args.trainers, hr=args.hr,
                    seated=args.seated, events=args.events)
        db.session.remove()
        db.engine.dispose()
    plan_path = logs / "plan.json"
    plan_path.write_text(json.dumps(plan))
    print(f"Seeded {args.learners} learners, {args.trainers} trainers with a sheet of "
          f"{args.seated}, {args.hr} HR, {args.learners * args.events} advocacy events in "
          f"{time.perf_counter() - started:.0f} s")
    if args.broker:
        import redis

        redis.Redis.from_url(args.broker).flushdb()
    env = server_env(database, app.instance_path, args.broker, args.serve_workers)
    ok = True
    if not args.skip_load:
        print(f"1. Load: relais serve ({args.serve_workers} gunicorn processes × 2 threads), "
              f"{args.workers if args.broker else 0} relais worker; users {args.users}, "
              f"{args.step_seconds:.0f} s a step, p95 ≤ {args.limit_ms:.0f} ms with no error")
        held = load_run(env, plan_path, args, logs)
        print(f"  Held: {held['users']} concurrent users ({held['rps']:.1f} requests/s, "
              f"p95 {held['p95']:.0f} ms)" if held else "  Held: no step")
    if not args.skip_kill:
        print(f"2. Kill: two relais serve on two ports, {args.clients} clients for "
              f"{args.kill_seconds:.0f} s, batches of {args.kill_batch}, one server SIGKILLed "
              "half-way")
        workers = start_workers(env, args.workers, logs)
        try:
            verdict = kill_run(env, plan, seconds=args.kill_seconds, clients=args.clients,
                               batch=args.kill_batch, database=database)
        finally:
            stop_all(workers)
        for line in verdict.lines:
            print(f"  {line}")
        print(f"  Exactly once: {'yes' if verdict.exactly_once else 'NO'}")
        ok = verdict.exactly_once
    sys.exit(0 if ok else 1)


def db_name(url: str) -> str:
    return url.split("@")[-1] if "@" in url else "SQLite"


if __name__ == "__main__":
    main()
