"""A small but real OpenID Connect provider for the tests, served over HTTP on 127.0.0.1.

It serves discovery, a JWKS, ``/authorize`` (which approves the configured test person at once)
and ``/token`` (client authentication, PKCE S256 check, an RS256-signed ID token made with
joserfc). Knobs let a test make it misbehave the ways real providers or attackers do: another
audience, an expired token, ``alg: none``, a key outside its JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.support import serving


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Provider:
    """The provider's state: its clients, the person it vouches for, and how to misbehave."""

    issuer: str = ""
    clients: dict[str, dict[str, str]] = field(default_factory=dict)
    person: dict[str, Any] = field(default_factory=dict)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={
        "kid": "test-key", "use": "sig", "alg": "RS256"}))
    audience: str | None = None  # None: the client id, as it should be
    lifetime: int = 300  # seconds; negative gives an expired token
    alg: str = "RS256"  # "none" sends an unsigned token
    foreign_key: bool = False  # sign with a key the JWKS does not list
    nonce: str | None = None  # send this nonce instead of the one Relais asked for
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0

    def add_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        """Register a relying party."""
        self.clients[client_id] = {"secret": secret, "redirect_uri": redirect_uri}

    def id_token(self, client_id: str, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.audience or client_id, "iat": now,
                  "exp": now + self.lifetime, **self.person}
        if nonce:
            claims["nonce"] = self.nonce or nonce
        if self.alg == "none":
            header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            return f"{header}.{_b64(json.dumps(claims).encode())}."
        key = self.key
        if self.foreign_key:
            key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        return jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, key)


def create_provider_app(provider: Provider) -> Flask:
    """The provider's HTTP endpoints."""
    app = Flask("oidc_provider")

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify({
            "issuer": provider.issuer,
            "authorization_endpoint": f"{provider.issuer}/authorize",
            "token_endpoint": f"{provider.issuer}/token",
            "jwks_uri": f"{provider.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
        })

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify({"keys": [provider.key.as_dict(private=False)]})

    @app.get("/authorize")
    def authorize() -> Any:
        args = request.args
        client = provider.clients.get(args.get("client_id", ""))
        if client is None or args.get("redirect_uri") != client["redirect_uri"]:
            return "unknown client or redirect_uri", 400
        if (args.get("response_type") != "code" or "openid" not in args.get("scope", "").split()
                or args.get("code_challenge_method") != "S256" or not args.get("code_challenge")):
            return "bad request: code flow with PKCE S256 and the openid scope required", 400
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {"client_id": args["client_id"], "nonce": args.get("nonce"),
                                "challenge": args["code_challenge"],
                                "redirect_uri": args["redirect_uri"]}
        query = urlencode({"code": code, "state": args.get("state", "")})
        return redirect(f"{args['redirect_uri']}?{query}")

    @app.post("/token")
    def token() -> Any:
        provider.token_requests += 1
        form = request.form
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username
            secret = request.authorization.password
        client = provider.clients.get(client_id or "")
        if client is None or secret != client["secret"]:
            return jsonify({"error": "invalid_client"}), 401
        grant = provider.codes.pop(form.get("code", ""), None)
        if (form.get("grant_type") != "authorization_code" or grant is None
                or grant["client_id"] != client_id
                or form.get("redirect_uri") != grant["redirect_uri"]):
            return jsonify({"error": "invalid_grant"}), 400
        verifier = form.get("code_verifier", "")
        if _b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return jsonify({"error": "invalid_grant", "error_description": "PKCE"}), 400
        return jsonify({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": provider.id_token(client_id or "", grant["nonce"])})

    return app


@contextmanager
def running_provider() -> Iterator[Provider]:
    """Serve a provider on 127.0.0.1 (a free port) in a thread for the duration."""
    provider = Provider()
    with serving(create_provider_app(provider), "oidc-provider") as url:
        provider.issuer = url
        yield provider
