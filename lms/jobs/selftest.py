"""The "jobs.selftest" job: checks that runners pick up jobs, report progress and resume.

``relais jobs-selftest`` starts one; each step sleeps and is recorded in the job's result in the
same commit as its progress, so after a crash the result shows every step exactly once.
"""

from __future__ import annotations

import time
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from lms.jobs.models import Job
from lms.jobs.registry import ReportProgress

KIND = "jobs.selftest"


def run_selftest(job: Job, report_progress: ReportProgress) -> dict[str, Any]:
    """Job handler: ``params.steps`` steps of ``params.seconds`` each."""
    steps = int(job.params.get("steps", 10))
    seconds = float(job.params.get("seconds", 0.5))
    done = list((job.result or {}).get("done", []))
    runs = list((job.result or {}).get("runs", [])) + [job.worker]
    for step in range(job.progress_current, steps):
        time.sleep(seconds)
        done.append(step)
        job.result = {"done": done, "runs": runs}
        report_progress(step + 1, steps,
                        _l("step %(step)s of %(steps)s", step=step + 1, steps=steps))
    job.message = lazy_ngettext("%(num)s step done.", "%(num)s steps done.", steps)
    return {"done": done, "runs": runs}
