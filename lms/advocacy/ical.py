"""The editorial calendar as an iCalendar subscription feed (RFC 5545, through the icalendar
library): one all-day event per dated content item, from its first to its last day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event

from lms.advocacy.models import ContentItem

# How far back a subscribed calendar shows past content (further back nobody plans).
PAST_DAYS = 90


def _description(item: ContentItem) -> str:
    parts = [text for text in (item.angle, item.angle_en, item.sample_post, item.url) if text]
    if item.network_list:
        parts.append(", ".join(item.network_list))
    return "\n\n".join(parts)


def feed(items: Iterable[ContentItem], *, name: str, stamp: datetime) -> bytes:
    """The items as one iCalendar document named ``name``."""
    host = urlsplit(str(current_app.config["BASE_URL"])).hostname or "relais"
    cal = Calendar()
    cal.add("prodid", "-//Relais//Editorial calendar//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    for item in items:
        if item.starts_on is None:
            continue
        event = Event()
        event.add("uid", f"content-item-{item.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.starts_on)
        # All-day events end the day after their last day (DTEND is exclusive).
        event.add("dtend", (item.ends_on or item.starts_on) + timedelta(days=1))
        event.add("summary", item.title)
        description = _description(item)
        if description:
            event.add("description", description)
        if item.url:
            event.add("url", item.url)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()


def window(today: date) -> tuple[date, date]:
    """The days a feed covers: a quarter back, a year ahead."""
    return today - timedelta(days=PAST_DAYS), today + timedelta(days=366)
