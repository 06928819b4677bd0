"""The Shewhart tests of ISO 7870-2:2013 (GB/T 17989.2-2020) on hand-made series, just inside
and just outside each limit, and the SVG drawing of the chart. No database.

Unless said otherwise the chart is CL = 10, UCL = 13, LCL = 7, so σ = (UCL − CL)/3 = 1 and the
2σ lines are at 12 and 8."""

from __future__ import annotations

from decimal import Decimal

import pytest

from metrolab.equipment.control_chart import ChartPoint, Limits, chart_svg, evaluate, rules_broken

LIMITS = Limits.of("10", "7", "13")


def broken(values, limits=LIMITS):
    return rules_broken([str(v) for v in values], limits)


def test_sigma_is_taken_per_side_from_the_control_limits():
    limits = Limits.of("10", "7", "11.5")
    assert limits.sigma_upper == Decimal("0.5")
    assert limits.sigma_lower == 1
    assert limits.warning == (8, 11)  # ±2σ when no warning limits are given
    with pytest.raises(ValueError):
        Limits.of("10", "10", "13")


def test_an_empty_series_and_a_quiet_one_break_nothing():
    assert broken([]) == []
    assert broken([10, 10.5, 9.6, 10.2, 9.9]) == []


# --- test 1: a point beyond a control limit ------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13", []),  # on the upper limit: not beyond it
        ("12.999", []),
        ("13.001", [1]),
        ("7", []),
        ("7.001", []),
        ("6.999", [1]),
    ],
)
def test_1_one_point_beyond_a_control_limit(value, expected):
    # The previous point is on the centre line, so test 5 (2 of 3 beyond 2σ) cannot fire.
    assert broken(["10", value]) == expected


def test_1_and_5_together():
    assert broken(["12.5", "13.5"]) == [1, 5]


# --- test 2: nine points in a row on one side ----------------------------------------------

ABOVE = ["10.1", "10.3", "10.2", "10.4", "10.1", "10.5", "10.2", "10.3", "10.1"]  # no trend


def test_2_nine_points_in_a_row_above_the_centre_line():
    assert broken(ABOVE[:8]) == []  # eight are not enough
    assert broken(ABOVE) == [2]
    assert broken([*ABOVE, "10.2"]) == [2]  # a longer run keeps signalling


def test_2_nine_points_in_a_row_below_the_centre_line():
    below = [str(20 - Decimal(v)) for v in ABOVE]  # mirrored about 10
    assert broken(below) == [2]


def test_2_a_point_on_the_centre_line_or_across_it_ends_the_run():
    assert broken([*ABOVE[:8], "10"]) == []  # on the line: on neither side
    assert broken([*ABOVE[:8], "9.999"]) == []
    assert broken([*ABOVE[:8], "10.000001"]) == [2]  # just above: the ninth
    assert broken(["10", *ABOVE[:8]]) == []  # the run started on the line: only eight


# --- test 3: six points steadily increasing or decreasing ----------------------------------


def test_3_six_points_steadily_increasing():
    rising = ["9.5", "9.7", "9.9", "10.1", "10.3", "10.5"]
    assert broken(rising[:5]) == []  # five are not enough
    assert broken(rising) == [3]


def test_3_six_points_steadily_decreasing():
    assert broken(["10.5", "10.3", "10.1", "9.9", "9.7", "9.5"]) == [3]


def test_3_an_equal_neighbour_or_a_turn_ends_the_trend():
    assert broken(["9.5", "9.7", "9.9", "9.9", "10.1", "10.3"]) == []
    assert broken(["9.5", "9.7", "9.9", "9.8", "10.1", "10.3"]) == []
    assert broken(["9.5", "9.7", "9.9", "9.9001", "10.1", "10.3"]) == [3]


# --- test 5: two of three points beyond 2σ on the same side --------------------------------


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (["12.1", "12.1"], [5]),  # two in a row
        (["12.1", "10", "12.1"], [5]),  # two of three
        (["12", "10", "12.1"], []),  # exactly 2σ is not beyond it
        (["12.001", "10", "12.001"], [5]),
        (["12.1", "10", "10", "12.1"], []),  # the first is four points back
        (["12.1", "10", "11.9"], []),  # the latest is not beyond 2σ
        (["12.1", "7.9"], []),  # opposite sides
        (["7.9", "10", "7.9"], [5]),
        (["8", "10", "7.9"], []),
        (["12.1"], []),
    ],
)
def test_5_two_of_three_beyond_two_sigma(series, expected):
    assert broken(series) == expected


def test_5_with_unequal_limits_uses_each_side_own_sigma():
    # UCL 11.5 → σ above = 0.5, 2σ line at 11; LCL 7 → σ below = 1, 2σ line at 8.
    limits = Limits.of("10", "7", "11.5")
    assert broken(["11.01", "11.01"], limits) == [5]
    assert broken(["11", "11"], limits) == []
    assert broken(["8.5", "8.5"], limits) == []  # 1.5σ below: inside
    assert broken(["7.9", "7.9"], limits) == [5]


def test_comparisons_are_exact_not_binary():
    # σ = 0.01; 2σ = 0.02 exactly. In binary floating point 0.03 / 3 * 2 = 0.019999999999999997,
    # which would wrongly count 0.02 as beyond 2σ.
    limits = Limits.of("0", "-0.03", "0.03")
    assert broken(["0.02", "0.02"], limits) == []
    assert broken([0.02, 0.02], limits) == []  # floats are read as the decimals they print
    assert broken(["0.020000001", "0.020000001"], limits) == [5]


def test_evaluate_flags_each_point_on_the_series_up_to_it():
    series = ["10", "12.5", "10", "12.2", "13.2", "10"]
    assert evaluate(series, LIMITS) == [[], [], [], [5], [1, 5], []]


# --- drawing --------------------------------------------------------------------------------


def test_the_chart_draws_limits_points_and_broken_points_in_red():
    points = [
        ChartPoint("01-05", "10.1"),
        ChartPoint("04-05", "9.8"),
        ChartPoint("07-05", "13.4", broken=(1,)),
    ]
    svg = chart_svg(points, Limits.of("10", "7", "13", "8.5", "11.5"), title="10 MPa", unit="MPa")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'viewBox="0 0 640 260"' in svg and "<script" not in svg
    for label in ("UCL 13", "UWL 11.5", "CL 10", "LWL 8.5", "LCL 7"):
        assert label in svg, label
    assert svg.count("<circle") == 3
    assert svg.count('class="point broken"') == 1
    assert 'fill="#b3261e" stroke="#fff"' in svg  # the broken point is red
    assert "07-05: 13.4 MPa" in svg
    assert "<polyline" in svg and 'stroke-dasharray="6 4"' in svg


def test_the_chart_escapes_text_and_draws_an_empty_series():
    svg = chart_svg([], LIMITS, title="<b>&</b>")
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in svg and "<b>" not in svg
    assert "<circle" not in svg and "<polyline" not in svg
    assert "UCL 13" in svg
