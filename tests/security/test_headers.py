"""Security headers on every response kind, and the session cookie's flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lms.accounts.models import Role
from lms.certificates.models import Certificate
from lms.core.security import FORMS_MAY_LEAVE_CSP, OTHER_CSP, PAGE_CSP
from lms.extensions import db

BASELINE = {"X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin"}


def check(response: Any, csp: str) -> None:
    for name, value in BASELINE.items():
        assert response.headers[name] == value, name
    assert response.headers["Content-Security-Policy"] == csp
    assert "camera=()" in response.headers["Permissions-Policy"]
    # The test app's BASE_URL is http: no HSTS, which would lock browsers out of it.
    assert "Strict-Transport-Security" not in response.headers


def test_pages_forbid_inline_script_and_framing(client, create_user, login):
    # The login page's company-account form leads on to the identity provider: that page
    # alone lets forms leave (see lms/core/security.py).
    check(client.get("/login"), FORMS_MAY_LEAVE_CSP)
    assert FORMS_MAY_LEAVE_CSP == PAGE_CSP.replace("form-action 'self'; ", "")
    assert "form-action 'self'" in PAGE_CSP
    assert "script-src 'self';" in PAGE_CSP and "'unsafe-inline'" not in PAGE_CSP.split(
        "style-src")[0]
    assert "frame-ancestors 'none'" in PAGE_CSP
    user = create_user(Role.ADMIN)
    login(user)
    page = client.get(f"/o/{user.memberships[0].organization.slug}/members/")
    check(page, PAGE_CSP)
    assert page.headers["X-Frame-Options"] == "DENY"
    html = page.get_data(as_text=True)
    # No inline script and no event-handler attribute left in a page.
    assert "<script>" not in html and "onsubmit=" not in html
    assert 'src="/static/relais.js"' in html
    # Error pages too.
    check(client.get("/no-such-page"), PAGE_CSP)


def test_api_lrs_webhook_static_and_csv(client, create_user, api_token, login):
    user = create_user(Role.HR)
    org = user.memberships[0].organization
    check(client.get("/api/v1/me", headers=api_token(user)), OTHER_CSP)
    check(client.get("/api/v1/me"), OTHER_CSP)  # the 401 envelope as well
    check(client.get("/xapi/about"), OTHER_CSP)
    check(client.post(f"/hooks/advocacy/{org.slug}", data=b"{}"), OTHER_CSP)
    static = client.get("/static/relais.js")
    check(static, OTHER_CSP)
    static.close()
    login(user)
    check(client.get(f"/o/{org.slug}/advocacy?export=leaderboard"), OTHER_CSP)


def test_pdf_has_the_headers(cert_pdf):
    response = cert_pdf
    assert response.mimetype == "application/pdf"
    check(response, OTHER_CSP)


@pytest.fixture()
def cert_pdf(client, login, cert_world):
    w = cert_world
    w.complete(w.enrollments[0])
    cert = db.session.scalar(select(Certificate))
    login(w.hr)
    return client.get(f"/o/acme/certificates/{cert.id}.pdf")


def test_package_files_may_be_framed_by_relais_only(client, login, create_org, create_user):
    from lms.packages.models import XapiPackage
    from tests.xapi.test_packages import World, get_file, make_zip, upload

    world = World(create_org, create_user)
    login(world.trainer)
    assert upload(client, world, make_zip()).status_code == 302
    package = db.session.scalars(select(XapiPackage)).one()
    response = get_file(client, f"/o/acme/packages/{package.id}/index_lrs.html")
    assert response.status_code == 200
    # The package's own scripts run (Relais cannot rewrite them), framed by Relais only.
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == BASELINE["Referrer-Policy"]


def test_session_cookie_is_httponly_and_lax_and_not_secure_on_http(client, create_user):
    user = create_user()
    response = client.post("/login", data={"email": user.email,
                                           "password": "correct horse battery"})
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    cookie = cookies["session"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    # The known-device cookie (lms/accounts/devices.py) goes to the login pages only.
    device = cookies["relais_device"]
    assert "HttpOnly" in device and "SameSite=Strict" in device and "Path=/login" in device
    assert "Secure" not in device


@pytest.fixture()
def https_app(other_app, tmp_path: Path) -> Flask:
    """An instance whose BASE_URL is https (its database is never opened here)."""
    return other_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/unused.db",
                     BASE_URL="https://relais.example")


def test_https_base_url_adds_hsts_and_a_secure_cookie(https_app):
    with https_app.app_context():
        client = https_app.test_client()
        # The login form's CSRF token is kept in the session: the cookie is set.
        response = client.get("/login", base_url="https://relais.example")
        assert response.status_code == 200
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("session=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        api = client.get("/api/v1/openapi.json", base_url="https://relais.example")
        assert api.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert api.headers["Content-Security-Policy"] == OTHER_CSP
