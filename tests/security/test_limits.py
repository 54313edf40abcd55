"""Request-size limits: a body announced too large is refused 413 unread, in the format of its
surface; a body without a length is cut off while streamed."""

from __future__ import annotations

import io

from lms.accounts.models import Role
from lms.advocacy import services
from lms.extensions import db

HUGE = 300 * 1024 * 1024


class Virtual(io.RawIOBase):
    """A request body of ``size`` bytes that exist only when read (the test client measures
    a body by seeking to its end)."""

    def __init__(self, size: int = HUGE) -> None:
        self.size, self.pos, self.read_bytes = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = self.size + offset if whence == 2 else offset
        return self.pos


class Untouchable(Virtual):
    """A request body that fails the test if anything reads it."""

    def readinto(self, buffer) -> int:  # type: ignore[override]
        raise AssertionError("the body was read")


class Counting(Virtual):
    """A body that counts what was read from it."""

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = len(buffer)
        buffer[:n] = b"x" * n
        self.read_bytes += n
        return n


def post_huge(client, url: str, **kwargs):
    return client.post(url, input_stream=Untouchable(), **kwargs)


def test_webhook_refuses_a_huge_body_unread(client, create_org):
    org = create_org()
    response = post_huge(client, f"/hooks/advocacy/{org.slug}",
                         content_type="application/json")
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_large" and "5 MB" in error["message"]


def test_lrs_statements_refuse_a_huge_body_unread(client):
    response = post_huge(client, "/xapi/statements", content_type="application/json",
                         headers={"X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == 413
    # The alternate request syntax is not read by its middleware either.
    response = post_huge(client, "/xapi/statements?method=PUT",
                         content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_api_refuses_a_huge_body_unread_in_its_envelope(client, create_user, api_token):
    user = create_user(Role.ADMIN)
    slug = user.memberships[0].organization.slug
    response = post_huge(client, f"/api/v1/orgs/{slug}/members",
                         content_type="application/json", headers=api_token(user))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    # The CSV import has its own, larger limit, still far below 300 MB.
    response = post_huge(client, f"/api/v1/orgs/{slug}/members/import",
                         content_type="text/csv", headers=api_token(user))
    assert response.status_code == 413


def test_pages_answer_a_friendly_page(client, create_user, login):
    response = post_huge(client, "/login", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "larger than this page accepts" in response.get_data(as_text=True)
    user = create_user(Role.TRAINER)
    login(user)
    slug = user.memberships[0].organization.slug
    response = post_huge(client, f"/o/{slug}/advocacy/import",
                         content_type="multipart/form-data; boundary=x")
    assert response.status_code == 413
    french = post_huge(client, "/login", content_type="application/x-www-form-urlencoded",
                       headers={"Accept-Language": "fr"})
    assert "Trop volumineux" in french.get_data(as_text=True)


def test_a_body_without_length_is_cut_off_while_streamed(app, client, create_org):
    org = create_org()
    services.rotate_webhook_secret(organization=org)  # so the webhook reads its body
    db.session.commit()
    body = Counting()
    app.config["WEBHOOK_MAX_BYTES"] = 10_000
    try:
        response = client.post(f"/hooks/advocacy/{org.slug}", input_stream=body,
                               content_type="application/json",
                               environ_overrides={"wsgi.input_terminated": True,
                                                  "HTTP_TRANSFER_ENCODING": "chunked"})
    finally:
        app.config["WEBHOOK_MAX_BYTES"] = 5 * 1024 * 1024
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert body.read_bytes <= 10_000 + 64 * 1024  # one buffer past the limit at most


def test_a_body_within_the_limit_is_read_as_before(client, create_org):
    org = create_org()
    response = client.post(f"/hooks/advocacy/{org.slug}", data=b"{}",
                           content_type="application/json")
    assert response.status_code == 401  # unsigned: the ordinary answer
