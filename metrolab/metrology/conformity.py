"""Conformity decisions: is a measured value within its specification, given its uncertainty?

- `jjf1094`: the indication error Δ of a measuring instrument against its maximum permissible
  error (JJF 1094-2002 §5.1, 示值误差的符合性评定).
- `decide`: the decision rules of ILAC-G8:09/2019 §4.2 — simple acceptance (§4.2.1), binary
  statement with a guard band (§4.2.2) and the non-binary statement with a guard band (§4.2.3),
  for two-sided and one-sided tolerance limits.
- `probability_of_conformity`: p_c for a normal distribution of the measurand
  (JCGM 106:2012 §7).
- `evaluate_conformity`: the JSON contract of `metrolab calc conformity`.

Boundaries. The standards say where the zones are but not always which zone owns a value that
lies exactly on a limit. Values are compared as the decimal numbers they were written as
(`Decimal(repr(x))`), so 0.011 is on the limit MPEV − U95 = 0.02 − 0.009 and not a rounding
error away from it. Then:
- JJF 1094-2002 states its inequalities: pass when |Δ| ≤ MPEV (U95 ≤ MPEV/3), pass when
  |Δ| ≤ MPEV − U95 and fail when |Δ| ≥ MPEV + U95 (otherwise); followed literally. U95 exactly
  MPEV/3 satisfies the requirement U95 ≤ MPEV/3.
- ILAC-G8 gives closed intervals that share their end points ([TL − w, TL] conditional pass,
  [TL, TL + w] conditional fail). Here a value on a limit gets the more favourable of the two
  statements that meet there: on the acceptance limit → pass, on the tolerance limit →
  (conditional) pass, on TL + w → conditional fail. For simple acceptance this makes the
  tolerance interval closed, as the brief for this library requires (a value on the limit
  conforms).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

from scipy.special import ndtr  # Φ, the standard normal distribution function

RULES = ("jjf1094", "simple", "guarded", "nonbinary")
DECISIONS = ("pass", "fail", "undecided", "conditional_pass", "conditional_fail")
_ZONES = ("pass", "conditional_pass", "conditional_fail", "fail")  # ranked, best first


class ConformityError(ValueError):
    """Bad input for a conformity decision; `field` names the offending field."""

    def __init__(self, message: str, *, field: str):
        super().__init__(f"{field}: {message}")
        self.message = message
        self.field = field


def _decimal(value, field: str, *, required: bool = True, nonnegative: bool = False):
    if value is None:
        if required:
            raise ConformityError("is required", field=field)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ConformityError(f"must be a number, not {value!r}", field=field)
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except ArithmeticError:
        raise ConformityError(f"must be a number, not {value!r}", field=field) from None
    if not number.is_finite():
        raise ConformityError("must be a finite number", field=field)
    if nonnegative and number < 0:
        raise ConformityError("must not be negative", field=field)
    return number


# --- JJF 1094-2002 ----------------------------------------------------------------------------


def jjf1094(error, mpev, U95) -> str:
    """Conformity of an indication error Δ with the maximum permissible error ±MPEV
    (JJF 1094-2002 §5.1; criteria as quoted in the standard's text, clause numbers to be
    checked against the printed standard: §5.1.2-§5.1.4).

    - When U95 ≤ MPEV/3 the uncertainty of the error is neglected: pass when |Δ| ≤ MPEV,
      fail when |Δ| > MPEV.
    - Otherwise: pass (合格) when |Δ| ≤ MPEV − U95; fail (不合格) when |Δ| ≥ MPEV + U95;
      undecided (待定) in between.

    Returns "pass", "fail" or "undecided". Example (the lab's reference case): MPEV 0.02 V,
    U95 0.009 V > MPEV/3, |Δ| = 0.008 V ≤ 0.011 V → pass.
    """
    delta = abs(_decimal(error, "value"))
    mpev = _decimal(mpev, "upper")
    if mpev <= 0:
        raise ConformityError(
            "the maximum permissible error must be greater than zero", field="upper"
        )
    u95 = _decimal(U95, "U", nonnegative=True)
    if 3 * u95 <= mpev:
        return "pass" if delta <= mpev else "fail"
    if delta <= mpev - u95:
        return "pass"
    if delta >= mpev + u95:
        return "fail"
    return "undecided"


# --- ILAC-G8:09/2019 ----------------------------------------------------------------------------


def _zone(value: Decimal, lower: Decimal | None, upper: Decimal | None, w: Decimal) -> int:
    """Rank of the zone a value lies in (0 pass ... 3 fail) against both limits
    (ILAC-G8:09/2019 §4.2.3, Figure 5; for a lower limit the picture mirrored)."""
    rank = 0
    if upper is not None:
        if value <= upper - w:
            side = 0
        elif value <= upper:
            side = 1
        elif value <= upper + w:
            side = 2
        else:
            side = 3
        rank = max(rank, side)
    if lower is not None:
        if value >= lower + w:
            side = 0
        elif value >= lower:
            side = 1
        elif value >= lower - w:
            side = 2
        else:
            side = 3
        rank = max(rank, side)
    return rank


def _limits(lower, upper) -> tuple[Decimal | None, Decimal | None]:
    lo = _decimal(lower, "lower", required=False)
    hi = _decimal(upper, "upper", required=False)
    if lo is None and hi is None:
        raise ConformityError("give a lower or an upper tolerance limit, or both", field="upper")
    if lo is not None and hi is not None and lo > hi:
        raise ConformityError("the lower limit must not exceed the upper limit", field="lower")
    return lo, hi


def decide(value, lower, upper, rule: str, U=None, guard=None) -> str:
    """A statement of conformity by the decision rules of ILAC-G8:09/2019 §4.2, with tolerance
    limits TL `lower` and/or `upper` (None: that side is unlimited) and guard band w:

    - "simple" (§4.2.1, simple acceptance, w = 0): pass when lower ≤ value ≤ upper, else fail.
    - "guarded" (§4.2.2, binary statement with guard band): acceptance limits AL = TL ∓ w; pass
      inside [lower + w, upper − w], fail otherwise. w = `guard`, by default U (95 %), which
      keeps the specific risk of a false accept at most 2.5 % for a normal result (§4.2.2 and
      5.2, Figure 4).
    - "nonbinary" (§4.2.3): pass inside the acceptance zone; conditional pass between an
      acceptance limit and its tolerance limit; conditional fail between a tolerance limit and
      TL ± w outside it; fail beyond.

    See the module docstring for values exactly on a limit.
    """
    if rule not in ("simple", "guarded", "nonbinary"):
        raise ConformityError('must be "simple", "guarded" or "nonbinary"', field="rule")
    y = _decimal(value, "value")
    lo, hi = _limits(lower, upper)
    if rule == "simple":
        w = Decimal(0)
    else:
        w = _decimal(guard, "guard", required=False, nonnegative=True)
        if w is None:
            w = _decimal(U, "U", required=False, nonnegative=True)
        if w is None:
            raise ConformityError(
                f'the "{rule}" rule needs the expanded uncertainty U or a guard band', field="U"
            )
    rank = _zone(y, lo, hi, w)
    if rule == "nonbinary":
        return _ZONES[rank]
    return "pass" if rank == 0 else "fail"


# --- JCGM 106:2012 ------------------------------------------------------------------------------


def probability_of_conformity(value, u, lower=None, upper=None) -> float:
    """p_c, the probability that the measurand lies within the tolerance limits, for a normal
    distribution N(y, u²) of the measurand given the measured value y (JCGM 106:2012 §7, the
    normal-PDF case; clause numbers to check: §7.3 one limit, §7.4 two limits):

    p_c = Φ((T_U − y)/u) − Φ((T_L − y)/u), with Φ((T_U − y)/u) alone for an upper limit only
    and 1 − Φ((T_L − y)/u) = Φ((y − T_L)/u) for a lower limit only.

    With u = 0 the measurand is the value itself: p_c is 1 inside the closed interval, else 0.
    """
    y = float(_decimal(value, "value"))
    s = float(_decimal(u, "u", nonnegative=True))
    lo, hi = _limits(lower, upper)
    if s == 0:
        inside = (lo is None or y >= lo) and (hi is None or y <= hi)
        return 1.0 if inside else 0.0
    a = math.inf if hi is None else (float(hi) - y) / s  # Φ(a): probability below T_U
    b = -math.inf if lo is None else (float(lo) - y) / s  # Φ(b): probability below T_L
    # Φ(a) − Φ(b) = Q(b) − Q(a) with Q = 1 − Φ: below the lower limit (b > 0) both Φ are
    # close to 1 and their small difference would be lost, so take the Q form there.
    p = float(ndtr(-b) - ndtr(-a)) if b > 0 else float(ndtr(a) - ndtr(b))
    return min(1.0, max(0.0, p))


# --- the JSON contract --------------------------------------------------------------------------


def evaluate_conformity(spec: Mapping) -> dict:
    """`metrolab calc conformity`: {"value", "lower", "upper", "U", "rule", "guard"?, "u"?} →
    {"decision", "p_conformity"}.

    - rule "jjf1094": `value` is the indication error Δ and the limits are −MPEV and +MPEV
      (both given, symmetric); `U` is U95 and is required.
    - rules "simple", "guarded", "nonbinary": ILAC-G8:09/2019 with tolerance limits `lower`
      and/or `upper` (null or absent for a one-sided limit); `guard` is the guard band w
      (default U).
    - p_conformity (JCGM 106:2012) is given when the standard uncertainty `u` is given, and is
      null otherwise: U alone does not say its coverage factor, and guessing k = 2 would print a
      probability the lab cannot stand behind.

    Bad input raises ConformityError (a ValueError) naming the field.
    """
    if not isinstance(spec, Mapping):
        raise ConformityError("must be a JSON object", field="value")
    rule = spec.get("rule")
    if rule not in RULES:
        raise ConformityError('must be "jjf1094", "simple", "guarded" or "nonbinary"', field="rule")
    value, lower, upper = spec.get("value"), spec.get("lower"), spec.get("upper")
    U, guard, u = spec.get("U"), spec.get("guard"), spec.get("u")
    if rule == "jjf1094":
        if guard is not None:
            raise ConformityError("JJF 1094-2002 has no guard band", field="guard")
        lo = _decimal(lower, "lower")
        hi = _decimal(upper, "upper")
        if hi <= 0 or lo != -hi:
            raise ConformityError(
                "JJF 1094-2002 needs the symmetric limits −MPEV and +MPEV (e.g. -0.02 and 0.02)",
                field="lower",
            )
        decision = jjf1094(value, hi, U)
    else:
        decision = decide(value, lower, upper, rule, U=U, guard=guard)
    p = None
    if u is not None:
        p = probability_of_conformity(value, u, lower, upper)
    return {"decision": decision, "p_conformity": p}
