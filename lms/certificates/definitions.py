"""Certificate templates as data: ``certificates/<key>/{metadata.yaml,template.html,theme.css}``.

Read and validated on load; errors name the file (and the line where YAML knows it).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lms.core.content import ContentError as BaseContentError

FORMAT_VERSION = 1
FILES = ("metadata.yaml", "template.html", "theme.css")
REQUIRED_LABELS = ("title", "certifies", "followed", "revoked", "verify", "kinds")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_ACCENT = "#2d5b8a"


class ContentError(BaseContentError):
    """A template folder that cannot be used, with every problem found (one per line)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors, separator="\n")


@dataclass(frozen=True)
class TemplateDef:
    """A loaded certificate template."""

    key: str
    name: dict[str, str]
    languages: tuple[str, ...]
    labels: dict[str, dict[str, Any]]
    html: str
    css: str
    folder: Path
    digest: str  # sha256 of the three files: part of every PDF's cache key
    accent: str = DEFAULT_ACCENT  # the colour used when the program sets none


def templates_root() -> Path:
    """The built-in templates folder (``certificates/`` beside ``lms/``)."""
    return Path(__file__).resolve().parents[2] / "certificates"


def read_folder(folder: Path) -> TemplateDef:
    """Load and check one template folder.

    :raise ContentError: a file is missing, the YAML is invalid or a required entry is absent.
    """
    errors = [f"{folder / name}: missing file" for name in FILES if not (folder / name).is_file()]
    if errors:
        raise ContentError(errors)
    raw = {name: (folder / name).read_text(encoding="utf-8") for name in FILES}
    meta_path = folder / "metadata.yaml"
    try:
        meta = yaml.safe_load(raw["metadata.yaml"])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ContentError([f"{meta_path}{where}: invalid YAML ({exc})"]) from exc
    if not isinstance(meta, dict):
        raise ContentError([f"{meta_path}:1: a mapping is expected"])
    if meta.get("format_version") != FORMAT_VERSION:
        errors.append(f"{meta_path}: format_version must be {FORMAT_VERSION}")
    key = meta.get("key")
    if key != folder.name:
        errors.append(f"{meta_path}: key must be the folder's name {folder.name!r}")
    languages = meta.get("languages") or []
    labels = meta.get("labels") or {}
    if not languages or not isinstance(languages, list):
        errors.append(f"{meta_path}: languages must list at least one language")
    for lang in languages if isinstance(languages, list) else []:
        missing = [k for k in REQUIRED_LABELS if k not in (labels.get(lang) or {})]
        if missing:
            errors.append(f"{meta_path}: labels.{lang} lacks {', '.join(missing)}")
    accent = meta.get("accent", DEFAULT_ACCENT)
    if not isinstance(accent, str) or not COLOR.match(accent):
        errors.append(f"{meta_path}: accent must be a colour like #2d5b8a")
    if errors:
        raise ContentError(errors)
    digest = hashlib.sha256("\0".join(raw[n] for n in FILES).encode()).hexdigest()
    return TemplateDef(key=str(key), name=dict(meta.get("name") or {}),
                       languages=tuple(languages), labels=labels, html=raw["template.html"],
                       css=raw["theme.css"], folder=folder, digest=digest,
                       accent=str(accent))


_CACHE: dict[str, tuple[float, TemplateDef]] = {}


def load(key: str) -> TemplateDef:
    """The template ``key``, re-read when one of its files changed.

    :raise ContentError: unknown key or invalid template.
    """
    folder = templates_root() / key
    if "/" in key or key.startswith(".") or not folder.is_dir():
        raise ContentError([f"{folder}: no such certificate template"])
    mtime = max((folder / n).stat().st_mtime for n in FILES if (folder / n).exists())
    cached = _CACHE.get(key)
    if cached is None or cached[0] != mtime:
        cached = (mtime, read_folder(folder))
        _CACHE[key] = cached
    return cached[1]


def available() -> list[TemplateDef]:
    """Every valid template in the templates folder, by key (broken ones are left out)."""
    out = []
    for folder in sorted(templates_root().iterdir()):
        if folder.is_dir() and not folder.name.startswith("."):
            try:
                out.append(load(folder.name))
            except ContentError:
                continue
    return out
