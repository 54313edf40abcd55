"""Personal-data export and erasure of the demo learner Camille Martin (SQLite in a temporary
folder): prints the ZIP's size and build time (first with the certificate PDF rendered, then
from the PDF cache) and the erasure's time and counts.

    .venv/bin/python bench/privacy.py
"""

from __future__ import annotations

import tempfile
import time

from sqlalchemy import func, select

from lms import create_app
from lms.accounts.models import Membership, User
from lms.content import load_builtin_content
from lms.demo import load_demo
from lms.extensions import db
from lms.privacy import export, services
from lms.xapi.models import Statement


def main() -> None:
    """Build the demo, export and erase Camille Martin, print the figures."""
    folder = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                      "TESTING": True})
    app.instance_path = folder
    with app.app_context(), app.test_request_context():
        db.create_all()
        load_builtin_content()
        load_demo()
        db.session.commit()
        member = db.session.scalar(select(Membership).join(User).where(
            User.email == "camille.martin@maison-lumiere.example"))
        assert member is not None
        total = db.session.scalar(select(func.count()).select_from(Statement))
        print(f"statements in the store: {total}")
        for label in ("export (PDF rendered)", "export (PDF cached)"):
            start = time.perf_counter()
            data = export.build_zip(member.user, member.organization)
            print(f"{label}: {len(data)} bytes in {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        result = services.erase_member(membership=member, by=None)
        db.session.commit()
        print(f"erasure: {(time.perf_counter() - start) * 1000:.0f} ms; {result.counts}")


if __name__ == "__main__":
    main()
