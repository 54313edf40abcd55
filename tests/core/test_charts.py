"""The shared SVG charts: each has an accessible title and description, a table with the same
figures, one scale per chart, and names rather than colour alone."""

from __future__ import annotations

import re

import pytest

from lms.core import charts


def test_nice_max_rounds_up_to_a_readable_axis():
    assert charts.nice_max(342.9) == (400, 100)
    assert charts.nice_max(7) == (8, 2)
    top, step = charts.nice_max(0.1)
    assert top == pytest.approx(0.1) and step == pytest.approx(0.025)
    assert charts.nice_max(0) == (1.0, 0.25)


def test_line_chart_has_title_desc_axis_and_a_table_alternative(app):
    series = [charts.Series("LinkedIn", [1, 4, 2]), charts.Series("X", [0, 1, 3])]
    labels = ["1 nov.", "8 nov.", "15 nov."]
    with app.test_request_context():
        svg = charts.line_chart(labels, series, title="Actions per week", desc="A line each",
                                chart_id="t1")
        table = charts.data_table(labels, series, caption="Actions per week",
                                  label_header="Week of")
        html = str(charts.figure(svg, table))
    assert 'role="img"' in html and 'aria-labelledby="t1-t t1-d"' in html
    assert '<title id="t1-t">Actions per week</title>' in html
    assert '<desc id="t1-d">A line each</desc>' in html
    # The table alternative: a row per week, a column per network, folded under the chart.
    assert "<details" in html and "<summary>The figures</summary>" in html
    assert '<th scope="col">LinkedIn</th><th scope="col">X</th>' in html
    assert '<tr><th scope="row">8 nov.</th><td>4</td><td>1</td></tr>' in html
    # Lines named at their end and dashed differently: not colour alone.
    assert ">LinkedIn</text>" in svg and ">X</text>" in svg
    assert "stroke-dasharray" in svg
    # No style attribute (the CSP refuses inline styles), no script.
    assert "style=" not in html and "<script" not in html


def test_bar_chart_draws_every_bar_on_one_scale(app):
    with app.test_request_context():
        svg = str(charts.bar_chart(["Clicks", "Reactions"], [
            charts.Series("Before", [100, 10]), charts.Series("After", [300, 20])],
            title="Audience", desc="Bars", chart_id="b"))
    widths = [float(w) for w in re.findall(
        r'<rect x="150" y="[\d.]+" width="([\d.]+)" height="14"', svg)]
    # 100, 300, 10, 20 on one axis from 0 to 300: the widths keep their proportions.
    before_clicks, after_clicks, before_reactions, after_reactions = widths
    assert after_clicks == pytest.approx(3 * before_clicks, rel=0.01)
    assert after_reactions == pytest.approx(after_clicks / 15, rel=0.02)
    assert ">300<" in svg  # the axis states its scale


def test_sparkline_is_titled_and_empty_without_values(app):
    with app.test_request_context():
        assert str(charts.sparkline([], title="x")) == ""
        line = str(charts.sparkline([0, 2, 1], title="Clicks per week"))
    assert "<title>Clicks per week</title>" in line and "<polyline" in line


def test_radar_names_wrap_and_keep_room_for_the_labels(app):
    labels = ["Professional profile and personal brand", "Content curation", "Writing posts",
              "Network building"]
    with app.test_request_context():
        svg = str(charts.radar_svg(labels, [charts.Series("Level", [1, 2, 3, 4], "level")],
                                   title="Profile", desc="d", size=400))
    assert 'viewBox="0 0 660 460"' in svg  # 400 px of radar and room for the names
    assert "<tspan" in svg and ">Professional profile<" in svg and ">and personal brand<" in svg
