"""The one registry type (lms/core/registry.py) and the wiring packages do with it and with
named signals: in order, once, however often the app is created.
"""

from __future__ import annotations

from flask import Flask

from lms import content, create_app, demo
from lms.advocacy.demo import calendar_step
from lms.advocacy.demo import demo_step as advocacy_step
from lms.advocacy.signals import events_ingested
from lms.assessments.demo import demo_step as assessments_step
from lms.certificates.demo import demo_step as certificates_step
from lms.charter.demo import demo_step as charter_step
from lms.charter.queries import GROUPINGS
from lms.charter.signals import charter_accepted
from lms.coaching.demo import demo_step as coaching_step
from lms.core.registry import Registry
from lms.courses.demo import demo_step as courses_step
from lms.courses.signals import enrollment_completed, module_deletion
from lms.courses.surveys.demo import demo_step as surveys_step
from lms.courses.volunteers.demo import demo_step as volunteers_step
from lms.impact.demo import demo_step as impact_step
from lms.impact.demo import parrot_step
from lms.lti.demo import demo_step as lti_step
from lms.notifications.sections import SECTIONS
from lms.privacy.demo import demo_step as privacy_step
from lms.reports.demo import demo_step as team_step


def test_registry_keeps_order_places_after_and_adds_once():
    reg: Registry[str] = Registry("letters")
    assert reg.add("a") == "a"
    reg.add("b")
    reg.add("c", after="a")
    reg.add("d", after="missing")  # an absent anchor: last
    reg.add("a")  # again: no-op, stays first
    reg.add("c", after="b")  # again: stays where it is
    assert list(reg) == ["a", "c", "b", "d"]
    assert len(reg) == 4 and "c" in reg and "z" not in reg
    reg.remove("c")
    reg.remove("z")
    assert list(reg) == ["a", "b", "d"]


def test_creating_the_app_again_adds_nothing_twice(app: Flask, database_url: str):
    steps = [charter_step, assessments_step, courses_step, certificates_step, coaching_step,
             surveys_step, volunteers_step, advocacy_step, impact_step, parrot_step,
             calendar_step, team_step, lti_step, privacy_step]
    assert list(demo.STEPS) == steps
    loaders = list(content.LOADERS)
    receivers = [len(s.receivers) for s in (enrollment_completed, module_deletion,
                                             events_ingested, charter_accepted)]
    assert receivers == [1, 1, 1, 1]
    sections, groupings = list(SECTIONS), list(GROUPINGS)
    # The charter, exercises, coaching follow-ups, content to share; cohorts.
    assert len(sections) == 4 and len(groupings) == 1
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                "SECRET_KEY": "test-secret"})
    assert list(demo.STEPS) == steps
    # The skill framework and questionnaires, the survey templates, the programs catalogue.
    assert list(content.LOADERS) == loaders and len(loaders) == 3
    assert [len(s.receivers) for s in (enrollment_completed, module_deletion,
                                       events_ingested, charter_accepted)] == receivers
    assert list(SECTIONS) == sections and list(GROUPINGS) == groupings
