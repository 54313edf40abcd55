"""What uploaded files take on disk: the sources of the organization's disk quota
(:mod:`lms.core.quota`) and the removal of replaced packages' files.

A package replaced by a newer upload keeps its row (its activity id still maps to the module)
but loses its unpacked folder once the replacement is committed; a rolled-back replacement
removes nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from lms.core.quota import SOURCES, UsageSource
from lms.courses.exercises.queries import screenshot_folder
from lms.extensions import db
from lms.packages.models import XapiPackage

PENDING_KEY = "relais.packages.replaced_folders"


def package_bytes(organization_id: int) -> int:
    """Unpacked bytes of the organization's packages in use (each module's newest upload)."""
    newest = (select(func.max(XapiPackage.id)).where(
        XapiPackage.organization_id == organization_id).group_by(XapiPackage.module_id))
    return int(db.session.scalar(select(func.coalesce(func.sum(XapiPackage.size), 0))
                                 .where(XapiPackage.id.in_(newest))) or 0)


def handin_bytes(organization_id: int) -> int:
    """Bytes of the organization's hand-in files (exercise screenshots), from their sizes on
    disk: the folder holds exactly the files of submissions that still exist.
    """
    folder = screenshot_folder() / str(organization_id)
    try:
        with os.scandir(folder) as entries:
            return sum(entry.stat().st_size for entry in entries if entry.is_file())
    except FileNotFoundError:
        return 0


PACKAGES = UsageSource("packages", package_bytes)
HANDINS = UsageSource("handins", handin_bytes)


def register() -> None:
    """Count packages and hand-ins in the organization's disk quota."""
    SOURCES.add(PACKAGES)
    SOURCES.add(HANDINS)


def remove_after_commit(folders: list[Path]) -> None:
    """Delete these package folders once the current transaction commits."""
    db.session.info.setdefault(PENDING_KEY, []).extend(folders)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for folder in session.info.pop(PENDING_KEY, []):
        shutil.rmtree(folder, ignore_errors=True)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
