"""Reads of uploaded packages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from lms.core.database import driver_sql
from lms.extensions import db
from lms.packages.models import XapiPackage


def current_package(module_id: int) -> XapiPackage | None:
    """The module's package: its newest upload."""
    return db.session.scalar(select(XapiPackage).where(XapiPackage.module_id == module_id)
                             .order_by(XapiPackage.id.desc()).limit(1))


def module_aliases(activity_ids: Iterable[str], module_ids: Iterable[int],
                   organization_id: int) -> dict[str, int]:
    """Module id of each of these activity ids that is the root activity of a package
    (current or replaced) in the organization, and of the root activity of every package of
    ``module_ids`` and of the modules found (see
    :data:`lms.courses.cohorts.progress.ModuleAliases`): one query.
    """
    # The progress projection asks once for every batch of statements (once per statement
    # POSTed alone): driver SQL (no SQLAlchemy construct to compile for a few hundred ids) on
    # the (organization, activity) and module indexes of a small table.
    ids, modules = list(dict.fromkeys(activity_ids)), sorted(set(module_ids))
    if not ids and not modules:
        return {}
    values: tuple[Any, ...]
    if db.session.get_bind().dialect.name == "postgresql":
        named, values = "activity_id = ANY(?) OR module_id = ANY(?)", (ids, modules)
    else:
        marks = ", ".join("?" * len(ids)), ", ".join("?" * len(modules))
        named, values = f"activity_id IN ({marks[0]}) OR module_id IN ({marks[1]})", \
            (*ids, *modules)
    rows = driver_sql("SELECT activity_id, module_id FROM xapi_packages WHERE organization_id = ? "
                      "AND module_id IN (SELECT module_id FROM xapi_packages "
                      f"WHERE organization_id = ? AND ({named})) ORDER BY id",
                      (organization_id, organization_id, *values)).rows
    return {row.activity_id: row.module_id for row in rows}
