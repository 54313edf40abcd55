"""Deep Linking 2.0: a teacher on the platform picks a Relais module or program, and Relais
answers with a signed ``LtiDeepLinkingResponse`` the browser posts back to the platform.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from lms.accounts.models import User
from lms.accounts.services import hash_token
from lms.core.models import utcnow
from lms.core.web import localized
from lms.courses.programs.models import Module, Program
from lms.extensions import db
from lms.lti import claims as c
from lms.lti import keys
from lms.lti.launch import Launch, launch_url
from lms.lti.models import LtiDeepLink
from lms.lti.services import LtiFailed

TTL = timedelta(hours=1)


def start(*, launch: Launch, user: User) -> str:
    """Remember a deep-linking request for ``user``; returns the token of its picker page.

    :raise LtiFailed: the platform does not accept links, or sent no return URL.
    """
    settings = launch.claims.get(c.DEEP_LINKING_SETTINGS) or {}
    if not isinstance(settings, dict) or not isinstance(settings.get("deep_link_return_url"),
                                                         str):
        raise LtiFailed(_l("The platform did not say where to send the chosen module."),
                        code="invalid_token")
    accepted = settings.get("accept_types") or []
    if "ltiResourceLink" not in accepted:
        raise LtiFailed(_l("The platform does not accept links to modules here."),
                        code="unsupported_message")
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(delete(LtiDeepLink).where(LtiDeepLink.expires_at < now))
    data = settings.get("data")
    db.session.add(LtiDeepLink(
        token_hash=hash_token(raw), platform_id=launch.platform.id, user_id=user.id,
        deployment_id=str(launch.claims[c.DEPLOYMENT_ID]),
        return_url=settings["deep_link_return_url"][:1000],
        data=data if isinstance(data, str) else None, expires_at=now + TTL))
    db.session.flush()
    return raw


def pending(raw: str, user: User) -> LtiDeepLink | None:
    """The unexpired request of ``raw`` made by ``user``, else None."""
    row = db.session.scalar(select(LtiDeepLink).where(LtiDeepLink.token_hash == hash_token(raw)))
    if row is None or row.user_id != user.id or row.expires_at < utcnow():
        return None
    return row


def choices(request: LtiDeepLink) -> list[Program]:
    """The programs (with their modules) of the platform's organization a teacher may pick."""
    return list(db.session.scalars(select(Program).where(
        Program.organization_id == request.platform.organization_id).order_by(Program.id)))


def respond(*, request: LtiDeepLink, program: Program, module: Module | None) -> str:
    """The signed answer naming the chosen module (or program); the request is used up.

    :raise LtiFailed: the choice belongs to another organization.
    """
    platform = request.platform
    if program.organization_id != platform.organization_id or (
            module is not None and module.program_id != program.id):
        raise LtiFailed(_l("This module does not exist in this organization."),
                        code="unknown_target", status=404)
    item = module or program
    title = localized(item.title)[:255]
    custom = {c.CUSTOM_MODULE: str(module.id)} if module else {c.CUSTOM_PROGRAM: str(program.id)}
    content: dict[str, Any] = {
        "type": "ltiResourceLink", "title": title, "url": launch_url(), "custom": custom,
        # The platform creates the grade column the completion is posted to.
        "lineItem": {"scoreMaximum": 100, "label": title,
                     "resourceId": f"relais-{'module' if module else 'program'}-{item.id}"},
    }
    text = localized(item.description)
    if text:
        content["text"] = text[:1000]
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": platform.client_id, "aud": platform.issuer, "iat": now, "exp": now + 600,
        "nonce": secrets.token_urlsafe(24), c.DEPLOYMENT_ID: request.deployment_id,
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE, c.VERSION: c.LTI_VERSION,
        c.CONTENT_ITEMS: [content]}
    if request.data is not None:
        claims[c.DL_DATA] = request.data
    token = keys.sign(claims)
    db.session.delete(request)
    db.session.flush()
    return token
