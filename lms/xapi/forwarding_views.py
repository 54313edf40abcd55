"""Admin page of statement forwarding: /o/<slug>/xapi/forwarding."""

from __future__ import annotations

from flask import Flask


def init_forwarding(app: Flask) -> None:
    """Register the forwarding tables, page and ``relais xapi-outbox`` commands."""
    from lms.xapi import forwarding_models  # noqa: F401  (tables known to the metadata)
