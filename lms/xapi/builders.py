"""Statement builders for Relais' own events: agents, verbs and activity IRIs."""

from __future__ import annotations

from typing import Any

from flask import current_app

from lms.accounts.models import User


def agent_for_user(user: User) -> dict[str, Any]:
    """The xAPI agent of a Relais user: an account on this instance, keyed by user id.

    An account rather than ``mbox`` keeps e-mail addresses out of statements forwarded to other
    LRSs, and survives a change of address.
    """
    return {"objectType": "Agent", "name": user.display_name,
            "account": {"homePage": current_app.config["BASE_URL"], "name": str(user.id)}}
