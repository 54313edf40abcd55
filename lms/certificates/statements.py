"""xAPI statements of certificates: issued (earned), downloaded, revoked."""

from __future__ import annotations

from typing import Any

from lms.accounts.models import User
from lms.certificates.models import Certificate
from lms.xapi import builders

# Relais' own verbs (no ADL word for them), with English and French displays.
VERBS = {"earned": "a obtenu", "downloaded": "a téléchargé", "revoked": "a révoqué"}


def verb(name: str) -> dict[str, Any]:
    """A certificate verb under ``{BASE_URL}/xapi/verbs/``."""
    return {"id": f"{builders.base_url()}/xapi/verbs/{name}",
            "display": {"en-US": name, "fr-FR": VERBS[name]}}


def build(certificate: Certificate, actor: User, verb_name: str, *,
          instructor: User | None = None, reason: str | None = None) -> dict[str, Any]:
    """A statement about ``certificate`` by ``actor`` (the learner, or who downloaded or
    revoked it); the enrolment is its registration. The verification code is left out: it
    is the certificate's public key and other LRSs need not hold it.
    """
    snap = certificate.snapshot
    name = snap.get("program", {}).get("title", {})
    grouping = []
    if certificate.program_id:
        grouping.append(builders.activity_iri("program", certificate.program_id))
    if certificate.cohort_id:
        grouping.append(builders.activity_iri("cohort", certificate.cohort_id))
    extensions: dict[str, Any] = {}
    if reason:
        extensions[builders.extension_iri("reason")] = reason
    context = builders.context(registration=certificate.enrollment_id, grouping=grouping or None,
                               organization=certificate.organization.slug,
                               extensions=extensions)
    if instructor is not None:
        context["instructor"] = builders.agent_for_user(instructor)
    obj = builders.activity("certificate", certificate.id,
                            {f"{k}-FR" if k == "fr" else "en-US" if k == "en" else k: v
                             for k, v in name.items()})
    return builders.statement(builders.agent_for_user(actor), "completed", obj,
                              context=context) | {"verb": verb(verb_name)}
