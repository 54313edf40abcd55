"""Helpers shared by every package's commands: a clean failure and a commit that fails cleanly."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

import click

from lms.core.errors import DomainError
from lms.extensions import db

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """Print ``message`` on stderr and exit with status 1."""
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


def commit_or_fail(action: Callable[[], T]) -> T:
    """Run ``action()`` and commit; a domain error rolls back and exits non-zero."""
    try:
        result = action()
        db.session.commit()
        return result
    except DomainError as exc:
        db.session.rollback()
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        fail(f"{exc.message}" + (f" ({details})" if details else ""))
