"""Another request writing the same half-day first, for real: a second connection commits an
attendance row just before this session inserts its own, as a double tap or a trainer saving
the sheet while a learner scans the code would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert

from lms.core.models import utcnow
from lms.courses.sessions.models import PRESENT, QR, Attendance
from lms.extensions import db


@contextmanager
def mark_written_meanwhile() -> Iterator[list[dict[str, Any]]]:
    """While inside, the first attendance row the session is about to insert is committed
    first by another connection (present, by QR code); yields the keys so written."""
    written: list[dict[str, Any]] = []

    def before_flush(session: Any, _context: Any, _instances: Any) -> None:
        if written:
            return
        for obj in session.new:
            if isinstance(obj, Attendance):
                key = {"session_id": obj.session_id,
                       "enrollment_id": obj.enrollment_id or obj.enrollment.id,
                       "day": obj.day, "half": obj.half}
                with db.engine.begin() as other:
                    other.execute(insert(Attendance).values(**key, status=PRESENT, source=QR,
                                                            signed_at=utcnow()))
                written.append(key)
                return

    event.listen(db.session, "before_flush", before_flush)
    try:
        yield written
    finally:
        event.remove(db.session, "before_flush", before_flush)
