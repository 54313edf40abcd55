"""End-to-end run of production mode; prints what it sees and the import throughput.

    .venv/bin/python bench/jobs_end_to_end.py --database URL [--broker redis://…] [--rows 5000]
                                              [--workers 2] [--kill]

Creates an organization and an HR user in the (migrated) database, starts ``relais serve`` and
``--workers`` ``relais worker`` processes (none with no broker: embedded mode), logs in over
HTTP like a browser, uploads a CSV of ``--rows`` members on the import page, then polls the
job's JSON endpoint (what the job page's script does) and prints each progress change. With
``--kill`` it SIGKILLs the worker running the job at about a third and checks that another
worker finishes it with nothing lost: every member present, each row counted once.
The database is wiped first: point it at a throw-away database.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import common as bench

PASSWORD = "bench-password-123"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--broker", default=None)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill", action="store_true")
    parser.add_argument("--lease", default="5")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="relais-e2e-"))
    port = bench.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    env.update({"RELAIS_DATABASE_URL": args.database, "RELAIS_INSTANCE_PATH": str(tmp),
                "RELAIS_SECRET_KEY": "e2e-secret", "RELAIS_BASE_URL": f"http://127.0.0.1:{port}",
                "RELAIS_JOBS_LEASE_SECONDS": args.lease, "RELAIS_JOBS_POLL_SECONDS": "1",
                "RELAIS_WORKERS": "2"})
    if args.broker:
        env["RELAIS_BROKER_URL"] = args.broker
        import redis

        redis.Redis.from_url(args.broker).flushdb()
    run = dict(env=env, check=True, capture_output=True, text=True, timeout=300)
    bench.wipe_database(args.database)
    subprocess.run([bench.RELAIS, "init"], **run)
    subprocess.run([bench.RELAIS, "create-org", "--slug", "acme", "--name", "ACME"], **run)
    subprocess.run([bench.RELAIS, "create-user", "--org", "acme", "--email", "hr@acme.example",
                    "--role", "hr", "--password", PASSWORD], **run)

    procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, *cmd: str) -> None:
        with (tmp / f"{name}.log").open("wb") as log:
            procs[name] = subprocess.Popen([bench.RELAIS, *cmd], env=env, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)

    try:
        start("serve", "serve", "--host", "127.0.0.1", "--port", str(port))
        for i in range(args.workers if args.broker else 0):
            start(f"worker{i + 1}", "worker", "--concurrency", "1", "--hostname",
                  f"worker{i + 1}@%h")
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        health = wait_http(opener, f"{base}/healthz")
        print(f"GET /healthz → {health}")
        login(opener, base)

        csv_rows = ["email,display_name,team"] + [
            f"member{i}@acme.example,Member {i},Team {i % 7}" for i in range(args.rows)]
        csv_rows.insert(len(csv_rows) // 2, "not-an-address,Broken,Team 0")
        location = upload(opener, f"{base}/o/acme/jobs/import-members",
                          "\n".join(csv_rows).encode())
        job_url = urllib.parse.urljoin(base, location)
        print(f"job page: {job_url}")
        started = time.monotonic()
        last = None
        killed = None
        while time.monotonic() - started < 600:
            with opener.open(job_url + "/status", timeout=10) as response:
                status = json.load(response)
            now = (status["state"], status["progress"]["current"])
            if now != last:
                print(f"{time.monotonic() - started:6.2f}s  {status['state']:<9} "
                      f"{status['progress']['current']:>6}/{status['progress']['total']} "
                      f"attempt {status['attempts']}  {status['message'] or ''}")
                last = now
            if (args.kill and killed is None and args.broker
                    and status["progress"]["current"] >= args.rows // 3):
                killed = kill_runner(procs, tmp)
            if status["state"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.25)
        seconds = time.monotonic() - started
        print(json.dumps(status["result"]), "error:", status["error"])
        with opener.open(base + status["result_url"], timeout=10) as response:
            print("error report:", response.read().decode().strip().replace("\r\n", " | "))
        print(f"{args.rows + 1} rows in {seconds:.1f} s = {(args.rows + 1) / seconds:.0f} rows/s "
              f"({'broker ' + args.broker if args.broker else 'embedded'}, "
              f"{'killed ' + killed if killed else 'no kill'})")
        count = subprocess.run([sys.executable, "-c", COUNT, args.database], **run).stdout
        print(f"memberships in acme: {count.strip()} "
              f"(expected {args.rows + 1}: the valid rows and the HR user)")
        print(f"logs: {tmp}")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


COUNT = """
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
with engine.connect() as conn:
    print(conn.execute(text("SELECT count(*) FROM memberships m JOIN organizations o "
                            "ON o.id = m.organization_id WHERE o.slug = 'acme'")).scalar())
engine.dispose()
"""


def kill_runner(procs: dict[str, subprocess.Popen[bytes]], tmp: Path) -> str:
    """SIGKILL the worker whose log says it started the job."""
    for name, proc in procs.items():
        if name.startswith("worker") and "event=start" in (tmp / f"{name}.log").read_text():
            os.killpg(proc.pid, signal.SIGKILL)
            print(f"        SIGKILL {name} (pid {proc.pid}) mid-job")
            return name
    raise SystemExit("no worker runs the job")


def wait_http(opener: urllib.request.OpenerDirector, url: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            with opener.open(url, timeout=5) as response:
                return f"{response.status} {response.read().decode()}"
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token"
    return match.group(1)


def login(opener: urllib.request.OpenerDirector, base: str) -> None:
    with opener.open(f"{base}/login", timeout=10) as response:
        token = csrf(response.read().decode())
    data = urllib.parse.urlencode({"csrf_token": token, "email": "hr@acme.example",
                                   "password": PASSWORD}).encode()
    with opener.open(f"{base}/login", data=data, timeout=10) as response:
        assert response.status == 200


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def upload(opener: urllib.request.OpenerDirector, url: str, data: bytes) -> str:
    with opener.open(url, timeout=10) as response:
        token = csrf(response.read().decode())
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
             f"{token}\r\n".encode(),
             f'--{boundary}\r\nContent-Disposition: form-data; name="default_role"\r\n\r\n'
             "learner\r\n".encode(),
             f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
             'filename="people.csv"\r\nContent-Type: text/csv\r\n\r\n'.encode() + data + b"\r\n",
             f"--{boundary}--\r\n".encode()]
    request = urllib.request.Request(url, data=b"".join(parts), headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    handlers = [h for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)]
    no_redirect = urllib.request.build_opener(_NoRedirect, *handlers)
    try:
        no_redirect.open(request, timeout=30)
    except urllib.error.HTTPError as exc:
        with exc:
            if exc.code == 302:
                return str(exc.headers["Location"])
            raise
    raise SystemExit("the upload did not redirect to the job page")


if __name__ == "__main__":
    main()
