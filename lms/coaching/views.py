"""Coaching pages under /o/<slug>/ (being written)."""

from __future__ import annotations

from lms.accounts.authz import org_blueprint

bp = org_blueprint("coaching", __name__)
