"""GB/T 8170-2008 rounding and JJF 1059.1-2012 reporting, checked against the published examples.

Sources of the examples (the standards themselves are not freely published; their examples are
restated in /work/shared/reference/metrology-notes.md and were cross-checked against):
- GB/T 8170-2008 §3.2 examples, as restated in a public summary of the standard
  (daowen.com "4.5.1 数值修约规则", which lists the five rules with exactly these examples) and
  in the text of its predecessor GB 8170-87 (§1.3, §1.4: 60.28 → 60.5 at 0.5 unit, 832 → 840 at
  0.2 unit of the hundreds);
- JJF 1059.1-2012 §5.3.8 alignment examples, as restated in a metrology exam forum
  (bkd208.com thread 222309: 10.05762 Ω / 27 mΩ, 6.3250 g / 0.25 g, 1039.56 mV / 10 mV, and
  6.3 g / 0.25 g padded to 6.30 g); the first is also JCGM 100:2008 §7.2.6, which additionally
  gives the round-up example 10.47 mΩ → 11 mΩ.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrolab.metrology.rounding import (
    MAX_DIGITS,
    RoundingError,
    format_plain,
    report,
    round_interval,
    round_places,
    round_significant,
    round_uncertainty,
    to_decimal,
)


def plain(d: Decimal) -> str:
    return format_plain(d)


# --- GB/T 8170-2008 §3.2: the rounding rules and their published examples ----------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("12.1498", 1, "12.1"),  # GB/T 8170-2008 §3.2.1: discarded part < half → drop it
        ("12.1498", 0, "12"),  # GB/T 8170-2008 §3.2.1: same number to the units digit
        ("1268", -2, "1300"),  # GB/T 8170-2008 §3.2.2: > half → up; published as 13×10²
        ("10.5002", 0, "11"),  # GB/T 8170-2008 §3.2.3: a 5 followed by non-zero digits → up
        ("1.050", 1, "1.0"),  # GB/T 8170-2008 §3.2.4: exactly half, kept digit even → stays
        ("0.35", 1, "0.4"),  # GB/T 8170-2008 §3.2.4: exactly half, kept digit odd → up
        ("2500", -3, "2000"),  # GB/T 8170-2008 §3.2.4: published as 2×10³
        ("3500", -3, "4000"),  # GB/T 8170-2008 §3.2.4: published as 4×10³
        ("-0.0365", 3, "-0.036"),  # GB/T 8170-2008 §3.2.5: negative, published as −36×10⁻³
    ],
)
def test_gbt8170_published_examples(value, places, expected):
    assert plain(round_places(value, places)) == expected


def test_gbt8170_1268_is_13_hundreds():
    # GB/T 8170-2008 §3.2.2 writes the result as 13×10²: two kept digits, the last at hundreds.
    result = round_places("1268", -2)
    assert result == Decimal("13E+2")
    assert result.as_tuple().exponent == 2
    assert round_interval("1268", "100") == Decimal("13E+2")


@pytest.mark.parametrize(
    ("value", "step", "expected"),
    [
        ("2500", "1000", "2000"),  # GB/T 8170-2008 §3.2.4 as an interval of 1000
        ("3500", "1000", "4000"),  # GB/T 8170-2008 §3.2.4 as an interval of 1000
        ("12.1498", "0.1", "12.1"),  # GB/T 8170-2008 §3.2.1 as an interval of 0.1
        ("12.1498", "1", "12"),  # GB/T 8170-2008 §3.2.1 as an interval of 1
    ],
)
def test_gbt8170_examples_as_intervals(value, step, expected):
    assert plain(round_interval(value, step)) == expected


def test_no_chained_rounding():
    # GB/T 8170-2008 §3.3: 8.53459 to three significant digits is 8.53 in one step, never
    # 8.53459 → 8.5346 → 8.535 → 8.54.
    assert plain(round_significant("8.53459", 3)) == "8.53"
    # what chained rounding would have produced, to show the trap is real:
    chained = Decimal("8.53459")
    for places in (4, 3, 2):
        chained = chained.quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_UP")
    assert chained == Decimal("8.54")


def test_five_followed_by_nonzero_rounds_up():
    # GB/T 8170-2008 §3.2.3: a 5 followed by any non-zero digit is more than half.
    assert plain(round_places("2.6250001", 2)) == "2.63"
    assert plain(round_places("2.625", 2)) == "2.62"  # exactly half: 2 is even, stays
    assert plain(round_places("-2.6250001", 2)) == "-2.63"
    assert plain(round_significant("0.0125000000001", 2)) == "0.013"


# --- GB/T 8170-2008 §3.4: the 0.5-unit and 0.2-unit rules --------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # GB/T 8170-2008 §3.4.1 (0.5 unit: ×2, round, ÷2): 60.25×2 = 120.5 → 120 → 60.0
        ("60.25", "60.0"),
        # 60.38×2 = 120.76 → 121 → 60.5
        ("60.38", "60.5"),
        # 60.28×2 = 120.56 → 121 → 60.5 (the example in GB 8170-87 §1.3)
        ("60.28", "60.5"),
        # −60.75: |x|×2 = 121.5 → 122 (even) → 61.0, sign restored → −61.0
        ("-60.75", "-61.0"),
    ],
)
def test_half_unit_rule(value, expected):
    assert plain(round_interval(value, "0.5")) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # GB/T 8170-2008 §3.4.2, 0.2 unit of the hundreds digit (interval 20), "×5, round, ÷5".
        # Checked here by hand with round_half_even(x / 20) × 20, which is the same thing:
        #   830 / 20 = 41.5 → 42 (even) → 840   (×5: 4150 → 42×10² → ÷5 = 840)
        #   842 / 20 = 42.1 → 42        → 840   (×5: 4210 → 42×10² → ÷5 = 840)
        #  |−930| / 20 = 46.5 → 46 (even) → 920, sign restored → −920
        #                                       (×5: −4650 → −46×10² → ÷5 = −920)
        # Finding: the published group (830 → 840, 842 → 840, −930 → −920) agrees with the
        # formula in every case; −930 shows the exact-half case going to the even multiple.
        ("830", "840"),
        ("842", "840"),
        ("-930", "-920"),
        # GB 8170-87 §1.4: 832 at 0.2 unit of the hundreds → 840 (832/20 = 41.6 → 42)
        ("832", "840"),
    ],
)
def test_fifth_unit_rule(value, expected):
    assert plain(round_interval(value, "20")) == expected
    assert plain(round_interval(value, 20)) == expected


def test_interval_keeps_the_interval_digit():
    # 60.25 at 0.5 is 60.0, written with the interval's decimal place.
    assert round_interval("60.25", "0.5").as_tuple().exponent == -1
    assert plain(round_interval("7.1", "0.2")) == "7.2"  # 35.5 → 36 → 7.2
    assert plain(round_interval("7.3", "0.2")) == "7.2"  # 36.5 → 36 → 7.2
    assert plain(round_interval("0", "0.5")) == "0.0"


@pytest.mark.parametrize("step", ["0.3", "3", "25", "0.25", "0", "-0.5", "7E-3", "abc"])
def test_interval_rejects_other_steps(step):
    with pytest.raises(RoundingError) as info:
        round_interval("1.5", step)
    assert info.value.field == "step"


@pytest.mark.parametrize("step", ["0.5", "0.50", "5E-1", "2E+1", "1000", 0.2, 5, "0.001"])
def test_interval_accepts_k_times_power_of_ten(step):
    round_interval("123.456", step)


# --- the float trap ----------------------------------------------------------------------------


def test_float_trap_2675():
    # metrology-notes.md: Decimal(2.675) is 2.67499999…, and Python's round(2.675, 2) gives
    # 2.67. Read as the text "2.675" it is exactly half, and 7 is odd, so it rounds to 2.68.
    assert round(2.675, 2) == 2.67  # the trap
    assert Decimal(2.675) < Decimal("2.675")  # noqa: RUF032 - the binary value, on purpose
    assert plain(round_places("2.675", 2)) == "2.68"
    assert plain(round_places(2.675, 2)) == "2.68"
    assert plain(round_places(np.float64(2.675), 2)) == "2.68"
    assert to_decimal(2.675) == Decimal("2.675")
    assert to_decimal(0.1) == Decimal("0.1")


# --- JJF 1059.1-2012 §5.3.8 / JCGM 100:2008 §7.2.6: reporting -----------------------------------


def test_uncertainty_rounding():
    # JJF 1059.1-2012 §5.3.8: at most two significant digits, ordinary rounding by default…
    assert plain(round_uncertainty("0.02731")) == "0.027"
    # …or always up (进位), the conservative choice the standard allows…
    assert plain(round_uncertainty("0.02731", round_up=True)) == "0.028"
    # …and one significant digit is allowed.
    assert plain(round_uncertainty("0.02731", digits=1)) == "0.03"
    # JCGM 100:2008 §7.2.6: u_c = 10.47 mΩ "might be rounded up to 11 mΩ"; 28.05 kHz → 28 kHz.
    assert plain(round_uncertainty("10.47", round_up=True)) == "11"
    assert plain(round_uncertainty("28.05")) == "28"


def test_round_up_leaves_exact_values_alone():
    assert plain(round_uncertainty("0.0270", round_up=True)) == "0.027"
    assert plain(round_uncertainty("0.02700001", round_up=True)) == "0.028"
    assert plain(round_uncertainty("0.0996", round_up=True)) == "0.10"  # carry: still 2 digits
    assert plain(round_uncertainty("0.0996")) == "0.10"
    assert plain(round_uncertainty("9.96", digits=1)) == "10"


def test_uncertainty_written_with_few_digits_is_kept():
    assert plain(round_uncertainty("10")) == "10"
    assert plain(round_uncertainty("0.2")) == "0.2"
    assert plain(round_uncertainty(0.25)) == "0.25"


@pytest.mark.parametrize(
    ("value", "uncertainty", "expected_value", "expected_u"),
    [
        # JJF 1059.1-2012 §5.3.8 (also JCGM 100:2008 §7.2.6): y = 10.05762 Ω, U = 27 mΩ
        # (0.027 Ω in the same unit) → 10.058 Ω
        ("10.05762", "0.027", "10.058", "0.027"),
        # JJF 1059.1-2012 §5.3.8: y = 6.3250 g, u_c = 0.25 g → 6.32 g (exact half, 2 is even)
        ("6.3250", "0.25", "6.32", "0.25"),
        # JJF 1059.1-2012 §5.3.8: y = 1039.56 mV, U = 10 mV → 1040 mV (U's last digit: units)
        ("1039.56", "10", "1040", "10"),
        # JJF 1059.1-2012 §5.3.8: y = 6.3 g, U = 0.25 g → pad with zeros, 6.30 g; never round
        # U to suit the value
        ("6.3", "0.25", "6.30", "0.25"),
        # the same with floats, as a calculation hands them over
        (10.05762, 0.027, "10.058", "0.027"),
        (6.3, 0.25, "6.30", "0.25"),
        # the uncertainty is rounded first, then the value follows it
        ("10.05762", "0.02731", "10.058", "0.027"),
        ("-10.05762", "0.02731", "-10.058", "0.027"),
    ],
)
def test_report_published_examples(value, uncertainty, expected_value, expected_u):
    v, u = report(value, uncertainty)
    assert (plain(v), plain(u)) == (expected_value, expected_u)


def test_report_options():
    assert tuple(map(plain, report("10.05762", "0.02731", round_up=True))) == ("10.058", "0.028")
    assert tuple(map(plain, report("10.05762", "0.02731", digits=1))) == ("10.06", "0.03")
    # an uncertainty of 1.3 × 10³ puts the last digit at the hundreds
    assert tuple(map(plain, report("123456.7", "1268"))) == ("123500", "1300")


# --- format_plain ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (Decimal("1.3E+3"), "1300"),
        (Decimal("6.30"), "6.30"),
        (Decimal("-0.036"), "-0.036"),
        (Decimal("-0"), "0"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("2E+3"), "2000"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("12"), "12"),
    ],
)
def test_format_plain(d, text):
    assert format_plain(d) == text


def test_rounding_to_zero_is_never_negative():
    assert plain(round_places("-0.0001", 2)) == "0.00"
    assert plain(round_interval("-0.2", "0.5")) == "0.0"
    assert not round_places("-0.0001", 2).is_signed()


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["nan", "NaN", "inf", "-Infinity", float("nan"), float("inf"), True, "abc", "", None]
)
def test_to_decimal_rejects(bad):
    with pytest.raises(RoundingError) as info:
        to_decimal(bad)
    assert info.value.field == "value"
    assert "value" in str(info.value)


def test_to_decimal_accepts():
    assert to_decimal(" 12.50 ") == Decimal("12.50")
    assert to_decimal(7) == Decimal(7)
    assert to_decimal(np.int64(7)) == Decimal(7)
    assert to_decimal(Decimal("1.3E+3")) == Decimal(1300)
    assert to_decimal(-0.0365) == Decimal("-0.0365")


def test_parameter_errors_name_the_field():
    with pytest.raises(RoundingError, match="places"):
        round_places("1.5", 1.5)
    with pytest.raises(RoundingError, match="places"):
        round_places("1.5", True)
    with pytest.raises(RoundingError, match="digits"):
        round_significant("1.5", 0)
    with pytest.raises(RoundingError, match="digits"):
        round_uncertainty("0.5", digits=3)
    with pytest.raises(RoundingError, match="uncertainty"):
        round_uncertainty("-0.5")
    with pytest.raises(RoundingError, match="uncertainty"):
        report("1.0", "0")
    with pytest.raises(RoundingError, match="value"):
        round_places(f"1E+{MAX_DIGITS + 5}", 0)
    with pytest.raises(RoundingError, match="digits"):
        round_places("1.5", 10**6)


def test_significant_edge_cases():
    assert plain(round_significant("9.96", 2)) == "10"  # carry: 10 has two significant digits
    assert plain(round_significant("-9.96", 2)) == "-10"
    assert plain(round_significant("0.000123456", 3)) == "0.000123"
    assert plain(round_significant("123456", 2)) == "120000"
    assert round_significant("0", 3) == 0


# --- properties (hypothesis) -------------------------------------------------------------------

decimals = st.integers(min_value=0, max_value=12).flatmap(
    lambda p: st.decimals(min_value=Decimal("-1E6"), max_value=Decimal("1E6"), places=p)
)
places_st = st.integers(min_value=-4, max_value=8)
digits_st = st.integers(min_value=1, max_value=8)
steps = st.builds(lambda k, n: Decimal(k).scaleb(n), st.sampled_from([1, 2, 5]), st.integers(-6, 4))


@given(decimals, places_st)
def test_places_properties(x, places):
    once = round_places(x, places)
    assert round_places(once, places) == once  # idempotent
    assert round_places(once, places).as_tuple().exponent == -places
    assert once.as_tuple().exponent == -places  # exactly `places` decimal places
    assert round_places(-x, places) == -once  # sign symmetric
    assert abs(once - x) <= Decimal(1).scaleb(-places) / 2
    # agrees with Decimal's own half-even quantize (which is sign-symmetric too)
    assert once == x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


@given(decimals, digits_st)
def test_significant_properties(x, digits):
    once = round_significant(x, digits)
    assert round_significant(once, digits) == once
    assert round_significant(-x, digits) == -once
    if x:
        assert len(once.as_tuple().digits) <= digits
        assert abs(once - x) <= Decimal(1).scaleb(x.adjusted() - digits + 1) / 2


@given(decimals, steps)
def test_interval_properties(x, step):
    once = round_interval(x, step)
    assert round_interval(once, step) == once  # idempotent
    assert round_interval(-x, step) == -once  # sign symmetric
    assert (once / step) == (once / step).to_integral_value()  # an integer multiple of the step
    assert abs(once - x) <= step / 2
    if step.as_tuple().digits == (1,):  # an interval of 10ⁿ is rounding to a decimal place
        assert once == round_places(x, -step.as_tuple().exponent)


@given(
    st.decimals(min_value=Decimal("1E-9"), max_value=Decimal("1E6"), places=10),
    st.sampled_from([1, 2]),
    st.booleans(),
)
def test_uncertainty_properties(u, digits, up):
    rounded = round_uncertainty(u, digits=digits, round_up=up)
    assert len(rounded.as_tuple().digits) <= digits
    assert round_uncertainty(rounded, digits=digits, round_up=up) == rounded
    if up:
        assert rounded >= u


@given(decimals, st.decimals(min_value=Decimal("1E-6"), max_value=Decimal("1E4"), places=7))
def test_report_aligns_value_with_uncertainty(value, u):
    v, rounded_u = report(value, u)
    assert v.as_tuple().exponent == rounded_u.as_tuple().exponent
    assert rounded_u == round_uncertainty(u)
    assert report(-value, u)[0] == -v
