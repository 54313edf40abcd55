"""The editorial calendar as CSV: export (the formula-safe writer) and import, in the same
columns so a file exported, edited in a spreadsheet and imported again round-trips.

An import checks every row first and reports each bad one by its line number; a file with any
bad row writes nothing, and a good file is written in the caller's one transaction. A row with
an ``id`` changes that content item, a row without one adds an item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import Membership, Organization, User
from lms.advocacy import calendar
from lms.advocacy.csvimport import Preset, read_rows
from lms.advocacy.models import NETWORKS, Campaign, ContentItem
from lms.core import csvexport
from lms.core.errors import ValidationFailed
from lms.extensions import db

COLUMNS = ["id", "title", "url", "starts_on", "ends_on", "networks", "angle_fr", "angle_en",
           "sample_post_fr", "sample_post_en", "campaign_id", "owner_email"]
FORMAT = Preset("calendar", "Relais editorial calendar", ("title", "starts_on"),
                lambda row: ("", row))
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
MAX_BYTES = 5 * 1024 * 1024


class CalendarImportRejected(ValidationFailed):
    """Some rows are bad: nothing was imported; ``errors`` lists (line, message)."""

    def __init__(self, errors: list[tuple[int, str]], *, read: int) -> None:
        super().__init__(_l("%(bad)d of %(read)d rows are not valid; nothing was imported.",
                            bad=len(errors), read=read),
                         fields={"file": _l("%(bad)d invalid rows", bad=len(errors))})
        self.errors = errors
        self.read = read


@dataclass
class CalendarImportResult:
    """What an import did."""

    read: int
    created: int
    updated: int


def export_rows(organization_id: int) -> list[list[Any]]:
    """Every dated content item as a CSV row (COLUMNS), by first day."""
    items = list(db.session.scalars(select(ContentItem).where(
        ContentItem.organization_id == organization_id, ContentItem.starts_on.is_not(None))
        .order_by(ContentItem.starts_on, ContentItem.id)))
    return [[i.id, i.title, i.url or "", i.starts_on.isoformat() if i.starts_on else "",
             i.ends_on.isoformat() if i.ends_on else "", " ".join(i.network_list),
             i.angle or "", i.angle_en or "", i.sample_post or "", i.sample_post_en or "",
             i.campaign_id or "", i.owner.email if i.owner else ""] for i in items]


def export_csv(organization_id: int) -> bytes:
    """The calendar as a CSV file (UTF-8 with a BOM, for spreadsheets)."""
    return csvexport.to_bytes(COLUMNS, export_rows(organization_id))


def _date(value: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def _owners(organization_id: int) -> dict[str, int]:
    staff = calendar.staff_ids(organization_id)
    return {email.lower(): uid for uid, email in db.session.execute(
        select(User.id, User.email).join(Membership).where(
            Membership.organization_id == organization_id)) if uid in staff}


def import_csv(*, organization: Organization, data: bytes, by: User | None = None
               ) -> CalendarImportResult:
    """Check the whole file, then add or change its content items (flushes; the caller
    commits, so the file is imported in one transaction or not at all).

    :raise CalendarImportRejected: some rows are bad (nothing written).
    :raise ValidationFailed: the file cannot be read (not UTF-8, empty, missing columns).
    """
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_l("The file is too big."),
                               fields={"file": _l("At most %(count)d MB.",
                                                  count=MAX_BYTES // 1024 // 1024)})
    _header, rows = read_rows(data, FORMAT)
    owners = _owners(organization.id)
    existing = {i.id: i for i in db.session.scalars(select(ContentItem).where(
        ContentItem.organization_id == organization.id))}
    campaigns = set(db.session.scalars(select(Campaign.id).where(
        Campaign.organization_id == organization.id)))
    errors: list[tuple[int, str]] = []
    checked: list[tuple[ContentItem | None, calendar.ItemFields]] = []
    for line, _values, row in rows:
        problems: dict[str, Any] = {}
        item = None
        if row.get("id"):
            item = existing.get(int(row["id"])) if row["id"].isdigit() else None
            if item is None:
                problems["id"] = _l("No such content item here.")
        dates: dict[str, date | None] = {}
        for name in ("starts_on", "ends_on"):
            try:
                dates[name] = _date(row[name]) if row.get(name) else None
            except ValueError:
                problems[name] = _l("A date as YYYY-MM-DD or DD/MM/YYYY.")
        networks = [n.lower() for n in row.get("networks", "").replace(",", " ").replace(
            "|", " ").split()]
        campaign_id = None
        if row.get("campaign_id"):
            raw = row["campaign_id"]
            campaign_id = int(raw) if raw.isdigit() and int(raw) in campaigns else None
            if campaign_id is None:
                problems["campaign_id"] = _l("No such campaign.")
        owner_id = None
        if row.get("owner_email"):
            owner_id = owners.get(row["owner_email"].lower())
            if owner_id is None:
                problems["owner_email"] = _l(
                    "The owner is a trainer, HR or an administrator here.")
        fields = calendar.ItemFields(
            title=row.get("title", ""), url=row.get("url"), starts_on=dates.get("starts_on"),
            ends_on=dates.get("ends_on"), networks=[n for n in networks if n in NETWORKS],
            angle=row.get("angle_fr"), angle_en=row.get("angle_en"),
            sample_post=row.get("sample_post_fr"), sample_post_en=row.get("sample_post_en"),
            campaign_id=campaign_id, owner_id=owner_id)
        unknown = [n for n in networks if n not in NETWORKS]
        if unknown:
            problems["networks"] = _l("Unknown network: %(names)s (one of %(known)s).",
                                      names=", ".join(unknown), known=", ".join(NETWORKS))
        for name, message in calendar.check_item(organization.id, fields).items():
            if name not in problems and not (name == "starts_on" and "starts_on" in problems):
                problems.setdefault(name, message)
        if problems:
            errors.append((line, "; ".join(f"{name}: {message}"
                                           for name, message in problems.items())))
        else:
            checked.append((item, fields))
    if errors:
        raise CalendarImportRejected(errors, read=len(rows))
    created = 0
    for item, fields in checked:
        calendar.save_item(organization=organization, fields=fields, item=item, by=by)
        created += item is None
    return CalendarImportResult(read=len(rows), created=created, updated=len(checked) - created)
