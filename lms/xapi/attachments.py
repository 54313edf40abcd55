"""Statement attachments: multipart/mixed requests and responses, and signed statements.

A request with attachment contents is ``multipart/mixed``: the first part holds the statements
(``application/json``), each further part one attachment with ``X-Experience-API-Hash`` (its
SHA-256) and ``Content-Transfer-Encoding: binary`` (xAPI 1.0.3, Communication 1.5.2).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from lms.core.errors import BadRequest

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_ALGORITHMS = {"RS256": "SHA256", "RS384": "SHA384", "RS512": "SHA512"}


@dataclass
class Part:
    """One part of a multipart body: its headers (lower-case names) and raw content."""

    headers: dict[str, str]
    content: bytes


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """Split a multipart/mixed body into its parts.

    :raise BadRequest: no boundary, or a body that does not follow it.
    """
    match = _BOUNDARY.search(content_type)
    if not match:
        raise BadRequest("multipart/mixed needs a boundary parameter in Content-Type")
    boundary = (match.group(1) or match.group(2)).encode()
    delimiter = b"--" + boundary
    if delimiter not in body:
        raise BadRequest("the multipart body does not contain its boundary")
    chunks = body.split(delimiter)
    parts = []
    closed = False
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            closed = True
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        if not sep:
            raise BadRequest("a multipart part has no header block")
        headers = {}
        for line in head.decode("latin-1").splitlines():
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon:
                raise BadRequest(f"malformed multipart header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        parts.append(Part(headers, content))
    if not closed or not parts:
        raise BadRequest("the multipart body is not terminated by its closing boundary")
    return parts


def statements_and_attachments(body: bytes, content_type: str
                               ) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """Read a multipart statement request: the statements and attachment contents by sha2.

    :raise BadRequest: the first part is not JSON, or a part lacks its hash or binary encoding,
        or its content does not match its hash.
    """
    parts = parse_multipart(body, content_type)
    first = parts[0]
    if not first.headers.get("content-type", "").lower().startswith("application/json"):
        raise BadRequest("the first part of a multipart/mixed request must be application/json")
    try:
        statements = json.loads(first.content)
    except ValueError as exc:
        raise BadRequest("the first part is not valid JSON") from exc
    contents: dict[str, tuple[str, bytes]] = {}
    for i, part in enumerate(parts[1:], start=1):
        sha2 = part.headers.get("x-experience-api-hash")
        if not sha2:
            raise BadRequest(f"multipart part {i} has no X-Experience-API-Hash header")
        if part.headers.get("content-transfer-encoding", "").lower() != "binary":
            raise BadRequest(f"multipart part {i} must have Content-Transfer-Encoding: binary")
        if hashlib.sha256(part.content).hexdigest() != sha2.lower() and not _other_sha2(
                part.content, sha2):
            raise BadRequest(f"multipart part {i}: content does not match its hash")
        contents[sha2.lower()] = (part.headers.get("content-type", "application/octet-stream"),
                                  part.content)
    return statements, contents


def _other_sha2(content: bytes, sha2: str) -> bool:
    return any(getattr(hashlib, name)(content).hexdigest() == sha2.lower()
               for name in ("sha224", "sha384", "sha512"))


def check_attachments(statements: list[dict[str, Any]],
                      contents: dict[str, tuple[str, bytes]]) -> None:
    """Every attachment without fileUrl has its content; every content part is referenced.

    Signature attachments are verified too (see :func:`check_signature`).

    :raise BadRequest: a missing or excess part, or a bad signature.
    """
    referenced: set[str] = set()
    for st in statements:
        for item in all_attachments(st):
            sha2 = str(item.get("sha2", "")).lower()
            referenced.add(sha2)
            if sha2 not in contents and "fileUrl" not in item:
                raise BadRequest(f"attachment {sha2} has no fileUrl and its content is missing")
            if item.get("usageType") == SIGNATURE and sha2 in contents:
                if item.get("contentType") != "application/octet-stream":
                    raise BadRequest("a signature attachment must be application/octet-stream")
                check_signature(st, contents[sha2][1])
    extra = set(contents) - referenced
    if extra:
        raise BadRequest(f"multipart part {sorted(extra)[0]} is not an attachment of any "
                         "statement")


def all_attachments(st: dict[str, Any]) -> list[dict[str, Any]]:
    """The attachments a statement declares, its sub-statement's included."""
    found = list(st.get("attachments") or [])
    obj = st.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        found.extend(obj.get("attachments") or [])
    return [item for item in found if isinstance(item, dict)]


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def check_signature(st: dict[str, Any], jws: bytes) -> None:
    """Check a statement's JWS signature (Data 2.6): RS256/384/512, a JSON payload equal to the
    statement, and a valid signature when the header carries its certificate (``x5c``).

    :raise BadRequest: a malformed JWS, another algorithm, or a payload that differs.
    """
    from lms.xapi.record import comparable

    try:
        header_b64, payload_b64, signature_b64 = jws.decode("ascii").strip().split(".")
        header = json.loads(_b64(header_b64))
        payload = json.loads(_b64(payload_b64))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("the statement signature is not a valid JWS with a JSON payload") \
            from exc
    if not isinstance(header, dict) or header.get("alg") not in _ALGORITHMS:
        raise BadRequest("the statement signature must use RS256, RS384 or RS512")
    if not isinstance(payload, dict):
        raise BadRequest("the statement signature's payload must be a statement")

    def bare(value: dict[str, Any]) -> Any:
        trimmed = {k: v for k, v in value.items() if k not in ("attachments", "id")}
        return comparable(trimmed)

    if bare(payload) != bare(st) or ("id" in payload and str(payload["id"]).lower()
                                     != str(st.get("id", payload["id"])).lower()):
        raise BadRequest("the statement signature's payload differs from the statement")
    if header.get("x5c"):
        _verify_x5c(header, f"{header_b64}.{payload_b64}".encode(), _b64(signature_b64))


def _verify_x5c(header: dict[str, Any], signed: bytes, signature: bytes) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise BadRequest("the signature certificate must hold an RSA key")
        key.verify(signature, signed, padding.PKCS1v15(),
                   getattr(hashes, _ALGORITHMS[header["alg"]])())
    except (ValueError, TypeError, IndexError, InvalidSignature) as exc:
        raise BadRequest("the statement signature does not verify") from exc


def build_multipart(result: bytes, contents: list[tuple[str, str, bytes]]
                    ) -> tuple[bytes, str]:
    """A multipart/mixed body: the JSON result first, then each (sha2, type, content).

    :return: the body and its Content-Type header value.
    """
    boundary = "relais-" + secrets.token_hex(12)
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), result, b"\r\n"]
    for sha2, ctype, content in contents:
        out.append(f"--{boundary}\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: binary"
                   f"\r\nX-Experience-API-Hash: {sha2}\r\n\r\n".encode())
        out.append(content)
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/mixed; boundary={boundary}"
