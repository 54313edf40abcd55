"""What a 300 MB body sent to the advocacy webhook costs: bytes read and resident memory.

    .venv/bin/python bench/request_limits.py

Sends the body twice through the app (announced with Content-Length, then chunked without a
length) to an organization with a webhook secret; the body is generated as it is read, so
only what Relais reads is ever in memory. Prints the status, the bytes read and the process's
resident memory before and after (docs/security.md, "Request-size limits").
"""

from __future__ import annotations

import io
import os
import time

import common as bench

from lms.accounts import services as accounts
from lms.advocacy import services
from lms.extensions import db

SIZE = 300 * 1024 * 1024
CHUNKED = {"environ_overrides": {"wsgi.input_terminated": True,
                                 "HTTP_TRANSFER_ENCODING": "chunked"}}


class Body(io.RawIOBase):
    """A body of ``SIZE`` bytes made as it is read, counting what was read."""

    def __init__(self) -> None:
        self.pos = 0
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = SIZE + offset if whence == 2 else offset
        return self.pos

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        n = len(buffer)
        buffer[:n] = b"x" * n
        self.read_bytes += n
        return n


def rss_mb() -> float:
    """This process's resident memory, in MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    app = bench.bench_app(None)
    with app.app_context():
        org = accounts.create_organization(slug="demo", name="Demo")
        services.rotate_webhook_secret(organization=org)
        db.session.commit()
        client = app.test_client()
        for label, extra in (("announced Content-Length", {}), ("chunked, no length", CHUNKED)):
            body, before = Body(), rss_mb()
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.post("/hooks/advocacy/demo", input_stream=body,
                                   content_type="application/json", **extra)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"{label}: status {response.status_code}, body bytes read "
                  f"{body.read_bytes:,} of {SIZE:,}, RSS {before:.1f} -> {rss_mb():.1f} MB, "
                  f"{wall * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU")


if __name__ == "__main__":
    main()
