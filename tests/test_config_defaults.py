"""Configuration defaults live in one place, ``lms.config.DEFAULTS``: every setting the code
reads has its default there (or is Flask's own), and no module sets or repeats one."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from lms.config import DEFAULTS

LMS = Path(__file__).resolve().parent.parent / "lms"
READ = re.compile(r"""config(?:\[|\.get\()["']([A-Z][A-Z0-9_]+)["']|_setting\(["']([A-Z0-9_]+)""")
# Set by lms.config.configure itself from the environment (no fixed default); the binds from
# READ_REPLICA_URL.
DERIVED = {"SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "DATABASE_URL", "SQLALCHEMY_BINDS"}


def _sources() -> dict[str, str]:
    return {str(p.relative_to(LMS)): p.read_text() for p in sorted(LMS.rglob("*.py"))}


def test_every_setting_read_has_its_default_in_config_defaults():
    missing = sorted({f"{name}: {key}" for name, text in _sources().items()
                      for match in READ.finditer(text)
                      if (key := match.group(1) or match.group(2)) not in DEFAULTS
                      and key not in Flask.default_config and key not in DERIVED})
    assert not missing, "\n".join(missing)


def test_no_module_sets_or_repeats_a_default():
    found = [f"{name}: {m.group(0)}" for name, text in _sources().items() if name != "config.py"
             for m in re.finditer(r"config\.setdefault\(|config\.get\([^()]*,[^()]*\)", text)]
    assert not found, "\n".join(found)
