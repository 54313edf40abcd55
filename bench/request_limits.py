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
import tempfile

tmp = tempfile.mkdtemp()
os.environ["RELAIS_INSTANCE_PATH"] = tmp
from lms import create_app
from lms.extensions import db
app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/m.db"})
SIZE = 300 * 1024 * 1024

class Body(io.RawIOBase):
    def __init__(self): self.pos = 0; self.read_bytes = 0
    def readable(self): return True
    def seekable(self): return True
    def tell(self): return self.pos
    def seek(self, off, whence=0): self.pos = SIZE + off if whence == 2 else off; return self.pos
    def readinto(self, b):
        n = len(b); b[:n] = b"x" * n; self.read_bytes += n; return n

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

with app.app_context():
    from lms.cli import upgrade_database
    from lms.accounts import services as accounts
    from lms.advocacy import services
    upgrade_database()
    org = accounts.create_organization(slug="demo", name="Demo")
    services.rotate_webhook_secret(organization=org)
    db.session.commit()
    client = app.test_client()
    for label, extra in (("announced Content-Length", {}),
                         ("chunked, no length", {"environ_overrides": {"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}})):
        body = Body(); before = rss_mb()
        r = client.post("/hooks/advocacy/demo", input_stream=body, content_type="application/json", **extra)
        print(f"{label}: status {r.status_code}, body bytes read {body.read_bytes:,} of {SIZE:,}, "
              f"RSS {before:.1f} -> {rss_mb():.1f} MB")
