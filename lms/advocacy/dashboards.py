"""What the advocacy pages draw: KPI tiles with their change and sparkline, weekly trends per
network, and the learner's own activity over time — figures from :mod:`lms.advocacy.kpis`,
drawn by :mod:`lms.core.charts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from lms.advocacy import kpis
from lms.core import charts

# The tiles of HR's dashboard, in order: (figure, label).
TILES = (("events", _l("Actions")), ("shares", _l("Shares and posts")),
         ("with_own_comment", _l("With the author's own comment")),
         ("impressions", _l("Impressions")), ("clicks", _l("Clicks")),
         ("signups", _l("Sign-ups")), ("hires", _l("Hires")))
# The weekly trends HR sees, one small chart each, a line per network.
TRENDS = (("events", _l("Actions per week")), ("clicks", _l("Clicks per week")),
          ("signups", _l("Sign-ups per week")))


@dataclass(frozen=True)
class Tile:
    """One key figure: its value, its change against the previous period of the same length
    (a percentage, None without a previous period or when it was 0) and its weekly sparkline.
    """

    key: str
    label: str
    value: int
    previous: int | None
    change: float | None
    sparkline: Markup


def trend_weeks(days: int | None) -> int:
    """How many weeks the trends show for a period of ``days`` (a year for "all time")."""
    return max(5, min(52, -(-(days or 365) // 7)))


def week_label(monday: date) -> str:
    """A week by its Monday, short ("6 déc.")."""
    return str(format_date(monday, "d MMM"))


def tiles(current: dict[str, int], previous: dict[str, int] | None,
          weekly: kpis.Weekly) -> list[Tile]:
    """The dashboard's tiles from the period's sums, the previous period's, and the weeks."""
    out = []
    for key, label in TILES:
        before = previous[key] if previous is not None else None
        change = (100.0 * (current[key] - before) / before) if before else None
        spark = charts.sparkline(weekly.total[key], title=_(
            "%(figure)s per week, the last %(weeks)d weeks", figure=label,
            weeks=len(weekly.weeks)))
        out.append(Tile(key, str(label), current[key], before, change, spark))
    return out


def trend_charts(weekly: kpis.Weekly, network_labels: dict[str, Any]) -> list[dict[str, Any]]:
    """One line chart per figure of :data:`TRENDS`, a line per network (the busiest first),
    each with its table.
    """
    labels = [week_label(w) for w in weekly.weeks]
    networks = sorted(weekly.per_network, key=lambda n: -sum(weekly.per_network[n]["events"]))
    out = []
    for key, title in TRENDS:
        series = [charts.Series(str(network_labels.get(n, n)), weekly.per_network[n][key])
                  for n in networks]
        desc = _("A line per network, one point per week from %(first)s to %(last)s; the "
                 "table below gives the figures.", first=labels[0], last=labels[-1])
        svg = charts.line_chart(labels, series, title=str(title), desc=desc,
                                chart_id=f"trend-{key}", width=460, height=220)
        table = charts.data_table(labels, series, caption=str(title),
                                  label_header=_("Week of"))
        out.append({"key": key, "title": title, "figure": charts.figure(svg, table),
                    "empty": not any(sum(s.values) for s in series)})
    return out


def my_activity_chart(weekly: kpis.Weekly) -> Markup:
    """The learner's actions per week as a line (clicks, another unit, would need another
    scale: the table gives both).
    """
    labels = [week_label(w) for w in weekly.weeks]
    actions = charts.Series(_("Actions"), weekly.total["events"])
    clicks = charts.Series(_("Clicks"), weekly.total["clicks"])
    svg = charts.line_chart(labels, [actions], title=_("My actions per week"),
                            desc=_("One point per week from %(first)s to %(last)s; the table "
                                   "below gives the actions and clicks of each week.",
                                   first=labels[0], last=labels[-1]),
                            chart_id="my-trend", width=640, height=200)
    table = charts.data_table(labels, [actions, clicks], caption=_("My actions per week"),
                              label_header=_("Week of"))
    return charts.figure(svg, table)


def days_left(deadline: date | None, today: date) -> int | None:
    """Days until a campaign's deadline (negative once past), None without one."""
    return None if deadline is None else (deadline - today).days


def previous_scope(scope: kpis.Scope, days: int | None, now: datetime) -> kpis.Scope | None:
    """The period of the same length just before ``scope``'s (None for "all time")."""
    if not days:
        return None
    start = now - timedelta(days=days)
    return kpis.Scope(scope.organization_id, since=start - timedelta(days=days), until=start,
                      team=scope.team, cohort_id=scope.cohort_id, campaign_id=scope.campaign_id,
                      user_id=scope.user_id)

