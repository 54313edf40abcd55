"""Members page, personal API tokens, the organization switcher and the locale."""

from __future__ import annotations

import re

from lms.accounts.models import ApiToken, Role
from lms.extensions import db


def _org_of(user):
    return user.memberships[0].organization


def _membership(user, org):
    return next(m for m in user.memberships if m.organization_id == org.id)


# -- members ------------------------------------------------------------------------------------

def test_members_page_lists_only_this_organization(client, create_user, create_org, login):
    hr = create_user(Role.HR, name="Marc RH")
    org = _org_of(hr)
    create_user(Role.LEARNER, org=org, name="Camille Martin")
    create_user(Role.LEARNER, org=create_org(), name="Stranger Elsewhere")
    login(hr)
    page = client.get(f"/o/{org.slug}/members").get_data(as_text=True)
    assert "Camille Martin" in page and "Marc RH" in page
    assert "Stranger Elsewhere" not in page
    assert "Invite someone" not in page  # HR reads, trainers and admins invite


def test_a_search_finds_members_by_name_address_or_team_in_this_organization_only(
        client, create_user, create_org, login):
    hr = create_user(Role.HR, name="Marc RH")
    org = _org_of(hr)
    create_user(Role.LEARNER, org=org, name="Camille Martin", team="Ventes Ouest")
    create_user(Role.LEARNER, org=org, name="Hugo Bernard", email="hugo.b@example.com")
    create_user(Role.LEARNER, org=create_org(), name="Camille Ailleurs")
    login(hr)

    def names(query: str) -> list[str]:
        page = client.get(f"/o/{org.slug}/members?q={query}").get_data(as_text=True)
        body = page[page.index("<tbody>"):page.index("</tbody>")] if "<tbody>" in page else ""
        return re.findall(r"<tr>\s*<td>([^<]+)</td>", body)

    assert names("camille") == ["Camille Martin"]
    assert names("HUGO.B@") == ["Hugo Bernard"]
    assert names("ventes") == ["Camille Martin"]
    nobody = client.get(f"/o/{org.slug}/members?q=100%25").get_data(as_text=True)
    assert "No member matches “100%”." in nobody and "<tbody>" not in nobody
    # An empty search lists everyone.
    assert names("") == ["Camille Martin", "Hugo Bernard", "Marc RH"]


def test_an_admin_removes_a_member(client, create_user, login):
    admin = create_user(Role.ADMIN)
    org = _org_of(admin)
    learner = create_user(Role.LEARNER, org=org)
    member_id = _membership(learner, org).id
    login(admin)
    response = client.post(f"/o/{org.slug}/members/{member_id}/remove")
    assert response.status_code == 302
    db.session.refresh(learner)
    assert learner.memberships == []
    assert learner.active  # the account and its history stay


def test_an_admin_cannot_remove_themselves_nor_a_member_of_another_org(client, create_user,
                                                                      create_org, login):
    admin = create_user(Role.ADMIN)
    org = _org_of(admin)
    login(admin)
    own_id = _membership(admin, org).id
    client.post(f"/o/{org.slug}/members/{own_id}/remove")
    db.session.refresh(admin)
    assert len(admin.memberships) == 1
    stranger = create_user(Role.LEARNER, org=create_org())
    foreign_id = stranger.memberships[0].id
    assert client.post(f"/o/{org.slug}/members/{foreign_id}/remove").status_code == 404
    db.session.refresh(stranger)
    assert len(stranger.memberships) == 1


def test_the_last_admin_cannot_be_removed_or_demoted():
    import pytest

    from lms.accounts import services
    from lms.core.errors import Conflict

    org = services.create_organization(slug="solo", name="Solo")
    admin = services.create_user(email="solo@example.com")
    membership = services.add_member(organization=org, user=admin, role=Role.ADMIN)
    with pytest.raises(Conflict):
        services.remove_member(membership=membership)
    with pytest.raises(Conflict):
        services.add_member(organization=org, user=admin, role=Role.LEARNER)
    second = services.create_user(email="second@example.com")
    services.add_member(organization=org, user=second, role=Role.ADMIN)
    services.add_member(organization=org, user=admin, role=Role.LEARNER)  # now allowed
    assert membership.role == Role.LEARNER


def test_members_without_the_role_get_403_on_member_pages(client, create_user, login):
    learner = create_user(Role.LEARNER)
    org = _org_of(learner)
    admin = create_user(Role.ADMIN, org=org)
    login(learner)
    assert client.get(f"/o/{org.slug}/members").status_code == 403
    assert client.post(f"/o/{org.slug}/members/invite",
                       data={"email": "a@example.com", "role": "learner"}).status_code == 403
    admin_id = _membership(admin, org).id
    assert client.post(f"/o/{org.slug}/members/{admin_id}/remove").status_code == 403
    db.session.refresh(admin)
    assert len(admin.memberships) == 1


def test_non_members_get_404_on_member_pages_and_actions(client, create_user, create_org, login):
    outsider = create_user(Role.ADMIN)
    target = create_org()
    victim = create_user(Role.LEARNER, org=target)
    login(outsider)
    assert client.get(f"/o/{target.slug}/members").status_code == 404
    assert client.post(f"/o/{target.slug}/members/invite",
                       data={"email": "a@example.com", "role": "admin"}).status_code == 404
    victim_id = victim.memberships[0].id
    assert client.post(f"/o/{target.slug}/members/{victim_id}/remove").status_code == 404


# -- personal API tokens -------------------------------------------------------------------------

def test_token_created_on_the_page_works_until_revoked(client, create_user, login):
    user = create_user()
    login(user)
    response = client.post("/account/tokens", data={"name": "HR sync"})
    page = response.get_data(as_text=True)
    raw = re.search(r'data-testid="new-token">([^<]+)<', page).group(1)
    assert raw.startswith("rls_")
    token = db.session.scalars(db.select(ApiToken)).one()
    assert token.token_hash != raw and raw not in token.token_hash  # stored hashed
    assert token.last_used_at is None

    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["email"] == user.email
    db.session.refresh(token)
    assert token.last_used_at is not None
    # The raw token is shown once only.
    assert raw not in client.get("/account/tokens").get_data(as_text=True)

    response = client.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert "revoked" in client.get("/account/tokens").get_data(as_text=True)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_nobody_revokes_someone_else_token(client, create_user, login, api_token):
    owner = create_user()
    headers = api_token(owner)
    token = db.session.scalars(db.select(ApiToken)).one()
    login(create_user())
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_token_pages_need_login(client):
    assert client.get("/account/tokens").headers["Location"].startswith("/login")


# -- organization switcher -----------------------------------------------------------------------

def test_a_person_in_two_organizations_can_switch(client, create_user, create_org, login):
    first = create_org(name="Alpha Conseil")
    second = create_org(name="Beta Industries")
    user = create_user(Role.TRAINER, org=first)
    from lms.accounts import services

    services.add_member(organization=second, user=user, role=Role.LEARNER)
    db.session.commit()
    login(user)
    page = client.get(f"/o/{first.slug}/").get_data(as_text=True)
    assert f'href="/o/{first.slug}/"' in page and f'href="/o/{second.slug}/"' in page
    assert "Alpha Conseil" in page and "Beta Industries" in page
    assert re.search(rf'href="/o/{first.slug}/"\s+aria-current="page"', page)
    # Switching keeps each organization's own role: a learner in Beta sees no Members link.
    page = client.get(f"/o/{second.slug}/").get_data(as_text=True)
    assert f"/o/{second.slug}/members" not in page
    assert client.get(f"/o/{second.slug}/members").status_code == 403
    assert client.get(f"/o/{first.slug}/members").status_code == 200


def test_a_person_in_one_organization_sees_no_switcher(client, create_user, login):
    user = create_user()
    login(user)
    page = client.get(f"/o/{_org_of(user).slug}/").get_data(as_text=True)
    assert "switcher" not in page


def test_a_person_without_organization_is_told_so(client, create_user, login):
    login(create_user(org=False))
    page = client.get("/")
    assert page.status_code == 200
    assert "No organization yet" in page.get_data(as_text=True)


# -- locale ---------------------------------------------------------------------------------------

def _lang(page):
    return re.search(r'<html lang="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_locale_comes_from_the_browser_then_the_user(client, create_user, login):
    assert _lang(client.get("/login")) == "en"
    assert _lang(client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})) == "fr"
    assert _lang(client.get("/login", headers={"Accept-Language": "de"})) == "en"

    user = create_user()
    login(user)
    dashboard = f"/o/{_org_of(user).slug}/"
    assert _lang(client.get(dashboard, headers={"Accept-Language": "fr"})) == "fr"
    client.post("/account", data={"display_name": user.display_name, "locale": "en"})
    assert user.locale == "en"
    # The user's own choice wins over the browser.
    assert _lang(client.get(dashboard, headers={"Accept-Language": "fr"})) == "en"
    client.post("/account", data={"display_name": user.display_name, "locale": "fr"})
    assert _lang(client.get(dashboard, headers={"Accept-Language": "en"})) == "fr"


def test_french_pages_are_translated_when_the_catalogue_exists(client, app):
    from pathlib import Path

    from babel.support import Translations

    catalogue = Path(app.root_path) / "translations"
    translations = Translations.load(str(catalogue), ["fr"])
    french = translations.gettext("Log in")
    page = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    # Without a compiled French catalogue Babel falls back to English, which is what we check.
    assert f"<h1>{french}</h1>" in page


def test_provisioning_holds_the_acting_member_to_the_roles_they_may_grant(create_user):
    import pytest

    from lms.accounts import services
    from lms.core.errors import Forbidden

    hr = create_user(Role.HR)
    org = _org_of(hr)
    acting = _membership(hr, org)
    with pytest.raises(Forbidden):
        services.provision_member(organization=org, email=hr.email, role=Role.ADMIN,
                                  granted_by=acting)
    with pytest.raises(Forbidden):
        services.provision_member(organization=org, email="new@example.com", role=Role.ADMIN,
                                  granted_by=acting)
    result = services.provision_member(organization=org, email="new@example.com",
                                       role=Role.TRAINER, granted_by=acting)
    assert result.created and result.membership.role == Role.TRAINER
    # The server's operator (CLI, demo) is not limited.
    assert services.provision_member(organization=org, email="boss@example.com",
                                     role=Role.ADMIN).membership.role == Role.ADMIN


def test_a_logged_in_visitor_of_the_login_page_follows_a_safe_next(client, create_user, login):
    login(create_user())
    assert client.get("/login?next=/account").headers["Location"] == "/account"
    assert client.get("/login?next=//evil.example").headers["Location"] == "/"
