"""Demo LTI: the academy's Moodle registered as a platform, so the registration page, the
tool's addresses and the JWKS are there to see. Nothing calls the platform at demo time (its
addresses are made up); launching needs a real Moodle set up as docs/integrations.md says.
"""

from __future__ import annotations

from typing import Any

from lms.lti import services

MOODLE = "https://moodle.maison-lumiere.example"


def demo_step(people: Any) -> None:
    """Register the demo company's Moodle (the tool's key is made when the JWKS is first read)."""
    if services.platforms_of(people.organization):
        return
    services.save_platform(
        organization=people.organization, name="Moodle de l'Académie Maison Lumière",
        issuer=MOODLE, client_id="rLx8kq2VbN4mTz1", deployment_ids="3",
        auth_login_url=f"{MOODLE}/mod/lti/auth.php", auth_token_url=f"{MOODLE}/mod/lti/token.php",
        jwks_url=f"{MOODLE}/mod/lti/certs.php")
