"""Advocacy writes: consent, settings, campaigns, and the one idempotent ingestion path that
manual entry, CSV import, the webhook and the API all go through. Functions flush; callers
commit.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text, update

from lms.accounts import audit
from lms.accounts.models import Membership, Organization, User
from lms.advocacy import figures
from lms.advocacy.models import (
    CAMPAIGN_KINDS,
    KINDS,
    MAX_TEXT,
    METRICS,
    NETWORKS,
    AdvocacyConsent,
    AdvocacyEvent,
    AdvocacySettings,
    Campaign,
    ContentItem,
)
from lms.advocacy.signals import events_ingested
from lms.advocacy.statements import StatementFactory
from lms.core.database import (
    CopyFormat,
    Formatted,
    background_writes,
    copy_rows,
    select_in,
    select_matching,
    time_processor,
)
from lms.core.errors import Forbidden, ValidationFailed
from lms.core.inputs import MAX_INT, MIN_YEAR
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi.record import (
    Built,
    Prepared,
    StatementKeys,
    StoreFormats,
    prepare_built,
    store_prepared,
)

BATCH = 1000
MAX_COUNT = 2_000_000_000
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$", re.IGNORECASE)
# An http(s) address, as every advocacy path checks it.
URL_PATTERN = _URL
NETWORK_ALIASES = {"twitter": "x", "x (twitter)": "x", "fb": "facebook", "ig": "instagram",
                   "li": "linkedin", "linked in": "linkedin"}
KIND_ALIASES = {"repost": "share", "reshare": "share", "like": "reaction", "publication": "post",
                "partage": "share", "commentaire": "comment", "réaction": "reaction"}
# Accepted without a preset: ISO 8601, and the day-first dates French spreadsheets write.
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y",
                "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")


# -- settings, secrets, consent -----------------------------------------------------------------

def settings_for(organization_id: int) -> AdvocacySettings:
    """The organization's advocacy settings, created with defaults on first use."""
    row = db.session.get(AdvocacySettings, organization_id)
    if row is None:
        row = AdvocacySettings(organization_id=organization_id, leaderboard_enabled=True)
        db.session.add(row)
        db.session.flush()
    return row


def rotate_webhook_secret(*, organization: Organization, by: User | None = None) -> str:
    """Give the organization a new webhook secret (the old one stops working) and return it.

    :param by: who replaces it (the audit log's actor), None from the command line.
    """
    row = settings_for(organization.id)
    first = not row.webhook_secret
    row.webhook_secret = "whsec_" + secrets.token_hex(32)
    audit.record(action="webhook_secret.rotate", actor=by, organization=organization,
                 target=f"organization:{organization.id}", details={"first": first})
    return row.webhook_secret


def set_leaderboard_enabled(*, organization: Organization, enabled: bool) -> None:
    """Switch the organization's leaderboard on or off."""
    settings_for(organization.id).leaderboard_enabled = enabled


def consent_of(organization_id: int, user_id: int) -> AdvocacyConsent | None:
    """The learner's consent row in the organization, active or revoked, if any."""
    return db.session.scalar(select(AdvocacyConsent).where(
        AdvocacyConsent.organization_id == organization_id,
        AdvocacyConsent.user_id == user_id))


def _audit_on_behalf(organization: Organization, user: User, by: User | None,
                     given: bool) -> None:
    # A person's own choice is theirs; someone recording it for them (HR with a signed form)
    # is a sensitive action the audit log keeps.
    if by is not None and by.id != user.id:
        audit.record(action="advocacy.consent_on_behalf", actor=by, organization=organization,
                     target=f"user:{user.id}", details={"consent": given})


def give_consent(*, organization: Organization, user: User, by: User | None = None
                 ) -> AdvocacyConsent:
    """Opt the user in to the collection of their advocacy activity (again, if revoked).

    :param by: who records it when not the user themselves (written to the audit log).
    """
    row = consent_of(organization.id, user.id)
    if row is None:
        row = AdvocacyConsent(organization_id=organization.id, user_id=user.id,
                              opted_in_at=utcnow(), leaderboard_opt_out=False)
        db.session.add(row)
    elif row.revoked_at is not None:
        row.opted_in_at, row.revoked_at = utcnow(), None
    db.session.flush()
    _audit_on_behalf(organization, user, by, True)
    return row


def revoke_consent(*, organization: Organization, user: User, by: User | None = None) -> None:
    """Stop collecting the user's activity from now on (events already stored stay theirs).

    :param by: who records it when not the user themselves (written to the audit log).
    """
    row = consent_of(organization.id, user.id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()
        _audit_on_behalf(organization, user, by, False)


def set_leaderboard_opt_out(*, organization: Organization, user: User, opt_out: bool) -> None:
    """Hide (or show again) the user on the leaderboard.

    :raise Forbidden: the user has not opted in to collection at all.
    """
    row = consent_of(organization.id, user.id)
    if row is None:
        raise Forbidden(_l("Opt in to activity collection first."))
    row.leaderboard_opt_out = opt_out
    db.session.flush()


def consenting_user_ids(organization_id: int) -> set[int]:
    """Ids of the organization's members whose consent is active."""
    return set(db.session.scalars(select(AdvocacyConsent.user_id).where(
        AdvocacyConsent.organization_id == organization_id,
        AdvocacyConsent.revoked_at.is_(None))))


# -- campaigns ----------------------------------------------------------------------------------

def check_campaign(*, kind: str, title: str, target_metric: str | None,
                   target_value: int | None) -> None:
    """Check a campaign's fields (on creation and on edit).

    :raise ValidationFailed: unknown kind or metric, empty title, negative target.
    """
    fields = {}
    if kind not in CAMPAIGN_KINDS:
        fields["kind"] = _l("one of %(values)s", values=", ".join(CAMPAIGN_KINDS))
    if not (title or "").strip():
        fields["title"] = _l("Required.")
    if target_metric is not None and target_metric not in METRICS + ("shares",):
        fields["target_metric"] = _l("one of %(values)s",
                                      values=", ".join(("shares", *METRICS)))
    if target_value is not None and (not isinstance(target_value, int) or target_value < 0):
        fields["target_value"] = _l("A positive whole number.")
    if fields:
        raise ValidationFailed(_l("The campaign is not valid."), fields=fields)


def create_campaign(*, organization: Organization, kind: str, title: str,
                    target_metric: str | None = None, target_value: int | None = None,
                    deadline: date | None = None) -> Campaign:
    """Create a campaign.

    :raise ValidationFailed: unknown kind or metric, empty title, negative target.
    """
    check_campaign(kind=kind, title=title, target_metric=target_metric,
                   target_value=target_value)
    campaign = Campaign(organization_id=organization.id, kind=kind, title=title.strip()[:300],
                        target_metric=target_metric, target_value=target_value,
                        deadline=deadline)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def check_content_item(*, title: str, url: str) -> None:
    """Check a content item's fields.

    :raise ValidationFailed: empty title or not an http(s) URL (``fields`` says which).
    """
    fields = {}
    if not (title or "").strip():
        fields["title"] = _l("Required.")
    if not _URL.match(url or "") or len(url) > 2000:
        fields["url"] = _l("An http or https address.")
    if fields:
        raise ValidationFailed(_l("The content item is not valid."), fields=fields)


def add_content_item(*, campaign: Campaign, title: str, url: str,
                     angle: str | None = None) -> ContentItem:
    """Add a content item to share to a campaign.

    :raise ValidationFailed: empty title or not an http(s) URL.
    """
    check_content_item(title=title, url=url)
    item = ContentItem(organization_id=campaign.organization_id, campaign_id=campaign.id,
                       title=title.strip()[:300], url=url, angle=angle)
    db.session.add(item)
    db.session.flush()
    return item


# -- refused events: stable codes, translated messages ------------------------------------------

# The codes of a refused event. They are a contract: the API and the webhook answer them per
# event, the CSV import keeps them with each rejected line, and the same bad event gets the same
# code from every path.
UNKNOWN_MEMBER = "unknown_member"
NO_CONSENT = "no_consent"
NOT_OWN_ACTIVITY = "not_own_activity"
INVALID_NETWORK = "invalid_network"
INVALID_KIND = "invalid_kind"
INVALID_URL = "invalid_url"
MISSING_URL = "missing_url"
INVALID_DATE = "invalid_date"
FUTURE_DATE = "future_date"
INVALID_METRIC = "invalid_metric"
INVALID_EXTERNAL_ID = "invalid_external_id"
INVALID_REFERENCE = "invalid_reference"
INVALID_TEXT = "invalid_text"
UNKNOWN_CAMPAIGN = "unknown_campaign"
UNKNOWN_CONTENT_ITEM = "unknown_content_item"
# Problems about who the event is of (shown without a field name before the message).
WHO_CODES = frozenset((UNKNOWN_MEMBER, NO_CONSENT, NOT_OWN_ACTIVITY))


class EventInvalid(ValueError):
    """One field of an event is wrong: ``code`` (see above), ``field`` and ``message`` (a lazy
    string, translated when shown). ``str()`` gives "field: message".
    """

    def __init__(self, code: str, field: str, message: Any) -> None:
        super().__init__(code)
        self.code, self.field, self.message = code, field, message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Problem:
    """Why the event at ``index`` of a batch was refused."""

    index: int
    code: str
    field: str
    message: Any  # a lazy string: translated in the reader's language when shown

    def text(self) -> str:
        """The message as people read it: "network: 'myspace' is not one of …", or for a
        problem about the person, the message alone.
        """
        if self.code in WHO_CODES:
            return str(self.message)
        return str(_l("%(field)s: %(message)s", field=self.field, message=self.message))

    def as_json(self) -> dict[str, Any]:
        """The per-event error of the API and webhook answers."""
        return {"index": self.index, "code": self.code, "field": self.field,
                "message": self.text()}


class EventsRejected(ValidationFailed):
    """Some events of a batch are refused and the batch is all or nothing: nothing was
    written. ``problems`` says which and why; each surface presents them its own way.
    """

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(str(_l("Some events are not valid; none was stored.")),
                         fields={f"events[{p.index}]": p.text() for p in problems})
        self.problems = problems

    def envelope(self, *, single: bool = False) -> dict[str, Any]:
        """The JSON error envelope of the API and the webhook, with each event's problem in
        ``fields`` (``events[i]``, or ``event`` for a ``single`` event sent alone) and, with
        its code, in ``events``.
        """
        fields = {"event": self.problems[0].text()} if single else self.fields
        return {"error": {"code": self.code, "message": self.message, "fields": fields,
                          "events": [p.as_json() for p in self.problems]}}


# -- parsing one event ----------------------------------------------------------------------------

def parse_count(value: Any, field: str) -> int:
    """A metric: a whole number written any common way ("1 234", "1.234", "12,0", "3,7").

    Decimal values are rounded (some platforms export averaged counts).

    :raise EventInvalid: not a number, or negative (``invalid_metric``).
    """
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise EventInvalid(INVALID_METRIC, field, _l("not a number"))
    if isinstance(value, int | float):
        number = float(value)
        if number != number or number < 0 or number > MAX_COUNT:
            raise EventInvalid(INVALID_METRIC, field, _l("must be a positive number"))
        return int(round(number))
    # A file repeats the same few thousand spellings: each is read once per process.
    count = _count_text(value if isinstance(value, str) else str(value))
    if count is None:
        raise EventInvalid(INVALID_METRIC, field, _l("%(value)s is not a number",
                                                     value=repr(value)))
    if count < 0:
        raise EventInvalid(INVALID_METRIC, field, _l("must be a positive number"))
    return count


@lru_cache(maxsize=65536)
def _count_text(value: str) -> int | None:
    """The count a text spells (see :func:`parse_count`); None when it is not a number, -1
    when it is out of range (negative, too large or NaN).
    """
    if value.isascii() and value.isdigit():
        number = float(value) if len(value) >= 10 else int(value)
        return int(round(number)) if number <= MAX_COUNT else -1
    text = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if "," in text and "." in text:
        # The last separator is the decimal one: "1.234,5" and "1,234.5".
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        # Several commas, or "1,234" (three digits after one comma), group thousands in an
        # English export; otherwise the comma is French decimal: "12,0", "3,5".
        if text.count(",") > 1 or re.fullmatch(r"[1-9]\d{0,2},\d{3}", text):
            text = text.replace(",", "")
        else:
            text = text.replace(",", ".")
    elif text.count(".") > 1 or re.fullmatch(r"[1-9]\d{0,2}\.\d{3}", text):
        text = text.replace(".", "")  # "1.234" groups thousands the French way
    try:
        number = float(text)
    except ValueError:
        return None
    if number != number or number < 0 or number > MAX_COUNT:
        return -1
    return int(round(number))


_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?")
_SLASH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def parse_when(value: Any, formats: Iterable[str] = DATE_FORMATS) -> datetime:
    """A date or date-time: ISO 8601 (with or without zone) or one of ``formats``; UTC if no
    zone is given. Slashed dates are day-first unless ``formats`` lists a month-first one
    before any day-first one.

    :raise EventInvalid: none of them (``invalid_date``).
    """
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value or "").strip()
    if not text:
        # Named "date" in messages, as the CSV column most exports use.
        raise EventInvalid(INVALID_DATE, "date", _l("required"))
    formats = tuple(formats)
    # Fast paths for the common shapes (strptime is slow on 100,000-row files).
    match = _ISO.fullmatch(text)
    slash = None if match else _SLASH.fullmatch(text)
    if match or slash:
        if match:
            y, mo, d, h, mi, sec = match.groups()
        else:
            first, second, y, h, mi, sec = slash.groups()  # type: ignore[union-attr]
            mo, d = (first, second) if _month_first(formats) else (second, first)
        try:
            return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0),
                            tzinfo=UTC)
        except ValueError:
            raise EventInvalid(INVALID_DATE, "date", _l(
                "%(value)s is not a valid date", value=repr(text))) from None
    for fmt in formats:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise EventInvalid(INVALID_DATE, "date", _l(
            "%(value)s is not a date we can read", value=repr(text))) from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@lru_cache(maxsize=64)
def _month_first(formats: tuple[str, ...]) -> bool:
    """Whether ``formats`` lists a month-first slashed date before any day-first one."""
    return next((f.startswith("%m/") for f in formats if f.startswith(("%m/", "%d/"))), False)


def parse_bool(value: Any) -> bool:
    """Yes/no the way spreadsheets write it."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "y", "oui", "o", "x", "vrai")


def idem_key(*, user_id: int, network: str, kind: str, url: str | None, occurred_at: datetime,
             external_id: str | None) -> str:
    """The event's idempotency key in its organization: the source's id when it gives one,
    else a hash of who, where, what, which URL and when (to the second).
    """
    return _idem_key(user_id, network, kind, url, occurred_at, external_id)


def _idem_key(user_id: int, network: str, kind: str, url: str | None, occurred_at: datetime,
              external_id: str | None) -> str:
    if external_id:
        raw = "ext\x1f" + external_id
    else:
        if occurred_at.tzinfo is UTC and not occurred_at.microsecond:
            when = occurred_at.isoformat()  # what parse_when gives: already UTC, whole seconds
        else:
            when = occurred_at.astimezone(UTC).replace(microsecond=0).isoformat()
        raw = "\x1f".join((str(user_id), network, kind, url or "", when))
    return hashlib.sha256(raw.encode()).hexdigest()


def normalize_event(raw: dict[str, Any], *, user_id: int, source: str,
                    date_formats: Iterable[str] = DATE_FORMATS,
                    now: datetime | None = None) -> dict[str, Any]:
    """Check one event's fields and return the column values (user resolved by the caller).

    :raise EventInvalid: the first problem, in words meant for the person who sent it.
    """
    get = raw.get
    # The spellings of a file's networks, kinds, booleans and counts recur: each is read once
    # per process, then found in a dict (the usual path of a 100,000-row import).
    given = get("network")
    network = _NETWORKS_READ.get(given) if given.__class__ is str else None
    if network is None:
        network = _one_of(raw, "network", NETWORK_ALIASES, NETWORKS, INVALID_NETWORK)
    given = get("kind")
    kind = _KINDS_READ.get(given) if given.__class__ is str else None
    if kind is None:
        kind = _one_of(raw, "kind", KIND_ALIASES, KINDS, INVALID_KIND)
    url = str(get("url") or "").strip() or None
    if url is not None and (len(url) > 2000 or not _URL.match(url)):
        raise EventInvalid(INVALID_URL, "url", _l("%(value)s is not a web address (http or https)",
                                                  value=repr(url[:80])))
    if url is None and kind != "summary" and not get("external_id"):
        raise EventInvalid(MISSING_URL, "url", _l("required (or an external_id)"))
    occurred_at = parse_when(get("occurred_at"), date_formats)
    if occurred_at > (now or utcnow()) + _ONE_DAY:
        raise EventInvalid(FUTURE_DATE, "date", _l("in the future"))
    if occurred_at.year < MIN_YEAR:
        # A placeholder such as 0001-01-01 is a missing date, not an event.
        raise EventInvalid(INVALID_DATE, "date", _l("before %(year)d", year=MIN_YEAR))
    external_id = str(get("external_id") or "").strip() or None
    if external_id and len(external_id) > 200:
        raise EventInvalid(INVALID_EXTERNAL_ID, "external_id", _l("at most 200 characters"))
    # The post's own text, when the source gives it; blank is none.
    post_text = str(get("text") or "").strip() or None
    if post_text is not None and len(post_text) > MAX_TEXT:
        raise EventInvalid(INVALID_TEXT, "text", _l("at most %(n)d characters", n=MAX_TEXT))
    given = get("with_own_comment")
    with_own_comment = _BOOLS_READ.get(given) if given.__class__ is str else None
    if with_own_comment is None:
        with_own_comment = parse_bool(given)
        if given.__class__ is str and len(_BOOLS_READ) < 1024:
            _BOOLS_READ[given] = with_own_comment
    campaign_id, content_item_id = get("campaign_id"), get("content_item_id")
    event: dict[str, Any] = {
        "user_id": user_id, "network": network, "kind": kind, "url": url, "text": post_text,
        "occurred_at": occurred_at, "external_id": external_id, "source": source,
        "with_own_comment": with_own_comment,
        "campaign_id": None if campaign_id is None or campaign_id == "" else _optional_id(
            campaign_id, "campaign_id"),
        "content_item_id": None if content_item_id is None or content_item_id == ""
        else _optional_id(content_item_id, "content_item_id"),
    }
    counts = _COUNTS_READ
    for name in METRICS:
        value = get(name)
        # The usual cells (empty, or a count already read in this process) found in a dict:
        # eight metrics a row make them a tenth of a large file's check.
        count = counts.get(value) if value.__class__ is str else None
        if count is None:
            if value is None:
                count = 0
            else:
                count = parse_count(value, name)
                if value.__class__ is str and len(counts) < 65536:
                    counts[value] = count
        event[name] = count
    event["idem_key"] = _idem_key(user_id, network, kind, url, occurred_at, external_id)
    return event


_ONE_DAY = timedelta(days=1)
# Cells already read, by their text: counts (valid ones only: a bad cell raises each time)
# and yes/no values.
_COUNTS_READ: dict[str, int] = {"": 0}
_BOOLS_READ: dict[str, bool] = {}


def _one_of(raw: dict[str, Any], name: str, aliases: dict[str, str],
            allowed: tuple[str, ...], code: str) -> str:
    given = raw.get(name)
    # A file spells its networks and kinds a few ways: each accepted spelling is read once.
    known = _ONE_OF_READ.setdefault(code, {})
    if given.__class__ is str and (found := known.get(given)) is not None:
        return found
    value = str(given or "").strip().lower()
    value = aliases.get(value, value)
    if value not in allowed:
        raise EventInvalid(code, name, _l("%(value)s is not one of %(choices)s",
                                          value=repr(given), choices=", ".join(allowed)))
    if given.__class__ is str and len(known) < 1024:
        known[given] = value
    return value


# The accepted spellings already read, per problem code (the aliases and allowed values of a
# code are constants).
_ONE_OF_READ: dict[str, dict[str, str]] = {}
_NETWORKS_READ = _ONE_OF_READ.setdefault(INVALID_NETWORK, {})
_KINDS_READ = _ONE_OF_READ.setdefault(INVALID_KIND, {})


def _optional_id(value: Any, field: str) -> int | None:
    # Ids are 32-bit in the database; a larger number would fail there, not here.
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise EventInvalid(INVALID_REFERENCE, field, _l("not a number")) from None
    if not 0 < number <= MAX_INT:
        raise EventInvalid(INVALID_REFERENCE, field, _l("not a valid id"))
    return number


# -- the ingestion path ---------------------------------------------------------------------------

@dataclass
class IngestResult:
    """How many events one ingestion created, updated or left unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts, as the API and the webhook answer them."""
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


_COMPARED = METRICS + ("with_own_comment", "campaign_id", "content_item_id", "text",
                       "occurred_at")


def ingest(*, organization: Organization, events: list[dict[str, Any]],
           names: dict[int, str], progress: Callable[[int], None] | None = None,
           batch: int = BATCH) -> IngestResult:
    """Store events (checked by :func:`check_events`): new ones
    are inserted, known ones (same idempotency key) get their metrics overwritten, identical
    ones are left alone. Each new or changed event is recorded as an xAPI statement, a batch
    of statements per ``record_built()`` call.

    :param names: display names by user id (for the statements' actors).
    :param progress: called with the number of events handled after each batch.
    """
    # The last occurrence of a key in the input wins, as a later re-import would.
    unique = list({e["idem_key"]: e for e in events}.values())
    chunks = [unique[first:first + batch] for first in range(0, len(unique), batch)]
    return ingest_chunks(organization=organization, chunks=chunks, names=names,
                         progress=progress, several=len(chunks) > 1)


def ingest_chunks(*, organization: Organization, chunks: Iterable[list[dict[str, Any]]],
                  names: dict[int, str], progress: Callable[[int], None] | None = None,
                  several: bool = True) -> IngestResult:
    """:func:`ingest` of events already in chunks, whose keys are distinct across the chunks
    too. ``chunks`` may be an iterator that checks the next events as it is pulled (the CSV
    import): it is pulled in this thread, two chunks ahead of the writes and further while a
    writer thread is busy, and an error it raises stops the ingestion (the caller rolls back).
    ``names`` is read for a chunk once it has been pulled.

    :param several: whether there may be more than one chunk (the writes then run in a
        writer thread on PostgreSQL, their ``COPY`` data made ahead).
    """
    result = IngestResult()
    touched: set[int] = set()
    source = iter(chunks)
    pulled: dict[int, list[dict[str, Any]]] = {}  # by number, until written
    count = 0  # chunks pulled from the source
    ended = False

    def pull(n: int) -> bool:
        """Whether there is a chunk ``n``, pulling the chunks up to it from the source."""
        nonlocal count, ended
        while not ended and count <= n:
            chunk = next(source, None)
            if chunk is None:
                ended = True
            else:
                pulled[count] = chunk
                count += 1
        return n < count

    now = utcnow()
    organization_id = organization.id
    looked_up = f"idem_key, id, {', '.join(_COMPARED)}"
    factory = StatementFactory(organization.slug, METRICS)
    dialect = db.session.get_bind().dialect
    as_time = time_processor()
    stamp = as_time(now)
    row_values = itemgetter(*_ROW_KEYS)  # every key is set by normalize_event
    analyze_every = 5 if dialect.name == "postgresql" else sys.maxsize
    # The daily figures and people's months: counted per chunk, written once at the end.
    tally = figures.Tally(organization_id)
    new_ids = uuid4_texts()
    keys = StatementKeys()
    # Each chunk's COPY data is made as it is built (this thread), the writer only sends it
    # (see CopyFormat). One chunk (a webhook's or an API call's events) has nothing to
    # overlap: written as it is, without reading the columns' types first.
    events_format = CopyFormat("advocacy_events", _INSERTED) if several else None
    store_formats = StoreFormats() if several else None

    def look_up(n: int) -> tuple[list[tuple[dict[str, Any], Any, Any]], list[int]]:
        """The events of chunk ``n`` to write ((event, stored row or None, its time in
        driver form)) and the keys of their statements: the database's part of a chunk
        before its writes (chunks 0 and 1 here, each later one by the writes of the chunk
        two before it, in the writer thread).
        """
        nonlocal analyze_every
        if n >= analyze_every:
            # A large import grows these tables inside one transaction; with statistics of
            # the empty tables PostgreSQL plans the per-batch key lookups as scans of the whole
            # organization (quadratic). ANALYZE sees the transaction's own rows; once the
            # statistics show a sizeable table the plans stay right as it doubles.
            # A small sample is enough to learn the tables' sizes (and much faster).
            analyze_every *= 2
            db.session.execute(text("SET LOCAL default_statistics_target = 10"))
            for table in ("advocacy_events", "xapi_statements", "xapi_activities"):
                db.session.execute(text(f"ANALYZE {table}"))
            db.session.execute(text("RESET default_statistics_target"))
        chunk = pulled[n]
        # Stored values as the driver gives them, compared with the event's in driver form
        # (the time as written; booleans are 0/1 on SQLite, and True == 1).
        # One query joining the keys as an array on PostgreSQL (an IN list of hundreds of
        # placeholders is parsed again by the driver for every batch).
        existing = {row[0]: row for row in select_matching(
            "advocacy_events", looked_up, organization_id, "idem_key",
            [e["idem_key"] for e in chunk])}
        todo = []
        for event in chunk:
            when = as_time(event["occurred_at"])
            old = existing.get(event["idem_key"])
            if old is not None and tuple(old[2:]) == (
                    *[event.get(c) or _EMPTY[c] for c in _COMPARED[:-1]], when):
                result.unchanged += 1
                continue
            todo.append((event, old, when))
        return todo, keys.take(len(todo))

    # Each chunk is looked up, then built (Python only), then written; on PostgreSQL its
    # writes run in a writer thread while the next chunk is built (background_writes), so
    # the server stores one chunk as the client makes the next. One transaction throughout.
    # The writes of chunk n then look up chunk n + 2, in the same thread (the connection is
    # the writer's): the builder finds chunk n + 1 looked up when it starts it, instead of
    # waiting for a query between two chunks while neither side works. The keys of an
    # import are distinct: a chunk's look-up cannot find the rows of an earlier chunk, so
    # it may run before them. A source that checks as it is pulled (the CSV import) is
    # pulled in this thread, while the writer writes: chunk n + 2 before chunk n's writes
    # are submitted (they look it up), and more while the writer is busy.
    looked: dict[int, tuple[list[tuple[dict[str, Any], Any, Any]], list[int]]] = {
        n: look_up(n) for n in range(2) if pull(n)}
    done = 0  # events of the chunk written last, for progress
    with background_writes(batches=2 if several else 1) as writes:
        n = 0
        while pull(n):
            todo, pks = looked.pop(n)
            size = len(pulled.pop(n))
            rows: list[tuple[Any, ...]] = []
            updates: list[dict[str, Any]] = []
            statements: list[Built] = []
            created: list[dict[str, Any]] = []  # for the daily figures
            changed: list[tuple[int, dict[str, Any]]] = []
            for event, old, when in todo:
                statement_id = next(new_ids)
                statements.append(factory.build_for_store(
                    event, names.get(event["user_id"], ""), statement_id, when))
                touched.add(event["user_id"])
                if old is None:
                    result.created += 1
                    created.append(event)
                    rows.append((*row_values(event), when, organization_id, statement_id,
                                 stamp, stamp))
                else:
                    updates.append({**{c: event.get(c) for c in _COMPARED}, "id": old.id,
                                    "statement_id": statement_id, "updated_at": now})
                    changed.append((old.id, event))
                    result.updated += 1
            # Built by StatementFactory (whose output the tests check against the validator)
            # with new ids: the store's fast path.
            prepared = prepare_built(statements, organization_id=organization_id, pks=pks,
                                     formats=store_formats)
            inserted: Formatted | list[tuple[Any, ...]] | None = None
            if rows:
                inserted = rows if events_format is None else events_format.format(rows)
            # New events are counted here, off the writer thread: on PostgreSQL the writer
            # is the longer side (see background_writes).
            tally.count_new(created)

            def write(inserted: Formatted | list[tuple[Any, ...]] | None = inserted,
                      updates: list[dict[str, Any]] = updates,
                      changed: list[tuple[int, dict[str, Any]]] = changed,
                      prepared: Prepared = prepared, n: int = n) -> None:
                # Plain driver rows: no ORM objects nor SQLAlchemy parameter processing.
                if inserted is not None:
                    copy_rows("advocacy_events", _INSERTED, inserted)
                # Before the changed rows are overwritten (their stored figures are taken
                # off first); the new rows just copied are not read.
                tally.count_changed(changed)
                if updates:
                    db.session.execute(update(AdvocacyEvent), updates)
                store_prepared(prepared)
                if n + 2 in pulled:
                    looked[n + 2] = look_up(n + 2)

            pull(n + 2)
            while writes.busy() and not ended:
                pull(count)
            writes.wait()  # the previous chunk's writes (and look-up of this one's next)
            if progress is not None and done:
                progress(done)
            done = size
            writes.submit(write)
            n += 1
    if progress is not None and done:
        progress(done)
    tally.apply()
    if touched:
        events_ingested.send(organization_id, user_ids=touched)
    return result


# Hex digit → the variant digit of an RFC 4122 UUID (10xx in binary) keeping its two low bits.
_VARIANT = {f"{n:x}": f"{8 | n & 3:x}" for n in range(16)}


def uuid4_texts(per_read: int = 4096) -> Iterator[str]:
    """Random (version 4) UUIDs as ``str(uuid.uuid4())`` writes them, without an object
    each: ``per_read`` of them from each read of the system's random source (an import makes
    one per event).
    """
    variant = _VARIANT
    while True:
        raw = os.urandom(16 * per_read).hex()
        for at in range(0, len(raw), 32):
            h = raw[at:at + 32]
            yield f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant[h[16]]}{h[17:20]}-{h[20:]}"


# The lookup compares occurred_at, the last compared column, converted for the driver.
assert _COMPARED[-1] == "occurred_at"
# What a missing value is stored as, to compare events with the stored rows.
_EMPTY: dict[str, Any] = {**dict.fromkeys(_COMPARED), **dict.fromkeys(METRICS, 0),
                          "with_own_comment": False}
# The inserted columns: these event values, then occurred_at converted for the driver,
# organization_id, statement_id, created_at, updated_at.
_ROW_KEYS = ("user_id", "network", "kind", "url", "external_id", "source", "idem_key",
             *METRICS, "with_own_comment", "campaign_id", "content_item_id", "text")
_INSERTED = (*_ROW_KEYS, "occurred_at", "organization_id", "statement_id", "created_at",
             "updated_at")


# -- the one intake: manual entry, CSV import, webhook and API ------------------------------------

@dataclass
class CheckedEvents:
    """A checked batch: the valid events (normalized) with their position in the batch, the
    problems of the others (by position), and the display names of the members found.
    """

    events: list[dict[str, Any]] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)


# Above this many distinct e-mails a batch reads all the organization's members (one query
# either way, rather than an IN list of thousands).
_MEMBERS_BY_EMAIL = 500


def _members(organization_id: int, whos: set[str] | None, *, match_names: bool
             ) -> tuple[dict[str, tuple[int, str]], dict[str, list[tuple[int, str]]]]:
    """(members by lower-case e-mail, members by lower-case display name when
    ``match_names``): (user id, display name), in one query (``whos`` None: every member).
    """
    stmt = select(User.id, User.email, User.display_name).join(Membership).where(
        Membership.organization_id == organization_id)
    emails = {who.lower() for who in whos or () if "@" in who}
    if whos is not None and not match_names and len(emails) <= _MEMBERS_BY_EMAIL:
        if not emails:
            return {}, {}
        stmt = stmt.where(User.email.in_(emails))  # stored lower-cased
    by_email: dict[str, tuple[int, str]] = {}
    by_name: dict[str, list[tuple[int, str]]] = {}
    for row in db.session.execute(stmt):
        by_email[row.email.lower()] = (row.id, row.display_name)
        if match_names:
            by_name.setdefault(row.display_name.strip().lower(), []).append(
                (row.id, row.display_name))
    return by_email, by_name


def _unknown_member(index: int, who: str, match_names: bool) -> Problem:
    if not who:
        message = _l("no e-mail address to match a learner")
    elif "@" in who or not match_names:
        message = _l("%(who)s is not a member of this organization", who=who)
    else:
        message = _l("%(who)s: no single member with this name (add an Email column)",
                     who=repr(who))
    return Problem(index, UNKNOWN_MEMBER, "email", message)


def check_events(*, organization_id: int, items: Sequence[tuple[str, dict[str, Any]]],
                 source: str, date_formats: Iterable[str] = DATE_FORMATS,
                 match_names: bool = False, only_user_id: int | None = None,
                 now: datetime | None = None) -> CheckedEvents:
    """Check a batch of advocacy events, whatever their path; nothing is written. Members are
    resolved in one query, consent read in one, campaign and content item references in at
    most two, whatever the batch's size.

    :param items: per event, who it is of (the member's e-mail; with ``match_names`` also a
        unique display name) and the event as received.
    :param only_user_id: only this member's events are accepted (a learner's own).
    """
    return EventChecker(organization_id=organization_id, source=source,
                        whos={who.strip() for who, _raw in items}, date_formats=date_formats,
                        match_names=match_names, only_user_id=only_user_id,
                        now=now).check(items)


class EventChecker:
    """:func:`check_events` for a batch checked in parts (a large file, slice by slice, while
    earlier slices are written): what it reads from the database is read once, when it is
    made, and :meth:`check` reads nothing.

    :param whos: who the events are of (see :func:`check_events`); None when the events
        come in parts, not all known yet: every member, campaign and content item of the
        organization is then read at once.
    """

    def __init__(self, *, organization_id: int, source: str, whos: set[str] | None = None,
                 date_formats: Iterable[str] = DATE_FORMATS, match_names: bool = False,
                 only_user_id: int | None = None, now: datetime | None = None) -> None:
        self.organization_id, self.source = organization_id, source
        self.match_names, self.only_user_id = match_names, only_user_id
        self.now = now or utcnow()
        self.formats = tuple(date_formats)
        self.by_email, self.by_name = _members(organization_id, whos, match_names=match_names)
        self.consenting = consenting_user_ids(organization_id)
        self._references: _References | None = None if whos is not None else _References(
            organization_id)

    def check(self, items: Sequence[tuple[str, dict[str, Any]]]) -> CheckedEvents:
        """Check ``items`` (positions in the result are positions in ``items``)."""
        by_email, by_name, consenting = self.by_email, self.by_name, self.consenting
        match_names, only_user_id = self.match_names, self.only_user_id
        source, formats, now = self.source, self.formats, self.now
        checked = CheckedEvents()
        problems, events, positions, names = (checked.problems, checked.events,
                                              checked.positions, checked.names)
        for index, (who, raw) in enumerate(items):
            who = who.strip()
            member: tuple[int, str] | None = None
            if "@" in who:
                member = by_email.get(who.lower())
            elif match_names and who:
                found = by_name.get(who.lower(), ())
                member = found[0] if len(found) == 1 else None
            if only_user_id is not None and (member is None or member[0] != only_user_id):
                problems.append(Problem(index, NOT_OWN_ACTIVITY, "email",
                                        _l("learners can only record their own activity")))
                continue
            if member is None:
                problems.append(_unknown_member(index, who, match_names))
                continue
            if member[0] not in consenting:
                problems.append(Problem(index, NO_CONSENT, "consent", _l(
                    "%(who)s has not opted in to advocacy activity collection", who=who)))
                continue
            try:
                event = normalize_event(raw, user_id=member[0], source=source,
                                        date_formats=formats, now=now)
            except EventInvalid as exc:
                problems.append(Problem(index, exc.code, exc.field, exc.message))
                continue
            events.append(event)
            positions.append(index)
            names[member[0]] = member[1]
        _check_references(self.organization_id, checked, self._references)
        return checked


class _References:
    """The organization's campaigns and content items (id → its campaign), read at once."""

    def __init__(self, organization_id: int) -> None:
        self.campaigns = set(db.session.scalars(select(Campaign.id).where(
            Campaign.organization_id == organization_id)))
        self.items = {row.id: row.campaign_id for row in db.session.execute(
            select(ContentItem.id, ContentItem.campaign_id).where(
                ContentItem.organization_id == organization_id))}


def _check_references(organization_id: int, checked: CheckedEvents,
                      known: _References | None = None) -> None:
    """Refuse events naming a campaign or content item the organization does not have; fill
    in the campaign of a content item (those ``known``, else read here).
    """
    campaigns = {e["campaign_id"] for e in checked.events if e["campaign_id"]}
    items = {e["content_item_id"] for e in checked.events if e["content_item_id"]}
    if not campaigns and not items:
        return
    if known is not None:
        known_campaigns, known_items = known.campaigns, known.items
    else:
        known_campaigns = {row.id for row in select_in(
            "SELECT id FROM advocacy_campaigns WHERE organization_id = ? AND id IN",
            organization_id, sorted(campaigns))}
        known_items = {row.id: row.campaign_id for row in select_in(
            "SELECT id, campaign_id FROM advocacy_content_items WHERE organization_id = ? "
            "AND id IN", organization_id, sorted(items))}
    kept, positions = [], []
    for event, index in zip(checked.events, checked.positions, strict=True):
        campaign, item = event["campaign_id"], event["content_item_id"]
        if campaign and campaign not in known_campaigns:
            checked.problems.append(Problem(index, UNKNOWN_CAMPAIGN, "campaign_id",
                                            _l("no campaign %(id)s", id=campaign)))
            continue
        if item:
            if item not in known_items:
                checked.problems.append(Problem(index, UNKNOWN_CONTENT_ITEM, "content_item_id",
                                                _l("no content item %(id)s", id=item)))
                continue
            event["campaign_id"] = campaign or known_items[item]
        kept.append(event)
        positions.append(index)
    checked.events, checked.positions = kept, positions
    checked.problems.sort(key=lambda p: p.index)


def record_events(*, organization: Organization, items: Sequence[tuple[str, dict[str, Any]]],
                  source: str, skip: Collection[str] = (), only_user_id: int | None = None
                  ) -> tuple[IngestResult, CheckedEvents]:
    """Check a batch (:func:`check_events`), then store its valid events (:func:`ingest`).

    :param skip: codes of problems that leave the event out (it stays in the returned
        problems) instead of refusing the whole batch.
    :raise EventsRejected: an event has a problem whose code is not in ``skip``; nothing
        was written.
    """
    checked = check_events(organization_id=organization.id, items=items, source=source,
                           only_user_id=only_user_id)
    refused = [p for p in checked.problems if p.code not in skip]
    if refused:
        raise EventsRejected(refused)
    result = ingest(organization=organization, events=checked.events, names=checked.names)
    return result, checked


def record_event(*, organization: Organization, user: User, data: dict[str, Any],
                 source: str) -> tuple[AdvocacyEvent, IngestResult]:
    """Record one event for a member (manual entry): idempotent.

    :raise ValidationFailed: a field is wrong, or the member has not opted in (``code`` is
        the problem's, ``fields`` names its field).
    """
    try:
        result, checked = record_events(organization=organization, items=[(user.email, data)],
                                        source=source)
    except EventsRejected as exc:
        problem = exc.problems[0]
        raise ValidationFailed(str(_l("The activity is not valid.")), code=problem.code,
                               fields={problem.field: str(problem.message)}) from None
    stored = db.session.scalar(select(AdvocacyEvent).where(
        AdvocacyEvent.organization_id == organization.id,
        AdvocacyEvent.idem_key == checked.events[0]["idem_key"]))
    assert stored is not None
    return stored, result
