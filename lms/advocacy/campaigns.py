"""Campaign editing: change a campaign's objective, target and deadline, edit its content
items, archive it (kept with its figures, no longer offered to learners) or delete it (its
events stay, without the link). Functions flush; callers commit.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, delete, func, select, update

from lms.advocacy import figures
from lms.advocacy.kpis import DISTRIBUTING_KINDS
from lms.advocacy.models import METRICS, AdvocacyEvent, Campaign, ContentItem
from lms.advocacy.services import check_campaign, check_content_item
from lms.core.models import utcnow
from lms.extensions import db


def update_campaign(*, campaign: Campaign, kind: str, title: str, target_metric: str | None,
                    target_value: int | None, deadline: date | None) -> Campaign:
    """Change a campaign's objective kind, title, target metric and value, and deadline.

    :raise ValidationFailed: unknown kind or metric, empty title, negative target.
    """
    check_campaign(kind=kind, title=title, target_metric=target_metric,
                   target_value=target_value)
    campaign.kind, campaign.title = kind, title.strip()[:300]
    campaign.target_metric, campaign.target_value = target_metric, target_value
    campaign.deadline = deadline
    db.session.flush()
    return campaign


def set_archived(*, campaign: Campaign, archived: bool) -> None:
    """Archive a campaign (or bring it back)."""
    campaign.archived_at = utcnow() if archived else None
    db.session.flush()


def linked_events(campaign: Campaign) -> int:
    """How many events name the campaign or one of its content items."""
    items = select(ContentItem.id).where(ContentItem.campaign_id == campaign.id)
    return db.session.scalar(select(func.count(AdvocacyEvent.id)).where(
        AdvocacyEvent.organization_id == campaign.organization_id,
        (AdvocacyEvent.campaign_id == campaign.id) | AdvocacyEvent.content_item_id.in_(items)
    )) or 0


def delete_campaign(*, campaign: Campaign) -> int:
    """Delete a campaign and its content items; the events stay, unlinked. Returns how many
    events were unlinked.
    """
    items = [i.id for i in campaign.items]
    unlinked = linked_events(campaign)
    e = AdvocacyEvent
    db.session.execute(update(e).where(e.organization_id == campaign.organization_id,
                                       e.campaign_id == campaign.id)
                       .values(campaign_id=None).execution_options(synchronize_session=False))
    figures.move(campaign.organization_id, "campaign_id", [campaign.id])
    figures.move(campaign.organization_id, "content_item_id", items)
    if items:
        db.session.execute(update(e).where(e.organization_id == campaign.organization_id,
                                           e.content_item_id.in_(items))
                           .values(content_item_id=None)
                           .execution_options(synchronize_session=False))
        db.session.execute(delete(ContentItem).where(ContentItem.id.in_(items))
                           .execution_options(synchronize_session=False))
    db.session.expire(campaign, ["items"])
    db.session.delete(campaign)
    db.session.flush()
    return unlinked


def update_content_item(*, item: ContentItem, title: str, url: str,
                        angle: str | None) -> ContentItem:
    """Change a content item's title, URL and suggested angle.

    :raise ValidationFailed: empty title or not an http(s) URL.
    """
    check_content_item(title=title, url=url)
    item.title, item.url = title.strip()[:300], url.strip()
    item.angle = (angle or "").strip() or None
    db.session.flush()
    return item


def item_events(item: ContentItem) -> int:
    """How many events name the content item."""
    return db.session.scalar(select(func.count(AdvocacyEvent.id)).where(
        AdvocacyEvent.organization_id == item.organization_id,
        AdvocacyEvent.content_item_id == item.id)) or 0


def delete_content_item(*, item: ContentItem) -> int:
    """Remove a content item; its events stay, unlinked. Returns how many were unlinked."""
    unlinked = item_events(item)
    db.session.execute(update(AdvocacyEvent).where(
        AdvocacyEvent.organization_id == item.organization_id,
        AdvocacyEvent.content_item_id == item.id).values(content_item_id=None)
        .execution_options(synchronize_session=False))
    figures.move(item.organization_id, "content_item_id", [item.id])
    db.session.delete(item)
    db.session.flush()
    return unlinked


def progress(organization_id: int, campaigns: list[Campaign]
             ) -> dict[int, dict[str, float | int | None]]:
    """Per campaign, the value of its target metric over all its events (the number of shares
    and posts for ``shares``) and the percentage of the target (capped at 100, None without a
    target) — as ``kpis.campaign_progress``, summed in one grouped query.
    """
    if not campaigns:
        return {}
    e = AdvocacyEvent
    columns = [func.count(e.id), func.sum(case((e.kind.in_(DISTRIBUTING_KINDS), 1), else_=0)),
               *[func.sum(getattr(e, m)) for m in METRICS]]
    sums: dict[int, dict[str, int]] = {}
    for row in db.session.execute(select(e.campaign_id, *columns).where(
            e.organization_id == organization_id,
            e.campaign_id.in_([c.id for c in campaigns])).group_by(e.campaign_id)):
        sums[row[0]] = dict(zip(("events", "shares", *METRICS), (int(v or 0) for v in row[1:]),
                                strict=True))
    out: dict[int, dict[str, Any]] = {}
    for c in campaigns:
        totals = sums.get(c.id, {})
        value = totals.get(c.target_metric or "shares", 0)
        percent = min(100.0, 100.0 * value / c.target_value) if c.target_value else None
        out[c.id] = {"value": value, "percent": percent, "events": totals.get("events", 0)}
    return out
