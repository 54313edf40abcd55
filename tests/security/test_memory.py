"""A 300 MB body to the webhook, the LRS and a package upload raises the server worker's
resident memory by less than 10 MB.

The real server (``relais serve``: gunicorn, one worker) runs in a subprocess on 127.0.0.1
over the test database. Each body is sent twice over a real socket, announced with
Content-Length and then chunked without a length. The measure is the worker's peak resident
memory (``VmHWM`` in /proc, reset after a warm-up request to each surface), so a body read whole
and freed again still shows.
"""

from __future__ import annotations

import base64
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lms.advocacy import services as advocacy
from lms.extensions import db
from lms.xapi.services import create_lrs_credentials
from tests.support import PASSWORD
from tests.xapi.test_packages import World

pytestmark = pytest.mark.slow

SIZE = 300 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)
LIMIT_MB = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(pid: int, field: str) -> int:
    """A memory figure of /proc/<pid>/status, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _worker(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise AssertionError("gunicorn started no worker")


@pytest.fixture()
def server(app, tmp_path):
    port = _free_port()
    env = {**os.environ, "RELAIS_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "RELAIS_INSTANCE_PATH": app.instance_path, "RELAIS_SECRET_KEY": "test-secret",
           "RELAIS_WORKERS": "1", "RELAIS_WTF_CSRF_ENABLED": "false",
           "RELAIS_RATELIMIT_ENABLED": "false", "RELAIS_LOG_LEVEL": "WARNING"}
    relais = str(Path(sys.executable).with_name("relais"))
    with open(tmp_path / "server.log", "wb") as log:
        proc = subprocess.Popen([relais, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                try:
                    conn.request("GET", "/xapi/about")
                    if conn.getresponse().status == 200:
                        break
                finally:
                    conn.close()
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.2)
        yield port, _worker(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def send(port: int, path: str, headers: dict[str, str], *, chunked: bool) -> int | None:
    """POST a 300 MB body; the status, or None when the server closed the connection before
    its answer could be read (it refused the body unread)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.putrequest("POST", path)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.putheader("Transfer-Encoding" if chunked else "Content-Length",
                   "chunked" if chunked else str(SIZE))
    conn.endheaders()
    try:
        for _ in range(SIZE // len(CHUNK)):
            conn.send(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK) if chunked else CHUNK)
        if chunked:
            conn.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server answered and closed before the end of the body: what we want
    try:
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def test_huge_bodies_cost_the_worker_no_memory(server, create_org, create_user):
    port, worker = server
    world = World(create_org, create_user)
    advocacy.rotate_webhook_secret(organization=world.org)  # so the webhook reads bodies
    credential, lrs_secret = create_lrs_credentials(organization=world.org)
    db.session.commit()
    # A session for the upload page, from the real server.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/login", body=f"email=tess%40acme.example&password={PASSWORD}",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    login = conn.getresponse()
    assert login.status == 302, login.read()[:500]
    cookie = login.getheader("Set-Cookie").split(";")[0]
    conn.close()
    auth = base64.b64encode(f"{credential.key}:{lrs_secret}".encode()).decode()
    surfaces = [
        (f"/hooks/advocacy/{world.org.slug}",
         {"Content-Type": "application/json", "X-Relais-Timestamp": str(int(time.time())),
          "X-Relais-Signature": "sha256=" + "0" * 64}),
        ("/xapi/statements", {"Content-Type": "application/json",
                              "Authorization": f"Basic {auth}",
                              "X-Experience-API-Version": "1.0.3"}),
        (world.upload_url, {"Content-Type": "multipart/form-data; boundary=relais",
                            "Cookie": cookie}),
    ]
    # Warm-up: each surface answers a small request once (imports, caches, connections).
    for path, headers in surfaces:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", path, body=b"{}", headers=headers)
        conn.getresponse().read()
        conn.close()
    statuses, growth = [], {}
    for path, headers in surfaces:
        for chunked in (False, True):
            before = _status(worker, "VmRSS")
            Path(f"/proc/{worker}/clear_refs").write_text("5")  # VmHWM := VmRSS
            statuses.append(send(port, path, headers, chunked=chunked))
            growth[path, chunked] = (_status(worker, "VmHWM") - before) / 1024
    assert all(status in (413, None) for status in statuses), statuses
    assert 413 in statuses
    assert max(growth.values()) < LIMIT_MB, growth
