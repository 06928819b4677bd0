"""Monte Carlo propagation of distributions, checked against the worked examples of
JCGM 101:2008 (GUM Supplement 1) §9.2 and §9.3, which JJF 1059.2-2012 reproduces."""

import math

import numpy as np
import pytest
from scipy import stats

from metrolab.metrology.inputs import InputError, parse_inputs
from metrolab.metrology.model import Model, ModelError
from metrolab.metrology.montecarlo import (
    coverage_indices,
    coverage_interval,
    numerical_tolerance,
    run_monte_carlo,
    validate_gum,
)

K95 = float(stats.norm.ppf(0.975))  # 1.959964: the GUM coverage factor for p = 95 %, normal
ADDITIVE = Model.parse({"Y": "X1 + X2 + X3 + X4"})
SQRT3 = math.sqrt(3)


def _rectangular(*half_widths):
    return parse_inputs(
        {
            f"X{i}": {"value": 0, "distribution": "rectangular", "half_width": a}
            for i, a in enumerate(half_widths, start=1)
        }
    )


# --- JCGM 101:2008 §9.2: the additive model Y = X1 + X2 + X3 + X4 ------------------------------


# Tolerances for §9.2: the published values are rounded to 0.01 (±0.005), and an endpoint of
# a 95 % interval from M trials scatters with a standard deviation of about
# √(0.025 × 0.975 / M) / g(y_high), 0.0037 for M = 2 × 10⁶ here. So: u(y) to 0.005, each
# endpoint to 0.015, the half-width (two endpoints averaged) to 0.01. The exact endpoints are
# ±3.9199 (normal) and ±3.8794 (the Irwin-Hall distribution of four rectangular inputs).
TRIALS_92 = 2 * 10**6


def test_additive_model_normal_inputs():
    """JCGM 101:2008 §9.2.2, Table 2: four inputs N(0, 1): MCM y = 0.00, u(y) = 2.00,
    probabilistically symmetric 95 % interval [−3.92, 3.92]; the GUM gives the same, and §8
    validates it."""
    inputs = parse_inputs({f"X{i}": {"value": 0, "u": 1} for i in range(1, 5)})
    result = run_monte_carlo(ADDITIVE, inputs, p=0.95, trials=TRIALS_92, seed=20080901)
    y = result.outputs["Y"]
    assert result.trials == TRIALS_92
    assert y.value == pytest.approx(0.00, abs=0.005)
    assert y.u == pytest.approx(2.00, abs=0.005)
    assert y.low == pytest.approx(-3.92, abs=0.015)
    assert y.high == pytest.approx(3.92, abs=0.015)
    assert y.half_width == pytest.approx(3.92, abs=0.01)
    # §8: GUM y ± U = 0 ± 1.96 × 2 agrees with the Monte Carlo interval to δ (n_dig = 2).
    check = validate_gum(y=0.0, U=K95 * 2.0, low=y.low, high=y.high, u=2.0, ndig=2)
    assert check["delta"] == pytest.approx(0.05)
    assert check["validated"] is True


def test_additive_model_rectangular_inputs():
    """JCGM 101:2008 §9.2.3, Table 3: four inputs R(−√3, √3), each with u = 1: u(y) = 2.00 and
    the 95 % interval [−3.88, 3.88], shorter than the GUM's [−3.92, 3.92]."""
    result = run_monte_carlo(ADDITIVE, _rectangular(*[SQRT3] * 4), trials=TRIALS_92, seed=7)
    y = result.outputs["Y"]
    assert y.u == pytest.approx(2.00, abs=0.005)
    assert y.low == pytest.approx(-3.88, abs=0.015)
    assert y.high == pytest.approx(3.88, abs=0.015)
    assert y.half_width == pytest.approx(3.88, abs=0.01)
    assert 2 * y.half_width < 2 * K95 * 2.0  # shorter than the GUM interval


def test_additive_model_one_dominant_rectangular_input():
    """JCGM 101:2008 §9.2.4, Table 4: three inputs R with u = 1 and one with u = 10:
    u(y) = 10.15, MCM interval [−17.0, 17.0], GUM [−19.9, 19.9]; the GUM result is not
    validated (d = 2.9 > δ = 0.5)."""
    result = run_monte_carlo(
        ADDITIVE, _rectangular(SQRT3, SQRT3, SQRT3, 10 * SQRT3), trials=TRIALS_92, seed=11
    )
    y = result.outputs["Y"]
    gum_u = math.sqrt(3 + 100)
    assert gum_u == pytest.approx(10.15, abs=0.005)
    assert y.u == pytest.approx(10.15, abs=0.05)
    assert y.low == pytest.approx(-17.0, abs=0.05)
    assert y.high == pytest.approx(17.0, abs=0.05)
    assert K95 * gum_u == pytest.approx(19.9, abs=0.05)
    check = validate_gum(y=0.0, U=K95 * gum_u, low=y.low, high=y.high, u=gum_u, ndig=2)
    assert check["delta"] == pytest.approx(0.5)
    assert check["d_low"] == pytest.approx(2.9, abs=0.05)
    assert check["validated"] is False


# --- JCGM 101:2008 §9.3: mass calibration ------------------------------------------------------

MASS = Model.parse({"dm": "(m_Rc + dm_Rc) * (1 + (rho_a - rho_a0) * (1/rho_W - 1/rho_R)) - m_nom"})
MASS_INPUTS = {
    # JCGM 101:2008 §9.3.1, Table 9 (masses in mg, densities in kg/m³).
    "m_Rc": {"value": 100000.000, "u": 0.050},
    "dm_Rc": {"value": 1.234, "u": 0.020},
    "rho_a": {"value": 1.20, "distribution": "rectangular", "half_width": 0.10},
    "rho_W": {"value": 8000, "distribution": "rectangular", "half_width": 1000},
    "rho_R": {"value": 8000, "distribution": "rectangular", "half_width": 50},
    "rho_a0": {"value": 1.2, "u": 0},  # constants of the model
    "m_nom": {"value": 100000, "u": 0},
}


def _first_order_gum(model, inputs):
    """The GUM law of propagation for uncorrelated inputs (JCGM 100:2008 eq. 10), enough for
    §8 here without depending on the gum module."""
    ((value, c),) = model.sensitivities({n: q.value for n, q in inputs.items()}).values()
    return value, math.sqrt(sum((c[n] * q.u) ** 2 for n, q in inputs.items()))


def test_mass_calibration_adaptive():
    """JCGM 101:2008 §9.3.2, Tables 10-11: δm by the adaptive procedure (§7.9) with
    n_dig = 2: u(δm) = 0.0754 mg and the shortest 95 % interval [1.0834, 1.3825] mg. The GUM
    with first-order terms gives 1.2340 mg, u = 0.0539 mg, [1.1285, 1.3395] mg, which §8 does
    not validate (d_low = 0.0451 mg, d_high = 0.0430 mg).

    Tolerances: n_dig = 2 gives δ = 0.0005 mg. The estimate and u(δm) are checked to δ. The
    interval's length (0.2991 mg published) is checked to 2δ; its endpoints to 4δ: the output
    is symmetric about 1.234 mg, the exact interval is ≈ [1.0844, 1.3835] mg (4 × 10⁷ trials
    here), and the published endpoints lie 0.001 mg below it, as far as the position of a
    shortest interval, poorly fixed by any finite sample, wanders between runs.
    """
    inputs = parse_inputs(MASS_INPUTS)
    result = run_monte_carlo(
        MASS, inputs, p=0.95, adaptive_digits=2, interval="shortest", seed=2008
    )
    assert result.converged is True
    assert result.adaptive_digits == 2
    assert result.trials % 10**4 == 0  # whole blocks of M = max(100/(1 − p), 10⁴)
    dm = result.outputs["dm"]
    delta = numerical_tolerance(dm.u, 2)
    assert delta == pytest.approx(0.0005)
    assert dm.value == pytest.approx(1.2340, abs=delta)
    assert dm.u == pytest.approx(0.0754, abs=delta)
    assert dm.high - dm.low == pytest.approx(1.3825 - 1.0834, abs=2 * delta)
    assert dm.low == pytest.approx(1.0834, abs=4 * delta)
    assert dm.high == pytest.approx(1.3825, abs=4 * delta)

    y, u = _first_order_gum(MASS, inputs)
    assert y == pytest.approx(1.2340, abs=5e-5)
    assert u == pytest.approx(0.0539, abs=5e-5)
    U = K95 * u
    assert (y - U, y + U) == pytest.approx((1.1285, 1.3395), abs=5e-5)
    for ndig in (1, 2):  # not validated whether δ is 0.005 or 0.0005
        check = validate_gum(y=y, U=U, low=dm.low, high=dm.high, u=u, ndig=ndig)
        assert check["validated"] is False
    check = validate_gum(y=y, U=U, low=dm.low, high=dm.high, u=u, ndig=2)
    assert check["d_low"] == pytest.approx(0.0451, abs=4 * delta)
    assert check["d_high"] == pytest.approx(0.0430, abs=4 * delta)


# --- coverage intervals and tolerances ----------------------------------------------------------


def test_coverage_indices():
    """JCGM 101:2008 §7.7: q = pM (integer) or int(pM + ½); r = (M − q)/2 or
    int((M − q + 1)/2)."""
    assert coverage_indices(10**6, 0.95) == (950_000, 25_000)
    assert coverage_indices(10**4, 0.95) == (9_500, 250)
    assert coverage_indices(1001, 0.95) == (951, 25)  # pM = 950.95 → 951; (M − q)/2 = 25
    with pytest.raises(InputError) as exc:
        coverage_indices(1000, 0.9995)
    assert exc.value.field == "trials"


def test_coverage_interval_symmetric_and_shortest():
    """JCGM 101:2008 §7.7: [y_(r), y_(r+q)]; the shortest is the r that minimises the length."""
    values = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 5.0, 9.0])
    # M = 10, p = 0.8: q = 8, r = 1 → [y_(1), y_(9)]
    assert coverage_interval(values, 0.8, "symmetric") == (0.0, 5.0)
    # p = 0.7: q = 7; r = int(4/2) = ... (M − q) = 3 → r = 2 → [y_(2), y_(9)]
    assert coverage_interval(values, 0.7, "symmetric") == (0.1, 5.0)
    assert coverage_interval(values, 0.7, "shortest") == (0.0, 0.7)


@pytest.mark.parametrize(
    ("u", "ndig", "delta"),
    [
        (0.0754, 2, 0.0005),  # 75 × 10⁻³ (JCGM 101:2008 §7.9.2)
        (0.0754, 1, 0.005),  # 8 × 10⁻²
        (2.0, 2, 0.05),  # 20 × 10⁻¹
        (10.15, 2, 0.5),  # 10 × 10⁰
        (0.0996, 2, 0.005),  # rounds to 0.10 = 10 × 10⁻²
        (35e-5, 2, 0.5e-5),
    ],
)
def test_numerical_tolerance(u, ndig, delta):
    assert numerical_tolerance(u, ndig) == pytest.approx(delta)


def test_validate_gum_reports_both_differences():
    """JCGM 101:2008 §8.2: d_low = |y − U − y_low|, d_high = |y + U − y_high|."""
    check = validate_gum(y=10.0, U=1.0, low=8.96, high=11.03, u=0.5, ndig=2)
    assert check["d_low"] == pytest.approx(0.04)
    assert check["d_high"] == pytest.approx(0.03)
    assert check["delta"] == pytest.approx(0.005)
    assert check["validated"] is False


# --- sampling (JCGM 101:2008 §6.4) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "sd"),
    [
        ({"value": 5, "u": 0.2}, 0.2),  # §6.4.7 normal
        ({"value": 5, "distribution": "rectangular", "half_width": 0.3}, 0.3 / math.sqrt(3)),
        ({"value": 5, "distribution": "triangular", "half_width": 0.3}, 0.3 / math.sqrt(6)),
        ({"value": 5, "distribution": "arcsine", "half_width": 0.3}, 0.3 / math.sqrt(2)),
        (
            {"value": 5, "distribution": "trapezoidal", "half_width": 0.3, "beta": 0.5},
            0.3 * math.sqrt(1.25 / 6),
        ),
        # §6.4.9.3: u with ν = 5 → t_5(x, u²), standard deviation u·√(ν/(ν − 2))
        ({"value": 5, "u": 0.2, "dof": 5}, 0.2 * math.sqrt(5 / 3)),
    ],
)
def test_each_distribution_has_its_standard_deviation(spec, sd):
    result = run_monte_carlo(
        Model.parse({"Y": "X"}), parse_inputs({"X": spec}), trials=400_000, seed=3
    )
    y = result.outputs["Y"]
    assert y.value == pytest.approx(5, abs=0.005)
    assert y.u == pytest.approx(sd, rel=0.01)


def test_type_a_input_is_a_scaled_shifted_t():
    """JCGM 101:2008 §6.4.9.2 and §6.4.9.7: n readings → x̄ + (s/√n)·t_{n−1}, whose standard
    deviation is √((n − 1)/(n − 3))·s/√n: √2 times s/√n for n = 5."""
    inputs = parse_inputs({"X": {"readings": [10.1, 10.3, 9.9, 10.0, 10.2]}})
    x = inputs["X"]
    result = run_monte_carlo(Model.parse({"Y": "X"}), inputs, trials=10**6, seed=5)
    y = result.outputs["Y"]
    assert y.value == pytest.approx(10.1, abs=0.003)
    assert y.u == pytest.approx(math.sqrt(2) * x.u, rel=0.03)
    # the 95 % interval of t_4 scaled by s/√n: ±2.776·u
    assert y.high - y.value == pytest.approx(stats.t.ppf(0.975, 4) * x.u, rel=0.01)


def test_correlated_normal_inputs():
    """JCGM 101:2008 §6.4.8: correlated normal inputs from N(x, V); the output correlation
    (JCGM 102:2011) between Y1 = X1 and Y2 = X2 reproduces r."""
    model = Model.parse({"A": "X1", "B": "X2", "S": "X1 + X2"})
    inputs = parse_inputs({"X1": {"value": 1, "u": 0.1}, "X2": {"value": 2, "u": 0.3}})
    result = run_monte_carlo(model, inputs, [["X1", "X2", -0.6]], trials=10**6, seed=9)
    assert result.correlation["A,B"] == pytest.approx(-0.6, abs=0.005)
    assert result.outputs["A"].u == pytest.approx(0.1, rel=0.01)
    s_u = math.sqrt(0.1**2 + 0.3**2 + 2 * -0.6 * 0.1 * 0.3)
    assert result.outputs["S"].u == pytest.approx(s_u, rel=0.01)
    assert set(result.to_dict()["correlation"]) == {"A,B", "A,S", "B,S"}


def test_fully_correlated_inputs():
    """r = 1 makes the correlation matrix singular: sampled by an eigen-decomposition."""
    model = Model.parse({"D": "X1 - X2"})
    inputs = parse_inputs({"X1": {"value": 1, "u": 0.1}, "X2": {"value": 1, "u": 0.1}})
    result = run_monte_carlo(model, inputs, [["X1", "X2", 1]], trials=10**5, seed=1)
    assert result.outputs["D"].u == pytest.approx(0, abs=1e-12)


def test_correlated_type_a_inputs_share_a_multivariate_t():
    """Correlated inputs with the same ν are sampled from a multivariate t (module docstring):
    each keeps its §6.4.9 distribution (sd √2·u for ν = 4) and the pair keeps r."""
    inputs = parse_inputs(
        {
            "V": {"readings": [5.007, 4.994, 5.005, 4.990, 4.999]},
            "I": {"readings": [19.663, 19.639, 19.640, 19.685, 19.678]},
        }
    )
    model = Model.parse({"A": "V", "B": "I"})
    result = run_monte_carlo(model, inputs, [["V", "I", -0.36]], trials=10**6, seed=4)
    assert result.outputs["A"].u == pytest.approx(math.sqrt(2) * inputs["V"].u, rel=0.03)
    assert result.outputs["B"].u == pytest.approx(math.sqrt(2) * inputs["I"].u, rel=0.03)
    assert result.correlation["A,B"] == pytest.approx(-0.36, abs=0.01)


# --- the result ---------------------------------------------------------------------------------


def test_to_dict_contract():
    inputs = parse_inputs({f"X{i}": {"value": 0, "u": 1} for i in range(1, 5)})
    result = run_monte_carlo(ADDITIVE, inputs, trials=20_000, seed=1)
    data = result.to_dict()
    assert data["method"] == "mc"
    assert data["trials"] == 20_000
    assert data["seed"] == 1
    assert data["interval"] == "symmetric"
    assert data["correlation"] == {}
    y = data["outputs"]["Y"]
    assert y["dof"] is None and y["k"] is None
    assert y["U"] == pytest.approx((y["interval"][1] - y["interval"][0]) / 2)
    edges, counts = y["histogram"]["edges"], y["histogram"]["counts"]
    assert len(edges) == len(counts) + 1 == 61
    assert edges[0] <= y["interval"][0] and edges[-1] >= y["interval"][1]
    assert 0.998 * 20_000 <= sum(counts) <= 20_000  # 0.05 % to 99.95 % quantiles


def test_same_seed_same_result_and_a_drawn_seed_is_reported():
    inputs = parse_inputs(MASS_INPUTS)
    a = run_monte_carlo(MASS, inputs, trials=50_000, seed=42)
    b = run_monte_carlo(MASS, inputs, trials=50_000, seed=42)
    c = run_monte_carlo(MASS, inputs, trials=50_000, seed=43)
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != c.to_dict()
    fresh = run_monte_carlo(MASS, inputs, trials=50_000)
    again = run_monte_carlo(MASS, inputs, trials=50_000, seed=fresh.seed)
    assert fresh.to_dict() == again.to_dict()
    first = run_monte_carlo(MASS, inputs, adaptive_digits=1, seed=5)
    second = run_monte_carlo(MASS, inputs, adaptive_digits=1, seed=5)
    assert first.to_dict() == second.to_dict()


def test_adaptive_stops_at_max_trials():
    """With ν = 2 the t-distribution has no variance: u(y) never settles (§6.4.9)."""
    inputs = parse_inputs({"X": {"readings": [1.0, 1.2, 1.1]}})
    result = run_monte_carlo(
        Model.parse({"Y": "X"}), inputs, adaptive_digits=3, seed=1, max_trials=50_000
    )
    assert result.converged is False
    assert result.trials == 50_000


# --- bad input ----------------------------------------------------------------------------------


def _inputs():
    return parse_inputs(
        {
            "X1": {"value": 0, "u": 1},
            "X2": {"value": 0, "distribution": "rectangular", "half_width": 1},
            "X3": {"value": 0, "u": 1},
            "X4": {"value": 0, "u": 1},
        }
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"correlations": [["X1", "X2", 0.5]]}, "correlations[0]", "rectangular"),
        ({"correlations": [["X1", "Z", 0.5]]}, "correlations[0]", "unknown input"),
        ({"correlations": [["X1", "X3", 1.5]]}, "correlations[0]", "between -1 and 1"),
        ({"p": 1.2}, "coverage.p", "between 0 and 1"),
        ({"interval": "widest"}, "interval", "shortest"),
        ({"trials": 100}, "trials", "between"),
        ({"trials": 10**4, "adaptive_digits": 2}, "trials", "not both"),
        ({"adaptive_digits": 0}, "adaptive_digits", "1 to 6"),
        ({"seed": -1}, "seed", "non-negative"),
        ({"trials": 2.5}, "trials", "whole number"),
    ],
)
def test_bad_input_names_the_field(kwargs, field, words):
    with pytest.raises(InputError) as exc:
        run_monte_carlo(ADDITIVE, _inputs(), **kwargs)
    assert exc.value.field == field
    assert words in exc.value.message


def test_missing_input():
    inputs = parse_inputs({"X1": {"value": 0, "u": 1}})
    with pytest.raises(InputError) as exc:
        run_monte_carlo(ADDITIVE, inputs, trials=10**4)
    assert exc.value.field == "inputs.X2"


def test_model_without_finite_values():
    inputs = parse_inputs({"X": {"value": 0.1, "u": 1}})
    with pytest.raises(ModelError) as exc:
        run_monte_carlo(Model.parse({"Y": "ln(X)"}), inputs, trials=10**4, seed=1)
    assert exc.value.field == "Y"
    assert "no finite value" in exc.value.message


def test_validation_with_the_gum_module():
    """JCGM 101:2008 §8 end to end with the GUM of this library (JCGM 100:2008): validated for
    §9.2.2 (four normal inputs), not validated for §9.3 (first-order GUM, mass calibration)."""
    gum = pytest.importorskip("metrolab.metrology.gum")
    normal = parse_inputs({f"X{i}": {"value": 0, "u": 1} for i in range(1, 5)})
    cases = [
        (ADDITIVE, normal, "Y", "symmetric", True),
        (MASS, parse_inputs(MASS_INPUTS), "dm", "shortest", False),
    ]
    for model, inputs, name, interval, validated in cases:
        g = gum.evaluate_gum(model, inputs, None, {"p": 0.95}).to_dict()["outputs"][name]
        mc = run_monte_carlo(model, inputs, adaptive_digits=2, interval=interval, seed=1)
        out = mc.outputs[name]
        check = validate_gum(y=g["value"], U=g["U"], low=out.low, high=out.high, u=g["u"])
        assert check["validated"] is validated
