"""LTI 1.3 Advantage tool: an LMS launches Relais modules, picks them by deep linking,
receives completion and score (AGS) and hands over course rosters (NRPS).
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    """Register the pages, the JWKS, the CLI, the jobs, the grade projection and the demo."""
    from lms import demo
    from lms.extensions import csrf
    from lms.jobs import register_job
    from lms.lti import cli, grades, jobs, models, views  # noqa: F401  (models: tables)
    from lms.lti.demo import demo_step
    from lms.xapi import projections

    app.register_blueprint(views.bp)
    app.register_blueprint(views.org_bp)
    # The platform posts the login and the launch from its own site: the id_token, signed by
    # the platform and bound to a one-time state, is what authenticates them, not a CSRF token.
    csrf.exempt(views.login)
    csrf.exempt(views.launch_view)
    app.cli.add_command(cli.lti_group)
    register_job(grades.SCORE_JOB, jobs.run_score, label=_l("Grade sent to the LMS"))
    register_job(jobs.ROSTER_JOB, jobs.run_roster, label=_l("LMS roster import"))
    # Any completion (quiz, package, attendance, review) ends in courses' derived "completed"
    # statement: listening to it sends every kind of completion back to the platform.
    projections.register(grades.on_statement, verbs={grades.COMPLETED_VERB})
    demo.STEPS.add(demo_step)
