"""SAML 2.0 service provider per organization (pysaml2, with the xmlsec1 program).

Each organization is its own SP: entity ID ``<BASE_URL>/o/<slug>/saml/metadata`` (its metadata
URL), assertion consumer service ``<BASE_URL>/o/<slug>/saml/acs`` (HTTP-POST binding). Sign-ins
start at Relais (an AuthnRequest sent with the HTTP-Redirect binding and signed with the
organization's SP key); answers the IdP sends on its own (IdP-initiated) are refused, since
nothing ties them to a browser that asked.

An answer is accepted only when pysaml2 finds the assertion signed with a certificate of the
IdP's metadata (``want_assertions_signed``; certificates in the message itself are never
trusted), meant for this organization's entity ID (audience), sent to its ACS URL
(destination, recipient), within its validity (60 s of clock leeway), and answering a pending
request of this organization, which it uses up. Each assertion ID is remembered until it
expires, so a replay is refused even if it were bound to another request.

The SP key pair is generated per organization when its SAML settings are first saved; the
private key is stored encrypted (``lms.core.crypto``) and written to a private temporary
directory only while pysaml2 works (xmlsec1 reads keys from files).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from defusedxml import ElementTree
from flask import current_app
from flask_babel import lazy_gettext as _l
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.validate import ResponseLifetimeExceed, ToEarly
from saml2.xmldsig import SIG_RSA_SHA256
from sqlalchemy import delete, select

from lms.accounts import audit
from lms.accounts.models import Organization, Role, User
from lms.core import crypto
from lms.core.errors import ValidationFailed
from lms.core.models import utcnow
from lms.core.web import absolute_url
from lms.extensions import db
from lms.identity import services

# pysaml2's client, configuration, metadata and signature modules build XML schema validators
# when imported (about half a second of CPU): they are imported where a sign-in or a metadata
# document needs them, not by every process that loads the app (the CLI, each worker).
if TYPE_CHECKING:
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
from lms.identity.models import SamlAssertion, SamlRequest, SamlSettings
from lms.identity.services import SsoFailed, failure

KEY_PURPOSE = "identity-saml-sp-key"
REQUEST_TTL = timedelta(minutes=10)
CLOCK_LEEWAY = 60  # seconds of clock difference tolerated on NotBefore/NotOnOrAfter
# Replays are refused until the assertion expires, and at least this long when it says nothing.
REPLAY_WINDOW = timedelta(hours=8)
MAX_METADATA_BYTES = 1_000_000
SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"


def entity_id(organization: Organization) -> str:
    """The organization's SP entity ID, which is also its metadata URL."""
    return absolute_url(f"/o/{organization.slug}/saml/metadata")


def acs_url(organization: Organization) -> str:
    """The organization's assertion consumer service (HTTP-POST binding)."""
    return absolute_url(f"/o/{organization.slug}/saml/acs")


def generate_key_pair(organization: Organization) -> tuple[str, str]:
    """A new RSA key and a self-signed certificate (10 years) for the organization's SP, as PEM.

    SAML trusts the certificate itself (it is in the metadata), not a CA: self-signed is usual.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                         f"Relais SAML SP {organization.slug}"[:64])])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def encrypt_key(key_pem: str) -> str:
    """The SP private key as stored."""
    return crypto.encrypt_secret(key_pem, purpose=KEY_PURPOSE)


def _xmlsec() -> str:
    configured = current_app.config.get("SAML_XMLSEC_BINARY")
    return str(configured or shutil.which("xmlsec1") or "/usr/bin/xmlsec1")


def _config(organization: Organization, *, idp_metadata: str | None,
            key_file: str | None, cert_file: str | None) -> SPConfig:
    from saml2.config import SPConfig

    sp: dict[str, Any] = {
        "name": "Relais",
        "endpoints": {"assertion_consumer_service": [(acs_url(organization),
                                                      BINDING_HTTP_POST)]},
        "want_assertions_signed": True,
        "want_response_signed": False,
        "allow_unsolicited": False,
        "authn_requests_signed": key_file is not None,
        "only_use_keys_in_metadata": True,
    }
    conf: dict[str, Any] = {
        "entityid": entity_id(organization),
        "xmlsec_binary": _xmlsec(),
        "service": {"sp": sp},
        "accepted_time_diff": CLOCK_LEEWAY,
        "allow_unknown_attributes": True,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
    }
    if key_file and cert_file:
        conf.update(key_file=key_file, cert_file=cert_file,
                    encryption_keypairs=[{"key_file": key_file, "cert_file": cert_file}])
    if idp_metadata:
        conf["metadata"] = {"inline": [idp_metadata]}
    config = SPConfig()
    config.load(conf)
    return config


@contextmanager
def _key_files(settings: SamlSettings | None) -> Iterator[tuple[str | None, str | None]]:
    """The SP key and certificate as files in a private directory removed afterwards."""
    if settings is None:
        yield None, None
        return
    try:
        key_pem = crypto.decrypt_secret(settings.sp_private_key_encrypted, purpose=KEY_PURPOSE)
    except crypto.SecretUnreadable:
        raise failure("saml_key_unreadable", 500, "the SP key cannot be decrypted") from None
    with tempfile.TemporaryDirectory(prefix="relais-saml-") as tmp:
        key_file, cert_file = os.path.join(tmp, "sp.key"), os.path.join(tmp, "sp.crt")
        with open(os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as out:
            out.write(key_pem)
        with open(cert_file, "w") as out:
            out.write(settings.sp_certificate)
        yield key_file, cert_file


@contextmanager
def _client(settings: SamlSettings) -> Iterator[Saml2Client]:
    from saml2.client import Saml2Client

    with _key_files(settings) as (key_file, cert_file):
        yield Saml2Client(config=_config(settings.organization, idp_metadata=settings.idp_metadata,
                                         key_file=key_file, cert_file=cert_file))


def sp_metadata(organization: Organization) -> str:
    """The organization's SP metadata XML (with its certificate once SAML is set up)."""
    from saml2.metadata import entity_descriptor

    settings = services.saml_settings_for(organization)
    with _key_files(settings) as (key_file, cert_file):
        config = _config(organization, idp_metadata=None, key_file=key_file,
                         cert_file=cert_file)
        return str(entity_descriptor(config))


# -- the IdP's metadata --------------------------------------------------------------------------

@dataclass(frozen=True)
class IdpMetadata:
    """An IdP's metadata, checked: its XML and entity ID."""

    xml: str
    entity_id: str


def check_url(url: str, field: str) -> str:
    """``url`` if it is https (plain http only on this machine, for tests).

    :raise ValidationFailed: it is not.
    """
    url = url.strip()
    parts = urlsplit(url)
    local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if not parts.netloc or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        raise ValidationFailed(_l("Use an https address."),
                               fields={field: _l("Use an https address.")})
    return url


def fetch_metadata(url: str) -> str:
    """The metadata XML at ``url`` (fetched once, when the settings are saved).

    :raise ValidationFailed: not https, unreachable, not 200, or too large.
    """
    url = check_url(url, "idp_metadata_url")
    try:
        with requests.get(url, timeout=float(current_app.config["OIDC_HTTP_TIMEOUT"]),
                          stream=True) as response:
            response.raise_for_status()
            body = response.raw.read(MAX_METADATA_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise ValidationFailed(_l("The metadata could not be fetched."), fields={
            "idp_metadata_url": _l("The metadata could not be fetched (%(detail)s).",
                                   detail=type(exc).__name__)}) from exc
    if len(body) > MAX_METADATA_BYTES:
        raise ValidationFailed(_l("The metadata is larger than 1 MB."), fields={
            "idp_metadata_url": _l("The metadata is larger than 1 MB.")})
    return bytes(body).decode("utf-8", errors="replace")


def parse_idp_metadata(xml: str, organization: Organization, *,
                       field: str = "idp_metadata") -> IdpMetadata:
    """Check that ``xml`` describes one IdP with a signing certificate and a redirect endpoint.

    :raise ValidationFailed: not metadata, no IdP or several, no certificate, no endpoint.
    """
    xml = xml.strip()
    try:
        config = _config(organization, idp_metadata=xml, key_file=None, cert_file=None)
        store = config.metadata
        idps = list(store.identity_providers()) if store is not None else []
    except Exception as exc:  # pysaml2 raises many kinds for malformed metadata
        raise ValidationFailed(_l("The SAML metadata is not valid."), fields={
            field: _l("This is not SAML metadata (%(detail)s).",
                      detail=type(exc).__name__)}) from exc
    if len(idps) != 1:
        raise ValidationFailed(_l("The SAML metadata is not valid."), fields={
            field: _l("The metadata must describe one identity provider (it describes "
                      "%(count)s).", count=len(idps))})
    idp = idps[0]
    if not store.certs(idp, "idpsso", use="signing"):
        raise ValidationFailed(_l("The SAML metadata is not valid."), fields={
            field: _l("The metadata has no signing certificate.")})
    if not store.single_sign_on_service(idp, BINDING_HTTP_REDIRECT):
        raise ValidationFailed(_l("The SAML metadata is not valid."), fields={
            field: _l("The metadata has no single sign-on address with the HTTP-Redirect "
                      "binding.")})
    return IdpMetadata(xml=xml, entity_id=idp)


# -- settings ------------------------------------------------------------------------------------

def save_settings(*, organization: Organization, idp_metadata: str | None,
                  idp_metadata_url: str | None, allowed_domains: str,
                  default_role: str | Role, email_attribute: str = "email",
                  name_attribute: str | None = None, groups_attribute: str = "groups",
                  role_mapping: str = "", team_attribute: str | None = None,
                  require_sso: bool = False, break_glass_user: User | None = None,
                  enabled: bool = True, actor: User | None = None,
                  address: str | None = None) -> SamlSettings:
    """Create or update the organization's SAML settings, and record it in the audit log.

    The IdP metadata is the pasted XML, else the XML fetched once from ``idp_metadata_url``,
    else (on an update) the metadata already stored. The SP key pair is generated on the first
    save, and again if the stored one cannot be decrypted any more.

    :raise ValidationFailed: the metadata is missing, unreachable or unusable; a shared field
        is malformed (as for OpenID Connect).
    """
    fields: dict[str, Any] = {}
    settings = services.saml_settings_for(organization)
    metadata: IdpMetadata | None = None
    source = "kept"
    url = (idp_metadata_url or "").strip() or None
    try:
        if idp_metadata and idp_metadata.strip():
            metadata, source = parse_idp_metadata(idp_metadata, organization), "pasted"
        elif url:
            metadata = parse_idp_metadata(fetch_metadata(url), organization,
                                          field="idp_metadata_url")
            source = "url"
        elif settings is None:
            fields["idp_metadata"] = _l("Paste the identity provider's metadata or give its "
                                        "URL.")
    except ValidationFailed as exc:
        fields.update(exc.fields)
    email_attribute = (email_attribute or "").strip()
    if not email_attribute:
        fields["email_attribute"] = _l("Required.")
    policy = services.check_policy(
        organization=organization, allowed_domains=allowed_domains, default_role=default_role,
        role_mapping=role_mapping, require_sso=require_sso, break_glass_user=break_glass_user,
        fields=fields)
    if fields:
        raise ValidationFailed(_l("The SAML settings are not valid."), fields=fields)
    created = settings is None
    if settings is None:
        settings = SamlSettings(organization=organization)
        db.session.add(settings)
    key_generated = False
    if not created:
        try:
            crypto.decrypt_secret(settings.sp_private_key_encrypted, purpose=KEY_PURPOSE)
        except crypto.SecretUnreadable:
            # Lost with the old SECRET_KEY: a new pair (the IdP needs the new metadata).
            settings.sp_private_key_encrypted = ""
    if not settings.sp_private_key_encrypted:
        key_pem, settings.sp_certificate = generate_key_pair(organization)
        settings.sp_private_key_encrypted = crypto.encrypt_secret(key_pem, purpose=KEY_PURPOSE)
        key_generated = True
    if metadata is not None:
        settings.idp_metadata, settings.idp_entity_id = metadata.xml, metadata.entity_id
        settings.idp_metadata_url = url if source == "url" else None
    settings.email_attribute = email_attribute[:200]
    settings.name_attribute = (name_attribute or "").strip()[:200] or None
    settings.groups_attribute = (groups_attribute or "").strip()[:200] or "groups"
    settings.team_attribute = (team_attribute or "").strip()[:200] or None
    services.apply_policy(settings, policy, enabled=enabled)
    db.session.flush()
    # Ids, flags and counts only: no key, certificate or metadata in the log.
    audit.record(action="sso.saml_settings", actor=actor, organization=organization,
                 target=f"saml_settings:{settings.id}", address=address,
                 details={"created": created, "enabled": enabled, "require_sso": require_sso,
                          "idp_entity_id": settings.idp_entity_id[:200], "metadata": source,
                          "domains": len(policy.domains), "key_generated": key_generated})
    return settings


# -- signing in ----------------------------------------------------------------------------------

def start(*, settings: SamlSettings, next_url: str | None = None) -> str:
    """Begin a sign-in: remember the AuthnRequest's ID; return the IdP's URL for the browser.

    :raise SsoFailed: the SP key cannot be read, or the IdP's metadata is unusable.
    """
    try:
        with _client(settings) as client:
            request_id, info = client.prepare_for_authenticate(
                entityid=settings.idp_entity_id, binding=BINDING_HTTP_REDIRECT,
                sign=True, sigalg=SIG_RSA_SHA256)
    except SsoFailed:
        raise
    except Exception as exc:  # the metadata pysaml2 accepted on saving no longer loads
        raise failure("provider_unavailable", 502, f"cannot build the request: {exc}") from exc
    now = utcnow()
    db.session.execute(delete(SamlRequest).where(SamlRequest.expires_at < now))
    db.session.add(SamlRequest(request_id=request_id, organization_id=settings.organization_id,
                               next_url=next_url, expires_at=now + REQUEST_TTL))
    db.session.flush()
    return str(dict(info["headers"])["Location"])


def forget(saml_response: str | None) -> None:
    """Delete the pending request a response answers (after a failure rolled its deletion back)."""
    try:
        request_id = _in_response_to(saml_response or "")
    except SsoFailed:
        return
    if request_id:
        db.session.execute(delete(SamlRequest).where(SamlRequest.request_id == request_id))


@dataclass(frozen=True)
class Finished:
    """A completed sign-in."""

    signed_in: services.SignedIn
    next_url: str | None


def _in_response_to(saml_response: str) -> str | None:
    """The ``InResponseTo`` the (not yet verified) response names: only to find its request."""
    try:
        root = ElementTree.fromstring(base64.b64decode(saml_response, validate=False))
    except (binascii.Error, ElementTree.ParseError, ValueError) as exc:
        raise failure("invalid_assertion", 400, f"not a SAML response: {exc}") from exc
    if root.tag != f"{SAMLP}Response":
        raise failure("invalid_assertion", 400, "not a SAML response")
    return root.get("InResponseTo")


def _parse(client: Saml2Client, saml_response: str, request_id: str) -> Any:
    """The response checked by pysaml2, every refusal turned into a stable code."""
    from saml2.response import StatusError, UnsolicitedResponse
    from saml2.sigver import MissingKey, SignatureError, SigverError

    try:
        response = client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding={request_id: "/"})
    except SignatureError as exc:
        if "missing" in str(exc).lower():
            raise failure("unsigned_assertion", 401, str(exc)) from exc
        raise failure("bad_signature", 401, str(exc)) from exc
    except (MissingKey, SigverError) as exc:
        raise failure("bad_signature", 401, str(exc)) from exc
    except (ResponseLifetimeExceed, ToEarly) as exc:
        raise failure("token_expired", 401, str(exc)) from exc
    except UnsolicitedResponse as exc:
        raise failure("bad_state", 400, str(exc)) from exc
    except StatusError as exc:
        raise failure("provider_refused", 401, str(exc)) from exc
    except Exception as exc:  # pysaml2 raises bare Exception for a wrong audience
        if "AudienceRestriction" in str(exc):
            raise failure("saml_wrong_audience", 401, str(exc)) from exc
        if "recipient" in str(exc).lower():
            raise failure("wrong_destination", 401, str(exc)) from exc
        raise failure("invalid_assertion", 401, f"{type(exc).__name__}: {exc}") from exc
    if response is None:
        # pysaml2 answers None when the Destination is not this organization's ACS URL.
        raise failure("wrong_destination", 401, "the response is meant for another address")
    if response.assertion is None:
        raise failure("invalid_assertion", 401, "no assertion")
    return response


def _attributes(assertion: Any) -> dict[str, list[str]]:
    """The assertion's attributes by name and by friendly name, values as text."""
    found: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            values = [v.text.strip() for v in attribute.attribute_value or []
                      if isinstance(v.text, str) and v.text.strip()]
            for key in {attribute.name, attribute.friendly_name} - {None, ""}:
                found.setdefault(key, []).extend(values)
    return found


def asserted(settings: SamlSettings, assertion: Any) -> services.Asserted:
    """What a verified assertion says, read with the organization's attribute names."""
    attributes = _attributes(assertion)

    def first(name: str | None) -> str | None:
        values = attributes.get(name or "") or []
        return values[0] if values else None

    email = first(settings.email_attribute)
    name_id = assertion.subject.name_id if assertion.subject else None
    if not email and name_id is not None and name_id.text and "@" in name_id.text:
        email = name_id.text.strip()
    return services.Asserted(
        email=email, name=first(settings.name_attribute),
        groups=tuple(attributes.get(settings.groups_attribute) or ()),
        team=first(settings.team_attribute))


def _remember(settings: SamlSettings, assertion: Any) -> None:
    """Refuse an assertion already used; remember this one until it expires."""
    digest = hashlib.sha256(f"{settings.idp_entity_id}\n{assertion.id}".encode()).hexdigest()
    now = utcnow()
    db.session.execute(delete(SamlAssertion).where(SamlAssertion.expires_at < now))
    if db.session.scalar(select(SamlAssertion.id).where(SamlAssertion.assertion_hash == digest)):
        raise failure("bad_state", 400, "assertion already used")
    until = now + REPLAY_WINDOW
    conditions = assertion.conditions
    if conditions is not None and conditions.not_on_or_after:
        ends = datetime.fromisoformat(conditions.not_on_or_after.replace("Z", "+00:00"))
        until = max(until, ends.astimezone(UTC) + timedelta(seconds=CLOCK_LEEWAY))
    db.session.add(SamlAssertion(assertion_hash=digest, expires_at=until))
    db.session.flush()


def finish(*, organization: Organization | None, saml_response: str | None) -> Finished:
    """Complete a sign-in from the IdP's answer posted to the organization's ACS.

    :raise SsoFailed: no or unknown request (unsolicited, replayed, expired, another
        organization's), unsigned or wrongly signed assertion, wrong audience or destination,
        expired assertion, e-mail outside the organization's domains.
    """
    if not saml_response:
        raise failure("invalid_assertion", 400, "no SAMLResponse")
    settings = services.saml_settings_for(organization) if organization else None
    if organization is None or settings is None or not settings.enabled:
        raise failure("not_configured", 404, "SAML is off for this organization")
    request_id = _in_response_to(saml_response)
    if not request_id:
        raise failure("bad_state", 400, "unsolicited (IdP-initiated) responses are refused")
    pending = db.session.scalar(
        select(SamlRequest).where(SamlRequest.request_id == request_id,
                                  SamlRequest.organization_id == organization.id)
        .with_for_update())
    if pending is None or pending.expires_at < utcnow():
        raise failure("bad_state", 400, "unknown, used, expired or foreign request")
    # Used once: deleted whatever happens next (the caller commits even on failure).
    db.session.delete(pending)
    db.session.flush()
    with _client(settings) as client:
        response = _parse(client, saml_response, request_id)
    _remember(settings, response.assertion)
    signed_in = services.sign_in(settings=settings, person=asserted(settings, response.assertion))
    return Finished(signed_in=signed_in, next_url=pending.next_url)
