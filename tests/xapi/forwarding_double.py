"""A stand-in for an external LRS: a real HTTP server on 127.0.0.1, in a thread.

It records the statements it accepts (by id, like an LRS: a known id answers 204 again, or
409 when asked), can be stopped and started again on the same port, and can be told to
answer an error status, for every request or for statements with given ids.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LrsDouble:
    """An external LRS double. ``url`` is its xAPI endpoint (``http://127.0.0.1:PORT/xapi``)."""

    def __init__(self, key: str = "ext-key", secret: str = "ext-secret") -> None:
        self.key, self.secret = key, secret
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/xapi"
        self.received: list[dict[str, Any]] = []  # every statement stored, in arrival order
        self.attachments: dict[str, bytes] = {}  # attachment contents received, by SHA-256
        self._known: set[str] = set()
        self.requests: list[dict[str, Any]] = []  # every request: method, path, headers, count
        self.fail_status: int | None = None  # answer this to every statements POST
        self.reject_ids: set[str] = set()  # answer 400 to a batch holding one of these
        self.conflict_on_duplicate = False  # 409 instead of 204 for known ids
        self.retry_after: str | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # -- control -------------------------------------------------------------------------

    def start(self) -> LrsDouble:
        double = self

        class Handler(_Handler):
            lrs = double

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop open keep-alive connections (like a crashed LRS)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for conn in list(self._connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._connections.clear()
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._server = None

    def reset(self) -> None:
        """Forget what was received (an empty LRS)."""
        with self._lock:
            self.received.clear()
            self._known.clear()
            self.requests.clear()

    @property
    def ids(self) -> list[str]:
        """Ids of the statements stored, in arrival order (repeats would show here)."""
        return [s["id"] for s in self.received]

    @property
    def statement_posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST"]

    # -- the LRS's behaviour -----------------------------------------------------------------

    def handle_post(self, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        expected = "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {}, b'{"error": "bad credentials"}'
        if headers.get("X-Experience-API-Version") != "1.0.3":
            return 400, {}, b'{"error": "version header"}'
        content_type = headers.get("Content-Type", "")
        if content_type.startswith("multipart/mixed"):
            parts = _multipart(body, content_type.split("boundary=", 1)[1].strip('"'))
            body = parts[0][1]
            with self._lock:
                for part_headers, content in parts[1:]:
                    self.attachments[part_headers["x-experience-api-hash"]] = content
        elif content_type != "application/json":
            return 400, {}, b'{"error": "unexpected content type"}'
        statements = json.loads(body)
        if isinstance(statements, dict):
            statements = [statements]
        with self._lock:
            self.requests[-1]["count"] = len(statements)
            if self.fail_status is not None:
                extra = {"Retry-After": self.retry_after} if self.retry_after else {}
                return self.fail_status, extra, b'{"error": "unavailable"}'
            if any(s.get("id") in self.reject_ids for s in statements):
                return 400, {}, b'{"error": "statement rejected: invalid verb"}'
            known = self._known
            if self.conflict_on_duplicate and any(s["id"] in known for s in statements):
                # Like a strict LRS: the whole batch is refused, nothing of it stored.
                return 409, {}, b'{"error": "statement id already stored"}'
            for s in statements:
                if s["id"] not in known:
                    self.received.append(s)
                    known.add(s["id"])
            return 200, {"Content-Type": "application/json"}, json.dumps(
                [s["id"] for s in statements]).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the forwarder uses it
    disable_nagle_algorithm = True  # headers and body leave at once (no delayed-ACK stall)
    lrs: LrsDouble

    def setup(self) -> None:
        super().setup()
        with self.lrs._lock:
            self.lrs._connections.add(self.connection)

    def finish(self) -> None:
        with self.lrs._lock:
            self.lrs._connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.lrs._lock:
            self.lrs.requests.append({"method": "POST", "path": self.path,
                                      "headers": dict(self.headers), "count": 0})
        if self.path != "/xapi/statements":
            self._answer(404, {}, b"{}")
            return
        self._answer(*self.lrs.handle_post(self.headers, body))

    def do_GET(self) -> None:  # noqa: N802
        with self.lrs._lock:
            self.lrs.requests.append({"method": "GET", "path": self.path,
                                      "headers": dict(self.headers), "count": 0})
        expected = "Basic " + base64.b64encode(
            f"{self.lrs.key}:{self.lrs.secret}".encode()).decode()
        if self.path == "/xapi/about" and self.headers.get("Authorization") == expected:
            self._answer(200, {"Content-Type": "application/json"},
                         b'{"version": ["1.0.3"]}')
        elif self.path == "/xapi/about":
            self._answer(401, {}, b'{"error": "bad credentials"}')
        else:
            self._answer(404, {}, b"{}")


def _multipart(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    """The (headers, content) of each part of a multipart/mixed body."""
    parts = []
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk[2:].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if line)
        parts.append(({k.lower(): v for k, v in headers.items()}, content[:-2]))
    return parts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_double(**kwargs: Any) -> Iterator[LrsDouble]:
    double = LrsDouble(**kwargs).start()
    try:
        yield double
    finally:
        double.stop()
