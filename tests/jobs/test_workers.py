"""Jobs in real separate processes: `relais worker` on Redis, a killed worker, embedded mode.

The workers share the test database (a file for SQLite, or PostgreSQL) with this process. They
need Redis at ``RELAIS_TEST_REDIS_URL`` (default database 5 on 127.0.0.1:6379, emptied by
these tests): without it the tests skip with the reason, except under CI (the ``CI`` variable set)
where they fail.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lms.accounts.models import Membership, Organization, Role
from lms.extensions import db
from lms.jobs import members_import, services
from lms.jobs.models import Job, JobState
from tests.support import REDIS_WORKERS_URL, need, redis_up

pytestmark = pytest.mark.slow

REDIS_URL = REDIS_WORKERS_URL
RELAIS = str(Path(sys.executable).with_name("relais"))
WAIT = 60  # seconds: the most any step may take before the test fails


def redis_ready(url: str = REDIS_URL) -> bool:
    """Whether Redis answers at ``url``; its database is emptied for the test."""
    if not redis_up(url):
        return False
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.flushdb()
        return True
    finally:
        client.close()


@pytest.fixture()
def broker(app: Flask) -> Iterator[str]:
    """The test app sends job messages to the test Redis database (emptied first)."""
    try:
        import celery  # noqa: F401
    except ImportError:
        need(False, "Celery is not installed (pip install -e '.[workers]')")
    need(redis_ready(), f"Redis is not running at {REDIS_URL}")
    app.config["BROKER_URL"] = REDIS_URL
    try:
        yield REDIS_URL
    finally:
        app.config["BROKER_URL"] = None
        celery_app = app.extensions.pop("relais_celery", None)
        if celery_app is not None:
            celery_app.close()


@pytest.fixture()
def spawn(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``spawn(*args, **env)`` starts ``relais <args>`` on the test database; all end in finally."""
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    jobs_dir = str(services.jobs_dir())

    def start(*args: str, **extra_env: str) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
        env.update({
            "RELAIS_DATABASE_URL": database_url,
            "RELAIS_INSTANCE_PATH": app.instance_path,
            "RELAIS_SECRET_KEY": "test-secret",
            "RELAIS_JOBS_DIR": jobs_dir,
            "RELAIS_JOBS_LEASE_SECONDS": "2",
            "RELAIS_JOBS_POLL_SECONDS": "0.5",
            "RELAIS_WORKERS": "1",
            "PYTHONWARNINGS": "ignore",
        })
        env.update(extra_env)
        log = tmp_path / f"proc-{len(procs)}.log"
        # Its own session: a kill reaches the whole process group (Celery's pool children too).
        with log.open("wb") as out:
            proc = subprocess.Popen([RELAIS, *args], env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        procs.append((proc, log))
        return proc

    try:
        yield start
    finally:
        for proc, _log in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            if os.environ.get("RELAIS_TEST_SHOW_LOGS"):
                print(log.read_text(errors="replace"))


def fresh(job_id: int) -> Job:
    db.session.rollback()  # a short read transaction each time: never block the workers
    job = db.session.execute(select(Job).where(Job.id == job_id)
                             .execution_options(populate_existing=True)).scalar_one()
    db.session.rollback()
    return job


def wait_for(job_id: int, check: Callable[[Job], bool], what: str) -> Job:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        job = fresh(job_id)
        if check(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id}: {what} did not happen within {WAIT}s "
                         f"(state {job.state}, progress {job.progress_current})")


def selftest(org: Organization, steps: int, seconds: float) -> Job:
    job = services.enqueue(kind="jobs.selftest", organization=org, created_by=None,
                           params={"steps": steps, "seconds": seconds}, total=steps)
    db.session.commit()  # the message goes to Redis after this commit
    return job


def test_a_worker_process_runs_jobs_from_redis_and_reports_progress(
        broker, spawn, create_org, create_user, app):
    org = create_org()
    spawn("worker", "--concurrency", "1", RELAIS_BROKER_URL=broker)
    job = selftest(org, steps=8, seconds=0.3)

    seen = set()
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        current = fresh(job.id)
        seen.add(current.progress_current)
        if current.finished:
            break
        time.sleep(0.05)
    assert current.state == JobState.SUCCEEDED
    assert any(0 < n < 8 for n in seen), f"no progress seen between start and end: {seen}"
    assert current.result["done"] == list(range(8))
    assert current.attempts == 1 and current.worker != services.worker_name()

    # The real kind: a CSV import runs in the worker and leaves its error report.
    app.config["JOBS_IMPORT_CHUNK"] = 2
    hr = create_user(Role.HR, org=org)
    data = b"email,role\n" + b"".join(b"p%d@example.com,learner\n" % i for i in range(9)) \
        + b"broken,learner\n"
    imported = members_import.start_import(organization=org, created_by=hr, data=data)
    db.session.commit()
    imported = wait_for(imported.id, lambda j: j.finished, "the import finishing")
    assert imported.state == JobState.SUCCEEDED, imported.error
    assert imported.result == {"created": 9, "updated": 0, "errors": 1}
    assert db.session.scalar(select(db.func.count()).select_from(Membership)
                             .where(Membership.organization_id == org.id)) == 10
    report = services.result_file(imported)
    assert report is not None and "11,broken," in report.read_text()


def test_a_killed_worker_loses_nothing_another_worker_resumes_the_job(
        broker, spawn, create_org):
    org = create_org()
    first = spawn("worker", "--concurrency", "1", RELAIS_BROKER_URL=broker)
    job = selftest(org, steps=10, seconds=0.4)
    wait_for(job.id, lambda j: j.progress_current >= 3, "progress 3 of 10")

    os.killpg(first.pid, signal.SIGKILL)  # the machine dies mid-job: no clean-up runs
    first.wait(timeout=10)
    killed_at = fresh(job.id)
    assert killed_at.state == JobState.RUNNING and not killed_at.finished

    spawn("worker", "--concurrency", "1", RELAIS_BROKER_URL=broker)
    done = wait_for(job.id, lambda j: j.finished, "the job finishing on the second worker")
    assert done.state == JobState.SUCCEEDED, done.error
    # Every step exactly once: the steps committed before the kill were not redone.
    assert done.result["done"] == list(range(10))
    assert done.attempts == 2
    assert len(set(done.result["runs"])) == 2
    assert done.progress_current == 10


def test_two_workers_share_the_jobs_and_none_runs_twice(broker, spawn, create_org):
    org = create_org()
    spawn("worker", "--concurrency", "1", RELAIS_BROKER_URL=broker)
    spawn("worker", "--concurrency", "1", RELAIS_BROKER_URL=broker)
    jobs = [selftest(org, steps=4, seconds=0.2) for _ in range(4)]
    for job in jobs:
        done = wait_for(job.id, lambda j: j.finished, "all jobs finishing")
        assert done.state == JobState.SUCCEEDED
        assert done.result["done"] == [0, 1, 2, 3] and done.attempts == 1


def test_a_job_queued_while_redis_is_down_runs_once_it_is_back(
        broker, spawn, create_org, app, caplog):
    org = create_org()
    app.config["BROKER_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    app.extensions.pop("relais_celery", None)
    with caplog.at_level(logging.ERROR, logger="relais.jobs"):
        job = selftest(org, steps=2, seconds=0.1)
    assert any("dispatch_failed" in r.getMessage() for r in caplog.records)
    lost = app.extensions.pop("relais_celery")
    lost.close()
    app.config["BROKER_URL"] = broker
    assert fresh(job.id).state == JobState.QUEUED  # safe in the database, message lost

    spawn("worker", "--concurrency", "1", RELAIS_BROKER_URL=broker)
    done = wait_for(job.id, lambda j: j.finished, "the sweep sending the lost job")
    assert done.state == JobState.SUCCEEDED and done.attempts == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def wait_http(url: str) -> tuple[int, bytes]:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return get(url)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_embedded_mode_serve_runs_jobs_with_no_broker(spawn, create_org, app):
    org = create_org()
    port = free_port()
    spawn("serve", "--host", "127.0.0.1", "--port", str(port))
    status, body = wait_http(f"http://127.0.0.1:{port}/healthz")
    assert status == 200 and b'"broker":"embedded"' in body.replace(b" ", b"")
    assert get(f"http://127.0.0.1:{port}/login")[0] == 200

    job = selftest(org, steps=5, seconds=0.1)
    done = wait_for(job.id, lambda j: j.finished, "the embedded runner finishing the job")
    assert done.state == JobState.SUCCEEDED and done.result["done"] == list(range(5))


def test_a_worker_without_broker_polls_the_database(spawn, create_org):
    org = create_org()
    spawn("worker")
    job = selftest(org, steps=3, seconds=0.1)
    done = wait_for(job.id, lambda j: j.finished, "the polling worker finishing the job")
    assert done.state == JobState.SUCCEEDED
