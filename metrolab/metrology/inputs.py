"""Input quantities of a measurement model: their estimates, standard uncertainties, degrees of
freedom and the probability distributions that describe them (JCGM 100:2008 §4.2-4.3,
JJF 1059.1-2012 §4.3; JCGM 101:2008 §6.4 for the distributions Monte Carlo samples).

An input is given as a JSON-like dict, one of:
- Type A, from repeated readings: {"readings": [...]} → mean, s/√n, ν = n − 1 (§4.2).
- A standard uncertainty: {"value", "u", "dof"?}.
- Type B from a distribution with half-width a: {"value", "distribution": "rectangular" |
  "triangular" | "arcsine" (U-shaped) | "trapezoidal", "half_width", "beta"? (trapezoidal)}:
  u = a/√3, a/√6, a/√2, a·√((1+β²)/6) (JCGM 100:2008 §4.3.7, §4.3.9, JJF 1059.1 Table 2).
- Type B normal from an expanded uncertainty: {"value", "distribution": "normal", "expanded",
  "k" | "p"} → u = U/k, with k = z((1+p)/2) when a coverage probability is given (§4.3.4).
Any input may carry "dof" (Type B default: infinite) or "reliability" Δu/u, from which
ν = ½ (Δu/u)⁻² (JCGM 100:2008 eq. G.3, JJF 1059.1 §4.3.3.5).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

DISTRIBUTIONS = ("normal", "t", "rectangular", "triangular", "arcsine", "trapezoidal")
_DIVISOR = {"rectangular": math.sqrt(3), "triangular": math.sqrt(6), "arcsine": math.sqrt(2)}


class InputError(ValueError):
    """Invalid input data; `field` is a dotted path to the offending field (e.g. inputs.V.u)."""

    def __init__(self, message: str, *, field: str):
        super().__init__(f"{field}: {message}")
        self.message = message
        self.field = field


@dataclass(frozen=True)
class InputQuantity:
    """One input X_i: estimate x_i, standard uncertainty u(x_i), degrees of freedom ν_i, and
    the distribution assigned to it."""

    name: str
    value: float
    u: float
    dof: float  # math.inf when not stated for a Type B evaluation
    kind: str  # "A" (statistical) or "B"
    distribution: str  # one of DISTRIBUTIONS
    half_width: float | None = None
    beta: float | None = None
    readings: tuple[float, ...] | None = None

    @property
    def dof_or_none(self) -> float | None:
        return None if math.isinf(self.dof) else self.dof


def _number(
    spec: Mapping,
    key: str,
    path: str,
    *,
    positive=False,
    nonnegative=False,
    required=True,
    default=None,
) -> float | None:
    if key not in spec or spec[key] is None:
        if required:
            raise InputError("is required", field=f"{path}.{key}")
        return default
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(f"must be a number, not {value!r}", field=f"{path}.{key}")
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"must be a number, not {value!r}", field=f"{path}.{key}") from None
    if not math.isfinite(number):
        raise InputError("must be a finite number", field=f"{path}.{key}")
    if positive and number <= 0:
        raise InputError("must be greater than zero", field=f"{path}.{key}")
    if nonnegative and number < 0:
        raise InputError("must not be negative", field=f"{path}.{key}")
    return number


def _dof(spec: Mapping, path: str, default: float) -> float:
    if "reliability" in spec and spec["reliability"] is not None:
        r = _number(spec, "reliability", path, positive=True)
        return 0.5 / (r * r)
    if "dof" in spec and spec["dof"] is not None:
        return _number(spec, "dof", path, positive=True)
    return default


def parse_input(name: str, spec: Mapping, path: str | None = None) -> InputQuantity:
    """Build one InputQuantity from its dict description (see the module docstring)."""
    path = path or f"inputs.{name}"
    if not isinstance(spec, Mapping):
        raise InputError('must be an object such as {"value": 1.0, "u": 0.1}', field=path)
    if "readings" in spec:
        readings = spec["readings"]
        if not isinstance(readings, Sequence) or isinstance(readings, str) or len(readings) < 2:
            raise InputError("needs a list of at least two readings", field=f"{path}.readings")
        values = [_number({"r": r}, "r", f"{path}.readings[{i}]") for i, r in enumerate(readings)]
        n = len(values)
        arr = np.array(values)
        mean = float(arr.mean())
        s = float(arr.std(ddof=1))
        return InputQuantity(
            name, mean, s / math.sqrt(n), _dof(spec, path, n - 1), "A", "t", readings=tuple(values)
        )
    value = _number(spec, "value", path)
    distribution = spec.get("distribution")
    if distribution is None:
        u = _number(spec, "u", path, nonnegative=True)
        dof = _dof(spec, path, math.inf)
        return InputQuantity(name, value, u, dof, "B", "normal" if math.isinf(dof) else "t")
    if distribution not in DISTRIBUTIONS or distribution == "t":
        allowed = ", ".join(d for d in DISTRIBUTIONS if d != "t")
        raise InputError(
            f"unknown distribution {distribution!r}; use one of {allowed}",
            field=f"{path}.distribution",
        )
    dof = _dof(spec, path, math.inf)
    if distribution == "normal":
        if "u" in spec:
            u = _number(spec, "u", path, nonnegative=True)
        else:
            expanded = _number(spec, "expanded", path, nonnegative=True)
            if spec.get("k") is not None:
                k = _number(spec, "k", path, positive=True)
            elif spec.get("p") is not None:
                p = _number(spec, "p", path, positive=True)
                if not 0 < p < 1:
                    raise InputError("must lie between 0 and 1", field=f"{path}.p")
                k = float(special.ndtri((1 + p) / 2))
            else:
                raise InputError(
                    "give the coverage factor k or the probability p", field=f"{path}.k"
                )
            u = expanded / k
        return InputQuantity(name, value, u, dof, "B", "normal")
    half_width = _number(spec, "half_width", path, nonnegative=True)
    if distribution == "trapezoidal":
        beta = _number(spec, "beta", path, nonnegative=True)
        if beta > 1:
            raise InputError("must lie between 0 and 1", field=f"{path}.beta")
        u = half_width * math.sqrt((1 + beta * beta) / 6)
        return InputQuantity(name, value, u, dof, "B", distribution, half_width, beta)
    return InputQuantity(
        name, value, half_width / _DIVISOR[distribution], dof, "B", distribution, half_width
    )


def parse_inputs(specs: Mapping) -> dict[str, InputQuantity]:
    if not isinstance(specs, Mapping) or not specs:
        raise InputError("give at least one input", field="inputs")
    return {name: parse_input(name, spec) for name, spec in specs.items()}


def correlation_matrix(names: Sequence[str], correlations: Sequence | None) -> np.ndarray:
    """The correlation matrix r(x_i, x_j) from a list of [name_i, name_j, r] (JCGM 100:2008
    §5.2.2). For Type A inputs, r can be computed from simultaneous readings (§5.2.3, eq. 17)
    with `readings_correlation`."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.eye(len(names))
    for n, item in enumerate(correlations or []):
        path = f"correlations[{n}]"
        if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 3:
            raise InputError("must be [input, input, r]", field=path)
        a, b, r = item
        for name in (a, b):
            if name not in index:
                raise InputError(f"unknown input {name!r}", field=path)
        if a == b:
            raise InputError("an input is not correlated with itself", field=path)
        r = _number({"r": r}, "r", path)
        if not -1 <= r <= 1:
            raise InputError("r must lie between -1 and 1", field=path)
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = r
    if len(names) and np.linalg.eigvalsh(matrix).min() < -1e-10:
        raise InputError(
            "the correlation coefficients are inconsistent (the matrix is not "
            "positive semi-definite)",
            field="correlations",
        )
    return matrix


def readings_correlation(a: InputQuantity, b: InputQuantity) -> float:
    """r(x̄, ȳ) from simultaneous readings (JCGM 100:2008 §5.2.3, eqs. 14 and 17)."""
    if a.readings is None or b.readings is None or len(a.readings) != len(b.readings):
        raise ValueError("needs two inputs with the same number of simultaneous readings")
    if a.u == 0 or b.u == 0:
        return 0.0  # readings that do not vary carry no covariance
    x, y = np.array(a.readings), np.array(b.readings)
    n = len(x)
    s_xy = float(((x - x.mean()) * (y - y.mean())).sum() / (n * (n - 1)))
    # Rounding can push |r| a few ulps past 1 (e.g. for identical readings), which
    # correlation_matrix would then reject.
    return min(1.0, max(-1.0, s_xy / (a.u * b.u)))
