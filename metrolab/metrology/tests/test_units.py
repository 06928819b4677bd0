"""One unit however it is typed (metrology.units): the lab's certificates write "℃", the
record templates compute in "°C"; corrections and the CMC check must treat them as one unit
and still never convert between different units."""

from decimal import Decimal

import pytest

from metrolab.metrology.corrections import correction_at
from metrolab.metrology.record_template import builtin_templates, compile_template
from metrolab.metrology.tests.test_builtin_templates import PRT, THERMO_CELLS
from metrolab.metrology.units import same_unit, unit_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("℃", "°C"),
        (" °C ", "℃"),
        ("Ω", "Ω"),  # OHM SIGN and GREEK CAPITAL OMEGA
        ("µV", "μV"),  # MICRO SIGN and GREEK SMALL MU
        ("kΩ", "k Ω"),
        ("K", "K"),  # KELVIN SIGN
    ],
)
def test_spellings_of_one_unit_are_the_same_unit(a, b):
    assert same_unit(a, b)
    assert unit_key(a) == unit_key(b)


@pytest.mark.parametrize(("a", "b"), [("mV", "V"), ("°C", "°F"), ("°C", "K"), ("MPa", "kPa")])
def test_different_units_stay_different(a, b):
    assert not same_unit(a, b)


def test_a_certificate_in_celsius_sign_corrects_a_reading_in_degree_c():
    # Two SPRT points written "℃"; a reading at 50 °C lies between them: the correction is
    # interpolated, -0.0010 + (50 - 0) / (100 - 0) × (-0.0030 - -0.0010) = -0.0020.
    points = [
        {"nominal": "0", "unit": "℃", "correction": "-0.0010", "expanded_uncertainty": "0.004",
         "coverage_factor": "2"},
        {"nominal": "100", "unit": "℃", "correction": "-0.0030", "expanded_uncertainty": "0.006",
         "coverage_factor": "2"},
    ]  # fmt: skip
    found = correction_at(points, "50", "°C")
    assert found is not None
    assert found.correction == Decimal("-0.0020")
    assert found.expanded_uncertainty == Decimal("0.006")
    assert correction_at(points, "50", "K") is None


def test_a_lab_writing_celsius_sign_gets_the_worked_example_and_its_cmc_check():
    """The thermometer worked example (test_builtin_templates: t_ref 25.019 °C, U 0.020 °C at
    point 1, 0.021 °C at point 2) with the SPRT's certificate and the scope's CMC written "℃":
    the same corrections, and U below a CMC of 0.06 ℃ is flagged at both points; a CMC of
    0.01 ℃ is met."""
    thermo = compile_template(builtin_templates()["digital-thermometer-sprt"])
    prt = {**PRT, "points": [{**p, "unit": "℃"} for p in PRT["points"]]}
    refs = {"standard": prt}
    result = thermo.evaluate(THERMO_CELLS, context={"references": refs})
    assert result.problems == []
    assert result.points[0]["t_ref"].raw == Decimal("25.019")
    assert [p["U"].text for p in result.points] == ["0.020", "0.021"]
    strict = thermo.evaluate(
        THERMO_CELLS, context={"references": refs, "cmc": {"value": "0.06", "unit": "℃"}}
    )
    flagged = [(p["code"], p["point"]) for p in strict.problems]
    assert flagged == [("below_cmc", 1), ("below_cmc", 2)]
    met = thermo.evaluate(
        THERMO_CELLS, context={"references": refs, "cmc": {"value": "0.01", "unit": "℃"}}
    )
    assert met.problems == []
