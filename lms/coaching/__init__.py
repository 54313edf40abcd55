"""Coaching follow-ups: coaching plans of modules, dated follow-ups with a coach, shared notes
and action items; a module is completed once its required follow-ups are held.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the models, pages, command and demo step (after the courses step, whose cohort
    it uses).
    """
    from lms import demo
    from lms.coaching import (
        models,  # noqa: F401  (tables known to migrations and tests)
        views,
    )
    from lms.coaching.cli import COMMANDS
    from lms.coaching.demo import demo_step
    from lms.courses.demo import demo_step as courses_demo_step

    app.register_blueprint(views.bp)
    from lms.coaching.queries import module_deletion_loss
    from lms.courses.signals import module_deletion

    module_deletion.connect(module_deletion_loss, weak=False)
    for command in COMMANDS:
        app.cli.add_command(command)
    demo.STEPS.add(demo_step, after=courses_demo_step)
    from lms.coaching import digest
    from lms.notifications.sections import SECTIONS

    SECTIONS.add(digest.section)
