"""Numbers, percentages and durations in the reader's language, through Babel.

French writes "23 998", "4,1 %" and "9 h 20"; English "23,998", "4.1%" and "9 h 20". The
functions format in the locale of the current request (the default locale elsewhere); the
``lazy_*`` forms wait until the text is read, for messages built before the locale is known
(service errors, see :mod:`lms.core.errors`).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import NumberPattern, parse_pattern
from babel.units import format_unit
from flask_babel import LazyString, format_decimal, format_percent, get_locale, gettext
from markupsafe import Markup, escape


def number(value: int | float | Decimal | None, digits: int = 1, *, pad: bool = False) -> str:
    """``value`` with grouped thousands and at most ``digits`` decimals ("23 998", "2,4"), or
    exactly ``digits`` with ``pad`` ("2,0", for columns of averages).
    """
    if value is None:
        return ""
    if type(value) is int and 0 <= value < 1000 and not (pad and digits):
        # No group separator, no decimals: the digits themselves (Babel writes Latin digits
        # in every locale), for the many small counts of a page's tables.
        return str(value)
    pattern = "#,##0" + ("." + ("0" if pad else "#") * digits if digits else "")
    locale = get_locale()
    if locale is None:
        return str(format_decimal(value, format=pattern))
    # What format_decimal does, without parsing the pattern and the locale again for each of
    # the thousands of cells of a page's tables (a quarter of the time it took).
    return str(_pattern(pattern).apply(value, locale))


@lru_cache(maxsize=64)
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


def percent(value: int | float | Decimal | None, digits: int = 1, *,
            ratio: bool = False) -> str:
    """A percentage ("4,1 %" in French): ``value`` is out of 100, or out of 1 with ``ratio``."""
    if value is None:
        return ""
    # The language's own pattern ("#,##0\u00a0%" in French), with up to ``digits`` decimals.
    pattern = get_locale().percent_formats[None].pattern
    if digits:
        pattern = pattern.replace("#,##0", "#,##0." + "#" * digits, 1)
    return str(format_percent(value if ratio else float(value) / 100, format=pattern))


def duration(minutes: int | float | None = None, *, hours: float | None = None) -> str:
    """A duration as hours and minutes: "9 h 20", "45 min", "3 h"."""
    if minutes is None and hours is None:
        return ""
    total = round(minutes if minutes is not None else (hours or 0) * 60)
    h, m = divmod(int(total), 60)
    if not h:
        return gettext("%(minutes)d min", minutes=m)
    if not m:
        return gettext("%(hours)s h", hours=number(h))
    return gettext("%(hours)s h %(minutes)02d", hours=number(h), minutes=m)


def colon(label: Any) -> Markup:
    """``label`` followed by a colon, spaced as the language wants ("État :" in French).

    ``label`` is escaped unless it is markup already (a ``{% set %}`` block in a template).
    """
    before, _, after = gettext("%(label)s:", label="\x00").partition("\x00")
    return escape(before) + escape(label) + escape(after)


def file_size(size: int) -> str:
    """A size in bytes for people, in the reader's language ("1,5 Go", "20 MB", "300 kB")."""
    for unit, step in (("gigabyte", 1024**3), ("megabyte", 1024**2), ("kilobyte", 1024)):
        if size >= step or unit == "kilobyte":
            value = round(size / step, 1 if size < 10 * step else 0)
            return str(format_unit(value, f"digital-{unit}", length="short",
                                   locale=get_locale()))
    return ""  # unreachable: the loop ends on kilobytes


def lazy_file_size(size: int) -> Any:
    """:func:`file_size`, formatted when the text is read (for lazy messages)."""
    return LazyString(file_size, size)


def lazy_number(value: int | float | Decimal, digits: int = 1) -> Any:
    """:func:`number`, formatted when the text is read (for lazy messages)."""
    return LazyString(number, value, digits)


def init_jinja(env: Any) -> None:
    """Register the filters ``number``, ``percent``, ``duration`` (of minutes), ``hours`` (a
    duration given in hours), ``colon`` (a label before its value) and ``filesize`` (bytes)
    in ``env``.
    """
    env.filters["number"] = number
    env.filters["percent"] = percent
    env.filters["duration"] = duration
    env.filters["hours"] = lambda value: duration(hours=value)
    env.filters["colon"] = colon
    env.filters["filesize"] = file_size
