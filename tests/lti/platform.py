"""A small but real LTI 1.3 platform for the tests, served over HTTP on 127.0.0.1.

It plays the LMS (Moodle, Canvas…) the way the 1EdTech specifications describe it:

- ``/launch?user=…&link=…`` and ``/deep?user=…``: the course page a person clicks, which
  auto-posts the third-party login initiation to the tool;
- ``/auth``: the OIDC authorization endpoint; it answers with an RS256 id_token (joserfc) in
  an auto-posting form to the tool's redirect URI — a resource-link launch with the Assignment
  and Grade Services and Names and Role Provisioning claims, or a deep-linking request;
- ``/jwks``: its public key; ``/token``: client credentials with a JWT assertion it checks
  against the tool's JWKS;
- ``/lineitems/<id>/lineitem/scores``: receives scores; ``/memberships``: the course roster,
  two members a page with ``Link: rel="next"``;
- ``/deep-link-return``: checks the tool's signed LtiDeepLinkingResponse and adds the chosen
  link (with its line item) to the course.

Knobs make it misbehave the ways real platforms or attackers do: another audience or issuer, an
expired token, a key outside its JWKS, an unknown deployment, another nonce, a failing score
service.
"""

from __future__ import annotations

import html
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.support import serving

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
SCOPES = {
    "score": "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "lineitem": "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "nrps": "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
}
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
DL_DATA = "opaque-course-42"


def autopost(action: str, fields: dict[str, str]) -> str:
    """A page whose form posts itself on load, as platforms do."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    return (f'<!doctype html><html><body><form id="f" method="post" '
            f'action="{html.escape(action)}">{inputs}<button>Go</button></form>'
            '<script>document.getElementById("f").submit()</script></body></html>')


@dataclass
class Platform:
    """The platform's state: its tool registration, people, course, links and grade book."""

    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={
        "kid": "platform-key", "use": "sig", "alg": "RS256"}))
    client_id: str = "relais-tool"
    deployment_id: str = "deploy-1"
    tool_login_url: str = ""
    tool_launch_url: str = ""
    tool_jwks_url: str = ""
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    context: dict[str, str] = field(default_factory=lambda: {
        "id": "course-42", "title": "Réseaux sociaux 101", "label": "RS101"})
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    lineitems: dict[str, dict[str, Any]] = field(default_factory=dict)
    deep_link_errors: list[str] = field(default_factory=list)
    token_errors: list[str] = field(default_factory=list)
    tokens: dict[str, list[str]] = field(default_factory=dict)
    # Knobs (reset by the tests' fixture).
    audience: str | None = None
    lifetime: int = 300
    foreign_key: bool = False
    deployment_override: str | None = None
    nonce_override: str | None = None
    issuer_override: str | None = None
    failing_scores: int = 0
    last_id_token: str = ""
    last_launch_form: dict[str, str] = field(default_factory=dict)

    def add_user(self, sub: str, email: str | None, name: str, role: str) -> None:
        """A person of the course (role: ``LEARNER`` or ``INSTRUCTOR``)."""
        self.users[sub] = {"email": email, "name": name, "roles": [role]}

    def add_link(self, link_id: str, title: str, custom: dict[str, str] | None = None,
                 lineitem: bool = True) -> None:
        """A link to the tool in the course, with a grade column of its own."""
        item = None
        if lineitem:
            item = str(len(self.lineitems) + 1)
            self.lineitems[item] = {"label": title, "scoreMaximum": 100, "scores": []}
        self.links[link_id] = {"title": title, "custom": custom or {}, "lineitem": item}

    def scores(self, link_id: str) -> list[dict[str, Any]]:
        """What the grade column of ``link_id`` received."""
        return self.lineitems[self.links[link_id]["lineitem"]]["scores"]

    def lineitem_url(self, item: str) -> str:
        # A query string, as Moodle and Canvas use: the tool must keep it after /scores.
        return f"{self.issuer}/lineitems/{item}/lineitem?type_id=1"

    def claims(self, sub: str, hint: dict[str, Any], nonce: str) -> dict[str, Any]:
        """The id_token's claims for a person and a message."""
        person = self.users[sub]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer_override or self.issuer,
            "aud": self.audience or self.client_id, "sub": sub, "iat": now,
            "exp": now + self.lifetime, "nonce": self.nonce_override or nonce,
            "name": person["name"],
            LTI + "deployment_id": self.deployment_override or self.deployment_id,
            LTI + "version": "1.3.0", LTI + "roles": person["roles"],
            LTI + "context": {**self.context, "type": ["http://purl.imsglobal.org/vocab/"
                                                       "lis/v2/course#CourseOffering"]},
            LTI + "target_link_uri": self.tool_launch_url,
        }
        if person["email"]:
            claims["email"] = person["email"]
        if hint.get("deep"):
            claims[LTI + "message_type"] = "LtiDeepLinkingRequest"
            claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": f"{self.issuer}/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": False, "data": DL_DATA}
            return claims
        link = self.links[hint["link"]]
        claims[LTI + "message_type"] = "LtiResourceLinkRequest"
        claims[LTI + "resource_link"] = {"id": hint["link"], "title": link["title"]}
        if link["custom"]:
            claims[LTI + "custom"] = link["custom"]
        ags: dict[str, Any] = {"scope": list(SCOPES[k] for k in ("lineitem", "score")),
                               "lineitems": f"{self.issuer}/lineitems"}
        if link["lineitem"]:
            ags["lineitem"] = self.lineitem_url(link["lineitem"])
        claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = ags
        claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"] = {
            "context_memberships_url": f"{self.issuer}/memberships",
            "service_versions": ["2.0"]}
        return claims

    def sign(self, claims: dict[str, Any]) -> str:
        key = self.key
        if self.foreign_key:
            key = RSAKey.generate_key(2048, parameters={"kid": "platform-key"})
        return jwt.encode({"alg": "RS256", "kid": "platform-key", "typ": "JWT"}, claims, key)

    def tool_claims(self, token: str) -> dict[str, Any]:
        """The claims of a JWT the tool signed, checked against the tool's JWKS."""
        keys = KeySet.import_key_set(requests.get(self.tool_jwks_url, timeout=10).json())
        return dict(jwt.decode(token, keys, algorithms=["RS256"]).claims)

    def bearer_scopes(self) -> list[str]:
        header = request.headers.get("Authorization", "")
        return self.tokens.get(header.removeprefix("Bearer "), []) \
            if header.startswith("Bearer ") else []


def create_platform_app(platform: Platform) -> Flask:
    """The platform's HTTP endpoints."""
    app = Flask("lti_platform")

    def login_page(sub: str, hint: dict[str, Any]) -> str:
        return autopost(platform.tool_login_url, {
            "iss": platform.issuer, "login_hint": sub,
            "target_link_uri": platform.tool_launch_url,
            "lti_message_hint": json.dumps(hint), "client_id": platform.client_id,
            "lti_deployment_id": platform.deployment_id})

    @app.get("/launch")
    def launch() -> Any:
        return login_page(request.args["user"], {"link": request.args["link"]})

    @app.get("/deep")
    def deep() -> Any:
        return login_page(request.args["user"], {"deep": True})

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify({"keys": [platform.key.as_dict(private=False)]})

    @app.get("/auth")
    def auth() -> Any:
        args = request.args
        if (args.get("client_id") != platform.client_id
                or args.get("redirect_uri") != platform.tool_launch_url):
            return "unknown client or redirect_uri", 400
        if (args.get("scope") != "openid" or args.get("response_type") != "id_token"
                or args.get("response_mode") != "form_post" or args.get("prompt") != "none"
                or not args.get("nonce") or not args.get("state")):
            return "not an LTI 1.3 authentication request", 400
        sub = args.get("login_hint", "")
        if sub not in platform.users:
            return "unknown user", 400
        hint = json.loads(args.get("lti_message_hint") or "{}")
        token = platform.sign(platform.claims(sub, hint, args["nonce"]))
        platform.last_id_token = token
        platform.last_launch_form = {"id_token": token, "state": args["state"]}
        return autopost(args["redirect_uri"], platform.last_launch_form)

    @app.post("/token")
    def token() -> Any:
        form = request.form
        if (form.get("grant_type") != "client_credentials" or form.get("client_assertion_type")
                != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"):
            return jsonify({"error": "unsupported_grant_type"}), 400
        try:
            claims = platform.tool_claims(form.get("client_assertion", ""))
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": platform.client_id},
                sub={"essential": True, "value": platform.client_id},
                aud={"essential": True, "value": f"{platform.issuer}/token"},
                exp={"essential": True}, jti={"essential": True}).validate(claims)
        except Exception as exc:  # noqa: BLE001  (any failure refuses the client)
            platform.token_errors.append(str(exc))
            return jsonify({"error": "invalid_client"}), 401
        scopes = [s for s in form.get("scope", "").split() if s in SCOPES.values()]
        raw = secrets.token_urlsafe(16)
        platform.tokens[raw] = scopes
        return jsonify({"access_token": raw, "token_type": "Bearer", "expires_in": 3600,
                        "scope": " ".join(scopes)})

    @app.post("/lineitems/<item>/lineitem/scores")
    def scores(item: str) -> Any:
        if SCOPES["score"] not in platform.bearer_scopes():
            return jsonify({"error": "forbidden"}), 403
        if request.args.get("type_id") != "1":
            return jsonify({"error": "the line item's query string was lost"}), 404
        if request.mimetype != "application/vnd.ims.lis.v1.score+json":
            return jsonify({"error": "wrong media type"}), 415
        if platform.failing_scores > 0:
            platform.failing_scores -= 1
            return jsonify({"error": "temporarily unavailable"}), 503
        score = json.loads(request.get_data())
        required = {"userId", "activityProgress", "gradingProgress", "timestamp"}
        if item not in platform.lineitems or not required <= set(score):
            return jsonify({"error": "bad score"}), 400
        platform.lineitems[item]["scores"].append(score)
        return Response(status=204)

    @app.get("/memberships")
    def memberships() -> Any:
        if SCOPES["nrps"] not in platform.bearer_scopes():
            return jsonify({"error": "forbidden"}), 403
        if request.headers.get("Accept") != \
                "application/vnd.ims.lti-nrps.v2.membershipcontainer+json":
            return jsonify({"error": "not acceptable"}), 406
        members = [{"user_id": sub, "status": p.get("status", "Active"), "name": p["name"],
                    "roles": p["roles"], **({"email": p["email"]} if p["email"] else {})}
                   for sub, p in platform.users.items()]
        page = int(request.args.get("page", "1"))
        body = {"id": f"{platform.issuer}/memberships", "context": platform.context,
                "members": members[(page - 1) * 2:page * 2]}
        response = jsonify(body)
        response.mimetype = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        if page * 2 < len(members):
            response.headers["Link"] = \
                f'<{platform.issuer}/memberships?page={page + 1}>; rel="next"'
        return response

    @app.post("/deep-link-return")
    def deep_link_return() -> Any:
        try:
            claims = platform.tool_claims(request.form.get("JWT", ""))
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": platform.client_id},
                aud={"essential": True, "value": platform.issuer},
                exp={"essential": True}, nonce={"essential": True}).validate(claims)
            assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
            assert claims[LTI + "version"] == "1.3.0"
            assert claims[LTI + "deployment_id"] == platform.deployment_id
            assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == DL_DATA
            items = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
            assert items and all(i["type"] == "ltiResourceLink" for i in items)
        except Exception as exc:  # noqa: BLE001  (any failure refuses the answer)
            platform.deep_link_errors.append(repr(exc))
            return "refused", 400
        for item in items:
            link_id = f"link-{len(platform.links) + 1}"
            platform.add_link(link_id, item["title"], item.get("custom"),
                              lineitem="lineItem" in item)
        return f"<p>Added to the course: {html.escape(items[0]['title'])}</p>"

    return app


@contextmanager
def running_platform() -> Iterator[Platform]:
    """Serve a platform on 127.0.0.1 (a free port) in a thread for the duration."""
    platform = Platform()
    with serving(create_platform_app(platform), "lti-platform") as url:
        platform.issuer = url
        yield platform
