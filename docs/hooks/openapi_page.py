"""MkDocs hook: the "API paths" page, generated at build time from the served OpenAPI document.

The page is written from what ``GET /api/v1/openapi.json`` answers, so it cannot drift from
the code: every path, its methods and their summaries, as the API describes itself.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from mkdocs.structure.files import File, Files

PAGE = "api-paths.md"
METHODS = ("get", "post", "put", "patch", "delete")


def _document() -> dict[str, Any]:
    """The OpenAPI document of an app on a throw-away instance folder (no database needed)."""
    previous = os.environ.get("RELAIS_INSTANCE_PATH")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RELAIS_INSTANCE_PATH"] = tmp
        try:
            from lms import create_app

            app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/docs.db",
                              "SECRET_KEY": "docs", "BASE_URL": "https://relais.example.com"})
            document: dict[str, Any] = app.test_client().get("/api/v1/openapi.json").get_json()
        finally:
            if previous is None:
                os.environ.pop("RELAIS_INSTANCE_PATH", None)
            else:
                os.environ["RELAIS_INSTANCE_PATH"] = previous
        return document


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render(document: dict[str, Any]) -> str:
    """The Markdown page: one table row per path and method, grouped by first path segment."""
    lines = [
        "# API paths",
        "",
        "Generated when the site is built from the OpenAPI document that every instance serves at",
        "`/api/v1/openapi.json` (OpenAPI " + document["openapi"] + "). Paths are relative to",
        "`/api/v1`; the rules they share (tokens, errors, pagination) are in",
        "[The JSON API](api.md).",
        "",
    ]
    groups: dict[str, list[str]] = {}
    for path, item in sorted(document["paths"].items()):
        parts = [p for p in path.split("/") if p]
        group = parts[2] if parts[0] == "orgs" and len(parts) > 2 else parts[0]
        for method in METHODS:
            if method in item:
                summary = _cell(item[method].get("summary", ""))
                groups.setdefault(group, []).append(
                    f"| `{method.upper()}` | `{path}` | {summary} |")
    for group, rows in groups.items():
        lines += [f"## {group}", "", "| method | path | what |", "| --- | --- | --- |", *rows, ""]
    schemas = ", ".join(f"`{name}`" for name in sorted(document["components"]["schemas"]))
    lines += ["## Schemas", "", f"Named schemas in the document: {schemas}.", ""]
    return "\n".join(lines)


def on_files(files: Files, config: Any) -> Files:
    """Add the generated page to the site."""
    files.append(File.generated(config, PAGE, content=render(_document())))
    return files
