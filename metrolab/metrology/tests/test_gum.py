"""The law of propagation of uncertainty (metrology/gum.py) against the worked examples of
JCGM 100:2008 (GUM) Annex H, with GTC (MSL New Zealand's GUM Tree Calculator, an independent
implementation) computing the same examples to full precision beside the published values."""

import json
import math

import GTC
import pytest
from GTC import type_a, type_b, ureal
from scipy import special

from metrolab.metrology.gum import (
    correlations_from_readings,
    coverage_factor,
    evaluate_gum,
)
from metrolab.metrology.inputs import InputError, InputQuantity, parse_inputs
from metrolab.metrology.model import Model, ModelError

# --- JCGM 100:2008 Annex H.1: calibration of an end gauge ------------------------------------
# Lengths in nm. Input estimates, standard uncertainties and degrees of freedom from Table H.1
# and H.1.3: the length difference d is split into its three components (H.1.3.2: repeated
# observations, random and systematic effects of the comparator); θ = θ̄ + Δ with the cyclic
# variation Δ U-shaped (arcsine) of half-width 0.5 °C, u = 0.35 °C (H.1.3.3); αs, δα and δθ
# rectangular of half-widths 2e-6 /°C, 1e-6 /°C and 0.05 °C (H.1.3.3-H.1.3.5), δα with ν = 50
# and δθ with ν = 2 (from their stated 10 % and 50 % reliabilities). Same inputs as GTC's own
# example GUM_H1.py.
H1_INPUTS = {
    "ls": {"value": 50_000_623, "u": 25, "dof": 18},
    "d1": {"value": 215, "u": 5.8, "dof": 24},
    "d2": {"value": 0, "u": 3.9, "dof": 5},
    "d3": {"value": 0, "u": 6.7, "dof": 8},
    "alpha_s": {"value": 11.5e-6, "distribution": "rectangular", "half_width": 2e-6},
    "d_alpha": {"value": 0, "distribution": "rectangular", "half_width": 1e-6, "dof": 50},
    "theta_bar": {"value": -0.1, "u": 0.2},
    "Delta": {"value": 0, "distribution": "arcsine", "half_width": 0.5},
    "d_theta": {"value": 0, "distribution": "rectangular", "half_width": 0.05, "dof": 2},
}
# The first-order model, GUM eq. H.3, and the full model, GUM eq. H.1 (with H.2 substituted).
H1_FIRST_ORDER = "ls + d1 + d2 + d3 - ls*(d_alpha*(theta_bar + Delta) + alpha_s*d_theta)"
H1_FULL = (
    "(ls*(1 + alpha_s*(theta_bar + Delta)) + d1 + d2 + d3)"
    " / (1 + (alpha_s + d_alpha)*(theta_bar + Delta + d_theta))"
)


def gtc_h1(full: bool):
    ls = ureal(50_000_623, 25, 18)
    d = ureal(215, 5.8, 24) + ureal(0, 3.9, 5) + ureal(0, 6.7, 8)
    alpha_s = ureal(11.5e-6, type_b.uniform(2e-6))
    d_alpha = ureal(0, type_b.uniform(1e-6), 50)
    theta = ureal(-0.1, 0.2) + ureal(0, type_b.arcsine(0.5))
    d_theta = ureal(0, type_b.uniform(0.05), 2)
    if full:
        return (ls * (1 + alpha_s * theta) + d) / (1 + (alpha_s + d_alpha) * (theta + d_theta))
    return ls + d - ls * (d_alpha * theta + alpha_s * d_theta)


@pytest.mark.parametrize("full", [False, True], ids=["first-order H.3", "full H.1"])
def test_gum_h1_end_gauge(full):
    """JCGM 100:2008 H.1.5-H.1.6: l = 50.000 838 mm, u_c(l) = 32 nm, ν_eff(l) = 16.7 → 16,
    t_99(16) = 2.92, U_99 = 93 nm; Table H.1 for the contributions."""
    model = Model.parse({"l": H1_FULL if full else H1_FIRST_ORDER})
    result = evaluate_gum(model, parse_inputs(H1_INPUTS), coverage={"p": 0.99})
    out = result.outputs["l"]

    # Published values, at the precision printed.
    assert round(out.value) == 50_000_838
    assert round(out.u) == 32
    assert math.floor(out.dof) == 16
    assert out.dof == pytest.approx(16.7, abs=0.1)
    assert round(out.k, 2) == 2.92
    # The GUM multiplies the rounded values, 2.92 × 32 nm = 93 nm (H.1.6); unrounded,
    # U_99 = 92.48 nm, which is 93 nm when rounded up as JJF 1059.1 §5.3.8 allows.
    assert round(round(out.k, 2) * round(out.u)) == 93
    expanded = out.U
    assert expanded == pytest.approx(92.48, abs=0.01)
    assert math.ceil(expanded) == 93
    assert result.warnings == ()

    # Table H.1: contributions |c_i| u(x_i) in nm (u(d) components as in H.1.3.2).
    budget = {line.input: line for line in out.budget}
    assert [line.input for line in out.budget] == list(H1_INPUTS)
    assert budget["ls"].contribution == pytest.approx(25)
    assert budget["d_alpha"].contribution == pytest.approx(2.9, abs=0.05)
    assert budget["d_theta"].contribution == pytest.approx(16.6, abs=0.05)
    assert budget["d_theta"].c == pytest.approx(-0.575e6 * 1e-3, rel=1e-3)  # −ls αs, nm/°C
    assert budget["d_alpha"].c == pytest.approx(5e6, rel=1e-4)  # −ls θ = 5 mm·°C in nm·°C
    if not full:  # first order: αs and θ do not contribute (Table H.1, c = 0)
        for name in ("alpha_s", "theta_bar", "Delta"):
            assert budget[name].c == 0
    assert budget["alpha_s"].dof == math.inf

    # GTC, the same calculation, to many digits.
    reference = gtc_h1(full)
    assert out.value == pytest.approx(GTC.value(reference), rel=1e-15)
    assert out.u == pytest.approx(GTC.uncertainty(reference), rel=1e-12)
    assert out.dof == pytest.approx(GTC.dof(reference), rel=1e-10)
    assert out.k == pytest.approx(float(special.stdtrit(16, 0.995)), rel=1e-12)
    assert out.interval == pytest.approx((out.value - out.U, out.value + out.U))


def test_gum_h1_to_dict():
    """The JSON contract of issue 3: unrounded floats, dof null when infinite."""
    model = Model.parse({"l": H1_FIRST_ORDER})
    data = evaluate_gum(model, parse_inputs(H1_INPUTS), coverage={"p": 0.99}).to_dict()
    json.dumps(data, allow_nan=False)
    assert set(data) == {"outputs", "correlation", "warnings"}
    out = data["outputs"]["l"]
    assert set(out) == {"value", "u", "dof", "k", "U", "interval", "budget"}
    assert set(out["budget"][0]) == {"input", "value", "u", "dof", "c", "contribution"}
    assert isinstance(out["interval"], list) and len(out["interval"]) == 2
    budget = {line["input"]: line for line in out["budget"]}
    assert budget["alpha_s"]["dof"] is None
    assert budget["ls"]["dof"] == 18
    assert data["correlation"] == {}
    assert data["warnings"] == []


# --- JCGM 100:2008 Annex H.2: simultaneous resistance and reactance ---------------------------
# Table H.2: five sets of simultaneous observations of V (V), I (here in A) and φ (rad).
H2_READINGS = {
    "V": [5.007, 4.994, 5.005, 4.990, 4.999],
    "I": [19.663e-3, 19.639e-3, 19.640e-3, 19.685e-3, 19.678e-3],
    "phi": [1.0456, 1.0438, 1.0468, 1.0428, 1.0433],
}
H2_MODEL = {"R": "V/I*cos(phi)", "X": "V/I*sin(phi)", "Z": "V/I"}


def h2_inputs():
    return parse_inputs({name: {"readings": r} for name, r in H2_READINGS.items()})


def test_gum_h2_input_correlations_from_readings():
    """JCGM 100:2008 Table H.2: r(V, I) = −0.36, r(V, φ) = 0.86, r(I, φ) = −0.65 (eq. 17)."""
    inputs = h2_inputs()
    assert inputs["V"].value == pytest.approx(4.9990)
    assert inputs["V"].u == pytest.approx(0.0032, abs=5e-5)
    assert inputs["I"].value == pytest.approx(19.661e-3)
    assert inputs["I"].u == pytest.approx(0.0095e-3, abs=5e-8)
    assert inputs["phi"].value == pytest.approx(1.04446)
    assert inputs["phi"].u == pytest.approx(0.00075, abs=5e-6)
    r = {(a, b): value for a, b, value in correlations_from_readings(inputs)}
    assert r == {
        ("V", "I"): pytest.approx(-0.36, abs=0.005),
        ("V", "phi"): pytest.approx(0.86, abs=0.005),
        ("I", "phi"): pytest.approx(-0.65, abs=0.005),
    }
    assert correlations_from_readings(inputs, [("phi", "V")])[0][:2] == ["phi", "V"]


def test_gum_h2_resistance_reactance_impedance():
    """JCGM 100:2008 H.2.3 and Table H.3 (approach 1): R = 127.732 Ω, u 0.071 Ω;
    X = 219.847 Ω, u 0.295 Ω; Z = 254.260 Ω, u 0.236 Ω; r(R, X) = −0.588, r(R, Z) = −0.485,
    r(X, Z) = 0.993. GTC (type_a.multi_estimate_real, the same eq. 17 correlations) agrees with
    us to 12 digits; its u(X) = 0.29558 Ω, like ours, so the GUM's 0.295 is off by 0.6 in the
    last digit (GTC's GUM_H2 example notes the GUM's round-off)."""
    inputs = h2_inputs()
    result = evaluate_gum(
        Model.parse(H2_MODEL), inputs, correlations_from_readings(inputs), coverage={"k": 2}
    )
    R, X, Z = (result.outputs[name] for name in ("R", "X", "Z"))
    assert round(R.value, 3) == 127.732
    assert round(R.u, 3) == 0.071
    assert round(X.value, 3) == 219.847
    assert X.u == pytest.approx(0.295, abs=1e-3)
    assert round(Z.value, 3) == 254.260
    assert round(Z.u, 3) == 0.236
    assert round(result.correlation["R,X"], 3) == -0.588
    assert round(result.correlation["R,Z"], 3) == -0.485
    assert round(result.correlation["X,Z"], 3) == 0.993
    assert list(result.correlation) == ["R,X", "R,Z", "X,Z"]
    for out in (R, X, Z):
        assert out.k == 2
        assert out.interval == pytest.approx((out.value - 2 * out.u, out.value + 2 * out.u))

    v, i, phi = type_a.multi_estimate_real(tuple(H2_READINGS.values()), labels=("V", "I", "phi"))
    gtc = {"R": v / i * GTC.cos(phi), "X": v / i * GTC.sin(phi), "Z": v / i}
    for name, reference in gtc.items():
        assert result.outputs[name].value == pytest.approx(GTC.value(reference), rel=1e-13)
        assert result.outputs[name].u == pytest.approx(GTC.uncertainty(reference), rel=1e-12)
    for key, value in result.correlation.items():
        a, b = key.split(",")
        assert value == pytest.approx(GTC.get_correlation(gtc[a], gtc[b]), rel=1e-10)

    # Welch-Satterthwaite with correlated inputs: computed as if independent, and flagged.
    # (GTC reports ν = 4 here by Willink's method for inputs from one ensemble of readings.)
    assert len(result.warnings) == 3
    assert all("correlated" in w for w in result.warnings)
    assert 4 <= R.dof <= 12


def test_readings_are_not_correlated_unless_asked():
    """Simultaneous readings give correlations only through the correlations list: without it,
    the result is that of independent inputs (GTC ureals with the same u)."""
    inputs = h2_inputs()
    result = evaluate_gum(Model.parse(H2_MODEL), inputs)
    assert result.warnings == ()
    v, i, phi = (ureal(q.value, q.u, q.dof) for q in inputs.values())
    reference = v / i * GTC.sin(phi)
    assert result.outputs["X"].u == pytest.approx(GTC.uncertainty(reference), rel=1e-12)
    assert result.outputs["X"].dof == pytest.approx(GTC.dof(reference), rel=1e-10)
    assert result.outputs["X"].u != pytest.approx(0.295, abs=1e-3)


# --- coverage factor ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dof", "p", "published"),
    [
        (2, 0.95, 4.30),
        (2, 0.99, 9.92),
        (10, 0.95, 2.23),
        (10, 0.9545, 2.28),
        (10, 0.99, 3.17),
        (16, 0.95, 2.12),
        (16, 0.9545, 2.17),
        (16, 0.99, 2.92),
        (math.inf, 0.6827, 1.00),
        (math.inf, 0.95, 1.96),
        (math.inf, 0.9545, 2.00),
        (math.inf, 0.99, 2.58),
        (math.inf, 0.9973, 3.00),
    ],
)
def test_coverage_factor_table_g2(dof, p, published):
    """JCGM 100:2008 Table G.2, t_p(ν) for two-sided coverage probability p."""
    assert round(coverage_factor(p, dof), 2) == published


def test_coverage_factor_truncates_dof():
    """JCGM 100:2008 G.4.1 note 1: a non-integer ν_eff is truncated to the next lower integer."""
    assert coverage_factor(0.95, 16.9) == coverage_factor(0.95, 16)
    assert coverage_factor(0.95, 16.9) > float(special.stdtrit(16.9, 0.975))
    assert coverage_factor(0.95, 16 - 1e-12) == coverage_factor(0.95, 16)  # rounding noise
    assert coverage_factor(0.95, 0.5) == pytest.approx(float(special.stdtrit(0.5, 0.975)))


def test_k_from_p_with_finite_dof_and_fixed_k():
    """Y = X1 + X2, u = 1 each, ν1 = 4, ν2 = ∞: ν_eff = 2²/(1/4) = 16 (JCGM 100:2008 eq. G.2b);
    p = 95 % gives k = t_95(16) = 2.12 (Table G.2); a fixed k = 2 is used as given."""
    model = Model.parse({"Y": "X1 + X2"})
    inputs = parse_inputs({"X1": {"value": 1, "u": 1, "dof": 4}, "X2": {"value": 2, "u": 1}})
    by_p = evaluate_gum(model, inputs, coverage={"p": 0.95}).outputs["Y"]
    assert by_p.value == 3
    assert by_p.u == pytest.approx(math.sqrt(2))
    assert by_p.dof == pytest.approx(16)
    assert by_p.k == pytest.approx(float(special.stdtrit(16, 0.975)), rel=1e-12)
    assert round(by_p.k, 2) == 2.12
    expanded = by_p.U
    assert expanded == pytest.approx(by_p.k * math.sqrt(2))
    assert by_p.interval == pytest.approx((3 - expanded, 3 + expanded))

    fixed = evaluate_gum(model, inputs, coverage={"k": 2}).outputs["Y"]
    assert fixed.k == 2
    assert fixed.interval == pytest.approx((3 - 2 * math.sqrt(2), 3 + 2 * math.sqrt(2)))
    assert fixed.dof == pytest.approx(16)
    assert evaluate_gum(model, inputs).outputs["Y"].k == 2  # default coverage {"k": 2}


def test_all_infinite_dof():
    """Type B inputs without stated reliability: ν_eff = ∞, dof null in JSON, and k_95 is the
    normal quantile 1.960 (JCGM 100:2008 G.6.6)."""
    model = Model.parse({"Y": "a * b"})
    inputs = {
        "a": InputQuantity("a", 2.0, 0.1, math.inf, "B", "normal"),
        "b": InputQuantity("b", 3.0, 0.2, math.inf, "B", "normal"),
    }
    result = evaluate_gum(model, inputs, coverage={"p": 0.95})
    out = result.outputs["Y"]
    assert out.value == 6
    assert out.u == pytest.approx(math.hypot(3 * 0.1, 2 * 0.2))
    assert out.dof == math.inf
    assert out.k == pytest.approx(1.959964, abs=1e-6)
    data = result.to_dict()["outputs"]["Y"]
    assert data["dof"] is None
    assert all(line["dof"] is None for line in data["budget"])


def test_correlated_inputs_eq_13():
    """JCGM 100:2008 eq. 13 and F.1.2.3: Y = X1 + X2 with r = 1 gives u = u1 + u2; with r = −1,
    Y = X1 − X2 also adds; the output correlation of X1+X2 and X1−X2 follows eq. F.2."""
    model = Model.parse({"S": "X1 + X2", "D": "X1 - X2"})
    inputs = parse_inputs({"X1": {"value": 10, "u": 0.3}, "X2": {"value": 4, "u": 0.4}})
    full = evaluate_gum(model, inputs, [["X1", "X2", 1]])
    assert full.outputs["S"].u == pytest.approx(0.7)
    assert full.outputs["D"].u == pytest.approx(0.1)
    # u(S, D) = u1² − u2² = −0.07 → r = −0.07 / (0.7 · 0.1) = −1
    assert full.correlation["S,D"] == pytest.approx(-1)
    independent = evaluate_gum(model, inputs)
    assert independent.outputs["S"].u == pytest.approx(0.5)
    assert independent.correlation["S,D"] == pytest.approx((0.09 - 0.16) / 0.25)
    assert full.warnings == ()  # infinite dof: Welch-Satterthwaite plays no part


def test_budget_lists_the_inputs_each_output_uses():
    """Several outputs of the same inputs (JCGM 102:2011 §6): each budget has the inputs its
    own expression uses, including those with a zero sensitivity coefficient."""
    model = Model.parse({"A": "x * y", "B": "2 * z + 0 * x", "C": "A + B"})
    inputs = parse_inputs(
        {"x": {"value": 1, "u": 0.1}, "y": {"value": 2, "u": 0.2}, "z": {"value": 3, "u": 0.3}}
    )
    result = evaluate_gum(model, inputs)
    assert [line.input for line in result.outputs["A"].budget] == ["x", "y"]
    assert [(line.input, line.c) for line in result.outputs["B"].budget] == [("x", 0), ("z", 2)]
    assert [line.input for line in result.outputs["C"].budget] == ["x", "y", "z"]
    assert result.outputs["C"].value == 8
    assert list(result.correlation) == ["A,B", "A,C", "B,C"]


def test_output_with_zero_uncertainty_has_no_correlation():
    model = Model.parse({"Y": "a + b", "W": "0 * a + 5"})
    inputs = parse_inputs({"a": {"value": 1, "u": 0.1}, "b": {"value": 1, "u": 0.1}})
    result = evaluate_gum(model, inputs)
    assert result.outputs["W"].u == 0
    assert result.correlation == {"Y,W": None}
    assert any("undefined" in w for w in result.warnings)
    json.dumps(result.to_dict(), allow_nan=False)


# --- errors name the field at fault ----------------------------------------------------------


def errors(model, inputs, **kwargs):
    with pytest.raises(InputError) as caught:
        evaluate_gum(Model.parse(model), inputs, **kwargs)
    return caught.value


def test_unused_input_is_an_error():
    inputs = parse_inputs({"a": {"value": 1, "u": 0.1}, "extra": {"value": 1, "u": 0.1}})
    error = errors({"Y": "2 * a"}, inputs)
    assert error.field == "inputs.extra"
    assert "not used" in error.message


def test_missing_input_is_an_error():
    error = errors({"Y": "a + b"}, parse_inputs({"a": {"value": 1, "u": 0.1}}))
    assert error.field == "inputs.b"
    assert "no such input" in error.message


def test_negative_uncertainty_is_an_error():
    with pytest.raises(InputError) as caught:
        parse_inputs({"a": {"value": 1, "u": -0.1}})
    assert caught.value.field == "inputs.a.u"
    bad = {"a": InputQuantity("a", 1.0, -0.1, math.inf, "B", "normal")}
    assert errors({"Y": "a"}, bad).field == "inputs.a.u"
    bad = {"a": InputQuantity("a", 1.0, 0.1, 0, "A", "t")}
    assert errors({"Y": "a"}, bad).field == "inputs.a.dof"


@pytest.mark.parametrize(
    ("coverage", "field"),
    [
        ({"p": 1.5}, "coverage.p"),
        ({"p": 0}, "coverage.p"),
        ({"k": 0}, "coverage.k"),
        ({"k": "two"}, "coverage.k"),
        ({"k": 2, "p": 0.95}, "coverage"),
        ({}, "coverage"),
        ({"q": 0.95}, "coverage.q"),
        ([2], "coverage"),
    ],
)
def test_bad_coverage(coverage, field):
    inputs = parse_inputs({"a": {"value": 1, "u": 0.1}})
    assert errors({"Y": "a"}, inputs, coverage=coverage).field == field


def test_bad_correlations():
    inputs = parse_inputs({"a": {"value": 1, "u": 0.1}, "b": {"value": 1, "u": 0.1}})
    assert errors({"Y": "a + b"}, inputs, correlations=[["a", "c", 0.5]]).field == (
        "correlations[0]"
    )
    assert errors({"Y": "a + b"}, inputs, correlations=[["a", "b", 1.5]]).field == (
        "correlations[0]"
    )
    with pytest.raises(InputError) as caught:
        correlations_from_readings(inputs, [("a", "b")])
    assert caught.value.field == "correlations[0]"


def test_model_that_cannot_be_evaluated():
    inputs = parse_inputs({"x": {"value": -1, "u": 0.1}})
    with pytest.raises(ModelError) as caught:
        evaluate_gum(Model.parse({"Y": "sqrt(x)"}), inputs)
    assert caught.value.field == "Y"
    with pytest.raises(ModelError):  # a negative base to a fractional power
        evaluate_gum(Model.parse({"Y": "x ** 0.5"}), inputs)


def test_identical_readings_correlate_at_exactly_one():
    """r from eq. 17 may exceed 1 by rounding; it is clamped so the matrix is accepted."""
    readings = [0.1, 0.7, 0.3, 0.9, 0.25]
    inputs = parse_inputs({"a": {"readings": readings}, "b": {"readings": readings}})
    pairs = correlations_from_readings(inputs)
    assert pairs == [["a", "b", pytest.approx(1)]]
    assert abs(pairs[0][2]) <= 1
    result = evaluate_gum(Model.parse({"Y": "a - b"}), inputs, pairs)
    assert result.outputs["Y"].u == pytest.approx(0, abs=1e-12)
