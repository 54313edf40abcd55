"""The verdicts in plain words, for the page, the PDF and the API."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.core.formatting import number, percent
from lms.impact import estimator
from lms.impact.estimator import Estimate

METRIC_LABELS = {"events": _l("Actions"), "shares": _l("Shares"), "clicks": _l("Clicks"),
                 "reactions": _l("Reactions"), "comments": _l("Comments"),
                 "signups": _l("Sign-ups"), "leads": _l("Leads"), "hires": _l("Hires"),
                 "value": _l("Value of the outcomes")}
# The thing counted, as it reads after a number ("2 to 5 shares").
UNITS = {"events": _l("actions"), "shares": _l("shares"), "clicks": _l("clicks"),
         "reactions": _l("reactions"), "comments": _l("comments"), "signups": _l("sign-ups"),
         "leads": _l("leads"), "hires": _l("hires")}
FORMAT_LABELS = {"coached": (_l("Coached"), _l("Not coached")),
                 "blended": (_l("Blended path (e-learning begun)"), _l("Workshop alone")),
                 "exercises": (_l("Exercise approved"), _l("No exercise approved"))}
SCOPE_LABELS = {"cohort": _l("This cohort"), "program": _l("Every cohort of the program"),
                "organization": _l("Every cohort of the organization")}


def amount(value: float) -> str:
    """A figure as people read it: one decimal from 1 up, two below."""
    return number(value, 1 if abs(value) >= 1 else 2)


# (language, whole percent) → the percent as it reads: the per-learner table of a large
# cohort shows hundreds, each a Babel pattern applied (~30 µs) for one of 101 texts.
_WHOLE_PERCENTS: dict[tuple[str, int], str] = {}


def whole_percent(value: int) -> str:
    """``value`` (0–100) as ``percent(value, 0)`` writes it in the reader's language."""
    key = (str(get_locale()), value)
    text = _WHOLE_PERCENTS.get(key)
    if text is None:
        text = _WHOLE_PERCENTS[key] = percent(value, 0)
    return text


def unit(metric: str, currency: str = "EUR") -> str:
    """What ``metric`` counts, as it reads after a number."""
    return currency if metric == "value" else str(UNITS[metric])


def verdict_text(estimate: Estimate, metric: str, *, currency: str = "EUR",
                 difference: bool = False) -> str:
    """The verdict in words: "likely increase of 2 to 5 shares per person per month", "too few
    people to tell"…; ``difference`` words it as one group against another.
    """
    kind = estimate.verdict()
    if kind == estimator.TOO_FEW:
        return _("too few people to tell (at least %(min)d in each group)",
                 min=estimator.MIN_GROUP)
    what = unit(metric, currency)
    if kind == estimator.UNCLEAR:
        return _("no clear change: between %(low)s and %(high)s %(unit)s per person per month",
                 low=amount(estimate.low), high=amount(estimate.high), unit=what)
    # A decrease reads with its magnitudes, smaller first ("a decrease of 1 to 3").
    low, high = sorted((abs(estimate.low), abs(estimate.high)))
    words = {"low": amount(low), "high": amount(high), "unit": what}
    if kind == estimator.INCREASE:
        if difference:
            return _("likely %(low)s to %(high)s more %(unit)s per person per month", **words)
        return _("likely increase of %(low)s to %(high)s %(unit)s per person per month", **words)
    if difference:
        return _("likely %(low)s to %(high)s fewer %(unit)s per person per month", **words)
    return _("likely decrease of %(low)s to %(high)s %(unit)s per person per month", **words)
