"""Relais: learning management for blended social-media training.

The packages of ``lms`` in layers, lowest first, as their imports really are: a package imports
only from packages listed before it, never from its own line nor from one after it, and never
another package's views or private names (``tests/test_layers.py`` checks it)::

    core, extensions     the declarative Base, errors, shared web, CLI, PDF and mail helpers;
                         the unbound Flask extensions (each of the two uses the other)
    accounts             users, organizations, memberships, roles, tokens, the audit log
    jobs, identity       background jobs and periodic work; single sign-on (OpenID Connect)
                         and SCIM provisioning onto accounts; neither needs anything above
    xapi, notifications  statements, the LRS, projections, forwarding (runs as periodic
                         jobs); the e-mail digest, whose sections packages above add
    charter              the social-media charter, its versions and acceptances; the gates
                         higher packages check (exercises, certificates, advocacy figures)
    assessments          competencies, questionnaires, attempts, the skill profile
    courses              programs, cohorts, sessions and attendance, e-learning, exercises
    packages, coaching,  side by side above courses: none of them imports another
    advocacy, certificates
    lti, impact          the LTI 1.3 tool: launches into modules, deep linking, grades sent
                         back through a projection of completions, rosters into cohorts;
                         side by side with it, impact: a cohort against colleagues not yet
                         trained, formats compared, ROI (over courses, coaching, advocacy)
    reports, privacy     dashboards over courses and coaching; personal-data export and
                         erasure, which reach every package below
    api                  /api/v1 over assessments, courses, coaching, advocacy, certificates,
                         jobs

A lower package lets higher ones take part without importing them in two ways, both filled
from the higher package's ``init_app`` and idempotent: an ordered ``lms.core.registry.Registry``
of callables it runs (content loaders, demo steps, module finders), or a named blinker signal
in its ``signals.py`` that it sends when something happened (``courses.signals``).

Beside the packages, top-level modules: ``content`` and ``demo`` hold registries that packages
fill at start-up (they import nothing above accounts); ``i18n``, ``web``, ``serving``,
``backup`` and ``cli`` are the application's edge, and :func:`create_app` wires everything in
this order. Two edges lean on each other through imports inside functions: ``serving`` starts
the job runner and the ``relais worker`` command of ``jobs`` borrows ``serving``'s logging.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the Relais application.

    :param config: settings applied after the defaults and the ``RELAIS_*`` environment.
    """
    app = Flask(
        __name__,
        instance_path=os.environ.get("RELAIS_INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    from lms.config import configure

    configure(app, config)

    from lms.core import inputs, limits, outage, ratelimit, security

    security.init_app(app)
    inputs.init_app(app)
    outage.init_app(app)
    # First of the request hooks: an oversized body is refused before anything reads it.
    limits.init_app(app)
    # Next: a flood is counted before anything looks its credentials up.
    ratelimit.init_app(app)

    from lms import extensions

    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=_migrations_dir())
    extensions.csrf.init_app(app)

    from lms.core import database

    database.init_app(app)

    from lms import i18n

    i18n.init_app(app)

    from lms.accounts import init_app as init_accounts

    init_accounts(app)

    from lms.identity import init_app as init_identity

    init_identity(app)

    from lms.xapi import init_app as init_xapi

    init_xapi(app)

    from lms.notifications import init_app as init_notifications

    init_notifications(app)

    from lms.charter import init_app as init_charter

    init_charter(app)

    from lms.assessments import init_app as init_assessments

    init_assessments(app)

    from lms.courses import init_app as init_courses

    init_courses(app)

    from lms.coaching import init_app as init_coaching

    init_coaching(app)

    from lms.packages import init_app as init_packages

    init_packages(app)

    from lms.advocacy import init_app as init_advocacy

    init_advocacy(app)

    from lms import web

    web.init_app(app)

    from lms.reports import init_app as init_reports

    init_reports(app)

    from lms.jobs import init_app as init_jobs

    init_jobs(app)

    from lms.certificates import init_app as init_certificates

    init_certificates(app)

    from lms.lti import init_app as init_lti

    init_lti(app)

    from lms.impact import init_app as init_impact

    init_impact(app)

    from lms.privacy import init_app as init_privacy

    init_privacy(app)

    from lms import serving

    serving.init_app(app)

    from lms.api import init_app as init_api

    init_api(app)

    from lms import cli

    cli.init_app(app)
    return app


def _migrations_dir() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")
