"""Server-rendered SVG charts: sparkline, line chart, bar chart and radar, each with a table
alternative.

Why SVG from the server rather than a JavaScript library: the page needs no script (the CSP
allows none inline), the chart is in the HTML the server sends, so it prints and goes into PDFs
as it is, and screen readers get a ``<title>``/``<desc>`` plus the same figures as a table
(:func:`data_table`). Colours are SVG presentation attributes, not ``style=`` (which the CSP
refuses), from a colour-blind-safe palette (Okabe–Ito); lines also differ by dash and carry
their name at their end, so no chart relies on colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask_babel import gettext
from markupsafe import Markup, escape

from lms.core.formatting import number

# Okabe–Ito: distinguishable with the common colour-vision deficiencies; all ≥ 3:1 on white
# except the yellow, left out.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#1b2333", "#e69f00", "#56b4e9")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "4 4", "10 2")
INK, MUTED, GRID = "#1b2333", "#525c6e", "#d5dae3"


@dataclass(frozen=True)
class Series:
    """One named set of values: a line, a set of bars, or a radar polygon."""

    name: str
    values: Sequence[float]
    css_class: str = ""  # radar polygons are styled by class (skills.css)
    colour: str | None = None  # else the palette, by position


def _colour(series: Series, i: int) -> str:
    return series.colour or PALETTE[i % len(PALETTE)]


def nice_max(value: float) -> tuple[float, float]:
    """A round top for an axis at or above ``value`` and the step of its ticks (1, 2 or 5
    times a power of ten, four or five ticks): 342.9 → (400, 100), 0.1 → (0.1, 0.02).
    """
    if value <= 0:
        return 1.0, 0.25
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    top = step * math.ceil(value / step - 1e-9)
    return top, step


def _open(kind: str, chart_id: str, title: str, desc: str, width: float, height: float) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
            f'class="chart {kind}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
            f'font-family="system-ui, sans-serif" font-size="12" id="{chart_id}">'
            f'<title id="{chart_id}-t">{escape(title)}</title>'
            f'<desc id="{chart_id}-d">{escape(desc)}</desc>')


def _tick(value: float, step: float) -> str:
    return number(value, 0 if step >= 1 else 2)


def sparkline(values: Sequence[float], *, title: str, width: int = 120,
              height: int = 32) -> Markup:
    """A small line of ``values`` (oldest first) with a dot on the last one; ``title`` says
    what it shows (read by screen readers, shown on hover).
    """
    if not values:
        return Markup("")
    top = max(max(values), 1e-9)
    n = len(values)
    dx = (width - 6) / max(n - 1, 1)
    pts = [(3 + i * dx, height - 4 - (height - 8) * max(v, 0) / top)
           for i, v in enumerate(values)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
    x, y = pts[-1]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" class="sparkline" role="img"><title>{escape(title)}</title>'
        f'<polyline points="{line}" fill="none" stroke="{PALETTE[0]}" stroke-width="1.8" '
        f'stroke-linejoin="round"/><circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" '
        f'fill="{PALETTE[0]}"/></svg>')


def line_chart(labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str,
               chart_id: str, width: int = 680, height: int = 260) -> Markup:
    """Lines over ``labels`` (e.g. weeks) on one shared y axis starting at 0, with ticks,
    the labels below (thinned to fit) and each line's name at its end.
    """
    if not labels or not series:
        return Markup("")
    left, right, top_pad, bottom = 48, 120, 12, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top, step = nice_max(max((max(s.values, default=0) for s in series), default=0))
    n = len(labels)
    dx = plot_w / max(n - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * dx, top_pad + plot_h - plot_h * max(v, 0) / top

    parts = [_open("line-chart", chart_id, title, desc, width, height)]
    ticks = round(top / step)
    for k in range(ticks + 1):
        y = top_pad + plot_h - plot_h * k / ticks
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{GRID}"/><text x="{left - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end" fill="{MUTED}">{escape(_tick(k * step, step))}</text>')
    every = max(1, math.ceil(n / max(plot_w // 64, 1)))
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            x, _y = xy(i, 0)
            parts.append(f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle" '
                         f'fill="{MUTED}">{escape(label)}</text>')
    ends: list[float] = []
    for i, s in enumerate(series):
        colour = _colour(s, i)
        pts = [xy(j, v) for j, v in enumerate(s.values)]
        dash = f' stroke-dasharray="{DASHES[i % len(DASHES)]}"' if DASHES[i % len(DASHES)] else ""
        parts.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}" '
                     f'fill="none" stroke="{colour}" stroke-width="2.2"{dash}>'
                     f'<title>{escape(s.name)}</title></polyline>')
        if pts:
            # The name at the line's end, nudged down when it would overlap the one above.
            y = pts[-1][1]
            while any(abs(y - other) < 13 for other in ends):
                y += 13
            ends.append(y)
            parts.append(f'<text x="{pts[-1][0] + 6:.1f}" y="{y + 4:.1f}" fill="{colour}" '
                         f'font-weight="600">{escape(s.name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str,
              chart_id: str, max_value: float | None = None, width: int = 560,
              label_width: int = 150, fmt: Callable[[float], str] = number) -> Markup:
    """Horizontal bars: one group per label, one bar per series, all on one scale (from 0 to
    ``max_value`` or the largest value, rounded up) drawn as an axis with ticks, each bar
    with its value.
    """
    if not labels or not series:
        return Markup("")
    left, right, bar_h, gap = label_width, 56, 16, 14
    legend_h = 22 if len(series) > 1 else 0
    group_h = bar_h * len(series) + gap
    plot_w = width - left - right
    height = legend_h + group_h * len(labels) + 26
    largest = max((max(s.values, default=0) for s in series), default=0)
    top, step = nice_max(max(largest, max_value or 0))
    parts = [_open("bar-chart", chart_id, title, desc, width, height)]
    x_legend = left
    for i, s in enumerate(series if legend_h else ()):
        parts.append(f'<rect x="{x_legend}" y="4" width="12" height="12" '
                     f'fill="{_colour(s, i)}"/><text x="{x_legend + 17}" y="15" '
                     f'fill="{INK}">{escape(s.name)}</text>')
        x_legend += 40 + 7 * len(s.name)
    axis_y = legend_h + group_h * len(labels)
    ticks = round(top / step)
    for k in range(ticks + 1):
        x = left + plot_w * k / ticks
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{legend_h}" y2="{axis_y}" '
                     f'stroke="{GRID}"/><text x="{x:.1f}" y="{axis_y + 16}" '
                     f'text-anchor="middle" fill="{MUTED}">{escape(_tick(k * step, step))}</text>')
    for g, label in enumerate(labels):
        y0 = legend_h + g * group_h + gap / 2
        parts.append(f'<text x="{left - 8}" y="{y0 + bar_h * len(series) / 2 + 4:.1f}" '
                     f'text-anchor="end" fill="{INK}">{escape(label)}</text>')
        for i, s in enumerate(series):
            v = s.values[g] if g < len(s.values) else 0
            w = plot_w * max(v, 0) / top
            y = y0 + i * bar_h
            parts.append(f'<rect x="{left}" y="{y:.1f}" width="{w:.1f}" height="{bar_h - 2}" '
                         f'fill="{_colour(s, i)}"><title>{escape(s.name)}</title></rect>'
                         f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 5:.1f}" '
                         f'fill="{INK}">{escape(fmt(v))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def radar_svg(labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str,
              max_value: int = 5, size: int = 360, chart_id: str = "radar") -> Markup:
    """A radar (spider) chart of values 0…``max_value`` on one axis per label; long labels
    wrap on two lines, and the drawing leaves them room on every side.
    """
    n = len(labels)
    if n < 3:
        return Markup("")
    margin = 130  # room for the names on the sides
    width, height = size + 2 * margin, size + 60
    cx, cy = width / 2, height / 2
    radius = size / 2 - 20

    def point(i: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        r = radius * max(0.0, min(value, max_value)) / max_value
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'class="radar" role="img" aria-labelledby="{chart_id}-t {chart_id}-d">',
             f'<title id="{chart_id}-t">{escape(title)}</title>',
             f'<desc id="{chart_id}-d">{escape(desc)}</desc>']
    for ring in range(1, max_value + 1):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon class="grid" points="{pts}" fill="none" stroke="{GRID}"/>')
    for i, label in enumerate(labels):
        x, y = point(i, max_value)
        parts.append(f'<line class="axis" x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" '
                     f'stroke="{GRID}"/>')
        lx, ly = point(i, max_value + 0.45)
        anchor = "middle" if abs(lx - cx) < 5 else ("start" if lx > cx else "end")
        lines = _wrap(label, 20)
        ly -= 7 * (len(lines) - 1)
        spans = "".join(f'<tspan x="{lx:.1f}" dy="{0 if k == 0 else 14}">{escape(t)}</tspan>'
                        for k, t in enumerate(lines))
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" '
                     f'dominant-baseline="middle" fill="{INK}">{spans}</text>')
    for s in series:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in
                       (point(i, v) for i, v in enumerate(s.values)))
        parts.append(f'<polygon class="{escape(s.css_class)}" points="{pts}">'
                     f'<title>{escape(s.name)}</title></polygon>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _wrap(text: str, width: int, most: int = 3) -> list[str]:
    """``text`` on at most ``most`` lines of about ``width`` characters, cut at spaces (the
    last line ends with "…" when the text is longer).
    """
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] += "…"
    return lines or [text]


def data_table(labels: Sequence[str], series: Sequence[Series], *, caption: str,
               label_header: str, fmt: Callable[[float], str] = number) -> Markup:
    """The figures of a chart as a table: a row per label, a column per series."""
    head = "".join(f'<th scope="col">{escape(s.name)}</th>' for s in series)
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        + "".join(f"<td>{escape(fmt(s.values[i]))}</td>" for s in series) + "</tr>"
        for i, label in enumerate(labels))
    return Markup(f'<table class="chart-data"><caption>{escape(caption)}</caption><thead><tr>'
                  f'<th scope="col">{escape(label_header)}</th>{head}</tr></thead>'
                  f"<tbody>{rows}</tbody></table>")


def figure(svg: Markup, table: Markup) -> Markup:
    """A chart with its table folded below it ("The figures")."""
    if not svg:
        return Markup("")
    summary = gettext("The figures")  # outside the f-string, where pybabel finds it
    return Markup(f'<figure class="chart-figure"><div class="chart-scroll" tabindex="0">{svg}</div>'
                  f'<details class="chart-table"><summary>{escape(summary)}'
                  f'</summary><div class="table-wrap">{table}</div></details></figure>')
