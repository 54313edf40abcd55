"""Helpers for the advocacy tests."""

from __future__ import annotations

from lms.accounts.models import Organization, User
from lms.advocacy import services
from lms.extensions import db


def consent(org: Organization, *users: User) -> None:
    for user in users:
        services.give_consent(organization=org, user=user)
    db.session.commit()
