"""The demo's skill map: most learners answered, a retake, one not answered, one level 4."""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import Organization
from lms.assessments import queries
from lms.assessments.models import Attempt, LevelValidation
from lms.demo import LEARNERS, load_demo
from lms.extensions import db
from tests.support import load_demo_once


def test_demo_step(content):
    load_demo()
    db.session.commit()
    org = db.session.scalar(select(Organization).where(Organization.slug == "demo"))
    # The pilot's learners answered, Jules aside; the second wave and the colleagues not
    # trained yet (added for the impact comparison) have not taken it.
    pilot = {f"{first} {last}" for first, last, _team, _family in LEARNERS}
    rows = [r for r in queries.team_map(org.id) if r.name in pilot]
    answered = [r for r in rows if r.answered]
    assert len(answered) == len(rows) - 1 >= 6
    assert [r.name for r in rows if not r.answered] == ["Jules Durand"]
    # A realistic spread: several distinct levels across the team.
    levels = {lvl for r in answered for lvl in r.levels.values()}
    assert {0, 1, 2, 3, 4} <= levels
    # Camille retook it and progressed.
    camille = next(r for r in rows if r.name == "Camille Martin")
    history = queries.submitted_attempts(camille.member_id)
    assert len(history) == 2
    assert sum(history[1].levels.values()) > sum(history[0].levels.values())
    # Léa's level 4 in C1 is validated by the trainer.
    validation = db.session.scalar(select(LevelValidation))
    lea = next(r for r in rows if r.name == "Léa Dubois")
    assert validation.membership_id == lea.member_id
    assert lea.levels["C1"] == 4
    # Loading the demo again adds nothing.
    count = db.session.scalar(select(db.func.count()).select_from(Attempt))
    load_demo()
    assert db.session.scalar(select(db.func.count()).select_from(Attempt)) == count


def test_the_demo_shows_skill_pages(client):
    # The demo as `relais demo` builds it (tests/test_cli.py runs the command itself).
    load_demo_once()
    client.post("/login", data={"email": "formatrice@maison-lumiere.example",
                                "password": "relais-demo"})
    html = client.get("/o/demo/skills/map").get_data(as_text=True)
    assert "Camille Martin" in html  # the demo trainer reads French
    assert "Jules Durand" in html.split("missing-h")[-1]
