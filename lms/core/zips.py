"""Reading uploaded zips without trusting their headers.

A zip's central directory announces each entry's size; limits and quotas are checked against
those numbers before anything is unpacked. A crafted ("lying") zip announces less than its
data hold, or more, or carries a corrupt stream. Every entry is therefore read here in chunks,
never past its announced size (one byte more is read to see the lie), and anything that does not
match its header ends in :class:`LyingZip`, which each caller turns into its own 422, never a
500 and never a file larger than what the limits allowed.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import IO

CHUNK = 64 * 1024
# What zipfile raises on a stream that does not match its header: a bad CRC or a bad header
# (BadZipFile), a stream that ends early (EOFError), corrupt compressed data (zlib.error),
# an unsupported or bad compression (NotImplementedError, RuntimeError for encryption), and
# a bad LZMA/BZ2 stream (OSError, ValueError).
READ_ERRORS = (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError,
               OSError, ValueError)


class LyingZip(Exception):
    """An entry's data do not match its header (size, checksum or compressed stream)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the entry {name!r} does not match its header")
        self.name = name


def copy_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sink: IO[bytes]) -> int:
    """Copy one entry into ``sink`` in chunks and return the bytes written, which are exactly
    the size its header announces.

    :raise LyingZip: the entry holds more or fewer bytes than announced, or is corrupt.
    """
    declared = info.file_size
    written = 0
    try:
        with archive.open(info) as source:
            while True:
                # Never more than one byte past the announced size: enough to see a lie.
                chunk = source.read(min(CHUNK, declared - written + 1))
                if not chunk:
                    break
                written += len(chunk)
                if written > declared:
                    raise LyingZip(info.filename)
                sink.write(chunk)
    except READ_ERRORS as exc:
        raise LyingZip(info.filename) from exc
    if written != declared:
        raise LyingZip(info.filename)
    return written


def read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo | str) -> bytes:
    """The bytes of one entry, checked against its header as :func:`copy_entry` does.

    :raise LyingZip: see :func:`copy_entry`; also an entry that is not in the archive.
    """
    if isinstance(info, str):
        name = info
        try:
            info = archive.getinfo(name)
        except KeyError as exc:
            raise LyingZip(name) from exc
    buffer = io.BytesIO()
    copy_entry(archive, info, buffer)
    return buffer.getvalue()
