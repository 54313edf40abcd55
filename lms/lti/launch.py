"""OIDC third-party login initiation and the launch: the id_token checked as LTI 1.3 says.

The platform starts at ``/lti/login`` (issuer, login hint, target); Relais remembers a state
and a nonce and sends the browser to the platform's authorization URL; the platform posts an
id_token back to ``/lti/launch``. The token's signature is checked against the platform's
JWKS (joserfc), then its issuer, audience, expiry, nonce, deployment id, message type and
version. The state is used once (deleted on arrival) and bound to the browser by a cookie.
Every failure is an :class:`~lms.lti.services.LtiFailed` with a stable code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select

from lms.accounts.services import hash_token
from lms.core.models import utcnow
from lms.core.web import absolute_url
from lms.extensions import db
from lms.lti import claims as c
from lms.lti import services
from lms.lti.models import LtiLaunchState, LtiPlatform
from lms.lti.services import LtiFailed

# Asymmetric algorithms only: "none" and shared-secret HMAC are refused.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
STATE_TTL = timedelta(minutes=10)
CLOCK_LEEWAY = 60  # seconds of clock difference tolerated on exp/iat
STATE_COOKIE_PREFIX = "relais_lti_"


def launch_url() -> str:
    """The redirect URI (and target link URI) to register at the platform."""
    return absolute_url("/lti/launch")


def state_cookie(state: str) -> str:
    """The name of the cookie binding ``state`` to the browser that started the login."""
    return STATE_COOKIE_PREFIX + hash_token(state)[:16]


def timeout() -> float:
    """Seconds to wait for a platform."""
    return float(current_app.config["LTI_HTTP_TIMEOUT"])


@dataclass(frozen=True)
class Login:
    """Where to send the browser, and the state to bind to it."""

    url: str
    state: str


def start_login(params: dict[str, str]) -> Login:
    """Answer a platform's third-party login initiation.

    :param params: the request's ``iss``, ``login_hint``, ``target_link_uri``,
        ``lti_message_hint``, ``client_id`` and ``lti_deployment_id``.
    :raise LtiFailed: a parameter is missing or the platform is not registered.
    """
    issuer, hint = params.get("iss") or "", params.get("login_hint") or ""
    if not issuer or not hint:
        raise LtiFailed(_l("The platform's login request lacks its issuer or login hint."),
                        code="bad_login")
    platform = services.find_platform(issuer, params.get("client_id"))
    if platform is None:
        raise LtiFailed(_l("This platform is not registered in Relais."),
                        code="unknown_platform", status=404)
    deployment = params.get("lti_deployment_id")
    if deployment and deployment not in platform.deployment_ids:
        raise LtiFailed(_l("This deployment of the tool is not registered in Relais."),
                        code="unknown_deployment", status=403)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(delete(LtiLaunchState).where(LtiLaunchState.expires_at < now))
    db.session.add(LtiLaunchState(state_hash=hash_token(state), platform_id=platform.id,
                                  nonce=nonce, expires_at=now + STATE_TTL))
    db.session.flush()
    query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
             "prompt": "none", "client_id": platform.client_id, "redirect_uri": launch_url(),
             "login_hint": hint, "state": state, "nonce": nonce}
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return Login(url=f"{platform.auth_login_url}{separator}{urlencode(query)}", state=state)


@dataclass(frozen=True)
class Launch:
    """A checked launch: the platform and the id_token's claims."""

    platform: LtiPlatform
    claims: dict[str, Any]

    @property
    def message_type(self) -> str:
        """``LtiResourceLinkRequest`` or ``LtiDeepLinkingRequest``."""
        return str(self.claims[c.MESSAGE_TYPE])


def finish_launch(*, state: str | None, id_token: str | None, cookie: str | None,
                  error: str | None = None) -> Launch:
    """Check a launch the platform posted; the state is used up whatever the outcome (the
    caller commits even on failure).

    :raise LtiFailed: unknown, replayed or foreign state; the platform refused; the id_token's
        signature, issuer, audience, expiry, nonce, deployment id or message is wrong.
    """
    row = db.session.scalar(select(LtiLaunchState).where(
        LtiLaunchState.state_hash == hash_token(state or "")).with_for_update()) \
        if state else None
    if row is None or row.expires_at < utcnow():
        raise LtiFailed(_l("This launch has expired or was already used."), code="bad_state")
    db.session.delete(row)
    db.session.flush()
    if not cookie or not secrets.compare_digest(cookie, state or ""):
        raise LtiFailed(_l("This launch was started in another browser."), code="bad_state")
    if error:
        raise LtiFailed(_l("The platform refused the launch."), code="platform_refused",
                        status=401)
    if not id_token:
        raise LtiFailed(_l("The platform sent no id_token."), code="invalid_token")
    platform = db.session.get(LtiPlatform, row.platform_id)
    if platform is None:
        raise LtiFailed(_l("This platform is not registered in Relais."),
                        code="unknown_platform", status=404)
    claims = validate_id_token(id_token, platform=platform, jwks=fetch_jwks(platform),
                               nonce=row.nonce)
    return Launch(platform=platform, claims=claims)


def fetch_jwks(platform: LtiPlatform) -> dict[str, Any]:
    """The platform's public keys.

    :raise LtiFailed: the JWKS URL cannot be reached or does not answer a key set.
    """
    try:
        response = requests.get(platform.jwks_url, timeout=timeout())
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise LtiFailed(_l("The platform's keys cannot be read right now."),
                        code="platform_unavailable", status=502) from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise LtiFailed(_l("The platform's keys cannot be read right now."),
                        code="platform_unavailable", status=502)
    return data


def validate_id_token(id_token: str, *, platform: LtiPlatform, jwks: dict[str, Any],
                      nonce: str) -> dict[str, Any]:
    """The claims of ``id_token`` once everything LTI 1.3 asks of a launch holds.

    :raise LtiFailed: codes ``invalid_signature``, ``token_expired``, ``wrong_audience``,
        ``wrong_issuer``, ``bad_nonce``, ``unknown_deployment`` or ``invalid_token``.
    """
    try:
        key_set = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        token = jwt.decode(id_token, key_set, algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError) as exc:
        raise LtiFailed(_l("The launch's signature is not the platform's."),
                        code="invalid_signature", status=401) from exc
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY, iss={"essential": True},
        aud={"essential": True, "value": platform.client_id}, sub={"essential": False},
        exp={"essential": True}, iat={"essential": True}, nonce={"essential": True})
    claims = dict(token.claims)
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise LtiFailed(_l("The launch has expired."), code="token_expired",
                        status=401) from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        failures = {"aud": (_l("The launch was meant for another tool."), "wrong_audience"),
                    "iss": (_l("The launch comes from another platform."), "wrong_issuer"),
                    "nonce": (_l("The launch's nonce is missing."), "bad_nonce")}
        message, code = failures.get(getattr(exc, "claim", ""),
                                     (_l("The launch is malformed."), "invalid_token"))
        raise LtiFailed(message, code=code, status=401) from exc
    except JoseError as exc:
        raise LtiFailed(_l("The launch is malformed."), code="invalid_token",
                        status=401) from exc
    if str(claims["iss"]).rstrip("/") != platform.issuer:
        raise LtiFailed(_l("The launch comes from another platform."), code="wrong_issuer",
                        status=401)
    # Several audiences: the authorized party must be this tool (OIDC Core 3.1.3.7).
    if isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 \
            and claims.get("azp") != platform.client_id:
        raise LtiFailed(_l("The launch was meant for another tool."), code="wrong_audience",
                        status=401)
    if not secrets.compare_digest(str(claims.get("nonce")), nonce):
        raise LtiFailed(_l("The launch's nonce is not the one Relais asked for."),
                        code="bad_nonce", status=401)
    if claims.get(c.DEPLOYMENT_ID) not in platform.deployment_ids:
        raise LtiFailed(_l("This deployment of the tool is not registered in Relais."),
                        code="unknown_deployment", status=403)
    if claims.get(c.VERSION) != c.LTI_VERSION or claims.get(c.MESSAGE_TYPE) not in (
            c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST):
        raise LtiFailed(_l("Relais does not handle this kind of launch."),
                        code="unsupported_message")
    return claims
