"""The editorial calendar: content items with a publication window, target networks, angles
and sample posts in French and English and an owner; what is open to share now; the month and
week views; the staff's subscription feeds. Writes flush; callers commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select

from lms.accounts.authz import MANAGER_ROLES
from lms.accounts.models import Membership, Organization, User
from lms.accounts.services import hash_token
from lms.advocacy.models import NETWORKS, AdvocacyEvent, CalendarFeed, Campaign, ContentItem
from lms.advocacy.services import URL_PATTERN, record_event
from lms.advocacy.statements import to_share_seen
from lms.core.errors import ValidationFailed
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi.record import record

# A publication window longer than this is a typing mistake (2062 for 2026), not a plan.
MAX_WINDOW_DAYS = 366
TEXT_MAX = 5000


@dataclass
class ItemFields:
    """What a trainer types for a content item (a page form, an API body or a CSV row)."""

    title: str = ""
    url: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    networks: Iterable[str] = ()
    angle: str | None = None
    angle_en: str | None = None
    sample_post: str | None = None
    sample_post_en: str | None = None
    campaign_id: int | None = None
    owner_id: int | None = None


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def check_item(organization_id: int, fields: ItemFields) -> dict[str, Any]:
    """The problems of a content item's fields, by field name (empty when it is valid)."""
    problems: dict[str, Any] = {}
    if not (fields.title or "").strip():
        problems["title"] = _l("Give the content a title.")
    elif len(fields.title.strip()) > 300:
        problems["title"] = _l("At most %(count)d characters.", count=300)
    url = _clean(fields.url)
    if url is not None and (not URL_PATTERN.match(url) or len(url) > 2000):
        problems["url"] = _l("An address starting with http:// or https://.")
    if fields.starts_on is None:
        problems["starts_on"] = _l("Choose the first day it is to share.")
    elif fields.ends_on is not None:
        if fields.ends_on < fields.starts_on:
            problems["ends_on"] = _l("The window ends on or after its first day.")
        elif (fields.ends_on - fields.starts_on).days > MAX_WINDOW_DAYS:
            problems["ends_on"] = _l("A window lasts a year at most.")
    unknown = [n for n in fields.networks if n not in NETWORKS]
    if unknown:
        problems["networks"] = _l("Unknown network: %(names)s (one of %(known)s).",
                                  names=", ".join(unknown), known=", ".join(NETWORKS))
    for name in ("angle", "angle_en", "sample_post", "sample_post_en"):
        if len(getattr(fields, name) or "") > TEXT_MAX:
            problems[name] = _l("At most %(count)d characters.", count=TEXT_MAX)
    if fields.campaign_id is not None and db.session.scalar(select(Campaign.id).where(
            Campaign.id == fields.campaign_id,
            Campaign.organization_id == organization_id)) is None:
        problems["campaign_id"] = _l("No such campaign.")
    if fields.owner_id is not None and fields.owner_id not in staff_ids(organization_id):
        problems["owner_id"] = _l("The owner is a trainer, HR or an administrator here.")
    return problems


def save_item(*, organization: Organization, fields: ItemFields,
              item: ContentItem | None = None, by: User | None = None) -> ContentItem:
    """Create a dated content item (``item`` None) or change one; its owner defaults to ``by``.

    :raise ValidationFailed: a field is wrong (``fields`` says which and why).
    """
    problems = check_item(organization.id, fields)
    if problems:
        raise ValidationFailed(_l("The content is not valid."), fields=problems)
    if item is None:
        item = ContentItem(organization_id=organization.id)
        db.session.add(item)
    item.title = fields.title.strip()
    item.url = _clean(fields.url)
    item.starts_on, item.ends_on = fields.starts_on, fields.ends_on
    item.networks = ",".join(n for n in NETWORKS if n in set(fields.networks))
    item.angle, item.angle_en = _clean(fields.angle), _clean(fields.angle_en)
    item.sample_post, item.sample_post_en = (_clean(fields.sample_post),
                                             _clean(fields.sample_post_en))
    item.campaign_id = fields.campaign_id
    item.owner_id = fields.owner_id if fields.owner_id is not None else (
        by.id if by is not None and item.owner_id is None else item.owner_id)
    db.session.flush()
    return item


def fields_of(item: ContentItem) -> ItemFields:
    """A content item's current fields (to change some of them)."""
    return ItemFields(title=item.title, url=item.url, starts_on=item.starts_on,
                      ends_on=item.ends_on, networks=item.network_list, angle=item.angle,
                      angle_en=item.angle_en, sample_post=item.sample_post,
                      sample_post_en=item.sample_post_en, campaign_id=item.campaign_id,
                      owner_id=item.owner_id)


def staff_ids(organization_id: int) -> set[int]:
    """User ids of the organization's active trainers, HR and administrators."""
    return set(db.session.scalars(select(Membership.user_id).where(
        Membership.organization_id == organization_id, Membership.active.is_(True),
        Membership.role.in_(MANAGER_ROLES))))


def staff(organization_id: int) -> list[User]:
    """The organization's active trainers, HR and administrators, by name (content owners)."""
    return list(db.session.scalars(select(User).join(Membership).where(
        Membership.organization_id == organization_id, Membership.active.is_(True),
        Membership.role.in_(MANAGER_ROLES)).order_by(User.name_key, User.id)))


# -- reads ---------------------------------------------------------------------------------------

def _open_on(day: date) -> Any:
    return (ContentItem.starts_on <= day) & or_(ContentItem.ends_on.is_(None),
                                                ContentItem.ends_on >= day)


def _archived_campaign() -> Any:
    # An archived campaign's content is no longer offered to anyone.
    return exists().where(Campaign.id == ContentItem.campaign_id,
                          Campaign.archived_at.is_not(None))


def open_now(organization_id: int, today: date) -> list[ContentItem]:
    """The items to share today, the most recently opened first."""
    return list(db.session.scalars(select(ContentItem).where(
        ContentItem.organization_id == organization_id, _open_on(today),
        ~_archived_campaign()).order_by(ContentItem.starts_on.desc(), ContentItem.id.desc())))


def open_items(organization: Organization, user: User, since: date,
               today: date | None = None) -> list[ContentItem]:
    """New content to share for one person (the e-mail digest's section): the items open
    today whose window opened on or after ``since``, less those the person already shared.
    """
    today = today or utcnow().date()
    shared = select(AdvocacyEvent.id).where(
        AdvocacyEvent.organization_id == organization.id, AdvocacyEvent.user_id == user.id,
        AdvocacyEvent.content_item_id == ContentItem.id).exists()
    return list(db.session.scalars(select(ContentItem).where(
        ContentItem.organization_id == organization.id, _open_on(today),
        ContentItem.starts_on >= since, ~_archived_campaign(), ~shared).order_by(
        ContentItem.starts_on.desc(), ContentItem.id.desc())))


def record_seen(*, organization: Organization, user: User, items: list[ContentItem]) -> None:
    """Record that ``user`` saw the content open to share (``items``) as a statement."""
    record([to_share_seen(user, items, org_slug=organization.slug)],
           organization_id=organization.id)


def shared_item_ids(organization_id: int, user_id: int, item_ids: Iterable[int]) -> set[int]:
    """Which of ``item_ids`` the person has an advocacy event for."""
    ids = list(item_ids)
    if not ids:
        return set()
    return {i for i in db.session.scalars(select(AdvocacyEvent.content_item_id).distinct().where(
        AdvocacyEvent.organization_id == organization_id, AdvocacyEvent.user_id == user_id,
        AdvocacyEvent.content_item_id.in_(ids))) if i is not None}


def between(organization_id: int, first: date, last: date) -> list[ContentItem]:
    """The items whose window meets the days ``first`` to ``last`` (included), by first day."""
    return list(db.session.scalars(select(ContentItem).where(
        ContentItem.organization_id == organization_id, ContentItem.starts_on <= last,
        or_(ContentItem.ends_on.is_(None), ContentItem.ends_on >= first)).order_by(
        ContentItem.starts_on, ContentItem.id)))


def unscheduled(organization_id: int) -> list[ContentItem]:
    """Content items with no publication window yet (made before the calendar existed)."""
    return list(db.session.scalars(select(ContentItem).where(
        ContentItem.organization_id == organization_id, ContentItem.starts_on.is_(None),
        ~_archived_campaign()).order_by(ContentItem.id)))


@dataclass(frozen=True)
class Period:
    """A month or a week of the calendar: its days, and the neighbours to page to."""

    view: str  # "month" or "week"
    first: date
    last: date
    previous: date
    next: date

    @property
    def grid(self) -> list[list[date]]:
        """Whole weeks (Monday first) covering the period, for the month grid."""
        start = self.first - timedelta(days=self.first.weekday())
        end = self.last + timedelta(days=6 - self.last.weekday())
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        return [days[n:n + 7] for n in range(0, len(days), 7)]

    @property
    def days(self) -> list[date]:
        """Every day of the period."""
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def period(view: str, day: date) -> Period:
    """The month (``view`` "month") or the week (Monday to Sunday) holding ``day``."""
    if view == "week":
        first = day - timedelta(days=day.weekday())
        return Period("week", first, first + timedelta(days=6), first - timedelta(days=7),
                      first + timedelta(days=7))
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period("month", first, following - timedelta(days=1),
                  (first - timedelta(days=1)).replace(day=1), following)


def by_start_day(items: Iterable[ContentItem], first: date) -> dict[date, list[ContentItem]]:
    """Items by the day they appear on in a period starting on ``first``: their window's first
    day, or ``first`` for a window that opened before the period and is still running.
    """
    days: dict[date, list[ContentItem]] = {}
    for item in items:
        if item.starts_on is not None:
            days.setdefault(max(item.starts_on, first), []).append(item)
    return days


# -- sharing ------------------------------------------------------------------------------------

def mark_shared(*, organization: Organization, user: User, item: ContentItem, network: str,
                url: str | None = None) -> AdvocacyEvent:
    """Record that a person shared an open item (an advocacy event of kind ``share``, through
    the one intake: consent required, idempotent for the same post).

    :raise ValidationFailed: the item is not open today, or the intake refuses the event
        (no consent, unknown network, bad address).
    """
    if not item.is_open(utcnow().date()):
        raise ValidationFailed(_l("This content is not open for sharing today."))
    event, _result = record_event(organization=organization, user=user, source="manual", data={
        "network": network, "kind": "share", "occurred_at": utcnow(), "url": url or item.url,
        "content_item_id": item.id, "campaign_id": item.campaign_id})
    return event


# -- subscription feeds -------------------------------------------------------------------------

def active_feed(organization_id: int, user_id: int) -> CalendarFeed | None:
    """The person's feed in force, if any."""
    return db.session.scalar(select(CalendarFeed).where(
        CalendarFeed.organization_id == organization_id, CalendarFeed.user_id == user_id,
        CalendarFeed.revoked_at.is_(None)))


def revoke_feed(*, organization: Organization, user: User) -> bool:
    """Revoke the person's feed address: calendar apps subscribed to it get 404 from now on.
    Returns whether there was one.
    """
    feed = active_feed(organization.id, user.id)
    if feed is not None:
        feed.revoked_at = utcnow()
        db.session.flush()
    return feed is not None


def issue_feed(*, organization: Organization, user: User) -> str:
    """A new secret feed token for the person (the previous address stops working). Only its
    hash is stored: the token is shown once.
    """
    revoke_feed(organization=organization, user=user)
    raw = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(organization_id=organization.id, user_id=user.id,
                                token_hash=hash_token(raw)))
    db.session.flush()
    return raw


def feed_for(raw: str) -> CalendarFeed | None:
    """The feed a token opens: in force, and its owner still a manager of the organization
    (someone who left the staff stops receiving the calendar).
    """
    feed = db.session.scalar(select(CalendarFeed).where(
        CalendarFeed.token_hash == hash_token(raw), CalendarFeed.revoked_at.is_(None)))
    if feed is None or feed.user_id not in staff_ids(feed.organization_id):
        return None
    return feed
