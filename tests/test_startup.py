"""What loading the app costs every process (each `relais` command, web and job worker)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import lms
from tests.support import sqlite_run_only

pytestmark = sqlite_run_only("a new process on a SQLite file of its own")

# Libraries that build schemas when imported (about 0.8 s of CPU together): loaded by a SAML
# sign-in or a SCIM discovery request, not by every process.
HEAVY = ("saml2.client", "saml2.config", "saml2.metadata", "saml2.response", "saml2.sigver",
         "scim2_models")


def test_loading_the_app_leaves_the_saml_and_scim_libraries_unloaded(tmp_path):
    env = {**os.environ, "RELAIS_INSTANCE_PATH": str(tmp_path),
           "RELAIS_DATABASE_URL": f"sqlite:///{tmp_path / 'startup.db'}"}
    code = ("import sys, lms; lms.create_app(); "
            f"print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=env, cwd=Path(lms.__file__).resolve().parent.parent)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip().splitlines()[-1] == "[]"
