"""Reading a Tin Can package: the zip's entries and its ``tincan.xml`` (pure, no database)."""

from __future__ import annotations

import io
import posixpath
import stat
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

from flask_babel import lazy_gettext as _l

from lms.core.errors import ValidationFailed
from lms.core.zips import LyingZip, read_entry

TINCAN_NS = "{http://projecttincan.com/tincan.xsd}"


@dataclass(frozen=True)
class Manifest:
    """What ``tincan.xml`` says of the package's root activity."""

    activity_id: str
    activity_type: str | None
    title: str
    launch_path: str


def megabytes(size: int) -> str:
    """A byte limit for people: "200 MB", or "100 KB" below a megabyte."""
    return f"{size // 1048576} MB" if size >= 1048576 else f"{size // 1024} KB"


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(str(message), fields={"package": str(message)})


def lying_zip(exc: LyingZip) -> ValidationFailed:
    """The upload's error for an entry whose data do not match the zip's header."""
    return _invalid(_l("The zip is damaged or forged: %(name)s does not match its header.",
                       name=exc.name[:200]))


def _safe_name(info: zipfile.ZipInfo) -> str | None:
    """The entry's relative path, or None when it would land outside the folder (ZIP slip)
    or is a symbolic link.
    """
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    if any(part == ".." for part in name.split("/")):
        return None
    if stat.S_ISLNK(info.external_attr >> 16):
        return None
    normal = posixpath.normpath(name)
    return None if normal == ".." or normal.startswith("../") else normal


def _text(element: ElementTree.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def read_manifest(xml: bytes) -> Manifest:
    """Parse ``tincan.xml``: the first activity with a ``launch`` is the root activity.

    :raise ValidationFailed: not XML, or no launchable activity with an id.
    """
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise _invalid(_l("tincan.xml must not declare a DOCTYPE or entities."))
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise _invalid(_l("tincan.xml is not valid XML (%(error)s).", error=str(exc))) from exc

    def find_all(element: ElementTree.Element, tag: str) -> list[ElementTree.Element]:
        # Packages usually use the Tin Can namespace; accept none too.
        return element.findall(TINCAN_NS + tag) + element.findall(tag)

    activities = [a for group in find_all(root, "activities")
                  for a in find_all(group, "activity")]
    for activity in activities:
        launch = next(iter(find_all(activity, "launch")), None)
        if launch is None or not _text(launch):
            continue
        activity_id = (activity.get("id") or "").strip()
        if not activity_id or len(activity_id) > 2000:
            raise _invalid(_l("The launchable activity in tincan.xml has no id."))
        title = _text(next(iter(find_all(activity, "name")), None)) or activity_id
        return Manifest(activity_id, activity.get("type"), title[:300],
                        _text(launch).split("?")[0].split("#")[0])
    raise _invalid(_l("tincan.xml names no activity with a launch file."))


def check_zip(data: bytes, *, max_bytes: int, max_unpacked: int, too_big: bool = False
              ) -> tuple[zipfile.ZipFile, list[tuple[zipfile.ZipInfo, str]], Manifest]:
    """Validate an uploaded package and return its safe entries and manifest.

    :raise ValidationFailed: too big, not a zip, unsafe entries, no or bad ``tincan.xml``,
        launch file missing.
    """
    if too_big or len(data) > max_bytes:
        raise _invalid(_l("The package is too big (at most %(size)s).", size=megabytes(max_bytes)))
    if not data:
        raise _invalid(_l("Choose a zip file to upload."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _invalid(_l("The file is not a zip archive.")) from exc
    entries: list[tuple[zipfile.ZipInfo, str]] = []
    total = 0
    for info in infos:
        name = _safe_name(info)
        if name is None:
            raise _invalid(_l("The zip holds an unsafe entry (%(name)s): absolute paths, '..' "
                              "and links are refused.", name=info.filename[:200]))
        total += info.file_size
        if not info.is_dir():
            entries.append((info, name))
    if total > max_unpacked:
        raise _invalid(_l("The package is too big once unpacked (at most %(size)s).",
                          size=megabytes(max_unpacked)))
    names = {name for _, name in entries}
    if "tincan.xml" not in names:
        raise _invalid(_l("The zip has no tincan.xml at its root: is it an xAPI (Tin Can) "
                          "package?"))
    try:
        xml = read_entry(archive, "tincan.xml")
    except LyingZip as exc:
        raise lying_zip(exc) from exc
    manifest = read_manifest(xml)
    if _launch_entry(manifest.launch_path) not in names:
        raise _invalid(_l("The launch file %(name)s named in tincan.xml is not in the zip.",
                          name=manifest.launch_path[:200]))
    return archive, entries, manifest


def _launch_entry(launch_path: str) -> str:
    return posixpath.normpath(launch_path.removeprefix("./")) if launch_path else ""
