"""The SVG/HTML drawings of card results (`mfb_infra.charts`): formats and shapes."""

from __future__ import annotations

import re

import pytest

from mfb_infra.charts import ChartError, Result, draw, fmt_value

PERCENT = {"column_settings": {'["name","Share"]': {"number_style": "percent", "decimals": 1}}}
CURRENCY = {"column_settings": {'["name","Value"]': {"number_style": "currency", "decimals": 0}}}


def test_percent_style_shows_a_ratio_as_a_percentage():
    assert fmt_value(0.1234, PERCENT, "Share") == "12.3%"


def test_currency_style_shows_dollars_without_cents():
    assert fmt_value(12345.6, CURRENCY, "Value") == "$12,346"


def test_a_column_without_a_style_keeps_its_number():
    assert fmt_value(0.1234, PERCENT, "Other") == "0.12"


def test_null_is_shown_as_a_dash_not_zero():
    assert fmt_value(None, {}, "x") == "—"


def test_an_empty_result_cannot_be_drawn():
    with pytest.raises(ChartError, match="no rows"):
        draw(Result(("a", "b"), ()), "bar", {}, "t")


def test_an_unknown_display_cannot_be_drawn():
    with pytest.raises(ChartError, match="no drawing"):
        draw(Result(("a",), ((1,),)), "sankey", {}, "t")


def test_a_bar_chart_draws_one_bar_per_row():
    rows = tuple((f"d{i}", i + 1) for i in range(7))
    svg = draw(Result(("Date", "Screeners"), rows), "bar", {}, "t")
    assert len(re.findall(r"<rect [^>]*><title>", svg)) == 7


def test_bar_heights_follow_the_values():
    svg = draw(Result(("k", "v"), (("a", 1), ("b", 3))), "bar", {}, "t")
    heights = [float(h) for h in re.findall(r'height="([0-9.]+)" fill="#509EE3"', svg)]
    assert heights[1] == pytest.approx(3 * heights[0], rel=0.01)


def test_a_second_dimension_breaks_rows_out_into_series():
    rows = (("jan", "co", 1), ("jan", "nc", 2), ("feb", "co", 3), ("feb", "nc", 4))
    settings = {"graph.dimensions": ["Month", "State"], "graph.metrics": ["N"]}
    svg = draw(Result(("Month", "State", "N"), rows), "bar", settings, "t")
    assert len(re.findall(r"<rect [^>]*><title>", svg)) == 4
    assert ">co</text>" in svg and ">nc</text>" in svg  # one legend entry per series


def test_a_line_chart_draws_one_point_per_row():
    rows = tuple((f"d{i}", i) for i in range(5))
    svg = draw(Result(("d", "v"), rows), "line", {}, "t")
    assert svg.count("<circle") == 5 and "<polyline" in svg


def test_a_pie_shows_each_slice_share():
    svg = draw(Result(("Lang", "N"), (("English", 3), ("Spanish", 1))), "pie", {}, "t")
    assert "English · 75.0%" in svg and "Spanish · 25.0%" in svg


def test_a_pie_of_zeros_is_an_error_not_an_empty_circle():
    with pytest.raises(ChartError, match="sums to"):
        draw(Result(("Lang", "N"), (("English", 0),)), "pie", {}, "t")


def test_a_funnel_shows_each_stage_against_the_first():
    rows = (("Started", 10), ("Results", 5))
    svg = draw(Result(("Stage", "N"), rows), "funnel", {}, "t")
    assert "10 · 100%" in svg and "5 · 50%" in svg


def test_a_scalar_shows_the_first_value_with_its_style():
    out = draw(Result(("Share",), ((0.5,),)), "scalar", PERCENT, "t")
    assert ">50.0%<" in out


def test_a_table_shows_every_column_and_escapes_text():
    out = draw(Result(("Partner", "N"), (("<b>x</b>", 2),)), "table", {}, "t")
    assert "<th>Partner</th><th>N</th>" in out and "&lt;b&gt;x&lt;/b&gt;" in out


def test_a_chart_of_text_values_names_the_missing_metric():
    with pytest.raises(ChartError, match="no numeric column"):
        draw(Result(("a", "b"), (("x", "y"),)), "bar", {}, "t")
