"""Program commands: check (line-precise errors, exit status), export and import."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lms.courses.programs import definitions as defs
from lms.courses.programs.models import Program
from lms.extensions import db

CATALOGUE = Path(__file__).resolve().parents[2] / "courses"


def test_check_accepts_the_catalogue_and_names_the_line_of_an_error(runner, tmp_path):
    result = runner.invoke(args=["program-check", str(CATALOGUE / "parcours-ambassadeurs-6-"
                                                                  "semaines")])
    assert result.exit_code == 0 and "valid (10 modules, 8 lessons)" in result.output
    broken = tmp_path / "broken"
    (broken / "lessons").mkdir(parents=True)
    text = (CATALOGUE / "sensibilisation-reseaux-sociaux" / "program.yaml").read_text()
    (broken / "program.yaml").write_text(text.replace("type: attended", "type: attendance"))
    result = runner.invoke(args=["program-check", str(broken)])
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "type: attended" in t)
    assert result.exit_code == 1
    assert f"program.yaml line {line}: completion type must be one of" in result.output


def test_export_then_import_into_another_organization(runner, world, create_org, tmp_path):
    out = tmp_path / "path.zip"
    result = runner.invoke(args=["program-export", "--org", "acme", "--program",
                                 world.program.slug, "--out", str(out)])
    assert result.exit_code == 0, result.output
    other = create_org(slug="beta")
    result = runner.invoke(args=["program-import", str(out), "--org", "beta"])
    assert result.exit_code == 0, result.output
    imported = db.session.scalar(select(Program).where(Program.organization_id == other.id))
    assert defs.to_zip(defs.read_zip(out.read_bytes())) == out.read_bytes()
    assert [m.key for m in imported.modules] == [m.key for m in world.program.modules]
    result = runner.invoke(args=["program-import", str(out), "--org", "nope"])
    assert result.exit_code == 1
