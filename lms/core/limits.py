"""Request-size limits: refused from ``Content-Length`` before the body is read.

Every request may carry at most ``MAX_CONTENT_LENGTH`` bytes; a view may allow more or less
with :func:`max_body` (uploads, the webhook, LRS statements). A request announcing more is
answered 413 at once, unread, in the error format of its surface (the JSON envelope on the API,
the LRS and the webhook; a page in the browser). A body sent without a length (chunked) is cut
off at the same limit while it is streamed, into a file that goes to disk past 1 MB, so memory
never grows with what a client sends.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from typing import IO, Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

F = TypeVar("F", bound=Callable[..., Any])
LIMIT_ATTR = "_relais_max_body"
# Room for a multipart envelope (boundaries, part headers, other fields) around a file.
MULTIPART_ROOM = 1024 * 1024
# A body sent without a length is kept in memory up to this size, then on disk.
SPOOL_IN_MEMORY = 1024 * 1024
SPOOL_CHUNK = 64 * 1024


def max_body(limit: str | Callable[[], int]) -> Callable[[F], F]:
    """Decorate a view with its own body limit: a config key, or a function giving bytes."""

    def decorator(view: F) -> F:
        setattr(view, LIMIT_ATTR, limit)
        return view

    return decorator


def max_upload(key: str) -> Callable[[F], F]:
    """Decorate a view that takes a file of at most the setting ``key`` in bytes: its body may
    carry that file and the multipart envelope around it.
    """
    return max_body(lambda: int(current_app.config[key]) + MULTIPART_ROOM)


def megabytes(size: int) -> str:
    """``size`` bytes in MB, for messages."""
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


class _Capped(io.RawIOBase):
    """A body without a length, refused (413) as soon as more than ``limit`` bytes arrive.

    Werkzeug alone stops reading at the limit and hands over the truncated body silently.
    """

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream, self._limit, self._read = stream, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        self._read += len(data)
        if self._read > self._limit:
            raise RequestEntityTooLarge(
                f"The request is too large: at most {megabytes(self._limit)} may be sent here.")
        buffer[:len(data)] = data
        return len(data)


def _spool(stream: IO[bytes], limit: int) -> IO[bytes]:
    """The body of ``stream``, at most ``limit`` bytes, in a file (on disk past 1 MB).

    :raise RequestEntityTooLarge: the body is longer than ``limit``.
    """
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        capped = _Capped(stream, limit)
        while chunk := capped.read(SPOOL_CHUNK):
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled  # type: ignore[return-value]


def limit_for_request() -> int:
    """The body limit of the current request's view, in bytes."""
    view = current_app.view_functions.get(request.endpoint or "")
    wanted = getattr(view, LIMIT_ATTR, None)
    if wanted is None:
        return int(current_app.config["MAX_CONTENT_LENGTH"])
    return int(current_app.config[wanted] if isinstance(wanted, str) else wanted())


def init_app(app: Flask) -> None:
    """Check every request's announced size before any view reads it.

    Call it before other extensions register hooks (CSRF reads the form in its own).
    """

    @app.before_request
    def _refuse_large_bodies() -> None:
        limit = limit_for_request()
        length = request.content_length
        if length is None and request.environ.get("wsgi.input_terminated"):
            # A streamed body (chunked): copied, through a counter that refuses one byte past
            # the limit, into a file that stays in memory only while small, so that a body
            # refused at the limit never sat in memory (a view reads a body whole).
            request.environ["wsgi.input"] = _spool(request.environ["wsgi.input"], limit)
            request.max_content_length = limit
            return
        request.max_content_length = limit
        if length is not None and length > limit:
            raise RequestEntityTooLarge(
                f"The request is too large: at most {megabytes(limit)} may be sent here.")
