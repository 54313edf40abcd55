"""Skill mapping: competencies, target profiles, questionnaires, attempts, scoring and gaps."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the skills pages, the content loader, the demo step and the API resource."""
    from lms import content, demo
    from lms.assessments import views
    from lms.assessments.demo import demo_step
    from lms.assessments.services import load_builtin_content
    from lms.assessments.surveys import load_templates
    from lms.assessments.views import bp

    app.register_blueprint(bp)
    app.add_template_filter(views.localized, "localized")
    content.LOADERS.add(load_builtin_content)
    content.LOADERS.add(load_templates)
    demo.STEPS.add(demo_step)
