"""Blended programs: catalogue, programs, modules, cohorts, enrolments, sessions, attendance,
lessons, quizzes and progress (a projection of xAPI statements).

Sub-packages, as Indico nests its modules: ``programs`` (programs, modules, lessons and quizzes,
the YAML format, the builder), ``cohorts`` (cohorts, enrolments, progress and completion),
``sessions`` (sessions, seats, approvals, attendance, sign-in), ``elearning`` (lessons read,
quizzes taken), ``exercises`` (on-the-job exercises and AFEST) and ``volunteers`` (calls for
volunteers for a pilot cohort). Beside them: ``web`` (the
blueprint and the helpers every course page shares), ``statements`` (the xAPI vocabulary),
``signals``, ``skills`` (the link to the skill map) and ``demo``; ``surveys`` (surveys
sent by rules on programs, their answers and results).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pages, content loader, progress projection, demo step and API resource.

    Every sub-package's models are imported (their tables known to migrations and tests), and
    its views (their routes on ``web.bp``, registered here).
    """
    from lms import content, demo
    from lms.assessments import recommendations
    from lms.courses import skills, web
    from lms.courses.cohorts import models as cohort_models  # noqa: F401
    from lms.courses.cohorts import progress
    from lms.courses.cohorts import views as cohort_views  # noqa: F401
    from lms.courses.demo import demo_step
    from lms.courses.elearning import models as elearning_models  # noqa: F401
    from lms.courses.elearning import views as elearning_views  # noqa: F401
    from lms.courses.exercises import models as exercise_models  # noqa: F401
    from lms.courses.exercises import views as exercise_views  # noqa: F401
    from lms.courses.programs import editor_views, services
    from lms.courses.programs import models as program_models  # noqa: F401
    from lms.courses.programs import views as program_views  # noqa: F401
    from lms.courses.programs.cli import COMMANDS
    from lms.courses.sessions import approval_views, sign_in_views
    from lms.courses.sessions import models as session_models  # noqa: F401
    from lms.courses.sessions import views as session_views  # noqa: F401
    from lms.courses.statements import PROGRESS_VERBS
    from lms.courses.surveys import models as survey_models  # noqa: F401
    from lms.courses.surveys import services as survey_services
    from lms.courses.surveys import views as survey_views  # noqa: F401
    from lms.courses.surveys.demo import demo_step as survey_demo_step
    from lms.courses.volunteers import models as volunteer_models  # noqa: F401
    from lms.courses.volunteers import views as volunteer_views  # noqa: F401
    from lms.courses.volunteers.demo import demo_step as volunteers_demo_step
    from lms.jobs.periodic import register_periodic
    from lms.xapi import projections

    app.register_blueprint(web.bp)  # with the routes of the views modules imported above
    app.register_blueprint(sign_in_views.scan_bp)
    app.register_blueprint(approval_views.approvals_bp)
    app.register_blueprint(editor_views.bp)
    for command in COMMANDS:
        app.cli.add_command(command)
    content.LOADERS.add(services.load_builtin_content)
    demo.STEPS.add(demo_step)
    demo.STEPS.add(volunteers_demo_step)
    demo.STEPS.add(survey_demo_step, after=demo_step)
    # Surveys go out by their programs' rules, checked every quarter of an hour.
    register_periodic("courses.survey_rules", 900, survey_services.run_rules)
    # Explicit, readable wiring: the xapi package knows nothing of courses.
    projections.register(progress.on_statement, verbs=PROGRESS_VERBS)
    # Same for skills: modules to recommend per gap, cohorts to filter the skill map by.
    recommendations.register_module_finder(skills.find_modules)
    recommendations.register_cohort_filter(skills.COHORT_FILTER)
    # The charter reads acceptance per cohort, and the digest lists exercises due.
    from lms.charter.queries import GROUPINGS
    from lms.courses import charter
    from lms.notifications.sections import SECTIONS

    GROUPINGS.add(("cohort", charter.cohort_groups))
    SECTIONS.add(charter.exercises_section)
