"""Coaching plans: the ``coaching:`` block of program.yaml (line-precise errors, exact
round-trip) and its editing on the module page of the program builder."""

from __future__ import annotations

import pytest

from lms.courses.programs import definitions as defs
from lms.courses.programs.services import definition_of, import_program
from lms.extensions import db
from tests.support import PASSWORD

PROGRAM = """\
format_version: 1
slug: suivi
language: fr
title:
  fr: Suivi
modules:
- key: suivi
  kind: coaching
  title:
    fr: Suivi
  completion:
    type: followups_held
    count: 2
  coaching:
    followups: 2
    spacing_days: 14
    duration_minutes: 30
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(defs.ContentError) as exc:
        defs.parse_program(text, {})
    return exc.value.errors


def test_the_plan_is_read_and_written_back_exactly():
    program = defs.parse_program(PROGRAM, {})
    assert program.modules[0].coaching == {"followups": 2, "spacing_days": 14,
                                           "duration_minutes": 30}
    files = defs.to_files(program)
    assert b"  coaching:\n    followups: 2\n    spacing_days: 14\n    duration_minutes: 30\n" \
        in files["program.yaml"]
    assert defs.to_files(defs.read_files(files)) == files


@pytest.mark.parametrize(("change", "expected"), [
    (("    followups: 2\n", "    followups: 3\n"),
     "program.yaml line 15: followups (3) must equal the completion count (2)"),
    (("    spacing_days: 14\n", "    spacing_days: 0\n"),
     "program.yaml line 16: spacing_days must be an integer from 1 to 365"),
    (("    duration_minutes: 30\n", "    duration_minutes: long\n"),
     "program.yaml line 17: duration_minutes must be an integer from 5 to 480"),
    (("    duration_minutes: 30\n", "    duration_minutes: 30\n    colour: blue\n"),
     "program.yaml line 18: unknown key 'colour' in coaching"),
    (("    spacing_days: 14\n", ""), "program.yaml line 15: coaching needs 'spacing_days'"),
    (("kind: coaching", "kind: workshop"),
     "program.yaml line 15: a coaching plan is only for coaching modules, not workshop"),
])
def test_errors_name_the_line(change, expected):
    old, new = change
    found = errors_of(PROGRAM.replace(old, new, 1))
    assert any(e.startswith(expected) for e in found), found


def test_the_plan_survives_export_and_import_through_the_database(enrolled, create_org):
    w = enrolled
    data = defs.to_zip(definition_of(w.program))
    copy = import_program(organization=create_org(), data=data)
    db.session.commit()
    assert [m.coaching for m in copy.modules if m.kind == "coaching"] == [
        {"followups": 1, "spacing_days": 14, "duration_minutes": 30},
        {"followups": 1, "spacing_days": 21, "duration_minutes": 45}]
    assert defs.to_zip(definition_of(copy)) == data


def _edit(client, w, key, **plan):
    module = w.module(key)
    form = {"title": "Suivi", "description": "", "required": "on",
            "duration_minutes": "30", "completion": "followups_held", **plan}
    return client.post(f"/o/acme/programs/{w.program.id}/modules/{module.id}", data=form)


def test_the_builder_edits_the_plan_and_keeps_the_rule_in_step(client, enrolled):
    w = enrolled
    client.post("/login", data={"email": w.trainer.email, "password": PASSWORD})
    page = client.get(f"/o/acme/programs/{w.program.id}/modules/{w.module('suivi-1').id}")
    html = page.get_data(as_text=True)
    assert "Coaching plan" in html and 'name="spacing_days"' in html and 'value="14"' in html
    response = _edit(client, w, "suivi-1", followups="3", spacing_days="10",
                     followup_minutes="40")
    assert response.status_code == 302
    db.session.expire_all()
    module = w.module("suivi-1")
    assert module.coaching == {"followups": 3, "spacing_days": 10, "duration_minutes": 40}
    assert module.completion == {"type": "followups_held", "count": 3}
    bad = _edit(client, w, "suivi-1", followups="3", spacing_days="0", followup_minutes="2")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "spacing_days must be an integer from 1 to 365" in text
    assert "duration_minutes must be an integer from 5 to 480" in text
    db.session.expire_all()
    assert w.module("suivi-1").coaching["spacing_days"] == 10


def test_other_modules_keep_their_form(client, enrolled):
    w = enrolled
    client.post("/login", data={"email": w.trainer.email, "password": PASSWORD})
    html = client.get(f"/o/acme/programs/{w.program.id}/modules/"
                      f"{w.module('lancement').id}").get_data(as_text=True)
    assert "Coaching plan" not in html and 'name="count"' in html
