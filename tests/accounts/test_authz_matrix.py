"""The authorization matrix: every role × own or other organization × every org-scoped route.

The routes are read from the application's URL map, so pages and API endpoints that other
modules add under ``/o/<org_slug>/`` and ``/api/v1/orgs/<org_slug>/`` are covered as soon as
they exist. The roles an endpoint admits are read from its decorator (``role_required`` for
pages, ``org_member`` for the API): a member outside them must get 403, a non-member 404 —
whatever the object ids in the URL are.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter, UUIDConverter

from lms import create_app
from lms.accounts import sessions
from lms.accounts.authz import REQUIRED_ROLES_ATTR
from lms.accounts.models import Membership, Organization, Role, User
from lms.extensions import db
from tests.support import ON_POSTGRESQL, sqlite_run_only

PAGE_PREFIX = "/o/<org_slug>"
API_PREFIX = "/api/v1/orgs/<org_slug>"
# Under the organization's prefix but open to anyone by protocol: a SAML IdP fetches the
# service provider's metadata and posts its answer without a Relais session
# (tests/identity/test_saml_sso.py covers them, other organizations' answers included).
OPEN_BY_PROTOCOL = {"identity.saml_metadata", "identity.saml_acs"}


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    arguments: tuple[tuple[str, str], ...]  # (name, converter kind) other than org_slug
    method: str = "GET"
    required: frozenset[Role] | None = None  # roles the endpoint declares; None: any member

    @property
    def is_api(self) -> bool:
        return self.rule.startswith(API_PREFIX)


def membership(user: User, org: Organization) -> Membership:
    return next(m for m in user.memberships if m.organization_id == org.id)


def _collect_routes() -> list[Route]:
    """Every route and method under the two organization prefixes, from a throw-away app."""
    previous = os.environ.get("RELAIS_INSTANCE_PATH")
    with tempfile.TemporaryDirectory() as instance:
        os.environ["RELAIS_INSTANCE_PATH"] = instance
        try:
            app = create_app({"TESTING": True, "SECRET_KEY": "x",
                              "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        finally:
            if previous is None:
                os.environ.pop("RELAIS_INSTANCE_PATH", None)
            else:
                os.environ["RELAIS_INSTANCE_PATH"] = previous
    routes = []
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith(PAGE_PREFIX + "/") or rule.rule.startswith(API_PREFIX)):
            continue
        if rule.endpoint in OPEN_BY_PROTOCOL:
            continue
        args = []
        for name in sorted(rule.arguments - {"org_slug"}):
            converter = rule._converters[name]  # noqa: SLF001 (no public accessor)
            # An ``any(…)`` part takes one of its words (the first, sorted): any other 404s
            # before the view, and the matrix would not see the view's roles.
            kind = ("int" if isinstance(converter, IntegerConverter)
                    else "uuid" if isinstance(converter, UUIDConverter)
                    else f"any:{min(converter.items)}" if isinstance(converter, AnyConverter)
                    else "str")
            args.append((name, kind))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            required = getattr(app.view_functions[rule.endpoint], REQUIRED_ROLES_ATTR, None)
            routes.append(Route(rule.rule, rule.endpoint, tuple(args), method, required))
    return sorted(routes, key=lambda r: (r.rule, r.method))


ALL_ROUTES = _collect_routes()
ROUTES = [r for r in ALL_ROUTES if r.method == "GET"]
# Routes that change data: the matrix checks who is refused, before any view runs.
WRITE_ROUTES = [r for r in ALL_ROUTES if r.method != "GET"]


def test_the_matrix_sees_the_foundation_routes():
    rules = {r.rule for r in ROUTES}
    assert {"/o/<org_slug>/", "/o/<org_slug>/members", "/api/v1/orgs/<org_slug>/members",
            "/api/v1/orgs/<org_slug>/members/<int:member_id>"} <= rules


@pytest.fixture()
def world(create_org, create_user):
    """Organization A (the one addressed) with a learner in it, and organization B."""
    org_a = create_org(slug="matrix-a")
    org_b = create_org(slug="matrix-b")
    somebody = create_user(Role.LEARNER, org=org_a, password=None)
    return org_a, org_b, membership(somebody, org_a)


def _url(route: Route, org: Organization, member_id: int) -> str:
    url = route.rule.replace("<org_slug>", org.slug)
    for name, kind in route.arguments:
        # Ids of a real object of organization A where the matrix knows one, else plausible.
        value = kind.removeprefix("any:") if kind.startswith("any:") else {
            "int": str(member_id) if name in {"member_id", "membership_id"} else "1",
            "uuid": str(uuid.uuid4()), "str": "x"}[kind]
        converter_text = next(part for part in route.rule.split("/") if f"{name}>" in part)
        url = url.replace(converter_text, value)
    return url


def _session_login(client, user: User) -> None:
    # A real server-side session and Flask-Login's keys, without the login form (which would
    # hash a password per test).
    session_id = sessions.start(user)
    db.session.commit()
    with client.session_transaction() as session:
        session[sessions.SESSION_KEY] = session_id
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def _request(client, api_token, route, user, url):
    if route.is_api:
        headers = api_token(user) if user is not None else {}
        response = client.open(url, method=route.method, headers=headers, json={})
    else:
        if user is not None:
            _session_login(client, user)
        response = client.open(url, method=route.method, data={})
    if response.is_streamed:
        # Read as a client would: a streamed export left unread is finalized later, outside
        # its request (Flask's stream_with_context then raises).
        response.get_data()
    return response


def _required_roles(app, route: Route) -> frozenset[Role] | None:
    return getattr(app.view_functions[route.endpoint], REQUIRED_ROLES_ATTR, None)


PLACES = ("own", "other")

# Who is refused (members of another organization, roles outside a route's, anonymous visitors,
# an unknown organization) is decided before any view runs, by the same membership query on
# either database: the SQLite run checks it. An admitted request runs the view's own queries
# with ids the matrix made up ("x", a random UUID), which PostgreSQL types more strictly than
# SQLite: the PostgreSQL run asks only as the roles each route admits.
_REFUSALS = "who is refused is decided before the view runs, by the same membership query"


def _cases(required: frozenset[Role] | None) -> list[tuple[Role, str]]:
    """The (role, own or other organization) a route is asked as in this run."""
    return [(role, where) for role in Role for where in PLACES
            if not ON_POSTGRESQL or (where == "own" and (not required or role in required))]


def _read_problem(route: Route, required: frozenset[Role] | None, role: Role, where: str,
                  response) -> str | None:
    """What is wrong with the answer to ``role`` of organization A (own) or B (other)."""
    body = response.get_json(silent=True) if route.is_api else None
    if where == "other":
        if response.status_code != 404:
            return f"got {response.status_code}, not 404"
        if route.is_api and body["error"]["code"] != "not_found":
            return f"error code {body['error']['code']}, not not_found"
        return None
    if required and role not in required:
        if response.status_code != 403:
            return f"not in {sorted(required)} yet got {response.status_code}"
        if route.is_api and body["error"]["code"] != "forbidden":
            return f"error code {body['error']['code']}, not forbidden"
        return None
    # Admitted: the role and organization checks let the request through. An id the matrix
    # had to guess may then not exist (404); a route without ids must answer.
    allowed = {200, 302, 303} if not route.arguments else {200, 302, 303, 400, 404}
    if response.status_code not in allowed:
        return f"admitted by {sorted(required or Role)} got {response.status_code}"
    return None


# One test a route: every role of organization A (own) and of organization B (other), an
# anonymous visitor and an unknown organization's address, each request from its own client.
# (One test a case built the two organizations again for each of ~2,800 requests.)
@pytest.mark.parametrize("route", [pytest.param(r, id=r.rule) for r in ROUTES])
def test_role_and_organization_matrix(app, create_user, api_token, world, route):
    org_a, org_b, somebody = world
    required = _required_roles(app, route)
    if route.is_api:
        assert required is not None, (
            f"{route.endpoint} is not decorated with org_member(): it bypasses the checks")
    url = _url(route, org_a, somebody.id)
    problems = []
    for role, where in _cases(required):
        user = create_user(role, org=org_a if where == "own" else org_b, password=None)
        response = _request(app.test_client(), api_token, route, user, url)
        problem = _read_problem(route, required, role, where, response)
        if problem:
            problems.append(f"{role.value} of the {where} organization: {problem}")
    if ON_POSTGRESQL:  # the refusals below: see _REFUSALS
        assert not problems, "\n".join(problems)
        return

    # Anonymous visitors are sent to log in (pages) or get 401 (API).
    response = app.test_client().get(url)
    if route.is_api:
        if (response.status_code, (response.get_json(silent=True) or {}).get("error", {}).get(
                "code")) != (401, "unauthorized"):
            problems.append(f"anonymous: got {response.status_code}, not 401 unauthorized")
    elif response.status_code != 302 or not response.headers["Location"].startswith(
            "/login?next="):
        problems.append(f"anonymous: got {response.status_code}, not sent to log in")

    # An organization that does not exist looks like a foreign one, even to an admin.
    admin = create_user(Role.ADMIN, org=org_b, password=None)
    missing = Organization(slug="no-such-org", name="x")
    response = _request(app.test_client(), api_token, route, admin,
                        _url(route, missing, somebody.id))
    if response.status_code != 404:
        problems.append(f"unknown organization: got {response.status_code}, not 404")
    assert not problems, "\n".join(problems)


def test_editorial_calendar_endpoints_declare_their_roles(app):
    # The calendar, the review of proposals and their API are for trainers, HR and admins;
    # "To share" and proposing content are for every member (learners included).
    managers = frozenset({Role.TRAINER, Role.HR, Role.ADMIN})
    expected = {
        "advocacy_calendar.calendar_page": managers,
        "advocacy_calendar.item_new": managers,
        "advocacy_calendar.item_edit": managers,
        "advocacy_calendar.calendar_export": managers,
        "advocacy_calendar.calendar_import": managers,
        "advocacy_calendar.calendar_feed": managers,
        "advocacy_calendar.proposal_review": managers,
        "advocacy_calendar.proposal_decide": managers,
        "advocacy_calendar.to_share": None,
        "advocacy_calendar.shared_item": None,
        "advocacy_calendar.mark_shared": None,
        "advocacy_calendar.proposal_list": None,
        "api.list_content_items": frozenset(),
        "api.create_content_item": managers,
        "api.update_content_item": managers,
        "api.calendar_range": managers,
        "api.list_proposals": frozenset(),
        "api.create_proposal": frozenset(),
        "api.review_proposal": managers,
    }
    for endpoint, roles in expected.items():
        declared = getattr(app.view_functions[endpoint], REQUIRED_ROLES_ATTR, None)
        assert declared == roles, endpoint
    # The subscription feed is outside the organization's prefix on purpose: calendar apps
    # have no session; its secret address is the credential (tests/advocacy/test_calendar.py).
    assert "advocacy_feed.feed" not in {r.endpoint for r in ALL_ROUTES}


def test_foundation_endpoints_declare_the_documented_roles(app):
    # The matrix trusts each endpoint's declared roles; these pin the foundation's own.
    managers = {Role.TRAINER, Role.HR, Role.ADMIN}
    expected = {
        "reports.dashboard": None,  # every member
        "members.members": managers,
        "members.invite": {Role.TRAINER, Role.ADMIN},
        "members.remove_member": {Role.ADMIN},
        "api.list_members": managers,
        "api.get_member": managers,
        "api.provision_member": {Role.HR, Role.ADMIN},
        "api.delete_member": {Role.ADMIN},
        # My team: any member (whom they follow is decided per person: lms.accounts.groups).
        "teams.team": None,
        "teams.nudge": None,
        "api.my_team": frozenset(),
        "api.nudge_member": frozenset(),
        "members.member_champion": {Role.HR, Role.ADMIN},
        # Calls for volunteers: trainers and admins run them, learners answer them.
        "courses.volunteers": {Role.TRAINER, Role.ADMIN},
        "courses.save_call": {Role.TRAINER, Role.ADMIN},
        "courses.accept_volunteer": {Role.TRAINER, Role.ADMIN},
        "courses.decline_volunteer": {Role.TRAINER, Role.ADMIN},
        "courses.volunteer_call": {Role.LEARNER},
        "courses.volunteer": {Role.LEARNER},
        "api.list_calls": frozenset(),
        "api.save_call": {Role.TRAINER, Role.ADMIN},
        "api.get_call": {Role.TRAINER, Role.ADMIN},
        "api.volunteer": {Role.LEARNER},
        "api.accept_volunteer": {Role.TRAINER, Role.ADMIN},
        "api.decline_volunteer": {Role.TRAINER, Role.ADMIN},
    }
    for endpoint, roles in expected.items():
        declared = getattr(app.view_functions[endpoint], REQUIRED_ROLES_ATTR, None)
        assert declared == (frozenset(roles) if roles is not None else None), endpoint


def test_survey_and_results_endpoints_declare_their_roles(app):
    # Learners answer their own surveys; trainers and admins set the rules; trainers, HR and
    # admins read results (anonymous, from the minimum number of answers) and the sheet to share.
    staff, managers = {Role.TRAINER, Role.ADMIN}, {Role.TRAINER, Role.HR, Role.ADMIN}
    expected = {
        "courses.survey_answer": None,
        "courses.program_surveys": staff,
        "courses.add_survey_rule": staff,
        "courses.delete_survey_rule": staff,
        "courses.survey_overview": managers,
        "courses.survey_results": managers,
        "courses.survey_results_csv": managers,
        "reports.results_to_share": managers,
        "reports.results_to_share_pdf": managers,
        "api.list_surveys": managers,
        "api.list_survey_rules": staff,
        "api.create_survey_rule": staff,
        "api.delete_survey_rule": staff,
        "api.list_survey_invitations": set(),
        "api.answer_survey": set(),
        "api.survey_results": managers,
        "api.results_to_share": managers,
    }
    for endpoint, roles in expected.items():
        declared = getattr(app.view_functions[endpoint], REQUIRED_ROLES_ATTR, None)
        assert declared == (frozenset(roles) if roles is not None else None), endpoint


# Admitted roles are left out: each route's own tests cover what it writes. One test a route,
# as above.
@sqlite_run_only(_REFUSALS)
@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.method} {r.rule}")
                                   for r in WRITE_ROUTES])
def test_writes_are_refused_to_outsiders_and_members_without_the_role(
        app, create_user, api_token, world, route):
    org_a, org_b, somebody = world
    url = _url(route, org_a, somebody.id)
    problems = []
    for role in Role:
        for where in PLACES:
            if where == "own" and not (route.required and role not in route.required):
                continue
            user = create_user(role, org=org_a if where == "own" else org_b, password=None)
            response = _request(app.test_client(), api_token, route, user, url)
            expected = 404 if where == "other" else 403
            code = {404: "not_found", 403: "forbidden"}[expected]
            if response.status_code != expected or (
                    route.is_api and response.get_json()["error"]["code"] != code):
                problems.append(f"{role.value} of the {where} organization got "
                                f"{response.status_code}, not {expected}")

    # Anonymous writes: 401 on the API, sent to log in on pages.
    response = app.test_client().open(url, method=route.method, data={})
    if route.is_api:
        if response.status_code != 401:
            problems.append(f"anonymous: got {response.status_code}, not 401")
    elif response.status_code != 302 or not response.headers["Location"].startswith(
            "/login"):
        problems.append(f"anonymous: got {response.status_code}, not sent to log in")
    assert not problems, f"{route.method} {route.rule}:\n" + "\n".join(problems)
