"""Errors raised by services reach people (flashes, the API's JSON envelope, job pages), so their
messages are marked for translation: never a plain string literal."""

from __future__ import annotations

import ast
from pathlib import Path

LMS = Path(__file__).resolve().parent.parent / "lms"
# The LRS answers xAPI clients with the protocol's English error bodies.
EXCLUDED = (LMS / "xapi",)
BASES = {"DomainError", "ValidationFailed", "BadRequest", "NotFound", "Forbidden", "Conflict"}


def _sources() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for path in sorted(LMS.rglob("*.py"))
            if not any(path.is_relative_to(excluded) for excluded in EXCLUDED)}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _domain_errors(trees: dict[Path, ast.Module]) -> set[str]:
    """The names of lms.core.errors' errors and of their subclasses defined in lms."""
    names = set(BASES)
    classes = [node for tree in trees.values() for node in ast.walk(tree)
               if isinstance(node, ast.ClassDef)]
    grown = True
    while grown:
        grown = False
        for cls in classes:
            if cls.name not in names and any(_name(base) in names for base in cls.bases):
                names.add(cls.name)
                grown = True
    return names


def _plain(node: ast.expr | None) -> bool:
    """A string that will reach people untranslated: a literal or an f-string."""
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) \
        or isinstance(node, ast.JoinedStr)


def _untranslated(trees: dict[Path, ast.Module]) -> list[str]:
    errors = _domain_errors(trees)
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node.func) in errors):
                continue
            texts: list[ast.expr | None] = [node.args[0] if node.args else None]
            for keyword in node.keywords:
                if keyword.arg == "message":
                    texts.append(keyword.value)
                elif keyword.arg == "fields" and isinstance(keyword.value, ast.Dict):
                    texts.extend(keyword.value.values)
            if any(_plain(text) for text in texts):
                found.append(f"{path.relative_to(LMS.parent)}:{node.lineno} {_name(node.func)}")
    return found


def test_the_check_knows_the_errors_subclassed_in_services():
    errors = _domain_errors(_sources())
    assert {"ValidationFailed", "SsoFailed", "LtiFailed", "ImportRejected",
            "QuotaExceeded"} <= errors
    assert "ContentError" not in errors and "ScimError" not in errors


def test_the_check_catches_a_plain_message_and_a_plain_field_text():
    tree = ast.parse(
        'raise NotFound("No such member.")\n'
        'raise ValidationFailed(_l("Bad."), fields={"file": "empty file"})\n'
        'raise Conflict(f"{name} exists")\n'
        'raise ValidationFailed(_l("Bad."), fields={"file": _l("Empty file.")})\n')
    assert [line.split(":")[1] for line in _untranslated({LMS / "example.py": tree})] \
        == ["1 NotFound", "2 ValidationFailed", "3 Conflict"]


def test_every_service_error_message_is_marked_for_translation():
    found = _untranslated(_sources())
    assert not found, "untranslated error messages (wrap them in _l(...)):\n" + "\n".join(found)
