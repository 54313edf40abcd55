"""The organization dashboard, the first page people see after logging in."""

from __future__ import annotations

from typing import Any

from flask import render_template

from lms.accounts.authz import current_organization, org_blueprint
from lms.reports import queries

bp = org_blueprint("reports", __name__)


@bp.route("/")
def dashboard() -> Any:
    """What matters now for your role in this organization."""
    org = current_organization()
    return render_template("reports/dashboard.html", counts=queries.member_counts(org.id))
