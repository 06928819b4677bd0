"""The four built-in record templates compute their worked examples exactly (issue 14).

Every intermediate number is written out by hand below; the uncertainty budgets are also
re-computed independently with the `uncertainties` package (and GTC where installed).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from decimal import Decimal

import pytest
from uncertainties import ufloat

from metrolab.metrology.record_template import builtin_templates, compile_template

D = Decimal


@pytest.fixture(scope="module")
def templates():
    return {code: compile_template(d) for code, d in builtin_templates().items()}


def test_every_builtin_template_compiles_and_lists_its_cells(templates):
    assert set(templates) == {
        "jjg52-2013-pressure-gauge",
        "digital-thermometer-sprt",
        "dmm-dc-voltage",
        "insulation-resistance",
    }
    gauge = templates["jjg52-2013-pressure-gauge"]
    ids = [c.id for c in gauge.cells({})]
    assert ids[:8] == [
        "param.accuracy_class",
        "param.range_lower",
        "param.range_upper",
        "param.unit",
        "param.points",
        "param.stop_pin",
        "param.interval_months",
        "header.appearance",
    ]
    # six default points × five inputs, one reading each
    assert ids[8:13] == ["standard.1", "up_before.1", "up_after.1", "down_before.1", "down_after.1"]
    assert len(ids) == 8 + 30
    last = gauge.cells({})[-1]
    assert (last.id, last.point, last.repeat, last.nominal, last.unit) == (
        "down_after.6",
        6,
        None,
        D("1.6"),
        "MPa",
    )
    # repeated readings: <input>.<point>.<repeat>; the point list follows the parameters
    thermo = templates["digital-thermometer-sprt"]
    cells = thermo.cells({"points": "25, 100", "repeats": "3"})
    readings = [c.id for c in cells if c.kind == "reading"]
    assert readings == [
        "std.1.1", "std.1.2", "std.1.3", "uut.1.1", "uut.1.2", "uut.1.3",
        "std.2.1", "std.2.2", "std.2.3", "uut.2.1", "uut.2.2", "uut.2.3",
    ]  # fmt: skip


# --- JJG 52-2013: elastic-element pressure gauge ------------------------------------------------

# 0-1.6 MPa gauge, points 0, 20, 40, 60, 80, 100 % of span (nominal 0, 0.32, ... 1.6 MPa), the
# standard set on each nominal value. Readings (MPa) before / after tapping, rising and falling.
GAUGE_READINGS = {
    # point: (standard, up_before, up_after, down_before, down_after)
    1: ("0", "0", "0", "0.010", "0.005"),
    2: ("0.32", "0.325", "0.330", "0.340", "0.335"),
    3: ("0.64", "0.640", "0.645", "0.655", "0.650"),
    4: ("0.96", "0.955", "0.960", "0.975", "0.970"),
    5: ("1.28", "1.290", "1.295", "1.305", "1.300"),
    6: ("1.6", "1.625", "1.630", "1.640", "1.635"),
}


def _gauge_cells(accuracy_class: str) -> dict[str, str]:
    cells = {"param.accuracy_class": accuracy_class}
    names = ("standard", "up_before", "up_after", "down_before", "down_after")
    for point, values in GAUGE_READINGS.items():
        for name, text in zip(names, values, strict=True):
            cells[f"{name}.{point}"] = text
    return cells


def test_gauge_class_1_6_passes_with_the_larger_mpe_above_90_percent(templates):
    """Class 1.6, span 1.6 MPa (JJG 52 structure; MPE table as restated in the template):
    MPE below 90 % = 1.6 % × 1.6 = 0.0256 MPa; from 90 % of the upper limit = 2.5 % × 1.6
    = 0.040 MPa; at zero with a stop pin 1.6 % × 1.6 = 0.0256 MPa.

    error = reading after tapping − standard:
      P1  0      : up 0 − 0 = 0;          down 0.005 − 0 = 0.005 (zero, stop pin: no
                   hysteresis or tapping check)
      P2  0.32   : 0.330 − 0.32 = 0.010;  0.335 − 0.32 = 0.015; hyst |0.330 − 0.335| = 0.005
      P3  0.64   : 0.005; 0.010; hyst 0.005
      P4  0.96   : 0.000; 0.010; hyst 0.010
      P5  1.28   : 0.015; 0.020; hyst 0.005
      P6  1.6    : 0.030; 0.035; hyst 0.005 — 0.035 > 0.0256 but ≤ 0.040 (100 % ≥ 90 %)
    tapping = max(|after − before| rising, falling) = 0.005 at every point ≤ ½ MPE = 0.0128.
    Largest |error| 0.035 MPa, largest hysteresis 0.010, largest tapping 0.005 → 合格 (pass).
    """
    gauge = templates["jjg52-2013-pressure-gauge"]
    result = gauge.evaluate(_gauge_cells("1.6"), context={"item": {"number": "P-1"}})
    assert result.problems == []
    assert result.complete is True
    nominal = [p["nominal"].raw for p in result.points]
    assert nominal == [D("0"), D("0.32"), D("0.64"), D("0.96"), D("1.28"), D("1.6")]
    assert [p["mpe"].raw for p in result.points] == [D("0.0256")] * 5 + [D("0.040")]
    assert [p["error_up"].text for p in result.points] == [
        "0", "0.010", "0.005", "0.000", "0.015", "0.030",
    ]  # fmt: skip
    assert [p["error_down"].raw for p in result.points] == [
        D("0.005"), D("0.015"), D("0.010"), D("0.010"), D("0.020"), D("0.035"),
    ]  # fmt: skip
    assert [p["hysteresis"].raw for p in result.points] == [
        None, D("0.005"), D("0.005"), D("0.010"), D("0.005"), D("0.005"),
    ]  # fmt: skip
    assert result.points[0]["hysteresis"].applicable is False
    assert [p["tapping"].raw for p in result.points[1:]] == [D("0.005")] * 5
    assert all(p["ok"].raw is True for p in result.points)
    assert result.summary["max_error"].raw == D("0.035")
    assert result.summary["max_hysteresis"].raw == D("0.010")
    assert result.summary["max_tapping"].raw == D("0.005")
    assert result.decision == "pass"
    assert result.header["item_number"] == "P-1"
    # the verification interval: 6 months by default (JJG 52: 一般不超过半年), valid until
    # the day before the same date six months later
    assert result.interval_months == 6
    assert result.next_due(dt.date(2026, 12, 7)) == dt.date(2027, 6, 6)
    assert result.next_due(dt.date(2026, 8, 31)) == dt.date(2027, 2, 27)
    table = result.results_table()
    assert [c["name"] for c in table["columns"]] == [
        "nominal", "error_up", "error_down", "hysteresis", "tapping", "mpe",
    ]  # fmt: skip
    assert table["rows"][5] == {
        "point": 6,
        "cells": ["1.6", "0.030", "0.035", "0.005", "0.005", "0.0400"],
    }
    assert table["summary"][-1]["text"] == "pass"


def test_gauge_the_larger_mpe_is_what_makes_the_upper_point_pass(templates):
    """The same readings with the 90-100 % column of the table set to the ordinary MPE: the
    100 % point's 0.035 MPa then exceeds 0.0256 MPa and the gauge fails."""
    definition = copy.deepcopy(builtin_templates()["jjg52-2013-pressure-gauge"])
    definition["tables"]["mpe_upper"] = dict(definition["tables"]["mpe_main"])
    result = compile_template(definition).evaluate(_gauge_cells("1.6"), context={})
    assert result.points[5]["mpe"].raw == D("0.0256")
    assert result.points[5]["ok"].raw is False
    assert result.decision == "fail"


def test_gauge_class_1_0_fails(templates):
    """Class 1.0: MPE 1 % × 1.6 = 0.016 MPa below 90 %, 1.6 % × 1.6 = 0.0256 MPa above.
    P5 falling error 0.020 > 0.016 and P6 0.035 > 0.0256 → 不合格 (fail)."""
    result = templates["jjg52-2013-pressure-gauge"].evaluate(_gauge_cells("1.0"), context={})
    assert [p["mpe"].raw for p in result.points] == [D("0.016")] * 5 + [D("0.0256")]
    assert [p["ok"].raw for p in result.points] == [True, True, True, True, False, False]
    assert result.decision == "fail"


def test_gauge_tapping_beyond_half_the_mpe_fails(templates):
    """P3 rising before tapping 0.630, after 0.645: tapping 0.015 > ½ × 0.0256 = 0.0128."""
    cells = _gauge_cells("1.6") | {"up_before.3": "0.630"}
    result = templates["jjg52-2013-pressure-gauge"].evaluate(cells, context={})
    assert result.points[2]["tapping"].raw == D("0.015")
    assert result.points[2]["ok"].raw is False
    assert result.decision == "fail"


def test_gauge_without_a_stop_pin_checks_hysteresis_at_zero(templates):
    cells = _gauge_cells("1.6") | {"param.stop_pin": "no"}
    result = templates["jjg52-2013-pressure-gauge"].evaluate(cells, context={})
    assert result.points[0]["hysteresis"].raw == D("0.005")
    assert result.points[0]["tapping"].raw == D("0.005")  # falling: |0.005 − 0.010|
    assert result.decision == "pass"


def test_gauge_missing_and_bad_readings(templates):
    gauge = templates["jjg52-2013-pressure-gauge"]
    cells = _gauge_cells("1.6")
    del cells["down_after.4"]
    cells["up_after.2"] = "0,33x"
    result = gauge.evaluate(cells, context={})
    assert result.complete is False
    assert result.decision is None
    assert result.points[3]["error_down"].raw is None
    assert result.points[3]["error_up"].raw == D("0.000")  # the rest still computes
    assert result.summary["max_error"].raw is None
    assert result.problems == [
        {
            "cell": "up_after.2",
            "point": None,
            "field": "up_after",
            "code": "not_a_number",
            "message": "'0,33x' is not a number",
        }
    ]
    # nothing typed at all: no exception either
    empty = gauge.evaluate({}, context={})
    assert (empty.complete, empty.decision, empty.problems) == (False, None, [])
    # a bad parameter is a problem on its cell
    bad = gauge.evaluate({"param.accuracy_class": "0.5"}, context={})
    assert bad.problems[0]["cell"] == "param.accuracy_class"
    assert bad.problems[0]["code"] == "not_a_choice"


# --- digital thermometer against a standard PRT -----------------------------------------------

PRT = {
    "certificate_no": "CAL-2026-0101",
    "due_date": "2027-03-01",
    "points": [
        {"nominal": "0", "unit": "°C", "correction": "0.012", "expanded_uncertainty": "0.010",
         "coverage_factor": "2"},
        {"nominal": "50", "unit": "°C", "correction": "0.020", "expanded_uncertainty": "0.012",
         "coverage_factor": "2"},
        {"nominal": "100", "unit": "°C", "correction": "0.030", "expanded_uncertainty": "0.015",
         "coverage_factor": "2"},
    ],
}  # fmt: skip
THERMO_CELLS = {
    "param.points": "25, 100",
    "param.repeats": "4",
    # 25 °C (between the certificate's 0 and 50 °C points)
    "std.1.1": "25.002", "std.1.2": "25.004", "std.1.3": "25.003", "std.1.4": "25.003",
    "uut.1.1": "25.05", "uut.1.2": "25.06", "uut.1.3": "25.04", "uut.1.4": "25.05",
    # 100 °C (a calibrated point)
    "std.2.1": "100.010", "std.2.2": "100.012", "std.2.3": "100.011", "std.2.4": "100.011",
    "uut.2.1": "100.08", "uut.2.2": "100.09", "uut.2.3": "100.08", "uut.2.4": "100.09",
}  # fmt: skip


def _budget(readings, u_std, uniformity="0.01", stability="0.005", resolution="0.01"):
    """The same budget with the `uncertainties` package (independent of MetroLab)."""
    xs = [float(r) for r in readings]
    n = len(xs)
    mean = sum(xs) / n
    s = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    terms = [
        ufloat(0, s / math.sqrt(n)),
        ufloat(0, u_std),
        ufloat(0, float(uniformity) / math.sqrt(3)),
        ufloat(0, float(stability) / math.sqrt(3)),
        ufloat(0, float(resolution) / 2 / math.sqrt(3)),
    ]
    return sum(terms).std_dev


def test_thermometer_worked_example(templates):
    """Point 1, 25 °C. Standard: mean (25.002 + 25.004 + 25.003 + 25.003)/4 = 25.003 °C;
    correction from its certificate interpolated between 0 °C (0.012) and 50 °C (0.020):
    0.012 + (0.020 − 0.012) × 25/50 = 0.016 °C; U the larger neighbour's, 0.012 °C (k = 2).
    t_ref = 25.003 + 0.016 = 25.019 °C. Indication mean (25.05 + 25.06 + 25.04 + 25.05)/4 =
    25.05 °C; error 25.05 − 25.019 = 0.031 °C; correction −0.031 °C.
    Budget (°C): s = √((0² + 0.01² + 0.01² + 0²)/3) = 0.008165; u_rep = s/√4 = 0.0040825;
    u_std = 0.012/2 = 0.006; u_unif = 0.01/√3 = 0.0057735; u_stab = 0.005/√3 = 0.0028868;
    u_res = (0.01/2)/√3 = 0.0028868.
    u_c = √(0.0040825² + 0.006² + 0.0057735² + 0.0028868² + 0.0028868²)
        = √(1.66667e-5 + 3.6e-5 + 3.33333e-5 + 8.3333e-6 + 8.3333e-6) = √1.026667e-4
        = 0.0101325; U = 2 u_c = 0.020265 → 0.020 °C (2 significant digits); error 0.031 °C.

    Point 2, 100 °C (a calibrated point: correction 0.030, U 0.015, k 2). Standard mean
    100.011, t_ref = 100.041; indication mean 100.085; error 0.044 °C.
    s = √(4 × 0.005²/3) = 0.0057735, u_rep = 0.0028868, u_std = 0.0075;
    u_c = √(8.3333e-6 + 5.625e-5 + 3.33333e-5 + 8.3333e-6 + 8.3333e-6) = √1.145833e-4
        = 0.0107044; U = 0.0214087 → 0.021 °C; error 0.044 °C.
    """
    thermo = templates["digital-thermometer-sprt"]
    result = thermo.evaluate(THERMO_CELLS, context={"references": {"standard": PRT}})
    assert result.problems == []
    assert result.complete
    p1, p2 = result.points
    assert p1["std_mean"].raw == D("25.003")
    assert p1["std_correction"].raw == D("0.016")
    assert p1["t_ref"].raw == D("25.019")
    assert p1["uut_mean"].raw == D("25.05")
    assert p1["error"].raw == D("0.031")
    assert p1["uut_correction"].raw == D("-0.031")
    assert p1["s"].text == "0.0082"
    assert p1["u_rep"].raw == pytest.approx(D("0.00408248290463863"), abs=D("1e-15"))
    assert p1["u_std"].raw == D("0.006")
    assert float(p1["u_uniformity"].raw) == pytest.approx(0.01 / math.sqrt(3), rel=1e-15)
    assert float(p1["u_stability"].raw) == pytest.approx(0.005 / math.sqrt(3), rel=1e-15)
    assert float(p1["u_resolution"].raw) == pytest.approx(0.005 / math.sqrt(3), rel=1e-15)
    assert float(p1["uc"].raw) == pytest.approx(math.sqrt(1.026666666666667e-4), rel=1e-12)
    assert float(p1["uc"].raw) == pytest.approx(
        _budget(["25.05", "25.06", "25.04", "25.05"], 0.006), rel=1e-12
    )
    assert p1["U"].text == "0.020"
    assert (p1["error"].text, p1["uut_correction"].text) == ("0.031", "-0.031")

    assert p2["std_correction"].raw == D("0.030")
    assert p2["t_ref"].raw == D("100.041")
    assert p2["uut_mean"].raw == D("100.085")
    assert p2["error"].raw == D("0.044")
    assert p2["u_std"].raw == D("0.0075")
    assert float(p2["uc"].raw) == pytest.approx(math.sqrt(1.1458333333333333e-4), rel=1e-12)
    assert float(p2["uc"].raw) == pytest.approx(
        _budget(["100.08", "100.09", "100.08", "100.09"], 0.0075), rel=1e-12
    )
    assert p2["U"].text == "0.021"
    assert p2["error"].text == "0.044"
    assert result.summary["max_abs_error"].raw == D("0.044")
    assert result.decision is None  # a calibration without a conformity statement
    assert result.results_table()["rows"][0]["cells"] == [
        "25", "25.019", "0.031", "-0.031", "0.020",
    ]  # fmt: skip


def test_thermometer_cross_check_with_gtc(templates):
    GTC = pytest.importorskip("GTC")
    result = templates["digital-thermometer-sprt"].evaluate(
        THERMO_CELLS, context={"references": {"standard": PRT}}
    )
    s = GTC.type_a.standard_uncertainty([25.05, 25.06, 25.04, 25.05])
    terms = [
        GTC.ureal(0, s),
        GTC.ureal(0, 0.006),
        GTC.ureal(0, GTC.type_b.uniform(0.01)),
        GTC.ureal(0, GTC.type_b.uniform(0.005)),
        GTC.ureal(0, GTC.type_b.uniform(0.005)),
    ]
    assert float(result.points[0]["uc"].raw) == pytest.approx(GTC.uncertainty(sum(terms)))


def test_thermometer_without_the_standards_calibration_is_a_problem(templates):
    """A point outside the certificate's calibrated points: no correction, said as a problem."""
    cells = THERMO_CELLS | {"param.points": "25, 120"}
    result = templates["digital-thermometer-sprt"].evaluate(
        cells, context={"references": {"standard": PRT}}
    )
    assert result.complete is False
    assert result.points[1]["std_correction"].raw is None
    assert result.problems[0]["code"] == "calculation"
    assert result.problems[0]["point"] == 2
    assert "no correction at 120" in result.problems[0]["message"]


# --- DMM DC voltage against a multifunction calibrator -----------------------------------------

DMM_CELLS = {
    "param.range": "10",
    "param.points": "1, 10",
    "param.repeats": "5",
    "reading.1.1": "1.00002", "reading.1.2": "1.00003", "reading.1.3": "1.00002",
    "reading.1.4": "1.00001", "reading.1.5": "1.00002",
    "reading.2.1": "10.00040", "reading.2.2": "10.00042", "reading.2.3": "10.00041",
    "reading.2.4": "10.00040", "reading.2.5": "10.00042",
}  # fmt: skip


def test_dmm_worked_example(templates):
    """10 V range; calibrator ±(12 ppm of output + 2 ppm of range); DMM resolution 10 µV;
    DMM specification ±(35 ppm of reading + 5 ppm of range); k = 2.

    1 V: mean 1.00002 V, error +20 µV. s = √((0 + 1 + 0 + 1 + 0) × (10 µV)²/4) = 7.0711 µV,
    u_rep = s/√5 = 3.1623 µV; calibrator a = 12 × 1 + 2 × 10 = 32 µV, u_cal = 32/√3 =
    18.4752 µV; u_res = 5/√3 = 2.8868 µV; u_c = √(10 + 341.333 + 8.333) µV = √359.667 µV
    = 18.9648 µV; U = 37.93 µV → 38 µV. MPE = 35 + 50 = 85 µV; U > MPE/3 = 28.3 µV, so
    JJF 1094: |Δ| = 20 ≤ MPE − U = 47 µV → pass.

    10 V: mean 10.00041 V, error +410 µV. s = √((1 + 1 + 0 + 1 + 1) × (10 µV)²/4) = 10 µV,
    u_rep = 10/√5 = 4.4721 µV; a = 120 + 20 = 140 µV, u_cal = 80.829 µV; u_c =
    √(20 + 6533.333 + 8.333) µV = √6561.667 µV = 81.0041 µV; U = 162.008 µV → 160 µV
    (0.00016 V). MPE = 350 + 50 = 400 µV; MPE − U = 240 < 410 < MPE + U = 560 → undecided
    (待定). The record's statement is the worse of the two: undecided.
    """
    result = templates["dmm-dc-voltage"].evaluate(DMM_CELLS, context={"cmc": None})
    assert result.problems == []
    p1, p2 = result.points
    assert p1["mean_reading"].raw == D("1.00002")
    assert p1["error"].raw == D("0.00002")
    assert float(p1["u_rep"].raw) == pytest.approx(math.sqrt(5e-11) / math.sqrt(5), rel=1e-14)
    assert p1["cal_limit"].raw == D("0.000032")
    assert float(p1["u_cal"].raw) == pytest.approx(32e-6 / math.sqrt(3), rel=1e-15)
    assert float(p1["u_res"].raw) == pytest.approx(5e-6 / math.sqrt(3), rel=1e-15)
    expected = (ufloat(0, 7.0710678118654755e-6 / math.sqrt(5)) + ufloat(0, 32e-6 / math.sqrt(3))
                + ufloat(0, 5e-6 / math.sqrt(3))).std_dev  # fmt: skip
    assert float(p1["uc"].raw) == pytest.approx(expected, rel=1e-12)
    assert float(p1["uc"].raw) == pytest.approx(math.sqrt(359.6666666666667e-12), rel=1e-12)
    assert p1["U"].text == "0.000038"
    assert p1["error"].text == "0.000020"
    assert p1["mpe"].raw == D("0.000085")
    assert p1["decision"].raw == "pass"

    assert p2["mean_reading"].raw == D("10.00041")
    assert p2["error"].raw == D("0.00041")
    assert float(p2["u_rep"].raw) == pytest.approx(1e-5 / math.sqrt(5), rel=1e-14)
    assert float(p2["uc"].raw) == pytest.approx(math.sqrt(6561.666666666667e-12), rel=1e-12)
    assert p2["U"].text == "0.00016"
    assert p2["error"].text == "0.00041"
    assert p2["mpe"].raw == D("0.000400")
    assert p2["decision"].raw == "undecided"
    assert result.summary["conclusion"].raw == "undecided"
    assert result.decision == "undecided"


def test_dmm_expanded_uncertainty_below_the_cmc_is_flagged(templates):
    """CMC 20 ppm (relative): 1 V: 38 µV / 1 V = 38 ppm ≥ 20, accepted; 10 V: 160 µV / 10 V
    = 16 ppm < 20 ppm → refused on point 2 (below_cmc)."""
    cmc = {"value": "20", "unit": "ppm", "relative": True}
    result = templates["dmm-dc-voltage"].evaluate(DMM_CELLS, context={"cmc": cmc})
    assert [(p["code"], p["point"], p["field"]) for p in result.problems] == [("below_cmc", 2, "U")]
    assert "point 2" in result.problems[0]["message"]
    # an absolute CMC in the template's unit: 50 µV flags the 1 V point (U = 38 µV)
    absolute = {"value": "0.000050", "unit": "V", "relative": False}
    flagged = templates["dmm-dc-voltage"].evaluate(DMM_CELLS, context={"cmc": absolute})
    assert [p["point"] for p in flagged.problems if p["code"] == "below_cmc"] == [1]
    # a CMC in another unit is not converted: said, not guessed
    other = {"value": "50", "unit": "µV", "relative": False}
    mismatch = templates["dmm-dc-voltage"].evaluate(DMM_CELLS, context={"cmc": other})
    assert [(p["code"], p["point"]) for p in mismatch.problems] == [("cmc", 1), ("cmc", 2)]


def test_dmm_as_json_is_stable_and_json_ready(templates):
    import json

    result = templates["dmm-dc-voltage"].evaluate(DMM_CELLS, context={})
    data = result.as_json()
    assert json.loads(json.dumps(data)) == data
    assert data["format"] == "metrolab-record-evaluation/1"
    assert data["template"] == "dmm-dc-voltage"
    assert data["parameters"]["points"] == ["1", "10"]
    assert data["points"][0]["point"] == 1
    assert data["points"][0]["values"]["U"]["text"] == "0.000038"
    assert data["points"][0]["values"]["reading"]["value"] == [
        "1.00002", "1.00003", "1.00002", "1.00001", "1.00002",
    ]  # fmt: skip
    assert data["decision"] == "undecided"
    assert data["complete"] is True
    # the same input gives the same document
    assert templates["dmm-dc-voltage"].evaluate(DMM_CELLS, context={}).as_json() == data


def test_dmm_a_reading_with_too_few_repeats_entered_is_incomplete(templates):
    cells = {k: v for k, v in DMM_CELLS.items() if k != "reading.2.5"}
    result = templates["dmm-dc-voltage"].evaluate(cells, context={})
    assert result.complete is False
    assert result.points[1]["U"].raw is None
    assert result.points[0]["U"].text == "0.000038"
    assert result.decision is None


# --- insulation resistance of an electrical measuring instrument (testing) --------------------

INSULATION_CELLS = {
    "header.preparation": "不通电，电源开关置于接通位置",
    # position: 1 mains input to enclosure, 2 measuring input to enclosure, 3 mains to input
    "voltage.1": "512", "resistance.1": "1250",
    "voltage.2": "508", "resistance.2": "860",
    "voltage.3": "505", "resistance.3": "18.6",
}  # fmt: skip


def test_insulation_resistance_worked_example(templates):
    """Test voltage 500 V DC ± 10 % (450 V to 550 V), minimum 20 MΩ, read after 60 s.

    deviation = (measured − 500) / 500 × 100:
      P1 mains to enclosure:   (512 − 500)/500 × 100 = 2.4 %  ≤ 10 %; 1250 MΩ ≥ 20 → pass
      P2 input to enclosure:   (508 − 500)/500 × 100 = 1.6 %  ≤ 10 %;  860 MΩ ≥ 20 → pass
      P3 mains to input:       (505 − 500)/500 × 100 = 1.0 %  ≤ 10 %; 18.6 MΩ < 20 → fail
    Lowest 18.6 MΩ; the conclusion is the worst of the positions': 不合格 (fail).
    """
    template = templates["insulation-resistance"]
    assert template.service == "testing"
    result = template.evaluate(INSULATION_CELLS, context={"item": {"number": "E-1"}})
    assert result.problems == []
    assert result.complete is True
    assert [p["nominal"].raw for p in result.points] == [D("1"), D("2"), D("3")]
    assert [p["voltage_deviation"].raw for p in result.points] == [D("2.4"), D("1.6"), D("1")]
    assert [p["voltage_deviation"].text for p in result.points] == ["2.4", "1.6", "1.0"]
    assert [p["voltage_ok"].raw for p in result.points] == [True, True, True]
    assert [p["limit"].raw for p in result.points] == [D("20")] * 3
    assert [p["decision"].raw for p in result.points] == ["pass", "pass", "fail"]
    assert result.summary["lowest"].raw == D("18.6")
    assert result.summary["conclusion"].raw == "fail"
    assert result.decision == "fail"
    assert result.interval_months is None  # a test report states no interval
    table = result.results_table()
    assert [(c["name"], c["unit"]) for c in table["columns"]] == [
        ("nominal", ""), ("voltage", "V"), ("resistance", "MΩ"), ("limit", "MΩ"),
        ("decision", ""),
    ]  # fmt: skip
    assert [r["cells"] for r in table["rows"]] == [
        ["1", "512", "1250", "20", "pass"],
        ["2", "508", "860", "20", "pass"],
        ["3", "505", "18.6", "20", "fail"],
    ]
    assert [(s["name"], s["text"], s["unit"]) for s in table["summary"]] == [
        ("lowest", "18.6", "MΩ"),
        ("conclusion", "fail", ""),
    ]


def test_insulation_resistance_on_the_limit_passes_and_a_bad_voltage_is_undecided(templates):
    """Simple acceptance (ILAC-G8 §4.2.1): exactly 20 MΩ conforms (R ≥ 20 MΩ). A test voltage
    of 440 V is (440 − 500)/500 × 100 = −12 % off, beyond ±10 %: that position is undecided
    and so is the record; with a tolerance of 15 % the same reading is pass."""
    template = templates["insulation-resistance"]
    on_limit = template.evaluate(INSULATION_CELLS | {"resistance.3": "20"}, context={})
    assert [p["decision"].raw for p in on_limit.points] == ["pass", "pass", "pass"]
    assert on_limit.decision == "pass"
    low_voltage = INSULATION_CELLS | {"resistance.3": "20", "voltage.2": "440"}
    result = template.evaluate(low_voltage, context={})
    assert result.points[1]["voltage_deviation"].raw == D("-12")
    assert result.points[1]["voltage_ok"].raw is False
    assert [p["decision"].raw for p in result.points] == ["pass", "undecided", "pass"]
    assert result.decision == "undecided"
    wider = template.evaluate(low_voltage | {"param.voltage_tolerance": "15"}, context={})
    assert wider.decision == "pass"


def test_insulation_resistance_parameters_and_cells(templates):
    """A 1000 V test with a 100 MΩ minimum on positions 1 and 2 only: 1250 MΩ and 860 MΩ both
    conform; a measured 1020 V is 2 % off. The cells follow the positions."""
    template = templates["insulation-resistance"]
    cells = {
        "param.positions": "1, 2",
        "param.test_voltage": "1000",
        "param.min_resistance": "100",
        "voltage.1": "1020", "resistance.1": "1250",
        "voltage.2": "1020", "resistance.2": "860",
    }  # fmt: skip
    ids = [c.id for c in template.cells({"positions": "1, 2"})]
    assert ids == [
        "param.positions", "param.test_voltage", "param.voltage_tolerance", "param.duration",
        "param.min_resistance", "header.preparation",
        "voltage.1", "resistance.1", "voltage.2", "resistance.2",
    ]  # fmt: skip
    result = template.evaluate(cells, context={})
    assert [p["voltage_deviation"].raw for p in result.points] == [D("2"), D("2")]
    assert [p["limit"].raw for p in result.points] == [D("100"), D("100")]
    assert result.decision == "pass"
    # a position outside 1-3 and a negative reading are problems on their cells
    bad = template.evaluate(cells | {"param.positions": "1, 4", "resistance.1": "-5"}, context={})
    assert ("param.positions", "out_of_range") in {(p["cell"], p["code"]) for p in bad.problems}
