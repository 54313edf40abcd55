"""Reads of uploaded packages."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

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
    ids = list(activity_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(XapiPackage.activity_id, XapiPackage.module_id).where(
        XapiPackage.organization_id == organization_id, XapiPackage.activity_id.in_(ids)))
    return {activity_id: module_id for activity_id, module_id in rows}

