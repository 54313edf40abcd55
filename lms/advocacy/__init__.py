"""Advocacy: real activity on social networks tied to learning (events, consent, campaigns,
ingestion by hand, CSV, webhook and API, KPIs)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the models, pages, webhook, CLI, import job, demo step and API resource."""
    from lms.advocacy import models  # noqa: F401  (tables known to migrations and tests)
