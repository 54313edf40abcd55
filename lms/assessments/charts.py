"""Server-side SVG charts: no JavaScript, readable by screen readers through title and desc."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Series:
    """One polygon of a radar chart (e.g. the target, or the learner's level)."""

    name: str
    values: Sequence[float]
    css_class: str  # styles the polygon (colour, dash) in relais.css


def radar_svg(labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str,
              max_value: int = 5, size: int = 360, chart_id: str = "radar") -> Markup:
    """A radar (spider) chart of values 0…``max_value`` on one axis per label."""
    n = len(labels)
    if n < 3:
        return Markup("")
    centre = size / 2
    radius = size / 2 - 60

    def point(i: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        r = radius * max(0.0, min(value, max_value)) / max_value
        return centre + r * math.cos(angle), centre + r * math.sin(angle)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
             f'class="radar" role="img" aria-labelledby="{chart_id}-t {chart_id}-d">',
             f'<title id="{chart_id}-t">{escape(title)}</title>',
             f'<desc id="{chart_id}-d">{escape(desc)}</desc>']
    for ring in range(1, max_value + 1):
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon class="grid" points="{pts}"/>')
    for i, label in enumerate(labels):
        x, y = point(i, max_value)
        parts.append(f'<line class="axis" x1="{centre}" y1="{centre}" x2="{x:.1f}" y2="{y:.1f}"/>')
        lx, ly = point(i, max_value + 0.9)
        anchor = "middle" if abs(lx - centre) < 5 else ("start" if lx > centre else "end")
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" '
                     f'dominant-baseline="middle">{escape(label)}</text>')
    for s in series:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in
                       (point(i, v) for i, v in enumerate(s.values)))
        parts.append(f'<polygon class="{escape(s.css_class)}" points="{pts}">'
                     f'<title>{escape(s.name)}</title></polygon>')
    parts.append("</svg>")
    return Markup("".join(parts))
