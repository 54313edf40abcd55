"""Reads of uploaded packages."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from lms.core.database import select_matching
from lms.extensions import db
from lms.packages.models import XapiPackage


def current_package(module_id: int) -> XapiPackage | None:
    """The module's package: its newest upload."""
    return db.session.scalar(select(XapiPackage).where(XapiPackage.module_id == module_id)
                             .order_by(XapiPackage.id.desc()).limit(1))


def module_aliases(activity_ids: Iterable[str], organization_id: int) -> dict[str, int]:
    """Module id of each of these activity ids that is the root activity of a package
    (current or replaced) in the organization.
    """
    # Driver SQL on the (organization, activity) index: the progress projection asks for every
    # batch of statements from outside tools (once per statement POSTed alone).
    return {row.activity_id: row.module_id for row in select_matching(
        "xapi_packages", "activity_id, module_id", organization_id, "activity_id",
        list(activity_ids))}

