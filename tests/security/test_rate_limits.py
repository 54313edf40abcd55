"""Rate limits per credential on the API, the LRS and the webhook; per address without
credentials; 429 with Retry-After in each surface's error format; counts shared through Redis."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest

from lms.accounts.models import Role
from lms.advocacy import services as advocacy
from lms.advocacy.webhook import sign
from lms.core.ratelimit import limiter, storage_url
from lms.extensions import db
from lms.xapi.services import create_lrs_credentials
from tests.support import REDIS_HEALTH_URL, need, redis_up


@pytest.fixture()
def small_limits(app):
    """Small limits (the autouse fixture restores the settings) and fresh counts."""
    app.config.update(RATELIMIT_API="3 per minute", RATELIMIT_LRS="3 per minute",
                      RATELIMIT_WEBHOOK="3 per minute", RATELIMIT_ANONYMOUS="2 per minute")
    limiter(app).reset()
    yield
    limiter(app).reset()


def test_api_limits_each_token_apart_and_answers_429_in_the_envelope(
        client, create_user, api_token, small_limits):
    user = create_user(Role.ADMIN)
    first, second = api_token(user), api_token(user)
    assert [client.get("/api/v1/me", headers=first).status_code for _ in range(3)] == [200] * 3
    response = client.get("/api/v1/me", headers=first)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 61  # the window, rounded up
    error = response.get_json()["error"]
    assert error["code"] == "too_many_requests" and error["fields"] == {}
    assert "try again in" in error["message"]
    # Another token of the same person has its own count.
    assert client.get("/api/v1/me", headers=second).status_code == 200
    french = client.get("/api/v1/me", headers={**first, "Accept-Language": "fr"})
    assert "réessayez dans" in french.get_json()["error"]["message"].lower()


def test_requests_without_credentials_are_limited_per_address(client, small_limits):
    assert [client.get("/api/v1/me").status_code for _ in range(2)] == [401, 401]
    response = client.get("/api/v1/me")
    assert response.status_code == 429 and "Retry-After" in response.headers
    # Another address is counted apart.
    other = client.get("/api/v1/me", environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 401
    # CORS preflights (browser-launched packages) are never counted.
    assert client.options("/xapi/statements").status_code == 200
    assert client.options("/xapi/statements").status_code == 200
    assert client.options("/xapi/statements").status_code == 200


def test_lrs_limits_each_key_in_its_own_error_format(client, create_org, small_limits):
    org = create_org()
    credential, secret = create_lrs_credentials(organization=org)
    db.session.commit()
    auth = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"}
    statuses = [client.get("/xapi/statements", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/xapi/statements", headers=headers)
    assert response.get_json()["error"]["code"] == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    # A statement sent with other credentials of the organization still goes through.
    other, other_secret = create_lrs_credentials(organization=org)
    db.session.commit()
    other_auth = base64.b64encode(f"{other.key}:{other_secret}".encode()).decode()
    statement = {"id": str(uuid.uuid4()), "actor": {"mbox": "mailto:a@example.com"},
                 "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                 "object": {"id": "http://example.com/a"}}
    response = client.post("/xapi/statements", json=statement,
                           headers={**headers, "Authorization": f"Basic {other_auth}"})
    assert response.status_code == 200


def test_webhook_limits_each_organization(client, create_org, small_limits):
    org, other = create_org(), create_org()
    secrets = {o.slug: advocacy.rotate_webhook_secret(organization=o) for o in (org, other)}
    db.session.commit()

    def post(slug: str):
        body = json.dumps([]).encode()
        stamp = str(int(time.time()))
        return client.post(f"/hooks/advocacy/{slug}", data=body, content_type="application/json",
                           headers={"X-Relais-Timestamp": stamp,
                                    "X-Relais-Signature": sign(secrets[slug], stamp, body)})

    assert [post(org.slug).status_code for _ in range(3)] == [400] * 3  # empty list: 400
    response = post(org.slug)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert response.get_json()["error"]["code"] == "too_many_requests"
    assert post(other.slug).status_code == 400


def test_counts_are_shared_by_every_process_through_redis(other_app, tmp_path):
    need(redis_up(REDIS_HEALTH_URL), f"Redis is not running at {REDIS_HEALTH_URL}")
    prefix = f"relais-test-{uuid.uuid4().hex}"
    settings = dict(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/shared.db",
                    RATELIMIT_STORAGE_URL=REDIS_HEALTH_URL, RATELIMIT_KEY_PREFIX=prefix,
                    RATELIMIT_ANONYMOUS="2 per minute")
    first, second = other_app(**settings), other_app(**settings)
    assert storage_url(first) == REDIS_HEALTH_URL
    # The OpenAPI document needs no credentials and no database.
    assert first.test_client().get("/api/v1/openapi.json").status_code == 200
    assert second.test_client().get("/api/v1/openapi.json").status_code == 200
    assert first.test_client().get("/api/v1/openapi.json").status_code == 429


def test_memory_is_the_storage_without_redis(app):
    assert storage_url(app) == "memory://"
