"""Open Badges 3.0: each certificate as an OpenBadgeCredential (AchievementCredential) at a
stable public URL, with its issuer profile, revocation list and competency alignments.

The structure is checked with jsonschema against the rules of the 1EdTech Open Badges 3.0
AchievementCredential JSON Schema (VC data model 2.0: ``validFrom``/``validUntil``), written out
below for what Relais emits. The official schema file itself is not vendored: set
``RELAIS_OB3_SCHEMA`` to a downloaded copy of
https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json
to validate against it as well.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from jsonschema import Draft201909Validator
from sqlalchemy import select

from lms.certificates import services
from lms.certificates.models import Certificate
from lms.core.models import utcnow
from lms.extensions import db


def _types(*required: str) -> dict:
    return {"type": "array", "minItems": 1, "items": {"type": "string"},
            "allOf": [{"contains": {"const": t}} for t in required]}


DATE_TIME = {"type": "string", "format": "date-time",
             "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"}
PROFILE = {"type": "object", "required": ["id", "type"],
           "properties": {"id": {"type": "string", "format": "uri"}, "type": _types("Profile"),
                          "name": {"type": "string"}, "url": {"type": "string"}}}
OB3 = {
    "$schema": "https://json-schema.org/draft/2019-09/schema",
    "type": "object",
    "required": ["@context", "id", "type", "issuer", "validFrom", "credentialSubject"],
    "properties": {
        # Draft 2019-09: an array of schemas in "items" checks the items in order.
        "@context": {"type": "array", "minItems": 2,
                     "items": [{"const": "https://www.w3.org/ns/credentials/v2"},
                      {"type": "string",
                       "pattern": r"^https://purl\.imsglobal\.org/spec/ob/v3p0/"
                                  r"context(-3\.\d\.\d)*\.json$"}]},
        "id": {"type": "string", "format": "uri"},
        "type": {"allOf": [_types("VerifiableCredential"),
                           {"contains": {"enum": ["AchievementCredential",
                                                  "OpenBadgeCredential"]}}]},
        "name": {"type": "string", "minLength": 1},
        "issuer": PROFILE,
        "validFrom": DATE_TIME,
        "validUntil": DATE_TIME,
        "credentialStatus": {"type": "object", "required": ["id", "type"],
                             "properties": {"id": {"type": "string"},
                                            "type": {"type": "string"}}},
        "credentialSubject": {
            "type": "object", "required": ["type", "achievement"],
            "anyOf": [{"required": ["id"]}, {"required": ["identifier"]}],
            "properties": {
                "type": _types("AchievementSubject"),
                "activityStartDate": DATE_TIME, "activityEndDate": DATE_TIME,
                "identifier": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["type", "hashed", "identityHash", "identityType"],
                    "properties": {"type": {"const": "IdentityObject"},
                                   "hashed": {"type": "boolean"},
                                   "identityHash": {"type": "string",
                                                    "pattern": r"^sha256\$[0-9a-f]{64}$"},
                                   "identityType": {"type": "string"},
                                   "salt": {"type": "string"}}}},
                "achievement": {
                    "type": "object",
                    "required": ["id", "type", "criteria", "description", "name"],
                    "properties": {
                        "id": {"type": "string", "format": "uri"},
                        "type": _types("Achievement"),
                        "name": {"type": "string"}, "description": {"type": "string"},
                        "criteria": {"type": "object", "anyOf": [
                            {"required": ["id"]}, {"required": ["narrative"]}]},
                        "creator": PROFILE,
                        "alignment": {"type": "array", "items": {
                            "type": "object", "required": ["type", "targetName", "targetUrl"],
                            "properties": {"type": _types("Alignment"),
                                           "targetName": {"type": "string"},
                                           "targetUrl": {"type": "string"},
                                           "targetCode": {"type": "string"},
                                           "targetFramework": {"type": "string"}}}}}}}},
    },
}


def validate(document: dict) -> None:
    errors = sorted(Draft201909Validator(OB3).iter_errors(document), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    official = os.environ.get("RELAIS_OB3_SCHEMA")
    if official:
        schema = json.loads(Path(official).read_text(encoding="utf-8"))
        errors = sorted(Draft201909Validator(schema).iter_errors(document), key=str)
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


@pytest.fixture()
def cert(cert_world) -> Certificate:
    services.update_settings(program=cert_world.program, template_key="default",
                             validity_months=12, renewal_lead_days=30, refresher_cohort=None,
                             accent_color=None)
    db.session.commit()
    cert_world.complete(cert_world.enrollments[0])
    return db.session.scalar(select(Certificate))


def test_badge_is_an_open_badges_3_credential(cert, cert_world, client, app):
    response = client.get(f"/verify/{cert.code}/badge.json")  # no login
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    badge = response.get_json()
    validate(badge)
    base = app.config["BASE_URL"]
    assert badge["@context"] == ["https://www.w3.org/ns/credentials/v2",
                                 "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert badge["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert badge["id"] == f"{base}/verify/{cert.code}/badge.json"
    assert badge["issuer"]["name"] == "Acme Formation" and badge["issuer"]["url"] == base
    assert badge["validFrom"].startswith(cert.issued_at.date().isoformat())
    assert badge["validUntil"].startswith(cert.valid_until.date().isoformat())
    subject = badge["credentialSubject"]
    achievement = subject["achievement"]
    assert achievement["name"] == cert.snapshot["program"]["title"][cert.language]
    assert achievement["criteria"]["narrative"]
    # The learner is a salted hash of their e-mail address; the address never appears.
    (identity,) = subject["identifier"]
    email = cert_world.learners[0].email
    expected = hashlib.sha256(f"{email}{identity['salt']}".encode()).hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert identity["identityType"] == "emailAddress" and identity["hashed"] is True
    assert email not in response.get_data(as_text=True)
    # The same JSON every time (a stable salt).
    assert client.get(f"/verify/{cert.code}/badge.json").get_json() == badge


def test_achievement_aligns_to_the_programs_competencies(cert, client):
    from lms.assessments import services as skills

    skills.load_builtin_content()
    db.session.commit()
    badge = client.get(f"/verify/{cert.code}/badge.json").get_json()
    validate(badge)
    alignment = badge["credentialSubject"]["achievement"]["alignment"]
    codes = {a["targetCode"] for a in alignment if a["targetFramework"] != "DigComp 2.2"}
    assert codes == {o["code"] for o in cert.snapshot["objectives"]} and codes
    assert all(c.startswith("C") for c in codes)
    ours = next(a for a in alignment if a["targetCode"] in codes)
    competencies = client.get(ours["targetUrl"].split("#")[0]).get_json()
    assert ours["targetCode"] in {c["code"] for c in competencies["competencies"]}
    assert any(a["targetFramework"] == "DigComp 2.2" for a in alignment)


def test_revocation_shows_in_the_status_list(cert, cert_world, client):
    badge = client.get(f"/verify/{cert.code}/badge.json").get_json()
    status = badge["credentialStatus"]
    assert status["type"] == "1EdTechRevocationList"
    listing = client.get(status["id"]).get_json()
    assert listing["revokedCredentials"] == []
    services.revoke(certificate=cert, revoked_by=cert_world.hr, reason="Secret reason")
    db.session.commit()
    response = client.get(status["id"])
    (entry,) = response.get_json()["revokedCredentials"]
    assert entry["id"] == badge["id"] and entry["revoked"] is True
    assert "Secret reason" not in response.get_data(as_text=True)
    issuer = client.get(badge["issuer"]["id"]).get_json()
    assert issuer["name"] == "Acme Formation" and "Profile" in issuer["type"]


def test_no_validity_no_valid_until_and_unknown_codes(cert_world, client):
    w = cert_world
    w.complete(w.enrollments[1])
    cert = db.session.scalar(select(Certificate))
    badge = client.get(f"/verify/{cert.code}/badge.json").get_json()
    validate(badge)
    assert "validUntil" not in badge
    assert client.get("/verify/unknown-code/badge.json").status_code == 404
    assert client.get("/verify/revocations/nope.json").status_code == 404
    # Expired: validUntil in the past, as the verification page says.
    cert.valid_until = utcnow() - timedelta(days=1)
    db.session.commit()
    assert client.get(f"/verify/{cert.code}/badge.json").get_json()["validUntil"] < \
        utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
