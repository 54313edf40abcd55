"""Content proposals: any member feeds the editorial calendar with a link or a text and a note
(the news and ideas colleagues bring to the community manager); a trainer, HR or an
administrator approves it into the calendar, choosing its window, or declines it with a reason
the proposer reads. Each step is an xAPI statement. Writes flush; callers commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select

from lms.accounts.models import Organization, User
from lms.advocacy import calendar
from lms.advocacy.models import ContentItem, ContentProposal
from lms.advocacy.services import URL_PATTERN
from lms.advocacy.statements import proposal_statement
from lms.core.errors import DomainError, ValidationFailed, checked_text
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi.record import record

NOTE_MAX = 2000


class AlreadyReviewed(DomainError, code="already_reviewed", status=409):
    """The proposal was approved or declined already (HTTP 409)."""


def propose(*, organization: Organization, user: User, title: str, url: str | None = None,
            text: str | None = None, note: str | None = None) -> ContentProposal:
    """Propose a link or a text for the calendar, with an optional note for the reviewer.

    :raise ValidationFailed: no title, neither a link nor a text, a bad address, too long.
    """
    title, url, text, note = ((title or "").strip(), (url or "").strip() or None,
                              (text or "").strip() or None, (note or "").strip() or None)
    problems = {}
    if not title:
        problems["title"] = _l("Give your idea a title.")
    elif len(title) > 300:
        problems["title"] = _l("At most %(count)d characters.", count=300)
    if url is None and text is None:
        problems["url"] = _l("Give a link, a text, or both.")
    elif url is not None and (not URL_PATTERN.match(url) or len(url) > 2000):
        problems["url"] = _l("An address starting with http:// or https://.")
    if text is not None and len(text) > calendar.TEXT_MAX:
        problems["text"] = _l("At most %(count)d characters.", count=calendar.TEXT_MAX)
    if note is not None and len(note) > NOTE_MAX:
        problems["note"] = _l("At most %(count)d characters.", count=NOTE_MAX)
    if problems:
        raise ValidationFailed(_l("The proposal is not valid."), fields=problems)
    proposal = ContentProposal(organization_id=organization.id, proposed_by_id=user.id,
                               title=title, url=url, text=text, note=note)
    db.session.add(proposal)
    db.session.flush()
    record([proposal_statement(proposal, user, "proposed", org_slug=organization.slug)],
           organization_id=organization.id)
    return proposal


def _pending(proposal: ContentProposal) -> None:
    if proposal.status != "pending":
        raise AlreadyReviewed(_l("This proposal was reviewed already."))


def approve(*, organization: Organization, proposal: ContentProposal, reviewer: User,
            fields: calendar.ItemFields) -> ContentItem:
    """Approve a proposal into the calendar: a content item with the window and networks the
    reviewer chose; the proposal's title, link and text fill what the reviewer left empty
    (the text becomes the French sample post).

    :raise AlreadyReviewed: it was approved or declined already.
    :raise ValidationFailed: the window or another field is wrong.
    """
    _pending(proposal)
    fields = replace(fields, title=fields.title or proposal.title,
                     url=fields.url or proposal.url,
                     sample_post=fields.sample_post or proposal.text)
    item = calendar.save_item(organization=organization, fields=fields, by=reviewer)
    proposal.status, proposal.content_item_id = "approved", item.id
    proposal.reviewed_by_id, proposal.reviewed_at = reviewer.id, utcnow()
    db.session.flush()
    record([proposal_statement(proposal, reviewer, "approved", org_slug=organization.slug)],
           organization_id=organization.id)
    return item


def decline(*, organization: Organization, proposal: ContentProposal, reviewer: User,
            reason: str) -> ContentProposal:
    """Decline a proposal with a reason its author reads.

    :raise AlreadyReviewed: it was approved or declined already.
    :raise ValidationFailed: no reason given.
    """
    _pending(proposal)
    reason = checked_text(reason, field="reason", max_length=NOTE_MAX,
                          too_long=_l("The reason is too long."),
                          required=(_l("Say why, for the colleague who proposed it."),
                                    _l("Give a reason.")))
    proposal.status, proposal.decline_reason = "declined", reason
    proposal.reviewed_by_id, proposal.reviewed_at = reviewer.id, utcnow()
    db.session.flush()
    record([proposal_statement(proposal, reviewer, "declined", org_slug=organization.slug,
                               reason=reason)], organization_id=organization.id)
    return proposal


def listed(organization_id: int, *, user_id: int | None = None,
           statuses: Iterable[str] | None = None, limit: int = 200) -> list[ContentProposal]:
    """Proposals, pending first then the newest (one person's when ``user_id`` is given)."""
    stmt = select(ContentProposal).where(ContentProposal.organization_id == organization_id)
    if user_id is not None:
        stmt = stmt.where(ContentProposal.proposed_by_id == user_id)
    if statuses is not None:
        stmt = stmt.where(ContentProposal.status.in_(list(statuses)))
    return list(db.session.scalars(stmt.order_by(
        case((ContentProposal.status == "pending", 0), else_=1),
        ContentProposal.created_at.desc(), ContentProposal.id.desc()).limit(limit)))
