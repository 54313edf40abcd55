"""A small but real SAML 2.0 identity provider for the tests, served over HTTP on 127.0.0.1.

Built on pysaml2's IdP side (``saml2.server.Server``, signing with xmlsec1): it serves its
metadata at ``/metadata`` and a single sign-on endpoint (HTTP-Redirect binding) that checks the
AuthnRequest's signature against the SP's metadata, approves the configured person at once and
answers with a page that posts a signed assertion to the SP's ACS (HTTP-POST binding), as a
real IdP does. Knobs make it misbehave the ways real IdPs or attackers do: an unsigned
assertion, one signed with a key its metadata does not list, another audience. Assertions are
valid five minutes (a test moves Relais' clock to see one expire).
"""

from __future__ import annotations

import base64
import html
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Flask, request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server

from tests.support import serving

XMLSEC = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"


def _key_pair(directory: str, name: str) -> tuple[str, str]:
    """A new RSA key and self-signed certificate written as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    key_file, cert_file = (os.path.join(directory, f"{name}.key"),
                           os.path.join(directory, f"{name}.crt"))
    with open(key_file, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    with open(cert_file, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


@dataclass
class IdentityProvider:
    """The IdP's state: the SPs it knows, the person it vouches for, and how to misbehave."""

    base: str = ""
    directory: str = ""
    key: tuple[str, str] = ("", "")
    foreign: tuple[str, str] = ("", "")  # a key pair its metadata does not list
    sp_metadata: dict[str, str] = field(default_factory=dict)  # SP entity id → its metadata
    person: dict[str, list[str]] = field(default_factory=dict)  # attribute name → values
    name_id: str = ""
    sign_assertion: bool = True
    foreign_key: bool = False
    audience: str | None = None  # None: the requesting SP, as it should be
    requests_seen: int = 0

    @property
    def entity_id(self) -> str:
        """The IdP's entity ID (also its metadata URL)."""
        return f"{self.base}/metadata"

    def config(self, *, foreign: bool = False) -> IdPConfig:
        """pysaml2's configuration, with the SPs registered so far."""
        key_file, cert_file = self.foreign if foreign else self.key
        conf: dict[str, Any] = {
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC,
            "key_file": key_file,
            "cert_file": cert_file,
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [
                    (f"{self.base}/sso/redirect", BINDING_HTTP_REDIRECT)]},
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                "want_authn_requests_signed": True,
                "policy": {"default": {"lifetime": {"minutes": 5},
                                       "attribute_restrictions": None}},
            }},
            "allow_unknown_attributes": True,
        }
        if self.sp_metadata:
            conf["metadata"] = {"inline": list(self.sp_metadata.values())}
        config = IdPConfig()
        config.load(conf)
        return config

    def metadata(self) -> str:
        """The IdP's metadata XML, as an administrator pastes it into Relais."""
        return str(entity_descriptor(self.config()))

    def add_sp(self, entity_id: str, metadata: str) -> None:
        """Trust a service provider (its metadata carries its ACS URL and certificate)."""
        self.sp_metadata[entity_id] = metadata

    def answer(self, query: dict[str, str]) -> tuple[str, str, str]:
        """The ACS URL, the base64 SAMLResponse and the RelayState for an AuthnRequest query."""
        server = Server(config=self.config())
        parsed = server.parse_authn_request(
            query["SAMLRequest"], BINDING_HTTP_REDIRECT, relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"), signature=query.get("Signature"))
        args = server.response_args(parsed.message, [BINDING_HTTP_POST])
        signer = Server(config=self.config(foreign=True)) if self.foreign_key else server
        response = signer.create_authn_response(
            identity=self.person, in_response_to=args["in_response_to"],
            destination=args["destination"],
            sp_entity_id=self.audience or args["sp_entity_id"],
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=self.name_id),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
            sign_response=False, sign_assertion=self.sign_assertion)
        return (args["destination"], base64.b64encode(str(response).encode()).decode(),
                query.get("RelayState") or "")


def create_idp_app(idp: IdentityProvider) -> Flask:
    """The IdP's HTTP endpoints."""
    app = Flask("saml_idp")

    @app.get("/metadata")
    def metadata() -> Any:
        return idp.metadata(), 200, {"Content-Type": "application/samlmetadata+xml"}

    @app.get("/sso/redirect")
    def sso() -> Any:
        idp.requests_seen += 1
        try:
            acs, saml_response, relay_state = idp.answer(request.args.to_dict())
        except Exception as exc:  # an unsigned or unknown request: a real IdP shows an error
            return f"bad AuthnRequest: {type(exc).__name__}: {exc}", 400
        return (f'<!doctype html><html><body onload="document.forms[0].submit()">'
                f'<form method="post" action="{html.escape(acs)}">'
                f'<input type="hidden" name="SAMLResponse" value="{saml_response}">'
                f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
                f'<button type="submit">Continue</button></form></body></html>')

    return app


def posted_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the IdP's auto-submitting page (what a browser would post)."""
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page).group(1))
    fields = {name: html.unescape(value)
              for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', page)}
    return action, fields


@contextmanager
def running_idp() -> Iterator[IdentityProvider]:
    """Serve an IdP on 127.0.0.1 (a free port) in a thread for the duration."""
    with tempfile.TemporaryDirectory(prefix="saml-idp-") as directory:
        idp = IdentityProvider(directory=directory, key=_key_pair(directory, "idp"),
                               foreign=_key_pair(directory, "foreign"))
        with serving(create_idp_app(idp)) as base:
            idp.base = base
            yield idp
