"""The YAML formats: line-precise validation, loading, idempotence, export round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.assessments import definitions as defs
from lms.assessments import services
from lms.assessments.models import Competency, Question, Questionnaire, TargetProfile
from lms.extensions import db

ROOT = Path(__file__).resolve().parents[2] / "assessments"
CODES = [f"C{i}" for i in range(1, 9)]

GOOD = """\
format_version: 1
kind: questionnaire
key: mini
title: {en: Mini, fr: Mini}
questions:
  - key: q1
    type: can_do
    competency: C1
    level: 3
    text: {en: I can do it., fr: Je sais le faire.}
  - key: q2
    type: single_choice
    competency: C1
    level: 3
    text: {en: Which one, fr: "Laquelle ?"}
    options:
      - {key: a, text: {en: This one}, correct: true}
      - {key: b, text: {en: That one}}
"""


def _errors(source: str) -> list[str]:
    with pytest.raises(defs.ContentError) as info:
        defs.parse_questionnaire(source, "x.yaml", CODES)
    return info.value.errors


def test_the_shipped_files_are_valid():
    framework = defs.parse_framework((ROOT / "framework.yaml").read_text())
    assert [c.code for c in framework.competencies] == CODES
    assert {c.kind for c in framework.competencies} == {"hard", "soft"}
    assert {t.job_family for t in framework.targets} == {"sales", "hr", "marketing",
                                                         "management", "other"}
    assert all(sorted(c.levels) == [1, 2, 3, 4, 5] for c in framework.competencies)
    q = defs.parse_questionnaire((ROOT / "social-media-skills.yaml").read_text(),
                                 competencies=CODES)
    # Every competency has a full ladder: a can-do and a judgement item at each level.
    for code in CODES:
        for level in range(1, 6):
            kinds = {x.type for x in q.questions if x.competency == code and x.level == level}
            assert "can_do" in kinds and kinds & {"single_choice", "multiple_choice"}
    assert all(x.text.get("en") and x.text.get("fr") for x in q.questions)


def test_a_good_file_parses():
    q = defs.parse_questionnaire(GOOD, competencies=CODES)
    assert [x.key for x in q.questions] == ["q1", "q2"]
    assert q.questions[1].options[0].correct


@pytest.mark.parametrize(("change", "expected"), [
    (("level: 3\n    text: {en: Which", "level: 7\n    text: {en: Which"),
     "line 14: level must be an integer from 1 to 5"),
    (("competency: C1\n    level: 3\n    text: {en: I",
      "competency: C9\n    level: 3\n    text: {en: I"),
     "line 8: unknown competency 'C9'"),
    (("type: can_do", "type: essay"), "line 7: type must be one of"),
    (("key: q2", "key: q1"), "line 11: question key 'q1' is used twice"),
    (("correct: true", "correct: yes please"), "line 17: correct must be true or false"),
    (("- {key: b, text: {en: That one}}", "- {key: b, text: {en: That one}, correct: true}"),
     "line 17: a single_choice question needs exactly one correct option"),
    (("format_version: 1", "format_version: 2"), "line 1: format_version must be an integer"),
    (("    level: 3\n    text: {en: I can", "    lvl: 3\n    text: {en: I can"),
     "line 9: unknown key 'lvl' in a question"),
    (("title: {en: Mini, fr: Mini}", "title: Mini"), "line 4: title must give each language"),
])
def test_errors_name_their_line(change, expected):
    old, new = change
    assert old in GOOD
    errors = _errors(GOOD.replace(old, new, 1))
    assert any(e.startswith(expected) for e in errors), errors


def test_broken_yaml_names_its_line():
    errors = _errors(GOOD.replace("    level: 3\n    text: {en: Which",
                                  "    level: [3\n    text: {en: Which"))
    assert errors == ["line 15: not valid YAML: expected ',' or ']', but got ':'"]


def test_every_error_is_reported_at_once():
    source = GOOD.replace("type: can_do", "type: essay").replace(
        "    level: 3\n    text: {en: Which", "    level: 0\n    text: {en: Which")
    assert len(_errors(source)) == 2


def test_framework_errors_name_their_line():
    source = (ROOT / "framework.yaml").read_text().replace("kind: soft", "kind: squishy", 1)
    with pytest.raises(defs.ContentError) as info:
        defs.parse_framework(source)
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "squishy" in text)
    assert info.value.errors == [f"line {line}: kind must be one of hard, soft (got 'squishy')"]


def test_export_then_import_gives_the_same_text():
    original = (ROOT / "social-media-skills.yaml").read_text()
    q = defs.parse_questionnaire(original, competencies=CODES)
    dumped = defs.questionnaire_to_yaml(q)
    again = defs.parse_questionnaire(dumped, competencies=CODES)
    assert again == q
    assert defs.questionnaire_to_yaml(again) == dumped


def test_loading_twice_changes_nothing(app):
    services.load_builtin_content()
    db.session.commit()
    counts = [db.session.scalar(select(func.count()).select_from(m))
              for m in (Competency, TargetProfile, Questionnaire, Question)]
    ids = sorted(db.session.scalars(select(Question.id)))
    assert counts == [8, 5, 1, 85]
    services.load_builtin_content()
    db.session.commit()
    assert [db.session.scalar(select(func.count()).select_from(m))
            for m in (Competency, TargetProfile, Questionnaire, Question)] == counts
    assert sorted(db.session.scalars(select(Question.id))) == ids


def test_init_loads_the_skill_content(runner):
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "Skill framework relais-default: 8 competencies, 5 target profiles" in result.output


def test_a_broken_builtin_file_writes_nothing(tmp_path):
    (tmp_path / "framework.yaml").write_text((ROOT / "framework.yaml").read_text())
    (tmp_path / "bad.yaml").write_text(GOOD.replace("type: can_do", "type: essay"))
    with pytest.raises(defs.ContentError) as info:
        services.load_builtin_content(tmp_path)
    assert "bad.yaml: line 7" in str(info.value)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Competency)) == 0
