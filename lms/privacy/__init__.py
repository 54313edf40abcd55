"""Privacy: personal-data export and erasure (GDPR art. 15, 17, 20), retention periods
(art. 5(1)(e)), the register of processing activities (art. 30) and the audit log page.

Privacy sits above every domain module (DESIGN: ``… ← {reports, privacy, notifications} ←
api``): it reads and erases their data through their models and services, and no lower
module imports it.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pages, the ``personal-data`` commands and the export job."""
    from flask_babel import lazy_gettext as _l

    from lms.jobs import register_job, register_periodic
    from lms.privacy import jobs, retention
    from lms.privacy.cli import COMMANDS
    from lms.privacy.views import bp, org_bp

    app.register_blueprint(bp)
    app.register_blueprint(org_bp)
    for command in COMMANDS:
        app.cli.add_command(command)
    register_job(jobs.KIND, jobs.run_export, label=_l("Personal-data export"), private=True)
    from lms import demo
    from lms.privacy.demo import demo_step

    demo.STEPS.add(demo_step)
    # Daily, every organization: what is older than its retention period goes.
    register_periodic("privacy.retention", 24 * 3600, retention.run_all)
