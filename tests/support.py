"""Helpers shared by tests in every folder: ``from tests.support import csrf_token``.

(Each test folder may have its own conftest.py, so ``from conftest import …`` would pick the
wrong one; import from here instead.)
"""

from __future__ import annotations

import re

from lms.accounts.models import Membership, Organization, User

PASSWORD = "correct horse battery"


def membership(user: User, org: Organization) -> Membership:
    """The membership of ``user`` in ``org``."""
    return next(m for m in user.memberships if m.organization_id == org.id)


def csrf_token(html: str) -> str:
    """Extract the CSRF token from a rendered form."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
