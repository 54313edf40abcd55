"""Advocacy: real activity on social networks tied to learning (events, consent, campaigns,
ingestion by hand, CSV, webhook and API, KPIs).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the models, pages, webhook, CLI, import job, demo step and API resource."""
    from flask_babel import lazy_gettext as _l

    from lms.advocacy import (
        jobs,
        models,  # noqa: F401  (tables known to migrations and tests)
    )
    from lms.advocacy.cli import COMMANDS
    from lms.jobs import register_job

    for command in COMMANDS:
        app.cli.add_command(command)
    register_job(jobs.KIND, jobs.run_import, label=_l("Advocacy activity import"))

    from lms.advocacy import verification
    from lms.advocacy.signals import events_ingested
    from lms.jobs import register_periodic

    events_ingested.connect(verification.after_ingest, weak=False)
    from lms.advocacy.figures import watch_orm

    watch_orm()
    register_periodic(verification.PERIODIC_NAME, verification.PERIODIC_SECONDS,
                      verification.verify_all)

    from lms.advocacy import webhook
    from lms.core.ratelimit import limit_surface
    from lms.extensions import csrf

    csrf.exempt(webhook.bp)
    limit_surface(app, webhook.bp, "RATELIMIT_WEBHOOK", webhook=True)
    app.register_blueprint(webhook.bp)

    from lms.advocacy import views

    app.register_blueprint(views.bp)

    from lms.advocacy import calendar_views, campaign_views, impact_views

    app.register_blueprint(impact_views.bp)
    app.register_blueprint(campaign_views.bp)
    app.register_blueprint(calendar_views.bp)
    # The subscription feed: calendar apps fetch it with the secret address, no session.
    app.register_blueprint(calendar_views.feed_bp)

    from lms import demo
    from lms.advocacy.demo import calendar_step, demo_step

    demo.STEPS.add(demo_step)
    demo.STEPS.add(calendar_step, after=demo_step)
    from lms.advocacy import digest
    from lms.notifications.sections import SECTIONS

    SECTIONS.add(digest.section)
