"""Per-organization disk quota: the files an organization's people upload share one budget.

What counts is registered by the packages that store files (xAPI packages, exercise hand-ins):
each gives the bytes one organization holds, computed from sizes it keeps (never by reading
the files). Before storing a file, a service asks :func:`check_room`; over the quota the upload
is refused with a 422 naming the field and saying how much is used, on the page and in the API.
``ORGANIZATION_QUOTA_BYTES`` sets the budget (2 GB by default; 0 turns the quota off).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.core.errors import ValidationFailed
from lms.core.formatting import lazy_file_size
from lms.core.registry import Registry


@dataclass(frozen=True)
class UsageSource:
    """One kind of stored file: its name (``packages``, ``handins``) and how many bytes an
    organization holds of it.
    """

    kind: str
    measure: Callable[[int], int]


SOURCES: Registry[UsageSource] = Registry("disk usage")


class QuotaExceeded(ValidationFailed):
    """Storing the file would take the organization past its disk quota (HTTP 422)."""

    code = "quota_exceeded"


def quota_bytes() -> int:
    """The disk quota of every organization, in bytes; 0 means none."""
    return int(current_app.config["ORGANIZATION_QUOTA_BYTES"] or 0)


def usage(organization_id: int) -> dict[str, int]:
    """Bytes the organization holds, by kind of file (every registered source)."""
    return {source.kind: int(source.measure(organization_id)) for source in SOURCES}


def check_room(organization_id: int, adding: int, *, field: str, freed: int = 0) -> None:
    """Check that the organization may store ``adding`` more bytes.

    :param field: the form or JSON field the file came in, named in the error.
    :param freed: bytes this change removes at the same time (a package it replaces).
    :raise QuotaExceeded: the organization would go over its quota.
    """
    quota = quota_bytes()
    if not quota:
        return
    used = sum(usage(organization_id).values())
    if used - freed + adding <= quota:
        return
    message = _l("Your organization's storage is full: %(used)s of %(quota)s are used and this "
                 "file needs %(size)s. Delete files that are no longer needed or ask an "
                 "administrator to raise the quota.", used=lazy_file_size(used),
                 quota=lazy_file_size(quota), size=lazy_file_size(adding))
    raise QuotaExceeded(message, fields={field: message})
