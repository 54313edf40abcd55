"""The OpenID Connect authorization-code flow with PKCE, ``state`` and ``nonce`` (Authlib).

Authlib's OAuth 2 client (on requests) builds the authorization URL and exchanges the code;
joserfc (the JOSE library Authlib's authors maintain) checks the ID token: signature against
the provider's JWKS, issuer, audience, expiry and nonce. Every failure is an :class:`SsoFailed`
with a stable code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import current_app
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select

from lms.accounts.models import Organization
from lms.accounts.services import hash_token
from lms.core.models import utcnow
from lms.core.web import absolute_url
from lms.extensions import db
from lms.identity import services
from lms.identity.models import OidcRequest, OidcSettings
from lms.identity.services import failure

SCOPES = "openid email profile"
# Asymmetric algorithms only: "none" and shared-secret HMAC are refused.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
REQUEST_TTL = timedelta(minutes=10)
CLOCK_LEEWAY = 60  # seconds of clock difference tolerated on exp/iat/nbf


def redirect_uri() -> str:
    """The callback URL to register at the provider."""
    return absolute_url("/sso/oidc/callback")


def _timeout() -> float:
    return float(current_app.config["OIDC_HTTP_TIMEOUT"])


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=_timeout())
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise failure("provider_unavailable", 502, f"{url}: {exc}") from exc
    if not isinstance(data, dict):
        raise failure("provider_unavailable", 502, f"{url}: not a JSON object")
    return data


def discover(settings: OidcSettings) -> dict[str, Any]:
    """The provider's metadata from ``/.well-known/openid-configuration``.

    :raise SsoFailed: unreachable, or it names another issuer.
    """
    metadata = _get_json(f"{settings.issuer}/.well-known/openid-configuration")
    if str(metadata.get("issuer", "")).rstrip("/") != settings.issuer:
        raise failure("provider_unavailable", 502, "the discovery document names another issuer")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(key), str):
            raise failure("provider_unavailable", 502, f"the discovery document lacks {key}")
    return metadata


def _client(settings: OidcSettings) -> OAuth2Session:
    return OAuth2Session(client_id=settings.client_id,
                         client_secret=services.client_secret(settings), scope=SCOPES,
                         redirect_uri=redirect_uri(), code_challenge_method="S256")


@dataclass(frozen=True)
class Started:
    """Where to send the browser, and the ``state`` to keep in its session."""

    url: str
    state: str


def start(*, settings: OidcSettings, login_hint: str | None = None,
          next_url: str | None = None) -> Started:
    """Begin a sign-in: remember state, nonce and PKCE verifier; return the provider's URL.

    :raise SsoFailed: the provider is unreachable or its secret unreadable.
    """
    metadata = discover(settings)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    extra = {"login_hint": login_hint} if login_hint else {}
    with _client(settings) as client:
        url, _state = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, nonce=nonce,
            code_verifier=verifier, **extra)
    now = utcnow()
    db.session.execute(delete(OidcRequest).where(OidcRequest.expires_at < now))
    db.session.add(OidcRequest(state_hash=hash_token(state),
                               organization_id=settings.organization_id, nonce=nonce,
                               code_verifier=verifier, next_url=next_url,
                               expires_at=now + REQUEST_TTL))
    db.session.flush()
    return Started(url=url, state=state)


def forget(state: str | None) -> None:
    """Delete the pending sign-in of ``state`` (after a failure rolled its deletion back)."""
    if state:
        db.session.execute(delete(OidcRequest).where(OidcRequest.state_hash == hash_token(state)))


@dataclass(frozen=True)
class Finished:
    """A completed sign-in."""

    signed_in: services.SignedIn
    next_url: str | None


def finish(*, state: str | None, session_state: str | None, code: str | None,
           error: str | None = None) -> Finished:
    """Complete a sign-in from the provider's answer (the callback's query).

    :raise SsoFailed: unknown, replayed or foreign ``state``; the provider refused or is down;
        the ID token is invalid (signature, issuer, audience, expiry, nonce); the e-mail is not
        in the organization's domains.
    """
    if not state or not session_state or not secrets.compare_digest(state, session_state):
        raise failure("bad_state", 400, "state missing or not this browser's")
    request = db.session.scalar(
        select(OidcRequest).where(OidcRequest.state_hash == hash_token(state)).with_for_update())
    if request is None or request.expires_at < utcnow():
        raise failure("bad_state", 400, "unknown, used or expired state")
    # Used once: deleted whatever happens next (the caller commits even on failure).
    db.session.delete(request)
    db.session.flush()
    if error:
        raise failure("provider_refused", 401, f"the provider answered {error}")
    if not code:
        raise failure("bad_state", 400, "no authorization code")
    organization = db.session.get(Organization, request.organization_id)
    settings = services.settings_for(organization) if organization else None
    if settings is None or not settings.enabled:
        raise failure("not_configured", 400, "single sign-on is off for this organization")
    metadata = discover(settings)
    try:
        with _client(settings) as client:
            token = client.fetch_token(metadata["token_endpoint"], code=code,
                                       code_verifier=request.code_verifier,
                                       grant_type="authorization_code", timeout=_timeout())
    except requests.RequestException as exc:
        raise failure("provider_unavailable", 502, str(exc)) from exc
    except (OAuthError, OAuth2Error, ValueError) as exc:
        raise failure("provider_refused", 401, str(exc)) from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise failure("invalid_token", 401, "no ID token in the provider's answer")
    claims = validate_id_token(id_token, settings=settings, jwks=_get_json(metadata["jwks_uri"]),
                               nonce=request.nonce)
    signed_in = services.sign_in(settings=settings,
                                 person=services.asserted_from_claims(settings, claims))
    return Finished(signed_in=signed_in, next_url=request.next_url)


def validate_id_token(id_token: str, *, settings: OidcSettings, jwks: dict[str, Any],
                      nonce: str) -> dict[str, Any]:
    """The claims of ``id_token`` once its signature, issuer, audience, expiry and nonce hold.

    :raise SsoFailed: with code ``token_expired``, ``wrong_audience`` or ``invalid_token``.
    """
    try:
        key_set = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        token = jwt.decode(id_token, key_set, algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError) as exc:
        raise failure("invalid_token", 401, f"bad signature or format: {exc}") from exc
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY,
        iss={"essential": True, "value": settings.issuer},
        aud={"essential": True, "value": settings.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(token.claims)
    except ExpiredTokenError as exc:
        raise failure("token_expired", 401, str(exc)) from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        if getattr(exc, "claim", None) == "aud":
            raise failure("wrong_audience", 401, str(exc)) from exc
        raise failure("invalid_token", 401, str(exc)) from exc
    except JoseError as exc:
        raise failure("invalid_token", 401, str(exc)) from exc
    return dict(token.claims)
