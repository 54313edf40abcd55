"""CSV import of advocacy activity: a generic format and presets for the exports of advocacy
platforms (EveryoneSocial, Dynamic Signal).

Every row is checked and every bad row reported with its line number. By default a file with
any bad row writes nothing (on PostgreSQL the first chunks are written while the rest is
checked, in a savepoint rolled back if a bad row turns up); with ``skip_invalid`` the good rows
are imported and the rejected ones returned (the CLI and the job save them to a CSV file).
Learners are matched by e-mail (the EveryoneSocial users export, which has only names, falls
back to a member's exact display name when it is unique) and must have opted in.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from lms.accounts.models import Organization
from lms.advocacy import services
from lms.core import csvexport
from lms.core.database import collector_paused
from lms.core.errors import ValidationFailed
from lms.extensions import db

MAX_BYTES = 200 * 1024 * 1024
US_DATES = ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%y", "%b %d, %Y",
            "%B %d, %Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S")


class ImportRejected(ValidationFailed):
    """Some rows are bad and invalid rows were not to be skipped: nothing was written."""

    def __init__(self, errors: list[tuple[int, str]], *, read: int,
                 problems: list[services.Problem] | None = None) -> None:
        super().__init__(f"{len(errors)} of {read} rows are not valid; nothing was imported.",
                         fields={"file": f"{len(errors)} invalid rows"})
        self.errors = errors
        self.read = read
        # Each bad row's problem with its code (``index`` is the line number).
        self.problems = problems or []


@dataclass(frozen=True)
class Preset:
    """An import format: the columns it requires, how a row becomes an event, its date formats."""

    name: str
    description: str
    required: tuple[str, ...]
    # (e-mail, or name when no e-mail, raw event) from a row keyed by lower-case header.
    build: Callable[[dict[str, str]], tuple[str, dict[str, Any]]]
    date_formats: tuple[str, ...] = services.DATE_FORMATS


def _first(row: dict[str, str], *names: str) -> str:
    for name in names:
        if row.get(name):
            return row[name]
    return ""


def _generic(row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    raw = dict(row)
    raw["occurred_at"] = _first(row, "occurred_at", "date")
    return row.get("email", ""), raw


def _es_shares(row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    who = _first(row, "email", "shared by email", "shared by")
    post = row.get("post", "").strip()
    is_url = post.lower().startswith(("http://", "https://"))
    branded = services.parse_bool(row.get("branded"))
    raw = {
        "network": row.get("network") or "other",
        # Branded content is the company's post, shared; unbranded is the learner's own post.
        "kind": "share" if branded else "post",
        "url": post if is_url else None,
        "occurred_at": row.get("date"),
        "clicks": row.get("clicks"), "reactions": row.get("engagements"),
        "reshares": row.get("shares"),
    }
    if not is_url:
        raw["external_id"] = "everyonesocial:" + hashlib.sha256(
            "\x1f".join((post, who.lower(), row.get("date", ""))).encode()).hexdigest()[:40]
    return who, raw


def _es_users(row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    who = _first(row, "email", "name")
    posts = services.parse_count(row.get("posts"), "posts")
    shares = services.parse_count(row.get("shares"), "shares")
    # One cumulative summary per person: a later export overwrites its totals.
    return who, {
        "network": "other", "kind": "summary", "url": None,
        "occurred_at": _first(row, "last active", "created on"),
        "external_id": "everyonesocial-users:" + who.strip().lower(),
        "impressions": row.get("reach"), "clicks": row.get("clicks"),
        "reshares": posts + shares,
    }


def _dynamic_signal(row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    reactions = services.parse_count(row.get("reactions"), "reactions") + services.parse_count(
        row.get("likes"), "likes")
    ext = _first(row, "share id", "post id", "id")
    return _first(row, "email", "user email", "email address"), {
        "network": _first(row, "network", "channel") or "other",
        "kind": "share",
        "url": _first(row, "post url", "url", "link") or None,
        "occurred_at": _first(row, "date", "share date", "shared at"),
        "external_id": f"dynamic-signal:{ext}" if ext else None,
        "impressions": row.get("impressions"), "clicks": row.get("clicks"),
        "reactions": reactions, "comments": row.get("comments"),
        "reshares": row.get("re-shares"), "leads": row.get("conversions"),
    }


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("generic", "email, network, kind, url, occurred_at (or date), external_id, "
           "impressions, clicks, reactions, comments, reshares, signups, leads, hires, "
           "with_own_comment, campaign_id, content_item_id, text",
           ("email", "network", "kind"), _generic),
    Preset("everyonesocial-shares", "EveryoneSocial shares export: Post, Date, Shared by, "
           "Approved By, Shares, Clicks, Engagements, Branded (+ optional Email, Network)",
           ("post", "date", "shared by"), _es_shares, US_DATES + services.DATE_FORMATS),
    Preset("everyonesocial-users", "EveryoneSocial users export: Name, Type, Created On, "
           "Onboarded, Last Active, Reach, Posts, Shares, Clicks (+ optional Email)",
           ("name", "last active"), _es_users, US_DATES + services.DATE_FORMATS),
    Preset("dynamic-signal", "Dynamic Signal export: Post Views, Shares, Impressions, Clicks, "
           "Conversions, Reactions, Likes, Comments, Re-shares, Points, with Email and Date "
           "(+ optional Post URL, Network, Share ID)",
           ("email", "date", "impressions", "clicks"), _dynamic_signal,
           ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S") + US_DATES),
)}


def preset(name: str | None) -> Preset:
    """The preset called ``name`` (``generic`` when None).

    :raise ValidationFailed: no such preset.
    """
    found = PRESETS.get(name or "generic")
    if found is None:
        raise ValidationFailed(_l("Unknown preset %(name)s.", name=repr(name)),
                               fields={"preset": _l("one of %(values)s",
                                                    values=", ".join(PRESETS))})
    return found


def read_rows(data: bytes, spec: Preset) -> tuple[list[str], list[tuple[int, list[str],
                                                                         dict[str, str]]]]:
    """Read the CSV into (header, [(line, values, row by lower-case header)]).

    :raise ValidationFailed: not UTF-8, empty, or a column the preset needs is missing.
    """
    header, rows = _reader(data, spec)
    return header, list(rows)


def _reader(data: bytes, spec: Preset) -> tuple[list[str], Iterator[tuple[int, list[str],
                                                                         dict[str, str]]]]:
    """:func:`read_rows` with the rows read as they are asked for (the header is read now)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(_l("The file is not UTF-8 text."),
                               fields={"file": _l("Save it as CSV UTF-8.")}) from None
    first = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ValidationFailed(_l("The file is empty."),
                               fields={"file": _l("The file is empty.")}) from None
    keys = [h.lower() for h in header]
    missing = [c for c in spec.required if c not in keys]
    if missing:
        raise ValidationFailed(
            lazy_ngettext("Missing column for the %(format)s format: %(columns)s.",
                          "Missing columns for the %(format)s format: %(columns)s.",
                          len(missing), format=spec.name, columns=", ".join(missing)),
            fields={"file": _l("Missing columns: %(columns)s.", columns=", ".join(missing))})

    def rows() -> Iterator[tuple[int, list[str], dict[str, str]]]:
        width, padding = len(keys), [""] * len(keys)
        for values in reader:
            # A row whose first cell is filled is not blank (the usual case: no join).
            if not (values and values[0].strip()) and not "".join(values).strip():
                continue
            cells = map(str.strip, values if len(values) >= width else values + padding)
            yield reader.line_num, values, dict(zip(keys, cells, strict=False))

    return header, rows()


@dataclass
class Checked:
    """A CSV file checked before anything is written: its good events, errors and rejected rows."""

    header: list[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # The same problems with their codes, by line (``index`` is the file's line number).
    problems: list[services.Problem] = field(default_factory=list)
    rejected: list[list[str]] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    read: int = 0


def check_file(*, organization: Organization, data: bytes, preset_name: str | None = None,
               source: str = "csv") -> Checked:
    """Check every row of the file; nothing is written.

    :raise ValidationFailed: the file itself cannot be read (see :func:`read_rows`).
    """
    with collector_paused():
        check = _FileCheck(organization=organization, data=data, preset_name=preset_name,
                           source=source)
        check.finish()
        return check.checked


# Rows checked at a time when the file is checked as it is imported.
SLICE = 1000


class _FileCheck:
    """A file's rows checked slice by slice into ``checked`` (the whole file by
    :meth:`finish`), each row into (who, event) by its preset, then through the one intake
    check (members, consent and references read once, when it is made); problems are
    reported by line.

    :raise ValidationFailed: the file itself cannot be read (see :func:`read_rows`).
    """

    def __init__(self, *, organization: Organization, data: bytes, preset_name: str | None,
                 source: str = "csv") -> None:
        self.spec = preset(preset_name)
        header, self._rows = _reader(data, self.spec)
        self.checked = Checked(header=header)
        self.done = False
        self._checker = services.EventChecker(
            organization_id=organization.id, source=source, date_formats=self.spec.date_formats,
            match_names=True)

    def next_slice(self, size: int = SLICE) -> list[dict[str, Any]] | None:
        """Check the next ``size`` rows: their good events (added to ``checked`` with the
        bad rows), None once the file is over.
        """
        rows = list(islice(self._rows, size))
        if not rows:
            self.done = True
            return None
        build = self.spec.build
        items: list[tuple[str, dict[str, Any]]] = []
        origin: list[int] = []  # the row of each item
        problems: list[tuple[int, services.Problem]] = []  # (row, problem)
        for n, (_line, _values, row) in enumerate(rows):
            try:
                items.append(build(row))
            except services.EventInvalid as exc:
                problems.append((n, services.Problem(n, exc.code, exc.field, exc.message)))
                continue
            origin.append(n)
        batch = self._checker.check(items)
        problems.extend((origin[p.index], p) for p in batch.problems)
        problems.sort(key=lambda item: item[0])
        checked = self.checked
        checked.read += len(rows)
        checked.events.extend(batch.events)
        checked.names.update(batch.names)
        for n, problem in problems:
            line, values, _row = rows[n]
            text = problem.text()
            checked.problems.append(replace(problem, index=line))
            checked.errors.append((line, text))
            checked.rejected.append([str(line), text, *values])
        return batch.events

    def finish(self) -> None:
        """Check the rows left."""
        while self.next_slice() is not None:
            pass


@dataclass
class ImportResult:
    """What an import did: rows read, events created, updated or unchanged, and the rejects."""

    read: int
    created: int
    updated: int
    unchanged: int
    errors: list[tuple[int, str]]
    rejected_csv: bytes | None
    problems: list[services.Problem] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """The counts, as the CLI and the background job report them."""
        return {"read": self.read, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": len(self.errors)}


def rejected_csv(checked: Checked) -> bytes:
    """The rejected rows as CSV: line, error, then the row as it was."""
    return csvexport.to_bytes(["line", "error", *checked.header], checked.rejected, bom=False)


def import_activity(*, organization: Organization, data: bytes, preset_name: str | None = None,
                    skip_invalid: bool = False,
                    progress: Callable[[int], None] | None = None) -> ImportResult:
    """Check the whole file and import it (idempotently; flushes, the caller commits).

    :raise ImportRejected: some rows are bad and ``skip_invalid`` is false (nothing written).
    :raise ValidationFailed: the file cannot be read at all.
    """
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_l("The file is too big."),
                               fields={"file": _l("At most %(size)d MB.",
                                                  size=MAX_BYTES // 1024 // 1024)})
    with collector_paused():
        check = _FileCheck(organization=organization, data=data, preset_name=preset_name)
        result = None
        if db.session.get_bind().dialect.name == "postgresql":
            result = _import_while_checking(organization, check, skip_invalid, progress)
        if result is None:
            check.finish()
            checked = check.checked
            if checked.errors and not skip_invalid:
                raise ImportRejected(checked.errors, read=checked.read,
                                     problems=checked.problems)
            result = services.ingest(organization=organization, events=checked.events,
                                     names=checked.names, progress=progress)
    checked = check.checked
    return ImportResult(read=checked.read, created=result.created, updated=result.updated,
                        unchanged=result.unchanged, errors=checked.errors,
                        rejected_csv=rejected_csv(checked) if checked.errors else None,
                        problems=checked.problems)


class _Interrupted(Exception):
    """An import cannot go on while its file is checked (see :func:`_import_while_checking`)."""


def _import_while_checking(organization: Organization, check: _FileCheck, skip_invalid: bool,
                           progress: Callable[[int], None] | None
                           ) -> services.IngestResult | None:
    """PostgreSQL: import the file's chunks as the file is checked, so the server writes the
    first chunks while the rest is checked (the check, about a sixth of a large import's
    time, no longer runs while the server is idle). SQLite runs both in one thread: nothing
    to gain there.

    The import stays all or nothing, in a savepoint: when a bad row turns up (and
    ``skip_invalid`` is false), or an event's key turns up again after its chunk was
    written (the last occurrence must win, in the place of the first, as :func:`ingest`
    does), what was written is rolled back and None returned: the caller checks the rest and
    reports every bad line, or imports the whole file the usual way. ``progress`` commits (a
    job's): it is told nothing until the whole file is checked, so nothing is committed
    before that.
    """
    waiting = 0

    def told(count: int) -> None:
        nonlocal waiting
        waiting += count
        if check.done and progress is not None:
            progress(waiting)
            waiting = 0

    savepoint = db.session.begin_nested()
    try:
        result = services.ingest_chunks(organization=organization,
                                        chunks=_chunks(check, skip_invalid),
                                        names=check.checked.names, progress=told)
    except _Interrupted:
        savepoint.rollback()
        return None
    if savepoint.is_active:  # a progress report commits the transaction, savepoint with it
        savepoint.commit()
    return result


def _chunks(check: _FileCheck, skip_invalid: bool, size: int = services.BATCH
            ) -> Iterator[list[dict[str, Any]]]:
    """The file's good events in chunks of ``size`` distinct keys, checked as they are asked
    for.

    :raise _Interrupted: a bad row and not ``skip_invalid``; a key already handed out.
    """
    handed: set[str] = set()
    chunk: dict[str, dict[str, Any]] = {}
    while (events := check.next_slice()) is not None:
        if check.checked.errors and not skip_invalid:
            raise _Interrupted
        for event in events:
            key = event["idem_key"]
            if key in handed:
                raise _Interrupted
            chunk[key] = event  # a key met again in this chunk: the last one, in its place
            if len(chunk) == size:
                handed.update(chunk)
                yield list(chunk.values())
                chunk = {}
    if chunk:
        yield list(chunk.values())
