"""Open Badges 3.0: each certificate as an achievement credential (JSON-LD), public.

Served at ``/verify/<code>/badge.json`` with the issuer's profile, a revocation list
(``credentialStatus`` of type ``1EdTechRevocationList``) and the competencies the achievement
aligns to. The credential carries no proof: wallets check it against its hosted URL, as the
verification page does. The learner is named by a salted SHA-256 hash of their e-mail address
only, so the JSON does not disclose the address.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from lms.accounts.models import Organization
from lms.certificates.models import Certificate
from lms.core import formatting
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi.builders import activity_iri, base_url

CONTEXT = ["https://www.w3.org/ns/credentials/v2",
           "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
REVOCATION_LIST = "1EdTechRevocationList"
DIGCOMP = ("DigComp 2.2",
           "https://publications.jrc.ec.europa.eu/repository/handle/JRC128415")


def _stamp(value: datetime) -> str:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: str) -> str:
    return f"{value[:10]}T00:00:00Z"


def _text(value: dict[str, str] | str | None, lang: str) -> str:
    if isinstance(value, dict):
        return value.get(lang) or next(iter(value.values()), "")
    return value or ""


def credential_url(code: str) -> str:
    """The credential's id: the stable address it is served at."""
    return f"{base_url()}/verify/{code}/badge.json"


def issuer_url(organization: Organization) -> str:
    """The issuer profile's id (served as JSON)."""
    return f"{base_url()}/verify/issuers/{organization.slug}.json"


def revocation_list_url(organization: Organization) -> str:
    """The organization's revocation list (the credentials' ``credentialStatus.id``)."""
    return f"{base_url()}/verify/revocations/{organization.slug}.json"


def competencies_url(organization: Organization) -> str:
    """The public description of the competencies the organization's achievements align to."""
    return f"{base_url()}/verify/competencies/{organization.slug}.json"


def issuer_profile(organization: Organization) -> dict[str, Any]:
    """The issuer as an Open Badges ``Profile``."""
    return {"id": issuer_url(organization), "type": ["Profile"], "name": organization.name,
            "url": base_url()}


def _salt(code: str) -> str:
    # Stable for a credential (the JSON is the same on every request), unguessable.
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"badge-salt:{code}".encode(), hashlib.sha256).hexdigest()[:16]


def identity_hash(identity: str, salt: str) -> str:
    """``sha256$`` + hex SHA-256 of the identity followed by the salt (OB ``IdentityHash``)."""
    return "sha256$" + hashlib.sha256(f"{identity}{salt}".encode()).hexdigest()


def _framework(organization_id: int) -> tuple[str, dict[str, Any]]:
    from lms.assessments.models import Competency
    from lms.assessments.queries import default_framework

    framework = default_framework(organization_id)
    if framework is None:
        return "", {}
    competencies = db.session.scalars(select(Competency).where(
        Competency.framework_id == framework.id).order_by(Competency.position))
    return _text(framework.title, "en"), {c.code: c for c in competencies}


def alignments(certificate: Certificate, lang: str) -> list[dict[str, Any]]:
    """One alignment per competency the certificate names (and its DigComp 2.2 areas)."""
    framework_name, competencies = _framework(certificate.organization_id)
    target = competencies_url(certificate.organization)
    out: list[dict[str, Any]] = []
    digcomp: set[str] = set()
    for objective in certificate.snapshot.get("objectives", []):
        code = objective["code"]
        out.append({"type": ["Alignment"], "targetName": _text(objective["name"], lang),
                    "targetUrl": f"{target}#{code}", "targetCode": code,
                    "targetFramework": framework_name or "Relais",
                    "targetType": "ceasn:Competency"})
        competency = competencies.get(code)
        digcomp.update(competency.digcomp if competency is not None else [])
    out.extend({"type": ["Alignment"], "targetName": f"DigComp 2.2 — {area}",
                "targetUrl": DIGCOMP[1], "targetCode": area, "targetFramework": DIGCOMP[0],
                "targetType": "ceasn:Competency"} for area in sorted(digcomp))
    return out


def credential(certificate: Certificate) -> dict[str, Any]:
    """The certificate as an Open Badges 3.0 ``OpenBadgeCredential`` (AchievementCredential)."""
    s = certificate.snapshot
    lang = certificate.language
    program = _text(s["program"]["title"], lang)
    organization = certificate.organization
    salt = _salt(certificate.code)
    user = certificate.user
    identity = ({"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                 "identityHash": identity_hash(user.email.lower(), salt), "salt": salt}
                if user is not None else
                {"type": "IdentityObject", "identityType": "name", "hashed": True,
                 "identityHash": identity_hash(s["learner"]["name"], salt), "salt": salt})
    modules = ", ".join(_text(m["title"], lang) for m in s.get("modules", []))
    with force_locale(lang):  # "9 h 20", as on the certificate, not "9.33 hours"
        hours = formatting.duration(hours=s["hours"]["total"])
    if lang == "fr":
        description = (f"Attestation de fin de formation : {program} "
                       f"({hours}), délivrée par {organization.name}.")
        narrative = (f"Suivre le parcours « {program} » jusqu'au bout : {modules}. "
                     f"Évaluation : {_text(s['evaluation']['method'], lang)}")
    else:
        description = (f"Certificate of completion: {program} ({hours}), "
                       f"issued by {organization.name}.")
        narrative = (f"Complete the \"{program}\" path: {modules}. "
                     f"Assessment: {_text(s['evaluation']['method'], lang)}")
    achievement_id = activity_iri("program", certificate.program_id) \
        if certificate.program_id is not None else f"{credential_url(certificate.code)}#achievement"
    data: dict[str, Any] = {
        "@context": CONTEXT,
        "id": credential_url(certificate.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": program,
        "description": description,
        "issuer": issuer_profile(organization),
        "validFrom": _stamp(certificate.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [identity],
            "activityStartDate": _day(s["dates"]["start"]),
            "activityEndDate": _day(s["dates"]["end"]),
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "CertificateOfCompletion",
                "name": program,
                "description": description,
                "criteria": {"narrative": narrative},
                "alignment": alignments(certificate, lang),
                "inLanguage": lang,
                "creator": issuer_profile(organization),
            },
        },
        "credentialStatus": {"id": revocation_list_url(organization),
                             "type": REVOCATION_LIST},
    }
    if certificate.valid_until is not None:
        data["validUntil"] = _stamp(certificate.valid_until)
    return data


def revocation_list(organization: Organization) -> dict[str, Any]:
    """The organization's revoked credentials (ids and dates; never the reasons, which are
    internal).
    """
    rows = db.session.execute(select(Certificate.code, Certificate.revoked_at).where(
        Certificate.organization_id == organization.id, Certificate.revoked_at.is_not(None))
        .order_by(Certificate.revoked_at, Certificate.id)).all()
    return {"id": revocation_list_url(organization), "type": REVOCATION_LIST,
            "issuer": issuer_url(organization), "updated": _stamp(utcnow()),
            "revokedCredentials": [{"id": credential_url(code), "revoked": True,
                                    "revocationDate": _stamp(at) if at else None}
                                   for code, at in rows]}


def competencies(organization: Organization) -> dict[str, Any]:
    """The framework's competencies (public: they describe the achievements, not people)."""
    name, found = _framework(organization.id)
    return {"framework": name, "url": competencies_url(organization),
            "competencies": [{"code": c.code, "name": c.name, "description": c.description,
                              "digcomp": c.digcomp} for c in found.values()]}
