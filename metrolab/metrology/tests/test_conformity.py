"""Conformity decisions: JJF 1094-2002, ILAC-G8:09/2019 and JCGM 106:2012, each case with its
source beside it."""

import pytest

from metrolab.metrology.conformity import (
    ConformityError,
    decide,
    evaluate_conformity,
    jjf1094,
    probability_of_conformity,
)

# Φ from a standard normal table (hand-checked): Φ(1) = 0.841 344 7, Φ(−3) = 0.001 349 9,
# Φ(1.96) − Φ(−1.96) = 0.950 004 2, Φ(2) = 0.977 249 9.
PHI_1 = 0.8413447
PHI_MINUS_3 = 0.0013499
PHI_2 = 0.9772499


# --- JJF 1094-2002 §5.1 -------------------------------------------------------------------------


def test_jjf1094_worked_example():
    """JJF 1094-2002 (the lab's reference case): MPEV = 0.02 V, U95 = 0.009 V > MPEV/3 =
    0.006 67 V, so the uncertainty counts: pass zone |Δ| ≤ 0.011 V; |Δ| = 0.008 V → pass."""
    assert jjf1094(0.008, 0.02, 0.009) == "pass"
    assert jjf1094(-0.008, 0.02, 0.009) == "pass"


@pytest.mark.parametrize(
    ("error", "decision"),
    [
        (0.0, "pass"),
        (0.011, "pass"),  # |Δ| = MPEV − U95: "小于或等于" → pass
        (-0.011, "pass"),
        (0.0111, "undecided"),  # just past MPEV − U95
        (0.02, "undecided"),  # on MPEV itself: still 待定
        (-0.0289, "undecided"),
        (0.029, "fail"),  # |Δ| = MPEV + U95: "大于或等于" → fail
        (-0.029, "fail"),
        (0.05, "fail"),
    ],
)
def test_jjf1094_zones_when_uncertainty_counts(error, decision):
    """JJF 1094-2002 §5.1 (U95 > MPEV/3): pass |Δ| ≤ MPEV − U95; fail |Δ| ≥ MPEV + U95;
    undecided in between. MPEV 0.02, U95 0.009: pass ≤ 0.011 < undecided < 0.029 ≤ fail."""
    assert jjf1094(error, 0.02, 0.009) == decision


@pytest.mark.parametrize(
    ("error", "mpev", "u95", "decision"),
    [
        (0.02, 0.02, 0.005, "pass"),  # U95 < MPEV/3: |Δ| ≤ MPEV → pass
        (0.0201, 0.02, 0.005, "fail"),  # |Δ| > MPEV → fail, no undecided zone
        (0.03, 0.03, 0.01, "pass"),  # U95 = MPEV/3 exactly still neglects U95
        (-0.03, 0.03, 0.01, "pass"),
        (0.0301, 0.03, 0.01, "fail"),
        (0.025, 0.03, 0.0101, "undecided"),  # U95 just over MPEV/3: zones apply
        (0.0199, 0.03, 0.0101, "pass"),
    ],
)
def test_jjf1094_when_uncertainty_is_small(error, mpev, u95, decision):
    """JJF 1094-2002 §5.1: when U95 ≤ MPEV/3 the uncertainty of the error is neglected and
    |Δ| is compared with MPEV directly."""
    assert jjf1094(error, mpev, u95) == decision


# --- ILAC-G8:09/2019 §4.2 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "decision"),
    [
        (10.0, "pass"),
        (10.8, "pass"),  # on the acceptance limit AL = TL − w
        (10.9, "conditional_pass"),  # in [TL − w, TL]
        (11.0, "conditional_pass"),  # on the tolerance limit
        (11.1, "conditional_fail"),  # in [TL, TL + w]
        (11.2, "conditional_fail"),  # on TL + w
        (11.3, "fail"),  # beyond TL + w
        (9.2, "pass"),  # the lower side, mirrored
        (9.1, "conditional_pass"),
        (9.0, "conditional_pass"),
        (8.9, "conditional_fail"),
        (8.8, "conditional_fail"),
        (8.7, "fail"),
    ],
)
def test_nonbinary_two_sided(value, decision):
    """ILAC-G8:09/2019 §4.2.3, Figure 5 (w = U): tolerance [9.0, 11.0], U = 0.2."""
    assert decide(value, 9.0, 11.0, "nonbinary", U=0.2) == decision


@pytest.mark.parametrize(
    ("value", "decision"),
    [
        (-1000, "pass"),  # no lower limit
        (9.0, "pass"),  # on AL = 10 − 1
        (9.5, "conditional_pass"),
        (10.0, "conditional_pass"),
        (10.5, "conditional_fail"),
        (11.0, "conditional_fail"),
        (11.5, "fail"),
    ],
)
def test_nonbinary_upper_limit_only(value, decision):
    """ILAC-G8:09/2019 §4.2.3 for a single upper tolerance limit TL = 10, w = U = 1."""
    assert decide(value, None, 10.0, "nonbinary", U=1.0) == decision


@pytest.mark.parametrize(
    ("value", "decision"),
    [
        (1000, "pass"),
        (11.0, "pass"),
        (10.5, "conditional_pass"),
        (10.0, "conditional_pass"),
        (9.5, "conditional_fail"),
        (9.0, "conditional_fail"),
        (8.5, "fail"),
    ],
)
def test_nonbinary_lower_limit_only(value, decision):
    """ILAC-G8:09/2019 §4.2.3 mirrored for a single lower tolerance limit TL = 10, w = 1."""
    assert decide(value, 10.0, None, "nonbinary", U=1.0) == decision


def test_nonbinary_with_an_explicit_guard_band():
    """ILAC-G8:09/2019 §4.2.3: w need not equal U (Figure 5 shows w = U)."""
    assert decide(10.6, None, 11.0, "nonbinary", U=0.2, guard=0.5) == "conditional_pass"
    assert decide(11.4, None, 11.0, "nonbinary", U=0.2, guard=0.5) == "conditional_fail"


@pytest.mark.parametrize(
    ("value", "lower", "upper", "kwargs", "decision"),
    [
        (10.8, 9.0, 11.0, {"U": 0.2}, "pass"),  # on AL = TL − U
        (10.81, 9.0, 11.0, {"U": 0.2}, "fail"),  # inside the guard band: fail
        (9.2, 9.0, 11.0, {"U": 0.2}, "pass"),
        (9.19, 9.0, 11.0, {"U": 0.2}, "fail"),
        (11.5, 9.0, 11.0, {"U": 0.2}, "fail"),
        (10.5, 9.0, 11.0, {"U": 0.2, "guard": 0.5}, "pass"),  # an explicit w
        (10.6, 9.0, 11.0, {"U": 0.2, "guard": 0.5}, "fail"),
        (4.0, None, 5.0, {"U": 1.0}, "pass"),  # one-sided
        (4.1, None, 5.0, {"U": 1.0}, "fail"),
        (6.0, 5.0, None, {"U": 1.0}, "pass"),
        (5.9, 5.0, None, {"U": 1.0}, "fail"),
    ],
)
def test_guarded_acceptance(value, lower, upper, kwargs, decision):
    """ILAC-G8:09/2019 §4.2.2, Figure 4: binary statement with guard band, AL = TL − w,
    w = U by default (specific false-accept risk ≤ 2.5 % for a normal result)."""
    assert decide(value, lower, upper, "guarded", **kwargs) == decision


@pytest.mark.parametrize(
    ("value", "lower", "upper", "decision"),
    [
        (10.0, 9.0, 11.0, "pass"),
        (11.0, 9.0, 11.0, "pass"),  # on the limit: the tolerance interval is closed
        (9.0, 9.0, 11.0, "pass"),
        (11.0001, 9.0, 11.0, "fail"),
        (8.9999, 9.0, 11.0, "fail"),
        (-1e9, None, 11.0, "pass"),
        (11.5, None, 11.0, "fail"),
        (1e9, 9.0, None, "pass"),
        (8.0, 9.0, None, "fail"),
    ],
)
def test_simple_acceptance(value, lower, upper, decision):
    """ILAC-G8:09/2019 §4.2.1, Figure 3: simple acceptance, w = 0, AL = TL; U is not used."""
    assert decide(value, lower, upper, "simple") == decision
    assert decide(value, lower, upper, "simple", U=5.0) == decision


# --- JCGM 106:2012 §7 ---------------------------------------------------------------------------


def test_probability_of_conformity_on_a_limit_is_one_half():
    """JCGM 106:2012 §7 (single tolerance limit): with y on the limit, p_c = Φ(0) = 0.5."""
    assert probability_of_conformity(10.0, 1.0, None, 10.0) == pytest.approx(0.5)
    assert probability_of_conformity(10.0, 1.0, 10.0, None) == pytest.approx(0.5)


def test_probability_of_conformity_one_sided():
    """JCGM 106:2012 §7: upper limit only p_c = Φ((T_U − y)/u); lower limit only
    p_c = 1 − Φ((T_L − y)/u)."""
    assert probability_of_conformity(10.0, 1.0, None, 11.0) == pytest.approx(PHI_1, abs=1e-7)
    assert probability_of_conformity(10.0, 1.0, 9.0, None) == pytest.approx(PHI_1, abs=1e-7)
    assert probability_of_conformity(12.0, 1.0, None, 11.0) == pytest.approx(1 - PHI_1, abs=1e-7)
    assert probability_of_conformity(10.0, 0.5, None, 11.0) == pytest.approx(PHI_2, abs=1e-7)


def test_probability_of_conformity_two_sided():
    """JCGM 106:2012 §7: p_c = Φ((T_U − y)/u) − Φ((T_L − y)/u)."""
    assert probability_of_conformity(0.0, 1.0, -1.96, 1.96) == pytest.approx(0.9500042, abs=1e-7)
    assert probability_of_conformity(10.5, 0.5, 9.0, 11.0) == pytest.approx(
        PHI_1 - PHI_MINUS_3, abs=1e-7
    )


def test_probability_of_conformity_far_outside_keeps_precision():
    """Far below a lower limit p_c is tiny but not zero: Φ(−20) ≈ 2.75 × 10⁻⁸⁹."""
    p = probability_of_conformity(-10.0, 0.5, 0.0, 1.0)
    assert 0 < p == pytest.approx(2.753624e-89, rel=1e-5)


def test_probability_of_conformity_without_uncertainty():
    assert probability_of_conformity(11.0, 0, 9.0, 11.0) == 1.0
    assert probability_of_conformity(11.01, 0, 9.0, 11.0) == 0.0


# --- the JSON contract of `metrolab calc conformity` --------------------------------------------


def test_contract_jjf1094_example():
    spec = {"value": 0.008, "lower": -0.02, "upper": 0.02, "U": 0.009, "rule": "jjf1094"}
    assert evaluate_conformity(spec) == {"decision": "pass", "p_conformity": None}
    # with the standard uncertainty u = U95/2 the probability of conformity is given
    result = evaluate_conformity({**spec, "u": 0.0045})
    assert result["decision"] == "pass"
    # Φ((0.02 − 0.008)/0.0045) − Φ((−0.02 − 0.008)/0.0045) = Φ(2.667) − Φ(−6.222)
    assert result["p_conformity"] == pytest.approx(0.9961696, abs=1e-7)


def test_contract_one_sided_nonbinary():
    spec = {"value": 10.5, "lower": None, "upper": 10.0, "U": 1.0, "rule": "nonbinary", "u": 0.5}
    result = evaluate_conformity(spec)
    assert result["decision"] == "conditional_fail"
    assert result["p_conformity"] == pytest.approx(1 - PHI_1, abs=1e-7)
    # an absent limit is the same as null
    assert evaluate_conformity({"value": 9.5, "upper": 10.0, "U": 1.0, "rule": "nonbinary"}) == {
        "decision": "conditional_pass",
        "p_conformity": None,
    }


def test_contract_guarded_and_simple():
    base = {"value": 10.85, "lower": 9.0, "upper": 11.0, "U": 0.2}
    assert evaluate_conformity({**base, "rule": "guarded"})["decision"] == "fail"
    assert evaluate_conformity({**base, "rule": "simple"})["decision"] == "pass"
    assert evaluate_conformity({**base, "rule": "guarded", "guard": 0.1})["decision"] == "pass"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"value": 1, "lower": 0, "upper": 2, "rule": "strict"}, "rule"),
        ({"value": 1, "lower": 0, "upper": 2}, "rule"),
        ({"value": "abc", "lower": 0, "upper": 2, "rule": "simple"}, "value"),
        ({"value": None, "lower": 0, "upper": 2, "rule": "simple"}, "value"),
        ({"value": 1, "lower": 3, "upper": 2, "rule": "simple"}, "lower"),
        ({"value": 1, "lower": None, "upper": None, "rule": "simple"}, "upper"),
        ({"value": 1, "lower": 0, "upper": 2, "rule": "guarded"}, "U"),
        ({"value": 1, "lower": 0, "upper": 2, "rule": "nonbinary", "U": -0.1}, "U"),
        ({"value": 1, "lower": 0, "upper": 2, "rule": "guarded", "guard": -1}, "guard"),
        ({"value": 1, "lower": 0, "upper": 2, "rule": "simple", "u": -1}, "u"),
        ({"value": 1, "lower": 0, "upper": True, "rule": "simple"}, "upper"),
        ({"value": 0.01, "lower": -0.01, "upper": 0.02, "U": 0.001, "rule": "jjf1094"}, "lower"),
        ({"value": 0.01, "lower": None, "upper": 0.02, "U": 0.001, "rule": "jjf1094"}, "lower"),
        ({"value": 0.01, "lower": -0.02, "upper": 0.02, "rule": "jjf1094"}, "U"),
        ({"value": 0.01, "lower": 0, "upper": 0, "U": 0.001, "rule": "jjf1094"}, "lower"),
        ({"value": float("nan"), "lower": 0, "upper": 1, "rule": "simple"}, "value"),
    ],
)
def test_contract_bad_input_names_the_field(spec, field):
    with pytest.raises(ConformityError) as exc:
        evaluate_conformity(spec)
    assert exc.value.field == field
    assert isinstance(exc.value, ValueError)
    assert exc.value.message


def test_contract_rejects_a_non_object():
    with pytest.raises(ConformityError):
        evaluate_conformity([1, 2])
