"""The catalogue format: line-precise validation and an exact export → import → export."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from lms.courses.programs import definitions as defs
from lms.courses.programs.services import definition_of, import_program
from lms.extensions import db

CATALOGUE = Path(__file__).resolve().parents[2] / "courses"

MINIMAL = """\
format_version: 1
slug: mini
language: fr
title:
  fr: Mini
modules:
- key: atelier
  kind: workshop
  title:
    fr: Atelier
  completion:
    type: attended
"""


def errors_of(yaml_text: str, lessons: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(defs.ContentError) as exc:
        defs.parse_program(yaml_text, lessons or {})
    return exc.value.errors


def test_every_catalogue_program_is_valid_bilingual_and_targets_competencies():
    programs = [defs.read_folder(p) for p in sorted(CATALOGUE.iterdir())]
    assert len(programs) == 3
    codes = set()
    for program in programs:
        assert set(program.title) == {"fr", "en"}
        for module in program.modules:
            assert set(module.title) == {"fr", "en"}, module.key
            codes.update(module.competencies)
            for lesson in module.lessons:
                assert set(lesson.body) == {"fr", "en"}, lesson.key
    assert codes == set(defs.COMPETENCY_CODES)


def test_minimal_program_parses():
    program = defs.parse_program(MINIMAL, {})
    assert program.modules[0].completion == {"type": "attended"}
    assert program.modules[0].required is True


@pytest.mark.parametrize(("change", "expected"), [
    (("kind: workshop", "kind: webinar"), "program.yaml line 8: kind must be one of"),
    (("type: attended", "type: vibes"), "program.yaml line 12: completion type must be one of"),
    (("format_version: 1", "format_version: 2"),
     "program.yaml line 1: format_version 2 is not supported"),
    (("  title:\n    fr: Atelier\n", "  title:\n    fr: Atelier\n  competencies: [C9]\n"),
     "program.yaml line 11: unknown competency 'C9'"),
    (("  title:\n    fr: Atelier\n", "  title:\n    fr: Atelier\n  colour: blue\n"),
     "program.yaml line 11: unknown key 'colour' in module"),
    (("  title:\n    fr: Atelier\n", "  title:\n    en: Workshop\n"),
     "program.yaml line 10: module title needs a text in the program's language (fr)"),
    (("  title:\n    fr: Atelier\n", "  title:\n    fr: Atelier\n  prerequisites: [later]\n"),
     "program.yaml line 11: prerequisite 'later' is not a module listed before 'atelier'"),
    (("kind: workshop", "kind: elearning"),
     "program.yaml line 12: completion attended needs a session module"),
    (("  title:\n    fr: Atelier\n", "  title:\n    fr: Atelier\n  duration_minutes: soon\n"),
     "program.yaml line 11: duration_minutes must be an integer"),
    (("modules:", "modules:\n  oops: [\n"), "program.yaml line 9: expected the node content"),
])
def test_errors_name_the_line(change, expected):
    old, new = change
    assert old in MINIMAL
    found = errors_of(MINIMAL.replace(old, new, 1))
    assert any(e.startswith(expected) for e in found), found


def test_lessons_need_their_markdown_file_and_files_need_a_lesson():
    text = MINIMAL.replace("kind: workshop", "kind: elearning").replace(
        "type: attended", "type: lessons_viewed").replace(
        "  completion:", "  lessons:\n  - key: intro\n    title:\n      fr: Intro\n  completion:")
    assert defs.parse_program(text, {"intro.fr.md": "# Bonjour\n"}).modules[0].lessons[0].body \
        == {"fr": "# Bonjour\n"}
    found = errors_of(text, {"intro.en.md": "Hi", "stray.fr.md": "?"})
    assert "program.yaml line 12: lesson 'intro' needs the file lessons/intro.fr.md" in found
    assert "lessons/stray.*.md: no lesson 'stray' in program.yaml" in found


def test_round_trip_is_byte_exact_through_the_database(world, create_org):
    first = defs.to_zip(definition_of(world.program))
    other = create_org()
    imported = import_program(organization=other, data=first)
    db.session.commit()
    db.session.expire_all()
    second = defs.to_zip(definition_of(imported))
    assert second == first
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert f"{world.program.slug}/program.yaml" in names
    assert f"{world.program.slug}/lessons/profil-titre.en.md" in names
    # Imported again where the slug is taken: a fresh slug, nothing else changes.
    again = import_program(organization=other, data=second)
    assert again.slug == world.program.slug + "-2"


def test_files_round_trip_exactly():
    for folder in sorted(CATALOGUE.iterdir()):
        files = defs.to_files(defs.read_folder(folder))
        assert defs.to_files(defs.read_files(files)) == files


def test_import_rejects_a_broken_archive_with_the_line(world):
    files = defs.to_files(definition_of(world.program))
    files["program.yaml"] = files["program.yaml"].replace(b"kind: coaching", b"kind: karaoke", 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(Exception) as exc:
        import_program(organization=world.org, data=buffer.getvalue())
    assert "kind must be one of" in exc.value.fields["file"]
    assert exc.value.fields["file"].startswith("program.yaml line ")
