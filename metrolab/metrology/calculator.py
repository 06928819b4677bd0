"""The calculations behind `metrolab calc ...`, `POST /api/v1/calc/...` and the uncertainty
calculator page, on plain JSON-like data (the interface contract of the metrology library).

Every function takes and returns JSON-ready values; invalid input raises `CalculationError`
whose `field` names the offending field (a dotted path) and whose message says what is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from metrolab.metrology import conformity, gum, montecarlo, rounding, statistics
from metrolab.metrology.inputs import InputError, parse_inputs
from metrolab.metrology.model import Model, ModelError

MAX_TRIALS = 5_000_000  # a cap for one request: about 2 s of work on a lab server
# Decimal places / significant digits a rounding request may ask for: far past any certificate.
MAX_DIGITS = 100


class CalculationError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.field = field


def _wrap(exc: Exception, default_field: str | None = None) -> CalculationError:
    field = getattr(exc, "field", None) or default_field
    message = getattr(exc, "message", None) or str(exc)
    return CalculationError(message, field)


def _require_mapping(data: Any, what: str = "the request") -> Mapping:
    if not isinstance(data, Mapping):
        raise CalculationError(f"{what} must be a JSON object")
    return data


# --- rounding -----------------------------------------------------------------------------------


def calc_round(
    value: Any, *, places: int | None = None, sig: int | None = None, interval: Any = None
) -> str:
    """GB/T 8170-2008 rounding to places, significant digits or an interval; plain notation."""
    chosen = [
        name
        for name, v in (("places", places), ("sig", sig), ("interval", interval))
        if v is not None
    ]
    if len(chosen) != 1:
        raise CalculationError("give exactly one of places, sig or interval", "places")
    if places is not None and not -MAX_DIGITS <= int(places) <= MAX_DIGITS:
        raise CalculationError(f"must be between -{MAX_DIGITS} and {MAX_DIGITS}", "places")
    if sig is not None and not 1 <= int(sig) <= MAX_DIGITS:
        raise CalculationError(f"must be between 1 and {MAX_DIGITS}", "sig")
    try:
        if places is not None:
            result = rounding.round_places(value, int(places))
        elif sig is not None:
            result = rounding.round_significant(value, int(sig))
        else:
            result = rounding.round_interval(value, interval)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise _wrap(exc, "value") from None
    return rounding.format_plain(result)


def calc_report(
    value: Any, uncertainty: Any, *, digits: int = 2, round_up: bool = False
) -> dict[str, str]:
    """A measured value with its uncertainty, as printed (JJF 1059.1-2012 §5.3.8)."""
    try:
        v, u = rounding.report(value, uncertainty, digits=digits, round_up=round_up)
    except (ValueError, TypeError) as exc:
        raise _wrap(exc, "value") from None
    return {"value": rounding.format_plain(v), "uncertainty": rounding.format_plain(u)}


# --- uncertainty --------------------------------------------------------------------------------


def _coverage(spec: Mapping) -> dict:
    coverage = spec.get("coverage", {"k": 2})
    if not isinstance(coverage, Mapping) or len(coverage) != 1 or not (set(coverage) <= {"k", "p"}):
        raise CalculationError('must be {"k": 2} or {"p": 0.95}', "coverage")
    ((key, value),) = coverage.items()
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CalculationError("must be a number", f"coverage.{key}")
    if key == "k" and value <= 0:
        raise CalculationError("must be greater than zero", "coverage.k")
    if key == "p" and not 0 < value < 1:
        raise CalculationError("must lie between 0 and 1", "coverage.p")
    return {key: float(value)}


def _int_field(spec: Mapping, key: str, default: int | None, low: int, high: int) -> int | None:
    value = spec.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise CalculationError("must be a whole number", key)
    if not low <= value <= high:
        raise CalculationError(f"must lie between {low} and {high}", key)
    return int(value)


def calc_uncertainty(spec: Any) -> dict:
    """Evaluate a measurement model's uncertainty by the GUM (JCGM 100:2008) or by Monte Carlo
    (JCGM 101:2008), from the JSON input of `metrolab calc uncertainty`. An optional `units`
    object ({name: unit}) is carried for display and not used in the calculation."""
    spec = _require_mapping(spec)
    method = spec.get("method", "gum")
    if method not in {"gum", "mc"}:
        raise CalculationError('must be "gum" or "mc"', "method")
    try:
        model = Model.parse(spec.get("model"))
    except ModelError as exc:
        raise CalculationError(
            exc.message, f"model.{exc.field}" if exc.field else "model"
        ) from None
    try:
        inputs = parse_inputs(spec.get("inputs"))
    except InputError as exc:
        raise _wrap(exc) from None
    correlations = spec.get("correlations") or []
    coverage = _coverage(spec)
    try:
        gum_result = gum.evaluate_gum(model, inputs, correlations, coverage)
    except (InputError, ModelError, ValueError) as exc:
        raise _wrap(exc, "inputs") from None
    if method == "gum":
        result = gum_result.to_dict()
        result["method"] = "gum"
        return result

    if "k" in coverage:
        raise CalculationError(
            'Monte Carlo needs a coverage probability, e.g. {"p": 0.95}', "coverage"
        )
    interval = spec.get("interval", "symmetric")
    if interval not in {"symmetric", "shortest"}:
        raise CalculationError('must be "symmetric" or "shortest"', "interval")
    adaptive = _int_field(spec, "adaptive_digits", None, 1, 4)
    trials = _int_field(spec, "trials", None if adaptive else 10**6, 10**4, MAX_TRIALS)
    seed = _int_field(spec, "seed", None, 0, 2**63 - 1)
    try:
        mc = montecarlo.run_monte_carlo(
            model,
            inputs,
            correlations=correlations,
            p=coverage["p"],
            trials=trials,
            adaptive_digits=adaptive,
            interval=interval,
            seed=seed,
            max_trials=MAX_TRIALS,
        )
    except (InputError, ModelError, ValueError) as exc:
        raise _wrap(exc, "inputs") from None
    result = mc.to_dict()
    gum_outputs = gum_result.to_dict()["outputs"]
    for name, output in result["outputs"].items():
        g = gum_outputs[name]
        output["budget"] = g["budget"]
        output["gum"] = {k: g[k] for k in ("value", "u", "dof", "k", "U", "interval")}
        output["validation"] = montecarlo.validate_gum(
            y=g["value"],
            U=g["U"],
            low=output["interval"][0],
            high=output["interval"][1],
            u=output["u"],
            ndig=adaptive or 2,
        )
    return result


# --- straight line and conformity ---------------------------------------------------------------


def _numbers(spec: Mapping, key: str, *, required: bool = True) -> list[float]:
    values = spec.get(key)
    if values is None and not required:
        return []
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    ):
        raise CalculationError("must be a list of numbers", key)
    return [float(v) for v in values]


def calc_fit(spec: Any) -> dict:
    """Least-squares straight line with the uncertainties of its parameters and predictions
    (JCGM 100:2008 Annex H.3)."""
    spec = _require_mapping(spec)
    x, y = _numbers(spec, "x"), _numbers(spec, "y")
    if len(x) != len(y):
        raise CalculationError("x and y must have the same length", "y")
    if len(x) < 3:
        raise CalculationError("needs at least three points", "x")
    predict_at = _numbers(spec, "predict_at", required=False)
    try:
        return statistics.fit_line(x, y, predict_at).to_dict()
    except ValueError as exc:
        raise _wrap(exc, "x") from None


def calc_conformity(spec: Any) -> dict:
    """A conformity decision (JJF 1094-2002, ILAC-G8:09/2019) and the probability of
    conformity (JCGM 106:2012)."""
    spec = _require_mapping(spec)
    try:
        return conformity.evaluate_conformity(spec)
    except (ValueError, TypeError) as exc:
        raise _wrap(exc, "value") from None


def display(result: dict, digits: int = 2) -> dict:
    """Values as a certificate prints them: U to `digits` significant digits, the value and
    both ends of the coverage interval to U's last digit (JJF 1059.1-2012 §5.3.8), in plain
    notation (never 1.2e-05). Leaves `result` unchanged."""
    shown = {}
    for name, output in result.get("outputs", {}).items():
        U = output.get("U")
        if U is None or not math.isfinite(U) or U <= 0:
            shown[name] = {
                "value": rounding.format_plain(output["value"]),
                "U": None,
                "interval": None,
            }
            continue
        value, expanded = rounding.report(
            Decimal(repr(output["value"])), Decimal(repr(U)), digits=digits
        )
        interval = None
        if output.get("interval"):
            interval = [
                rounding.format_plain(rounding.report(end, expanded)[0])
                for end in output["interval"]
            ]
        shown[name] = {
            "value": rounding.format_plain(value),
            "U": rounding.format_plain(expanded),
            "interval": interval,
        }
    return shown
