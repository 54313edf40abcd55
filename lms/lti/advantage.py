"""Calls to the platform's LTI Advantage services: Assignment and Grade Services (scores) and
Names and Role Provisioning Services (rosters), with an OAuth 2 client-credentials token.

The token request authenticates with a JWT assertion signed by the tool's key (RFC 7523, as
the 1EdTech Security Framework says). A platform that is down or answers 5xx/429 raises
:class:`~lms.jobs.RetryableError` (the job runs again later); any other refusal raises
:class:`PlatformRefused` (retrying would not help).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from lms.jobs import RetryableError
from lms.lti import claims as c
from lms.lti import keys
from lms.lti.launch import timeout
from lms.lti.models import LtiPlatform

MAX_ROSTER_PAGES = 1000  # a platform whose "next" links never end must not hold a job forever


class PlatformRefused(Exception):
    """The platform refused a call for a reason retrying will not change."""


def _check(response: requests.Response, what: str) -> None:
    if response.status_code >= 500 or response.status_code == 429:
        raise RetryableError(f"{what}: the platform answered {response.status_code}")
    if not response.ok:
        raise PlatformRefused(f"{what}: the platform answered {response.status_code} "
                              f"{response.text[:300]}")


def _call(method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
    try:
        response = requests.request(method, url, timeout=timeout(), **kwargs)
    except requests.RequestException as exc:
        raise RetryableError(f"{what}: {exc}") from exc
    _check(response, what)
    return response


def access_token(platform: LtiPlatform, scopes: list[str]) -> str:
    """An access token for ``scopes`` from the platform's token URL (client credentials).

    :raise RetryableError: the platform is unreachable or failing.
    :raise PlatformRefused: it refused the tool (unknown client, key or scope).
    """
    now = int(time.time())
    assertion = keys.sign({"iss": platform.client_id, "sub": platform.client_id,
                           "aud": platform.auth_token_url, "iat": now, "exp": now + 300,
                           "jti": secrets.token_urlsafe(24)})
    response = _call("POST", platform.auth_token_url, "token request", data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion, "scope": " ".join(scopes)})
    try:
        token = response.json()["access_token"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PlatformRefused("token request: no access_token in the answer") from exc
    if not isinstance(token, str):
        raise PlatformRefused("token request: no access_token in the answer")
    return token


def scores_url(lineitem_url: str) -> str:
    """The line item's ``/scores`` endpoint (its query string kept, as AGS asks)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def post_score(platform: LtiPlatform, *, lineitem_url: str, user_sub: str,
               score: float | None, completed: bool, timestamp: str) -> None:
    """Post a learner's result to a line item: completed with a score out of 100, or (after a
    completion was taken back) in progress with no score.
    """
    body: dict[str, Any] = {"userId": user_sub, "timestamp": timestamp}
    if completed:
        body.update(scoreGiven=round(float(score if score is not None else 100), 2),
                    scoreMaximum=100, activityProgress="Completed",
                    gradingProgress="FullyGraded")
    else:
        body.update(activityProgress="InProgress", gradingProgress="NotReady")
    token = access_token(platform, [c.SCOPE_SCORE])
    _call("POST", scores_url(lineitem_url), "score", data=json.dumps(body),
          headers={"Authorization": f"Bearer {token}", "Content-Type": c.SCORE_MEDIA_TYPE})


def memberships(platform: LtiPlatform, url: str) -> Iterator[dict[str, Any]]:
    """The members of a platform course, page after page (``Link: rel="next"``)."""
    token = access_token(platform, [c.SCOPE_MEMBERSHIPS])
    headers = {"Authorization": f"Bearer {token}", "Accept": c.MEMBERSHIPS_MEDIA_TYPE}
    next_url: str | None = url
    for _page in range(MAX_ROSTER_PAGES):
        if not next_url:
            return
        response = _call("GET", next_url, "roster", headers=headers)
        try:
            members = response.json().get("members")
        except (ValueError, AttributeError) as exc:
            raise PlatformRefused("roster: the answer is not a membership container") from exc
        if not isinstance(members, list):
            raise PlatformRefused("roster: the answer is not a membership container")
        yield from (m for m in members if isinstance(m, dict))
        next_url = (response.links.get("next") or {}).get("url")
