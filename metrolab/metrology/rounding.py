"""Rounding of numerical values (GB/T 8170-2008) and the reporting of a measured value with its
uncertainty (JJF 1059.1-2012 §5.3.8; JCGM 100:2008 §7.2.6).

Everything is done on `decimal.Decimal` built from the number's decimal text, never from the
binary value of a float: `Decimal(2.675)` is 2.67499999…, so 2.675 would round the wrong way.
A float is converted through `repr` (its shortest round-tripping text, "2.675").

The rules of GB/T 8170-2008 §3:
- the rounded value is an integer multiple of the rounding interval k × 10ⁿ, k ∈ {1, 2, 5} (§3.1);
- a discarded part below half of the interval is dropped; above half, rounded up; exactly half
  (a 5 followed by nothing or zeros), rounded so the kept last digit is even — "四舍六入五成双"
  (§3.2.1-§3.2.4);
- a negative number is rounded by its absolute value and the sign put back (§3.2.5);
- rounding is done once, from the original value, never step by step (§3.3);
- the 0.5- and 0.2-unit rules ("× 2, round, ÷ 2" and "× 5, round, ÷ 5", §3.4) are the same as
  round_half_even(x / interval) × interval.

Results are Decimals whose exponent records the last kept digit, so significant trailing zeros
survive: `format_plain` prints them without scientific notation ("6.30", "1300").
"""

from __future__ import annotations

import math
import numbers
from decimal import (
    MAX_EMAX,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    ROUND_UP,
    Context,
    Decimal,
    InvalidOperation,
)

__all__ = [
    "MAX_DIGITS",
    "RoundingError",
    "format_plain",
    "report",
    "round_interval",
    "round_places",
    "round_significant",
    "round_uncertainty",
    "to_decimal",
]

#: Upper bound on the digits of a rounded result; a measured value never needs more, and the
#: bound keeps a typo such as places=10**9 from exhausting memory.
MAX_DIGITS = 1000

# Wide enough that every operation below is exact for results within MAX_DIGITS (quantize is the
# only step that discards digits, and it does so on purpose, once).
_CONTEXT = Context(
    prec=MAX_DIGITS + 10,
    rounding=ROUND_HALF_EVEN,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation],
)

# 1/k for the admissible interval mantissas k (GB/T 8170-2008 §3.1: k × 10ⁿ, k = 1, 2 or 5);
# all three reciprocals are finite decimals, so x / interval is computed exactly.
_RECIPROCAL = {1: Decimal(1), 2: Decimal("0.5"), 5: Decimal("0.2")}


class RoundingError(ValueError):
    """A value or a rounding parameter that cannot be used; `field` names the argument."""

    def __init__(self, message: str, *, field: str = "value"):
        super().__init__(f"{field}: {message}")
        self.message = message
        self.field = field


def to_decimal(value: object, *, field: str = "value") -> Decimal:
    """The exact decimal number written as `value`.

    Accepts a str ("2.675", "-1.3E+3"), an int, a Decimal or a float; a float is read through its
    shortest decimal text (`repr`), never through its binary value. NaN, infinities, booleans and
    anything else are refused with a `RoundingError` naming `field`.
    """
    if isinstance(value, bool):
        raise RoundingError(f"must be a number, not the boolean {value!r}", field=field)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, numbers.Integral):
        number = Decimal(int(value))
    elif isinstance(value, float | numbers.Real) and not isinstance(value, numbers.Rational):
        # float and numpy floating types: str() gives the shortest text that reads back to the
        # same binary value ("2.675"), which is what the person typed.
        as_float = float(value)
        if not math.isfinite(as_float):
            raise RoundingError(f"must be a finite number, not {value!r}", field=field)
        number = Decimal(repr(as_float) if type(value) is float else str(value))
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise RoundingError(
                f"{value!r} is not a decimal number (write it like 12.5, -0.036 or 1.3E+3)",
                field=field,
            ) from None
    else:
        raise RoundingError(
            f"must be a number or its decimal text, not {type(value).__name__}", field=field
        )
    if not number.is_finite():
        raise RoundingError(f"must be a finite number, not {value!r}", field=field)
    return number


def _integer(value: object, field: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise RoundingError(f"must be a whole number, not {value!r}", field=field)
    number = int(value)
    if minimum is not None and number < minimum:
        raise RoundingError(f"must be at least {minimum}, not {number}", field=field)
    return number


def _quantize_abs(magnitude: Decimal, exponent: int, rounding: str) -> Decimal:
    """|x| rounded to a multiple of 10**exponent, in one step."""
    digits = max(magnitude.adjusted(), exponent) - exponent + 1
    if digits > MAX_DIGITS:
        raise RoundingError(
            f"the rounded value would have {digits} digits (at most {MAX_DIGITS})", field="value"
        )
    try:
        return magnitude.quantize(
            Decimal(1).scaleb(exponent, context=_CONTEXT), rounding=rounding, context=_CONTEXT
        )
    except InvalidOperation:
        raise RoundingError(f"cannot round at the digit 10^{exponent}", field="value") from None


def _with_sign(negative: bool, magnitude: Decimal) -> Decimal:
    """Put the sign back (GB/T 8170-2008 §3.2.5); a zero result is never negative."""
    if negative and magnitude:
        return magnitude.copy_negate()
    return magnitude


def round_places(x: object, places: int) -> Decimal:
    """`x` rounded half-to-even to `places` decimal places (GB/T 8170-2008 §3.1, §3.2).

    Negative `places` round to the left of the decimal point: -2 rounds to hundreds (rounding
    interval 100). The result's exponent is always -places: round_places("6.3", 2) is 6.30.
    """
    number = to_decimal(x)
    places = _integer(places, "places")
    magnitude = _quantize_abs(number.copy_abs(), -places, ROUND_HALF_EVEN)
    return _with_sign(number.is_signed(), magnitude)


def _round_significant(number: Decimal, digits: int, rounding: str) -> Decimal:
    magnitude = number.copy_abs()
    if not magnitude:
        return magnitude  # zero has no significant digits: nothing to round
    exponent = magnitude.adjusted() - digits + 1
    rounded = _quantize_abs(magnitude, exponent, rounding)
    if rounded.adjusted() > magnitude.adjusted():
        # The rounding carried into a new leading digit (9.96 → 10.0 at two digits): drop the
        # now-surplus trailing zero. This is exact, not a second rounding.
        rounded = _quantize_abs(rounded, exponent + 1, rounding)
    return _with_sign(number.is_signed(), rounded)


def round_significant(x: object, digits: int) -> Decimal:
    """`x` rounded half-to-even to `digits` significant digits (GB/T 8170-2008 §3.1, §3.2;
    e.g. 8.53459 → 8.53 at three digits, §3.3). Zero is returned unchanged."""
    number = to_decimal(x)
    digits = _integer(digits, "digits", minimum=1)
    return _round_significant(number, digits, ROUND_HALF_EVEN)


def _interval(step: object) -> tuple[int, int]:
    """(k, n) of a rounding interval k × 10ⁿ with k ∈ {1, 2, 5} (GB/T 8170-2008 §3.1, §3.4)."""
    interval = to_decimal(step, field="step")
    if interval <= 0:
        raise RoundingError(f"the rounding interval must be positive, not {step!r}", field="step")
    _sign, mantissa, exponent = interval.normalize(context=_CONTEXT).as_tuple()
    if len(mantissa) != 1 or mantissa[0] not in _RECIPROCAL:
        raise RoundingError(
            f"the rounding interval must be 1, 2 or 5 × 10ⁿ (such as 0.5, 0.2, 1, 20, 100), "
            f"not {step!r}",
            field="step",
        )
    return mantissa[0], exponent


def round_interval(x: object, step: object) -> Decimal:
    """`x` rounded to an integer multiple of the rounding interval `step` = k × 10ⁿ, k ∈ {1, 2,
    5}: round_half_even(|x| / step) × step, sign restored (GB/T 8170-2008 §3.1, §3.2, and §3.4
    for the 0.5- and 0.2-unit rules). E.g. 60.38 at 0.5 → 60.5; 1268 at 100 → 1300.

    The result carries the interval's last digit: 60.25 at 0.5 gives 60.0, not 60.
    """
    number = to_decimal(x)
    k, n = _interval(step)
    magnitude = number.copy_abs()
    if magnitude.adjusted() - n + 1 > MAX_DIGITS:
        raise RoundingError(
            f"the rounded value would have more than {MAX_DIGITS} digits", field="value"
        )
    quotient = _CONTEXT.multiply(magnitude.scaleb(-n, context=_CONTEXT), _RECIPROCAL[k])
    multiple = _quantize_abs(quotient, 0, ROUND_HALF_EVEN)
    result = _CONTEXT.multiply(multiple, Decimal(k)).scaleb(n, context=_CONTEXT)
    return _with_sign(number.is_signed(), result)


def round_uncertainty(u: object, digits: int = 2, round_up: bool = False) -> Decimal:
    """An uncertainty (u or U) kept to at most `digits` (1 or 2) significant digits
    (JJF 1059.1-2012 §5.3.8; JCGM 100:2008 §7.2.6).

    Rounding is half-to-even by default; with `round_up` it always goes away from zero unless
    the value is already exact at that digit ("进位", e.g. 0.02731 → 0.028), which JJF 1059.1
    and GUM §7.2.6 allow as the conservative choice. An uncertainty already written with no more
    than `digits` significant digits is kept as written ("10" stays 10, its last digit the
    units digit; "0.2" stays 0.2).
    """
    number = to_decimal(u, field="uncertainty")
    if isinstance(digits, bool) or digits not in (1, 2):
        raise RoundingError(
            f"an uncertainty is reported with 1 or 2 significant digits, not {digits!r}",
            field="digits",
        )
    if not isinstance(round_up, bool):
        raise RoundingError(f"must be true or false, not {round_up!r}", field="round_up")
    if number <= 0:
        raise RoundingError(f"must be greater than zero, not {u!r}", field="uncertainty")
    if len(number.as_tuple().digits) <= digits:
        return number
    return _round_significant(number, digits, ROUND_UP if round_up else ROUND_HALF_EVEN)


def report(
    value: object, uncertainty: object, digits: int = 2, round_up: bool = False
) -> tuple[Decimal, Decimal]:
    """A measured value and its uncertainty as they are printed (JJF 1059.1-2012 §5.3.8;
    JCGM 100:2008 §7.2.6).

    The uncertainty is rounded first (`round_uncertainty`); the value is then rounded half-to-even
    to the decimal position of the uncertainty's last digit, in the same unit, padded with zeros
    where it has too few digits. The uncertainty is never rounded to suit the value. E.g.
    (10.05762, 0.027) → (10.058, 0.027); (6.3, 0.25) → (6.30, 0.25); (1039.56, 10) → (1040, 10).
    """
    rounded_u = round_uncertainty(uncertainty, digits=digits, round_up=round_up)
    number = to_decimal(value)
    magnitude = _quantize_abs(number.copy_abs(), rounded_u.as_tuple().exponent, ROUND_HALF_EVEN)
    return _with_sign(number.is_signed(), magnitude), rounded_u


def format_plain(d: object) -> str:
    """`d` in plain decimal notation: never an exponent, significant trailing zeros kept
    (Decimal("1.3E+3") → "1300", Decimal("6.30") → "6.30"); negative zero prints as zero."""
    number = to_decimal(d)
    if not number:
        number = number.copy_abs()
    exponent = number.as_tuple().exponent
    length = max(number.adjusted(), 0) - min(exponent, 0) + 1
    if length > MAX_DIGITS:
        raise RoundingError(
            f"written out in full it would have {length} digits (at most {MAX_DIGITS})"
        )
    return format(number, "f")
