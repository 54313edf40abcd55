"""The layering written in ``lms/__init__.py`` holds: read from the imports of every module."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import sqlite_run_only

pytestmark = sqlite_run_only("it reads the imports of the code, not the database")

LMS = Path(__file__).resolve().parent.parent / "lms"
# Lowest first; packages on one line are side by side and may not import each other.
LAYERS = [{"core"}, {"accounts"}, {"jobs", "identity"}, {"xapi", "notifications"}, {"charter"},
          {"assessments"}, {"courses"},
          {"packages", "coaching", "advocacy", "certificates"},
          {"lti", "impact"}, {"reports", "privacy"}, {"api"}]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _imports() -> list[tuple[str, str, str, list[str]]]:
    """(file, importing package, imported module, names) for each ``lms.*`` import in a package
    (inside functions too)."""
    found = []
    for path in sorted(LMS.rglob("*.py")):
        parts = path.relative_to(LMS).parts
        if len(parts) < 2:
            continue  # a top-level module (web, cli, serving…): the application's edge
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("lms."):
                found.append((f"{path.relative_to(LMS)}:{node.lineno}", parts[0], node.module,
                              [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                found += [(f"{path.relative_to(LMS)}:{node.lineno}", parts[0], a.name, [])
                          for a in node.names if a.name.startswith("lms.")]
    return found


def _unit(parts: tuple[str, ...]) -> str:
    """The package a module belongs to, a sub-package being a package of its own
    (``courses/sessions/views.py`` → ``courses.sessions``; ``courses/web.py`` → ``courses``)."""
    if len(parts) > 2 and (LMS.joinpath(*parts[:2]) / "__init__.py").exists():
        return ".".join(parts[:2])
    return parts[0]


def _module_unit(module: str) -> str:
    parts = tuple(module.split(".")[1:])
    return _unit(parts + ("",)) if LMS.joinpath(*parts).is_dir() else _unit(parts)


def test_every_package_is_placed():
    packages = {p.name for p in LMS.iterdir() if (p / "__init__.py").exists()}
    assert packages - {"translations", "templates", "static"} == set(RANK)


def test_packages_import_only_lower_layers():
    upward = [f"{where}: {package} imports {module}"
              for where, package, module, _names in _imports()
              if (target := module.split(".")[1]) in RANK and target != package
              and RANK[target] >= RANK[package]]
    assert not upward, "\n".join(upward)


def test_no_package_imports_another_s_views_or_private_names():
    """Nor does a sub-package (``courses.sessions``) import another's; a package's
    ``__init__.py`` wires its own sub-packages (their views too)."""
    found = []
    for where, package, module, names in _imports():
        path = Path(where.split(":")[0])
        if module.split(".")[1] == package and (
                path.name == "__init__.py" and len(path.parts) == 2
                or _unit(path.parts) == _module_unit(module)):
            continue
        if module.split(".")[-1].endswith("views"):
            found.append(f"{where}: {module}")
        found += [f"{where}: {module}.{name}" for name in names
                  if name.startswith("_") and name != "_"]
    assert not found, "\n".join(found)
