"""The digest's sections: what each package adds to a person's e-mail digest.

Notifications sit low (beside xapi) so that every package above can add its own section
from its ``init_app`` — the charter to accept, exercises due, coaching follow-ups coming, new
content to share — without this package importing any of them. A section function receives
one membership and the moment of the digest, runs in the recipient's language, and returns a
:class:`Section`, or None when it has nothing to say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from lms.accounts.models import Membership
from lms.core.registry import Registry
from lms.core.web import absolute_url


@dataclass(frozen=True)
class Item:
    """One line of a section: what to do, the page where to do it, and an optional date."""

    text: str
    url: str
    when: datetime | None = None


@dataclass(frozen=True)
class Section:
    """A titled list of items; ``order`` places it among the others (lowest first)."""

    key: str
    title: str
    items: list[Item] = field(default_factory=list)
    order: int = 50


SectionFunction = Callable[[Membership, datetime], "Section | None"]

#: Filled by packages' ``init_app``: ``SECTIONS.add(my_section)``.
SECTIONS: Registry[SectionFunction] = Registry("digest sections")


def absolute(path: str) -> str:
    """The address of a Relais page (``/o/demo/charter``) for an e-mail."""
    return absolute_url(path)
