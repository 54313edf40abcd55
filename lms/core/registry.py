"""The one registry type: what packages add to a lower package's list at app creation.

Content loaders, demo steps, module finders and the like are ordered lists of callables that a
lower package runs and higher packages fill from their ``init_app``. ``create_app`` may run more
than once in a process (tests, the CLI), so adding must be idempotent and ordering explicit:
that guard lives here once. Events, where a lower package tells higher ones that something
happened, are named blinker signals instead (``lms/<package>/signals.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered set of entries that higher packages add at app creation."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: list[T] = []

    def add(self, entry: T, *, after: T | None = None) -> T:
        """Add ``entry`` once (again is a no-op); after ``after`` when that is present, else
        last. Returns ``entry``, so it serves as a decorator.
        """
        if entry not in self._entries:
            if after is not None and after in self._entries:
                self._entries.insert(self._entries.index(after) + 1, entry)
            else:
                self._entries.append(entry)
        return entry

    def remove(self, entry: T) -> None:
        """Take ``entry`` out (a no-op when absent)."""
        if entry in self._entries:
            self._entries.remove(entry)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry: object) -> bool:
        return entry in self._entries

    def __repr__(self) -> str:
        return f"<Registry {self.name}: {len(self._entries)} entries>"
