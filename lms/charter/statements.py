"""xAPI statement of the charter: a member ``accepted`` one version of their organization's
charter (Activity Streams' verb). The object is the version (``…/charter/<version id>``), with
its number as an extension; the organization's slug is in the context like every Relais
statement. The text itself never goes into the statement.
"""

from __future__ import annotations

from typing import Any

from lms.charter.models import CharterAcceptance
from lms.xapi import builders as b


def version_extension() -> str:
    """The activity extension holding the version number."""
    return b.extension_iri("charter-version")


def accepted(acceptance: CharterAcceptance) -> dict[str, Any]:
    """The member accepted a version of the charter."""
    version, member = acceptance.version, acceptance.membership
    names = {"fr-FR": f"Charte des réseaux sociaux, version {version.number}",
             "en-US": f"Social-media charter, version {version.number}"}
    return b.statement(
        b.agent_for_user(member.user), "accepted",
        b.activity("charter", version.id, names,
                   extensions={version_extension(): version.number}),
        context=b.context(organization=member.organization.slug),
        timestamp=acceptance.accepted_at.isoformat())
