"""The JSON API: authentication, the error envelope, /me and organization members."""

from __future__ import annotations

import pytest

from lms.accounts import services
from lms.accounts.models import ApiToken, Membership, Role, User
from lms.extensions import db


def _org_of(user):
    return user.memberships[0].organization


def _membership(user, org):
    return next(m for m in user.memberships if m.organization_id == org.id)


def assert_error(response, status, code, fields=None):
    """The response is an error in the documented envelope."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    if fields is not None:
        assert set(body["error"]["fields"]) == set(fields), body["error"]["fields"]
    return body["error"]


# -- authentication -------------------------------------------------------------------------------

def test_me_describes_the_token_owner(client, create_user, create_org, api_token):
    user = create_user(Role.TRAINER, name="Sophie")
    # Read before the second membership: a user's memberships come in no set order (on
    # PostgreSQL, after rows were deleted, the new one may come first).
    first_slug = _org_of(user).slug
    services.add_member(organization=create_org(slug="zz-second"), user=user, role=Role.LEARNER,
                        team="Ventes")
    db.session.commit()
    body = client.get("/api/v1/me", headers=api_token(user)).get_json()
    assert body["email"] == user.email and body["display_name"] == "Sophie"
    assert [(m["organization"]["slug"], m["role"]) for m in body["memberships"]] == [
        (first_slug, "trainer"), ("zz-second", "learner")]
    assert body["memberships"][1]["team"] == "Ventes"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz",
                                    "Bearer rls_not-a-real-token", "rls_no-scheme"])
def test_401_without_a_valid_bearer_token(client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/me", headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_401_for_a_revoked_token_or_a_disabled_user(client, create_user, api_token):
    user = create_user()
    headers = api_token(user)
    services.revoke_api_token(token=db.session.scalars(db.select(ApiToken)).one())
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthorized")
    other = create_user()
    headers = api_token(other)
    other.active = False
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthorized")


def test_a_session_cookie_does_not_authenticate_the_api(client, create_user, login):
    login(create_user())
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")


def test_last_used_at_is_recorded(client, create_user, api_token):
    user = create_user()
    headers = api_token(user)
    token = db.session.scalars(db.select(ApiToken)).one()
    assert token.last_used_at is None
    client.get("/api/v1/me", headers=headers)
    db.session.refresh(token)
    first = token.last_used_at
    assert first is not None and first.tzinfo is not None
    client.get("/api/v1/me", headers=headers)  # within five minutes: not rewritten
    db.session.refresh(token)
    assert token.last_used_at == first


def test_the_api_needs_no_csrf_token(client, create_user, api_token, app):
    admin = create_user(Role.ADMIN)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/api/v1/orgs/{_org_of(admin).slug}/members",
                           json={"email": "new@example.com", "role": "learner"},
                           headers=api_token(admin))
    assert response.status_code == 201


# -- the error envelope, one status each ---------------------------------------------------------

def test_400_for_a_body_that_is_not_a_json_object(client, create_user, api_token):
    admin = create_user(Role.ADMIN)
    url = f"/api/v1/orgs/{_org_of(admin).slug}/members"
    headers = api_token(admin)
    assert_error(client.post(url, data="{not json", headers={**headers,
                 "Content-Type": "application/json"}), 400, "bad_request")
    assert_error(client.post(url, json=["a", "list"], headers=headers), 400, "bad_request")
    assert_error(client.post(url, data="email=x", headers=headers), 400, "bad_request")


@pytest.mark.parametrize(("query", "fields"), [
    ("page=0", {"page"}), ("page=-1", {"page"}), ("page=abc", {"page"}), ("page=1.5", {"page"}),
    ("per_page=0", {"per_page"}), ("per_page=201", {"per_page"}), ("per_page=x&page=y",
                                                                   {"page", "per_page"}),
    ("page=" + "9" * 5000, {"page"}), ("page=١", {"page"}),
])
def test_400_for_bad_pagination(client, create_user, api_token, query, fields):
    admin = create_user(Role.ADMIN)
    response = client.get(f"/api/v1/orgs/{_org_of(admin).slug}/members?{query}",
                          headers=api_token(admin))
    assert_error(response, 400, "bad_request", fields)


def test_403_for_a_member_without_the_role(client, create_user, api_token):
    learner = create_user(Role.LEARNER)
    response = client.get(f"/api/v1/orgs/{_org_of(learner).slug}/members",
                          headers=api_token(learner))
    assert_error(response, 403, "forbidden")


def test_404_for_another_organization_and_an_unknown_one(client, create_user, create_org,
                                                         api_token):
    admin = create_user(Role.ADMIN)
    other = create_org()
    headers = api_token(admin)
    foreign = assert_error(client.get(f"/api/v1/orgs/{other.slug}/members", headers=headers),
                           404, "not_found")
    unknown = assert_error(client.get("/api/v1/orgs/nope/members", headers=headers),
                           404, "not_found")
    assert foreign == unknown  # nothing tells an existing organization from a missing one
    assert_error(client.post(f"/api/v1/orgs/{other.slug}/members", headers=headers,
                             json={"email": "a@example.com", "role": "admin"}), 404, "not_found")
    assert services.find_user("a@example.com") is None


def test_404_and_405_for_unknown_paths_and_methods_are_json(client, create_user, api_token):
    headers = api_token(create_user())
    assert_error(client.get("/api/v1/no-such-thing", headers=headers), 404, "not_found")
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    response = client.delete("/api/v1/me", headers=headers)
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    # Pages keep their HTML error pages.
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_409_when_the_last_admin_would_go(client, create_user, api_token):
    admin = create_user(Role.ADMIN)
    org = _org_of(admin)
    headers = api_token(admin)
    own = _membership(admin, org)
    assert_error(client.delete(f"/api/v1/orgs/{org.slug}/members/{own.id}", headers=headers),
                 409, "conflict")
    response = client.post(f"/api/v1/orgs/{org.slug}/members", headers=headers,
                           json={"email": admin.email, "role": "learner"})
    assert_error(response, 409, "conflict", {"role"})
    db.session.refresh(own)
    assert own.role == Role.ADMIN


@pytest.mark.parametrize(("body", "fields"), [
    ({"email": "ok@example.com", "role": "boss"}, {"role"}),
    ({"email": "not-an-address", "role": "learner"}, {"email"}),
    ({"email": "ok@example.com"}, {"role"}),
    ({"role": "learner"}, {"email"}),
    ({"email": 42, "role": None}, {"email", "role"}),
    ({"email": "ok@example.com", "role": "learner", "team": 3, "locale": ["fr"]},
     {"team", "locale"}),
    ({"email": "ok@example.com", "role": "learner", "locale": "de"}, {"locale"}),
    ({"email": "ok@example.com", "role": "learner", "team": "x" * 121}, {"team"}),
    ({"email": "ok@example.com", "role": "learner", "display_name": "x" * 201},
     {"display_name"}),
])
def test_422_with_fields_for_invalid_members(client, create_user, api_token, body, fields):
    admin = create_user(Role.ADMIN)
    response = client.post(f"/api/v1/orgs/{_org_of(admin).slug}/members", json=body,
                           headers=api_token(admin))
    assert_error(response, 422, "validation_failed", fields)
    assert services.find_user("ok@example.com") is None  # nothing half-written


# -- members --------------------------------------------------------------------------------------

def test_provisioning_is_idempotent_on_email(client, create_user, api_token):
    hr = create_user(Role.HR)
    org = _org_of(hr)
    url = f"/api/v1/orgs/{org.slug}/members"
    headers = api_token(hr)
    first = client.post(url, headers=headers, json={
        "email": "Camille.Martin@Example.com", "role": "learner", "display_name": "Camille Martin",
        "team": "Ventes", "job_family": "sales", "locale": "fr"})
    assert first.status_code == 201
    created = first.get_json()
    assert created["email"] == "camille.martin@example.com"
    assert created["role"] == "learner" and created["team"] == "Ventes"
    again = client.post(url, headers=headers, json={
        "email": "camille.martin@EXAMPLE.com", "role": "trainer", "team": "Marketing"})
    assert again.status_code == 200
    updated = again.get_json()
    assert updated["id"] == created["id"]
    assert (updated["role"], updated["team"], updated["job_family"]) == (
        "trainer", "Marketing", "sales")
    assert db.session.scalar(db.select(db.func.count()).select_from(User).where(
        User.email == "camille.martin@example.com")) == 1
    user = services.find_user("camille.martin@example.com")
    assert user.password_hash is None and user.locale == "fr"


def test_provisioning_does_not_rename_someone_another_organization_knows(
        client, create_user, create_org, api_token):
    hr = create_user(Role.HR)
    org = _org_of(hr)
    known = create_user(Role.ADMIN, org=create_org(), name="Real Name")
    response = client.post(f"/api/v1/orgs/{org.slug}/members", headers=api_token(hr),
                           json={"email": known.email, "role": "learner",
                                 "display_name": "Renamed", "locale": "fr"})
    assert response.status_code == 201
    db.session.refresh(known)
    assert known.display_name == "Real Name" and known.locale is None
    assert len(known.memberships) == 2


def test_hr_cannot_grant_or_take_admin(client, create_user, api_token):
    hr = create_user(Role.HR)
    org = _org_of(hr)
    admin = create_user(Role.ADMIN, org=org)
    url = f"/api/v1/orgs/{org.slug}/members"
    headers = api_token(hr)
    assert_error(client.post(url, headers=headers, json={"email": "x@example.com",
                                                         "role": "admin"}), 403, "forbidden")
    assert_error(client.post(url, headers=headers, json={"email": hr.email, "role": "admin"}),
                 403, "forbidden")
    assert_error(client.post(url, headers=headers, json={"email": admin.email,
                                                         "role": "learner"}), 403, "forbidden")
    db.session.refresh(hr)
    assert _membership(hr, org).role == Role.HR
    assert client.post(url, headers=headers, json={"email": "t@example.com",
                                                   "role": "trainer"}).status_code == 201


def test_trainers_list_but_cannot_provision(client, create_user, api_token):
    trainer = create_user(Role.TRAINER)
    url = f"/api/v1/orgs/{_org_of(trainer).slug}/members"
    headers = api_token(trainer)
    assert client.get(url, headers=headers).status_code == 200
    assert_error(client.post(url, headers=headers, json={"email": "a@example.com",
                                                         "role": "learner"}), 403, "forbidden")


def test_members_are_listed_page_by_page_in_email_order(client, create_user, create_org,
                                                        api_token):
    admin = create_user(Role.ADMIN, email="a-admin@example.com")
    org = _org_of(admin)
    for name in ("d", "b", "c", "e"):
        create_user(Role.LEARNER, org=org, email=f"{name}@example.com", password=None)
    create_user(Role.LEARNER, org=create_org(), email="elsewhere@example.com", password=None)
    url = f"/api/v1/orgs/{org.slug}/members"
    headers = api_token(admin)
    page1 = client.get(f"{url}?per_page=2", headers=headers).get_json()
    page3 = client.get(f"{url}?per_page=2&page=3", headers=headers).get_json()
    page9 = client.get(f"{url}?per_page=2&page=9", headers=headers).get_json()
    assert [m["email"] for m in page1["items"]] == ["a-admin@example.com", "b@example.com"]
    assert [m["email"] for m in page3["items"]] == ["e@example.com"]
    assert page9["items"] == []
    assert (page1["total"], page1["page"], page1["per_page"]) == (5, 1, 2)
    assert client.get(url, headers=headers).get_json()["per_page"] == 50


def test_get_one_member(client, create_user, create_org, api_token):
    trainer = create_user(Role.TRAINER)
    org = _org_of(trainer)
    learner = create_user(Role.LEARNER, org=org, team="Ventes")
    member = _membership(learner, org)
    headers = api_token(trainer)
    body = client.get(f"/api/v1/orgs/{org.slug}/members/{member.id}", headers=headers).get_json()
    assert body == {"id": member.id, "user_id": learner.id, "email": learner.email,
                    "display_name": learner.display_name, "role": "learner", "team": "Ventes",
                    "job_family": None, "manager_id": None, "champion": False}
    stranger = create_user(Role.LEARNER, org=create_org())
    foreign_id = stranger.memberships[0].id
    assert_error(client.get(f"/api/v1/orgs/{org.slug}/members/{foreign_id}", headers=headers),
                 404, "not_found")
    assert_error(client.get(f"/api/v1/orgs/{org.slug}/members/999999", headers=headers),
                 404, "not_found")


def test_an_admin_deletes_a_member(client, create_user, create_org, api_token):
    admin = create_user(Role.ADMIN)
    org = _org_of(admin)
    learner = create_user(Role.LEARNER, org=org)
    member_id = _membership(learner, org).id
    headers = api_token(admin)
    response = client.delete(f"/api/v1/orgs/{org.slug}/members/{member_id}", headers=headers)
    assert response.status_code == 204 and response.data == b""
    assert db.session.get(Membership, member_id) is None
    assert services.find_user(learner.email) is not None  # the account stays
    assert_error(client.delete(f"/api/v1/orgs/{org.slug}/members/{member_id}", headers=headers),
                 404, "not_found")
    stranger = create_user(Role.LEARNER, org=create_org())
    foreign_id = stranger.memberships[0].id
    assert_error(client.delete(f"/api/v1/orgs/{org.slug}/members/{foreign_id}",
                               headers=headers), 404, "not_found")
    assert db.session.get(Membership, foreign_id) is not None


def test_an_admin_may_remove_another_admin_but_not_the_last(client, create_user, api_token):
    admin = create_user(Role.ADMIN)
    org = _org_of(admin)
    second = create_user(Role.ADMIN, org=org)
    headers = api_token(admin)
    url = f"/api/v1/orgs/{org.slug}/members"
    assert client.delete(f"{url}/{_membership(second, org).id}",
                         headers=headers).status_code == 204
    assert_error(client.delete(f"{url}/{_membership(admin, org).id}", headers=headers),
                 409, "conflict")


@pytest.mark.parametrize("role", [Role.HR, Role.TRAINER, Role.LEARNER])
def test_only_admins_delete(client, create_user, api_token, role):
    user = create_user(role)
    org = _org_of(user)
    learner = create_user(Role.LEARNER, org=org)
    member_id = _membership(learner, org).id
    response = client.delete(f"/api/v1/orgs/{org.slug}/members/{member_id}",
                             headers=api_token(user))
    assert_error(response, 403, "forbidden")
    assert db.session.get(Membership, member_id) is not None
