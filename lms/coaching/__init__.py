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
    from lms.courses import hooks

    hooks.on_module_deletion(module_deletion_loss)
    for command in COMMANDS:
        app.cli.add_command(command)
    if demo_step not in demo.STEPS:
        if courses_demo_step in demo.STEPS:
            demo.STEPS.insert(demo.STEPS.index(courses_demo_step) + 1, demo_step)
        else:
            demo.STEPS.append(demo_step)
