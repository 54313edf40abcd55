"""``relais coaching-due``: overdue and coming follow-ups, one per line, for a reminder job."""

from __future__ import annotations

from datetime import timedelta

from lms.coaching import services
from lms.core.models import utcnow
from lms.extensions import db


def test_coaching_due_lists_overdue_first(runner, enrolled):
    w = enrolled
    for learner, days in ((1, 2), (0, -1), (2, 30)):
        services.schedule(enrollment=w.enrollments[learner], module=w.module("suivi-1"),
                          coach=w.member(w.trainer), scheduled_at=utcnow() + timedelta(days=days),
                          place="Salle")
    db.session.commit()
    result = runner.invoke(args=["coaching-due", "--org", "acme"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert [line.split("\t")[:1] + line.split("\t")[2:3] for line in lines] == [
        ["overdue", "Learner 0"], ["due", "Learner 1"]]
    assert "1 overdue, 1 due within 7 days" in result.stderr
    mine = runner.invoke(args=["coaching-due", "--org", "acme", "--coach", w.trainer.email,
                               "--days", "60"])
    assert len(mine.stdout.strip().splitlines()) == 3
    assert runner.invoke(args=["coaching-due", "--org", "nope"]).exit_code == 1
