"""Launches from a real LTI 1.3 platform on 127.0.0.1: the right person, role and page, and
every bad launch refused with a clear error."""

from __future__ import annotations

import requests
from sqlalchemy import func, select

from lms.accounts.models import Role, User
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.extensions import db
from lms.lti.models import LtiContext, LtiLaunchState, LtiResourceLink, LtiUser
from tests.lti.conftest import _Form, launch
from tests.support import membership


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def test_a_learner_lands_in_the_module_as_a_new_member_of_the_organization(world):
    page = launch(world, "lea-sub")
    assert page.status_code == 200, page.text[:500]
    lesson = world.module.lessons[0]
    assert "/o/acme-lti/training/" in page.url and page.url.endswith(f"/lessons/{lesson.id}")
    db.session.rollback()
    lea = _user("lea@acme-lti.example")
    assert lea.display_name == "Léa Learner" and lea.password_hash is None
    assert membership(lea, world.org).role == Role.LEARNER
    # She joined the course's cohort in the program, named after the course.
    enrollment = db.session.scalar(select(Enrollment).where(
        Enrollment.membership_id == membership(lea, world.org).id))
    assert enrollment.cohort.program_id == world.program.id
    assert enrollment.cohort.name == "Réseaux sociaux 101 (Moodle Acme)"
    context = db.session.scalar(select(LtiContext))
    assert context.cohort_id == enrollment.cohort_id
    assert context.memberships_url == f"{world.platform.issuer}/memberships"
    link = db.session.scalar(select(LtiResourceLink))
    assert link.module_id == world.module.id
    assert link.lineitem_url == f"{world.platform.issuer}/lineitems/1/lineitem?type_id=1"
    # The state was used up; the session is real (her training page opens).
    assert db.session.scalar(select(func.count()).select_from(LtiLaunchState)) == 0
    assert "Léa Learner" in page.text


def test_a_second_launch_finds_the_same_person_by_their_platform_id(world):
    browser = requests.Session()
    launch(world, "lea-sub", browser=browser)
    world.platform.users["lea-sub"]["email"] = "lea.renamed@acme-lti.example"
    page = launch(world, "lea-sub", browser=requests.Session())
    assert page.status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert db.session.scalar(select(func.count()).select_from(Cohort)) == 1
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 1


def test_an_existing_member_is_matched_by_e_mail_and_keeps_their_enrolment(world, create_user):
    from lms.courses.cohorts.services import create_cohort, enrol

    zoe = create_user(Role.LEARNER, org=world.org, email="zoe@acme-lti.example")
    cohort = create_cohort(program=world.program, name="Vague 1")
    enrollment = enrol(cohort=cohort, membership=membership(zoe, world.org))
    db.session.commit()
    world.platform.add_user("zoe-sub", "Zoe@Acme-LTI.example", "Zoé", "Learner")
    page = launch(world, "zoe-sub")
    assert page.status_code == 200
    assert f"/training/{enrollment.id}/lessons/" in page.url
    db.session.rollback()
    assert db.session.scalar(select(LtiUser.user_id).where(LtiUser.sub == "zoe-sub")) == zoe.id


def test_an_instructor_lands_as_trainer_on_the_module_page(world):
    page = launch(world, "ian-sub")
    assert page.status_code == 200, page.text[:500]
    assert page.url.endswith(
        f"/o/acme-lti/programs/{world.program.id}/modules/{world.module.id}")
    db.session.rollback()
    ian = _user("ian@acme-lti.example")
    assert membership(ian, world.org).role == Role.TRAINER
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0


def test_a_launch_without_an_e_mail_for_an_unknown_person_is_refused_clearly(world):
    world.platform.add_user("anon-sub", None, "Anonyme", "Learner")
    page = launch(world, "anon-sub")
    assert page.status_code == 403
    assert 'data-code="no_email"' in page.text
    assert "did not send the person" in page.text or "adresse" in page.text


def _refused(world, code: str, status: int) -> None:
    page = launch(world, "lea-sub")
    assert page.status_code == status, page.text[:500]
    assert f'data-code="{code}"' in page.text
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "lea@acme-lti.example")) is None
    # The state is used up even by a refused launch.
    assert db.session.scalar(select(func.count()).select_from(LtiLaunchState)) == 0


def test_a_token_signed_with_another_key_is_refused(world):
    world.platform.foreign_key = True
    _refused(world, "invalid_signature", 401)


def test_a_token_for_another_tool_is_refused(world):
    world.platform.audience = "someone-else"
    _refused(world, "wrong_audience", 401)


def test_an_expired_token_is_refused(world):
    world.platform.lifetime = -600
    _refused(world, "token_expired", 401)


def test_a_token_from_another_issuer_is_refused(world):
    world.platform.issuer_override = "https://other-lms.example"
    _refused(world, "wrong_issuer", 401)


def test_an_unreachable_platform_key_set_is_a_clear_error(world):
    world.registration.jwks_url = "http://127.0.0.1:9/jwks"  # nothing listens on port 9
    db.session.commit()
    _refused(world, "platform_unavailable", 502)


def test_an_unknown_deployment_is_refused(world):
    world.platform.deployment_override = "rogue-deployment"
    _refused(world, "unknown_deployment", 403)


def test_a_nonce_relais_did_not_ask_for_is_refused(world):
    world.platform.nonce_override = "replayed-nonce"
    _refused(world, "bad_nonce", 401)


def test_a_replayed_launch_is_refused(world):
    browser = requests.Session()
    assert launch(world, "lea-sub", browser=browser).status_code == 200
    form = world.platform.last_launch_form
    again = browser.post(world.platform.tool_launch_url, data=form, timeout=30)
    assert again.status_code == 400
    assert 'data-code="bad_state"' in again.text


def test_a_launch_posted_from_another_browser_is_refused(world):
    # An attacker's own launch, replayed into a victim's browser (login CSRF): the cookie
    # binding the state to the browser that started the login is missing there.
    attacker = requests.Session()
    db.session.commit()
    course_page = attacker.get(f"{world.platform.issuer}/launch",
                               params={"user": "lea-sub", "link": "link-1"}, timeout=30)
    form = _Form()
    form.feed(course_page.text)
    attacker.post(form.action or "", data=form.fields, timeout=30)  # to the platform's /auth
    victim = requests.Session()
    page = victim.post(world.platform.tool_launch_url, data=world.platform.last_launch_form,
                       timeout=30)
    assert page.status_code == 400 and 'data-code="bad_state"' in page.text


def test_an_unregistered_platform_cannot_start_a_login(world, client):
    response = client.post("/lti/login", data={"iss": "https://evil.example",
                                               "login_hint": "x", "client_id": "y"})
    assert response.status_code == 404
    assert b'data-code="unknown_platform"' in response.data


def test_erasing_a_learner_forgets_the_platform_s_id_for_them(world):
    from lms.privacy.services import erase_member

    launch(world, "lea-sub")
    db.session.rollback()
    lea = _user("lea@acme-lti.example")
    assert db.session.scalar(select(func.count()).select_from(LtiUser)) == 1
    erase_member(membership=membership(lea, world.org), by=None)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(LtiUser)) == 0
    # Her next launch from the LMS is a new person, not the erased account.
    assert launch(world, "lea-sub").status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(LtiUser.user_id)) != lea.id
