from __future__ import annotations

from lms.accounts.models import Role


def test_login_lands_on_the_organization_dashboard(client, create_user, login):
    user = create_user(Role.TRAINER)
    response = login(user)
    assert response.headers["Location"] == "/"
    home = client.get("/")
    org_slug = user.memberships[0].organization.slug
    assert home.headers["Location"] == f"/o/{org_slug}/"
    page = client.get(f"/o/{org_slug}/")
    assert page.status_code == 200
    assert user.display_name in page.get_data(as_text=True)


def test_email_is_matched_without_regard_to_case(client, create_user):
    create_user(email="Camille.Martin@Example.com")
    response = client.post("/login", data={"email": "CAMILLE.martin@example.COM",
                                           "password": "correct horse battery"})
    assert response.status_code == 302


def test_wrong_password_shows_a_form_error(client, create_user):
    user = create_user()
    response = client.post("/login", data={"email": user.email, "password": "nope"})
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.get_data(as_text=True)


def test_logout_ends_the_session(client, create_user, login):
    user = create_user()
    login(user)
    assert client.post("/logout").status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")
