"""Times in the sessions' time zone, and sessions as iCalendar files."""

from __future__ import annotations

from datetime import datetime

from lms.courses.sessions.services import local_zone


def local(value: datetime, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A UTC datetime shown in the sessions' time zone."""
    return value.astimezone(local_zone()).strftime(fmt)


def _ical_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Fold a content line at 75 octets, as RFC 5545 asks."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def icalendar(*, uid: str, starts_at: datetime, ends_at: datetime, summary: str,
              description: str = "", location: str | None = None, url: str | None = None,
              stamp: datetime) -> bytes:
    """One event as an iCalendar file (times in UTC)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Relais//Blended programs//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "BEGIN:VEVENT", f"UID:{uid}",
             f"DTSTAMP:{_stamp(stamp)}", f"DTSTART:{_stamp(starts_at)}",
             f"DTEND:{_stamp(ends_at)}", f"SUMMARY:{_ical_text(summary)}"]
    if description:
        lines.append(f"DESCRIPTION:{_ical_text(description)}")
    if location:
        lines.append(f"LOCATION:{_ical_text(location)}")
    if url:
        lines.append(f"URL:{url}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")
