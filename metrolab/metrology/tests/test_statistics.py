"""Type A statistics, the range method, hysteresis, linearity and the least-squares line.

The line is checked against JCGM 100:2008 Annex H.3 (calibration of a thermometer): the eleven
pairs of Table H.6 and the published results, and, to many more digits, against the independent
implementation in GTC (MSL New Zealand, `GTC.type_a.line_fit`), whose documentation reproduces
the same example (GTC docs/API/GUM_H3.rst and examples/GUM_H3.py).
"""

from __future__ import annotations

import math
import statistics as stdlib_statistics

import numpy as np
import pytest
from scipy import integrate, stats

from metrolab.metrology.rounding import format_plain, report, round_places
from metrolab.metrology.statistics import (
    RANGE_COEFFICIENTS,
    StatisticsError,
    fit_line,
    hysteresis,
    linearity,
    mean,
    range_method,
    repeatability,
    stdev,
    stdev_of_mean,
)

# JCGM 100:2008 Table H.6: thermometer readings t_k (°C) and observed corrections
# b_k = t_R,k − t_k (°C). Data as given in Table H.6 and restated in GTC's examples/GUM_H3.py
# and in the R package `errors` (dataset GUM.H.3, "from Section 3 of Annex H (Table H.6)").
H6_T = (21.521, 22.012, 22.512, 23.003, 23.507, 23.999, 24.513, 25.002, 25.503, 26.010, 26.511)
H6_B = (-0.171, -0.169, -0.166, -0.159, -0.164, -0.165, -0.156, -0.157, -0.159, -0.161, -0.160)
T0 = 20.0  # the arbitrary reference temperature of H.3.1


@pytest.fixture(scope="module")
def h3():
    # b(t) = y1 + y2 (t − t0): fit against θ = t − t0, predict at 30 °C (θ = 10 °C).
    return fit_line([t - T0 for t in H6_T], H6_B, predict_at=[30.0 - T0])


def test_gum_h3_published_results(h3):
    # JCGM 100:2008 H.3.3 (eqs. H.13-H.14): y1 = −0.1712 °C, u(y1) = 0.0029 °C,
    # y2 = 0.00218, u(y2) = 0.00067, r(y1, y2) = −0.930; ν = 11 − 2 = 9.
    # Each estimate is reported to the last digit of its uncertainty (JJF 1059.1 §5.3.8).
    assert tuple(map(format_plain, report(h3.intercept, h3.u_intercept))) == ("-0.1712", "0.0029")
    assert tuple(map(format_plain, report(h3.slope, h3.u_slope))) == ("0.00218", "0.00067")
    assert format_plain(round_places(h3.r_intercept_slope, 3)) == "-0.930"
    assert h3.dof == 9
    # JCGM 100:2008 H.3.4 (eqs. H.15-H.16): the correction at t = 30 °C is
    # b(30 °C) = −0.1494 °C with u = 0.0041 °C.
    (at_30,) = h3.predict
    assert at_30.x == 10.0
    assert tuple(map(format_plain, report(at_30.y, at_30.u))) == ("-0.1494", "0.0041")


def test_gum_h3_against_gtc(h3):
    # Independent calculation: GTC's own least-squares line on the same data.
    gtc = pytest.importorskip("GTC")
    fit = gtc.type_a.line_fit([t - T0 for t in H6_T], list(H6_B))
    a, b = fit.a_b
    assert h3.intercept == pytest.approx(gtc.value(a), rel=1e-12)
    assert h3.slope == pytest.approx(gtc.value(b), rel=1e-12)
    assert h3.u_intercept == pytest.approx(gtc.uncertainty(a), rel=1e-12)
    assert h3.u_slope == pytest.approx(gtc.uncertainty(b), rel=1e-12)
    assert h3.r_intercept_slope == pytest.approx(gtc.get_correlation(a, b), rel=1e-12)
    assert h3.dof == gtc.dof(a) == gtc.dof(b)
    assert h3.s == pytest.approx(math.sqrt(fit.ssr / (fit.N - 2)), rel=1e-12)
    # GTC propagates the correlated a, b into the prediction by its own arithmetic.
    b_30 = a + b * (30.0 - T0)
    (at_30,) = h3.predict
    assert at_30.y == pytest.approx(gtc.value(b_30), rel=1e-12)
    assert at_30.u == pytest.approx(gtc.uncertainty(b_30), rel=1e-12)
    # Spelled-out values, for a reader without GTC at hand (GTC 1.5.1 on this data):
    assert h3.intercept == pytest.approx(-0.17120379013135, rel=1e-12)
    assert h3.slope == pytest.approx(0.0021826977398872894, rel=1e-12)
    assert h3.u_intercept == pytest.approx(0.0028775978351599563, rel=1e-12)
    assert h3.u_slope == pytest.approx(0.0006679387732278323, rel=1e-12)
    assert h3.r_intercept_slope == pytest.approx(-0.9304296030934459, rel=1e-12)
    assert at_30.u == pytest.approx(0.004138595752854951, rel=1e-12)


def test_gum_h3_prediction_matches_eq_h16_as_written(h3):
    # u²(b(θ)) = u²(y1) + θ² u²(y2) + 2 θ u(y1) u(y2) r(y1, y2), JCGM 100:2008 eq. H.16;
    # the library evaluates the equivalent centred form.
    for theta in (0.0, 1.5, 10.0, -7.0):
        u2 = (
            h3.u_intercept**2
            + theta**2 * h3.u_slope**2
            + 2 * theta * h3.u_intercept * h3.u_slope * h3.r_intercept_slope
        )
        assert h3.prediction(theta).u == pytest.approx(math.sqrt(u2), rel=1e-10)


def test_gum_h3_against_numpy_polyfit(h3):
    theta = np.array(H6_T) - T0
    coef, cov = np.polyfit(theta, H6_B, 1, cov="unscaled")
    residuals = np.array(H6_B) - np.polyval(coef, theta)
    s2 = residuals @ residuals / (len(theta) - 2)
    assert h3.slope == pytest.approx(coef[0], rel=1e-10)
    assert h3.intercept == pytest.approx(coef[1], rel=1e-10)
    assert h3.u_slope == pytest.approx(math.sqrt(s2 * cov[0, 0]), rel=1e-10)
    assert h3.u_intercept == pytest.approx(math.sqrt(s2 * cov[1, 1]), rel=1e-10)
    assert h3.r == pytest.approx(np.corrcoef(theta, H6_B)[0, 1], rel=1e-10)


def test_line_fit_to_dict_keys(h3):
    data = h3.to_dict()
    assert set(data) == {
        "intercept",
        "slope",
        "u_intercept",
        "u_slope",
        "r",
        "dof",
        "predict",
        "r_intercept_slope",
        "s",
    }
    assert data["predict"] == [{"x": 10.0, "y": h3.predict[0].y, "u": h3.predict[0].u}]
    assert all(isinstance(data[k], float) for k in data if k not in {"dof", "predict"})
    assert data["dof"] == 9


def test_line_through_exact_points():
    fit = fit_line([0, 1, 2, 3], [2, 5, 8, 11], predict_at=[10])
    assert (fit.intercept, fit.slope) == (pytest.approx(2), pytest.approx(3))
    assert fit.s == fit.u_slope == fit.u_intercept == 0
    assert fit.r == pytest.approx(1)
    assert fit.predict[0].y == pytest.approx(32)
    assert fit.predict[0].u == 0
    # r(a, b) = −Σx / √(n Σx²) = −6 / √(4 × 14) does not depend on the scatter
    assert fit.r_intercept_slope == pytest.approx(-6 / math.sqrt(56))


def test_line_with_constant_y_has_undefined_r():
    fit = fit_line([1, 2, 3], [5, 5, 5])
    assert fit.slope == 0 and fit.r is None


def test_line_far_from_origin_keeps_its_digits():
    # x around 10⁶: the centred sums do not cancel digits away
    x = [1e6 + i for i in range(5)]
    y = [1.0 + 0.5 * i + (0.01 if i == 2 else 0.0) for i in range(5)]
    fit = fit_line(x, y, predict_at=[1e6 + 2])
    assert fit.slope == pytest.approx(0.5, rel=1e-9)
    # at the mean, u(y) = s / √n exactly
    assert fit.predict[0].u == pytest.approx(fit.s / math.sqrt(5), rel=1e-9)


@pytest.mark.parametrize(
    ("x", "y", "field"),
    [
        ([1, 2], [1, 2], "x"),  # two points leave no degrees of freedom
        ([1, 2, 3], [1, 2], "y"),
        ([1, 1, 1], [1, 2, 3], "x"),
        ([1, 2, "a"], [1, 2, 3], "x[2]"),
        ([1, 2, 3], [1, float("nan"), 3], "y[1]"),
        ("123", [1, 2, 3], "x"),
        ([1, 2, True], [1, 2, 3], "x[2]"),
    ],
)
def test_line_fit_errors(x, y, field):
    with pytest.raises(StatisticsError) as info:
        fit_line(x, y)
    assert info.value.field == field


def test_prediction_error_names_the_field():
    with pytest.raises(StatisticsError) as info:
        fit_line([1, 2, 3], [1, 2, 4], predict_at=[1, "x"])
    assert info.value.field == "predict_at[1]"


# --- Type A ------------------------------------------------------------------------------------


def test_type_a_small_example():
    # readings 10.12, 10.15, 10.10, 10.11: Σ = 40.48, x̄ = 10.12;
    # deviations 0, +0.03, −0.02, −0.01 → Σ squares = 0.0014; s² = 0.0014/3;
    # s = 0.021602…; s(x̄) = s/√4 = 0.010801… (JCGM 100:2008 eqs. 3-5)
    readings = [10.12, 10.15, 10.10, 10.11]
    assert mean(readings) == pytest.approx(10.12, rel=1e-15)
    assert stdev(readings) == pytest.approx(math.sqrt(0.0014 / 3), rel=1e-10)
    assert stdev_of_mean(readings) == pytest.approx(math.sqrt(0.0014 / 3) / 2, rel=1e-10)
    assert repeatability(readings) == stdev(readings)
    assert stdev(readings) == pytest.approx(stdlib_statistics.stdev(readings), rel=1e-12)
    assert stdev(readings) == pytest.approx(float(np.std(readings, ddof=1)), rel=1e-12)


def test_type_a_accepts_arrays_and_rejects_bad_data():
    assert mean(np.array([1.0, 2.0, 3.0])) == 2.0
    assert mean((1, 2, 3, 4)) == 2.5
    with pytest.raises(StatisticsError, match="readings"):
        stdev([1.0])
    with pytest.raises(StatisticsError, match="readings"):
        mean([])
    with pytest.raises(StatisticsError, match=r"readings\[1\]"):
        mean([1.0, float("inf")])
    with pytest.raises(StatisticsError, match="readings"):
        mean({"a": 1})


# --- range method ------------------------------------------------------------------------------


def test_range_method_hand_example():
    # 4 readings 10.12, 10.15, 10.10, 10.11: R = 10.15 − 10.10 = 0.05; C₄ = 2.06;
    # s = 0.05 / 2.06 = 0.02427… (≈ 0.02 as the worked exam answer gives it), ν = 2.7
    # (JJF 1059.1-2012 §4.3.2 Table 1; the same example is worked in a public exam bank).
    result = range_method([10.12, 10.15, 10.10, 10.11])
    assert result.n == 4
    assert result.range == pytest.approx(0.05)
    assert result.c == 2.06
    assert result.s == pytest.approx(0.05 / 2.06)
    assert result.dof == 2.7


def test_range_method_second_example():
    # 0.02, 0.05, 0.04, 0.06 g: R = 0.04 g, C₄ = 2.06, s = 0.04/2.06 = 0.0194 ≈ 0.02 g, ν = 2.7
    result = range_method([0.02, 0.05, 0.04, 0.06])
    assert result.s == pytest.approx(0.04 / 2.06)
    assert format_plain(round_places(result.s, 2)) == "0.02"
    # 5 readings 1, 2, 3, 4, 5: R = 4, C₅ = 2.33, s = 4/2.33 = 1.7167…; Bessel gives 1.5811
    result = range_method([1, 2, 3, 4, 5])
    assert result.s == pytest.approx(4 / 2.33)
    assert result.to_dict() == {"n": 5, "range": 4.0, "c": 2.33, "s": 4 / 2.33, "dof": 3.6}


def _range_exceeds(t: float, n: int) -> float:
    # P(min ≤ t ≤ max) for n standard normal readings; its integral over t is E[range].
    return 1 - stats.norm.cdf(t) ** n - stats.norm.sf(t) ** n


def test_range_coefficients_are_the_normal_range_constants():
    # The table (C₂ … C₉ = 1.13, 1.69, 2.06, 2.33, 2.53, 2.70, 2.85, 2.97 and ν = 0.9, 1.8, 2.7,
    # 3.6, 4.5, 5.3, 6.0, 6.8) is recomputed independently: C_n = d₂ = E[range of n standard
    # normal readings] = ∫ (1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ) dx, and ν = ½ (d₂/d₃)² with d₃² = var(range)
    # from P(W ≤ w) = n ∫ φ(x) (Φ(x + w) − Φ(x))ⁿ⁻¹ dx and E[W²] = 2 ∫ w P(W > w) dw.
    x = np.linspace(-9, 9, 1441)
    w = np.linspace(0, 14, 701)
    phi = stats.norm.pdf(x)
    cdf_x = stats.norm.cdf(x)
    cdf_xw = stats.norm.cdf(x[None, :] + w[:, None])
    assert sorted(RANGE_COEFFICIENTS) == list(range(2, 10))
    for n, (c, dof) in RANGE_COEFFICIENTS.items():
        d2 = integrate.quad(_range_exceeds, -12, 12, args=(n,))[0]
        below = n * integrate.simpson(phi * (cdf_xw - cdf_x) ** (n - 1), x=x, axis=1)
        d3 = math.sqrt(2 * integrate.simpson(w * (1 - below), x=w) - d2**2)
        assert round(d2, 2) == c, n
        assert round(0.5 * (d2 / d3) ** 2, 1) == dof, n


@pytest.mark.parametrize("readings", [[1.0], [float(i) for i in range(10)]])
def test_range_method_outside_the_table(readings):
    with pytest.raises(StatisticsError) as info:
        range_method(readings)
    assert info.value.field == "readings"


# --- hysteresis and linearity ------------------------------------------------------------------


def test_hysteresis_hand_example():
    # points 0, 1, 2, 3 MPa; rising 0.00, 1.02, 2.01, 3.04; falling 0.01, 1.05, 2.03, 3.04
    # |rising − falling| = 0.01, 0.03, 0.02, 0.00 → maximum 0.03 at the second point
    result = hysteresis([0.00, 1.02, 2.01, 3.04], [0.01, 1.05, 2.03, 3.04])
    assert result.differences == pytest.approx((0.01, 0.03, 0.02, 0.0))
    assert result.maximum == pytest.approx(0.03)
    assert result.index == 1
    assert result.to_dict()["maximum"] == result.maximum


def test_hysteresis_errors():
    with pytest.raises(StatisticsError) as info:
        hysteresis([1, 2, 3], [1, 2])
    assert info.value.field == "falling"
    with pytest.raises(StatisticsError) as info:
        hysteresis([], [])
    assert info.value.field == "rising"


def test_linearity_hand_example():
    # x = 0…4, y = 0.00, 1.10, 1.90, 3.05, 4.00: x̄ = 2, ȳ = 2.01, Σ(x − x̄)² = 10,
    # Σ(x − x̄)(y − ȳ) = 4.02 + 0.91 + 0 + 1.04 + 3.98 = 9.95 → b = 0.995, a = 2.01 − 1.99 = 0.02;
    # line: 0.020, 1.015, 2.010, 3.005, 4.000; deviations −0.020, +0.085, −0.110, +0.045, 0;
    # largest |deviation| 0.110 at x = 2; span |b| (4 − 0) = 3.98; ξ = 0.110/3.98 = 2.764 %.
    result = linearity([0, 1, 2, 3, 4], [0.0, 1.1, 1.9, 3.05, 4.0])
    assert result.fit.slope == pytest.approx(0.995)
    assert result.fit.intercept == pytest.approx(0.02)
    assert result.deviations == pytest.approx((-0.02, 0.085, -0.11, 0.045, 0.0), abs=1e-12)
    assert result.max_deviation == pytest.approx(0.11)
    assert result.at_x == 2
    assert result.span == pytest.approx(3.98)
    assert result.relative == pytest.approx(0.11 / 3.98)
    # against a nominal full scale of 4
    assert linearity([0, 1, 2, 3, 4], [0.0, 1.1, 1.9, 3.05, 4.0], span=4).relative == (
        pytest.approx(0.11 / 4)
    )


def test_linearity_errors():
    with pytest.raises(StatisticsError) as info:
        linearity([0, 1, 2], [1, 1, 1])
    assert info.value.field == "span"
    with pytest.raises(StatisticsError) as info:
        linearity([0, 1, 2], [0, 1, 2], span=0)
    assert info.value.field == "span"
