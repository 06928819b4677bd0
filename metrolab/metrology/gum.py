"""The law of propagation of uncertainty: the GUM uncertainty framework (JCGM 100:2008 §5-6,
Annex G; JJF 1059.1-2012 §4.4-4.5), for one or several outputs of the same inputs (JCGM 100:2008
§7.2.5 and Annex H.2; JCGM 102:2011 §6).

For each output Y_k = f_k(X_1, ..., X_N), evaluated at the input estimates x_i:

- the sensitivity coefficients c_ki = ∂f_k/∂x_i, exact (automatic differentiation, `model.py`);
- the combined standard uncertainty (JCGM 100:2008 eq. 13, JJF 1059.1 eq. 13)
  u_c²(y) = Σ c_i² u_i² + 2 Σ_{i<j} c_i c_j u_i u_j r_ij;
- the effective degrees of freedom, Welch-Satterthwaite (JCGM 100:2008 eq. G.2b,
  JJF 1059.1 §4.5.3.3) ν_eff = u_c⁴ / Σ u_i(y)⁴/ν_i with u_i(y) = |c_i| u_i; inputs with ν_i = ∞
  add nothing to the sum; when every term is infinite, so is ν_eff (reported as None);
- the coverage factor k: fixed, or k_p = t_p(ν_eff) (JCGM 100:2008 G.4.1; the normal quantile
  when ν_eff = ∞); the expanded uncertainty U = k u_c and the interval [y - U, y + U];
- the budget, one line per input: x_i, u_i, ν_i, c_i and u_i(y) = |c_i| u_i (JJF 1059.1 §4.4.2);
- the correlation between outputs r(y_k, y_l) = u(y_k, y_l) / (u(y_k) u(y_l)) with
  u(y_k, y_l) = Σ_i Σ_j c_ki c_lj u_i u_j r_ij (JCGM 100:2008 eq. F.2 / H.2, JCGM 102:2011 eq. 3).

Two choices the standards leave open, made here:

- ν_eff for the t-quantile is truncated to the next lower integer, as JCGM 100:2008 G.4.1 note 1
  allows (JJF 1059.1 §4.5.3.3 does the same): this is the conservative choice. The reported
  `dof` is the untruncated ν_eff. Below ν_eff = 1 there is no lower integer to go to, so the
  untruncated value is used (and a warning recorded).
- Welch-Satterthwaite assumes independent inputs. When an output depends on correlated inputs
  with finite degrees of freedom, ν_eff is computed as if the inputs were independent (both
  numerator and denominator from the terms u_i(y), so that min ν_i ≤ ν_eff ≤ Σ ν_i still holds)
  and a warning says so; u_c, U and the output correlations do include the correlations.

Readings given for several inputs are not correlated by themselves: correlations come only from
the `correlations` list. `correlations_from_readings` computes them from simultaneous readings
(JCGM 100:2008 §5.2.3, eq. 17) for a caller that wants them.

Results are unrounded floats; rounding for display is a separate step (`rounding.py`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

import numpy as np
from scipy import special

from .inputs import InputError, InputQuantity, correlation_matrix, readings_correlation
from .model import Model, _names

DEFAULT_COVERAGE = {"k": 2}


@dataclass(frozen=True)
class BudgetLine:
    """One line of the uncertainty budget (JCGM 100:2008 Table H.1; JJF 1059.1 §4.4.2 and
    Annex B): input estimate x_i, standard uncertainty u(x_i), degrees of freedom ν_i,
    sensitivity coefficient c_i and contribution u_i(y) = |c_i| u(x_i)."""

    input: str
    value: float
    u: float
    dof: float  # math.inf when infinite
    c: float
    contribution: float

    def to_dict(self) -> dict:
        return {
            "input": self.input,
            "value": self.value,
            "u": self.u,
            "dof": _finite_or_none(self.dof),
            "c": self.c,
            "contribution": self.contribution,
        }


@dataclass(frozen=True)
class OutputResult:
    """The GUM result for one output quantity: estimate y, combined standard uncertainty u_c(y),
    effective degrees of freedom ν_eff, coverage factor k, expanded uncertainty U = k u_c(y) and
    the coverage interval y ± U (JCGM 100:2008 §6-7)."""

    name: str
    value: float
    u: float
    dof: float  # ν_eff, untruncated; math.inf when infinite
    k: float
    U: float
    interval: tuple[float, float]
    budget: tuple[BudgetLine, ...]

    def to_dict(self) -> dict:
        return {
            "value": self.value,
            "u": self.u,
            "dof": _finite_or_none(self.dof),
            "k": self.k,
            "U": self.U,
            "interval": [self.interval[0], self.interval[1]],
            "budget": [line.to_dict() for line in self.budget],
        }


@dataclass(frozen=True)
class GumResult:
    """The outputs (in model order), the correlation coefficients between each pair of outputs
    keyed "Y1,Y2" (None when one of them has zero uncertainty), and warnings for the reader."""

    outputs: dict[str, OutputResult]
    correlation: dict[str, float | None] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "outputs": {name: out.to_dict() for name, out in self.outputs.items()},
            "correlation": dict(self.correlation),
            "warnings": list(self.warnings),
        }


def _finite_or_none(x: float) -> float | None:
    return None if math.isinf(x) else x


# --- coverage ------------------------------------------------------------------------------


def _coverage(coverage: Mapping | None) -> tuple[float | None, float | None]:
    """(k, p) from {"k": k} or {"p": p}; exactly one is not None."""
    if coverage is None:
        coverage = DEFAULT_COVERAGE
    if not isinstance(coverage, Mapping):
        raise InputError('must be {"k": 2} or {"p": 0.95}', field="coverage")
    given = [key for key in ("k", "p") if coverage.get(key) is not None]
    unknown = sorted(set(coverage) - {"k", "p"})
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}; use k or p", field=f"coverage.{unknown[0]}")
    if len(given) != 1:
        raise InputError(
            'give either a coverage factor {"k": 2} or a coverage probability {"p": 0.95}',
            field="coverage",
        )
    key = given[0]
    value = coverage[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"must be a number, not {value!r}", field=f"coverage.{key}")
    value = float(value)
    if key == "k":
        if not math.isfinite(value) or value <= 0:
            raise InputError("must be a finite number greater than zero", field="coverage.k")
        return value, None
    if not 0 < value < 1:
        raise InputError("must lie strictly between 0 and 1", field="coverage.p")
    return None, value


def coverage_factor(p: float, dof: float) -> float:
    """k_p = t_p(ν) for a two-sided coverage probability p (JCGM 100:2008 G.3.4, G.4.1,
    Table G.2): ν is truncated to the next lower integer (G.4.1 note 1); ν = ∞ gives the normal
    quantile. Below ν = 1 the untruncated ν is used."""
    if math.isinf(dof):
        return _quantile((1 + p) / 2, math.inf)
    # round() first so that a ν_eff of 15.999999999999998, from rounding, counts as 16.
    nu = math.floor(round(dof, 9)) if dof >= 1 else dof
    return _quantile((1 + p) / 2, float(nu))


@lru_cache(maxsize=1024)
def _quantile(q: float, nu: float) -> float:
    """The q-quantile of Student's t with ν degrees of freedom, or of the normal for ν = ∞
    (cached: ν is usually a small integer, and the t inverse is iterative)."""
    if math.isinf(nu):
        return float(special.ndtri(q))
    return float(special.stdtrit(nu, q))


@lru_cache(maxsize=256)
def _inputs_of(tree: tuple) -> frozenset[str]:
    """The input names an output's expression refers to (trees are hashable tuples)."""
    return frozenset(_names(tree))


# --- the propagation --------------------------------------------------------------------------


def _check_inputs(model: Model, inputs: Mapping[str, InputQuantity]) -> list[str]:
    if not isinstance(inputs, Mapping):
        raise InputError("must map input names to input quantities", field="inputs")
    used = set(model.inputs)
    missing = [name for name in model.inputs if name not in inputs]
    if missing:
        raise InputError(
            f"the model uses {', '.join(missing)} but no such input is given",
            field=f"inputs.{missing[0]}",
        )
    unused = [name for name in inputs if name not in used]
    if unused:
        raise InputError(
            f"input(s) {', '.join(map(str, unused))} are not used by the model "
            f"(it uses {', '.join(model.inputs) or 'no inputs'})",
            field=f"inputs.{unused[0]}",
        )
    names = list(inputs)  # the caller's order, used for the budget
    for name in names:
        quantity = inputs[name]
        path = f"inputs.{name}"
        if not isinstance(quantity, InputQuantity):
            raise InputError("must be an InputQuantity (see inputs.parse_input)", field=path)
        if not math.isfinite(quantity.value):
            raise InputError("must be a finite number", field=f"{path}.value")
        if not (math.isfinite(quantity.u) and quantity.u >= 0):
            raise InputError("must be a finite number, not negative", field=f"{path}.u")
        if not quantity.dof > 0:  # also rejects nan; inf is allowed
            raise InputError("must be greater than zero (or infinite)", field=f"{path}.dof")
    return names


def _welch_satterthwaite(contributions: np.ndarray, dofs: np.ndarray) -> float:
    """ν_eff = (Σ u_i(y)²)² / Σ u_i(y)⁴/ν_i (JCGM 100:2008 eq. G.2b with independent inputs)."""
    finite = np.isfinite(dofs)
    denominator = float(np.sum(contributions[finite] ** 4 / dofs[finite]))
    if denominator == 0:
        return math.inf
    return float(np.sum(contributions**2)) ** 2 / denominator


def evaluate_gum(
    model: Model,
    inputs: Mapping[str, InputQuantity],
    correlations: Sequence | None = None,
    coverage: Mapping | None = None,
) -> GumResult:
    """Propagate the input uncertainties through the model by the law of propagation of
    uncertainty (JCGM 100:2008 §5.1-5.2, §6, G.4; JJF 1059.1-2012 §4.4-4.5).

    `inputs` maps every input the model uses, and no other, to its InputQuantity; `correlations`
    is a list of [input, input, r]; `coverage` is {"k": k} or {"p": p}, default {"k": 2}.
    Raises InputError (with a dotted `field`) for bad inputs and ModelError when the model
    cannot be evaluated at the estimates.
    """
    fixed_k, p = _coverage(coverage)
    names = _check_inputs(model, inputs)
    n = len(names)
    x = {name: inputs[name].value for name in names}
    u = np.array([inputs[name].u for name in names], dtype=float)
    dofs = np.array([inputs[name].dof for name in names], dtype=float)

    correlated = bool(correlations)
    r = correlation_matrix(names, correlations) if correlated else None

    sens = model.sensitivities(x)
    outputs = model.outputs
    jacobian = np.array([[sens[out][1][name] for name in names] for out in outputs]).reshape(
        len(outputs), n
    )
    cu = jacobian * u  # c_ki u_i
    # Covariance matrix of the outputs, U_y = C U_x Cᵀ (JCGM 102:2011 eq. 3).
    cov = cu @ r @ cu.T if correlated else cu @ cu.T
    variances = np.maximum(np.diag(cov), 0.0)  # rounding can leave −1e-30 where u_c = 0
    uc = np.sqrt(variances)

    warnings: list[str] = []
    results: dict[str, OutputResult] = {}
    position = {name: i for i, name in enumerate(names)}
    for k_out, out in enumerate(outputs):
        in_model = _inputs_of(model.trees[out])
        idx = [position[name] for name in names if name in in_model]
        contributions = np.abs(cu[k_out, idx])
        nu = _welch_satterthwaite(contributions, dofs[idx])
        if correlated and math.isfinite(nu) and _depends_on_correlated(r, idx, cu[k_out]):
            warnings.append(
                f"{out}: some of its inputs are correlated; the Welch-Satterthwaite formula "
                "(JCGM 100:2008 G.4.2) assumes independent inputs, so ν_eff = "
                f"{nu:.4g} was computed as if they were independent"
            )
        if nu < 1:
            warnings.append(
                f"{out}: ν_eff = {nu:.3g} is below 1; the coverage factor uses it untruncated"
            )
        k = fixed_k if fixed_k is not None else coverage_factor(p, nu)
        y = float(sens[out][0])
        u_c = float(uc[k_out])
        expanded = k * u_c
        budget = tuple(
            BudgetLine(
                input=names[i],
                value=float(x[names[i]]),
                u=float(u[i]),
                dof=float(dofs[i]),
                c=float(jacobian[k_out, i]),
                contribution=float(contributions[j]),
            )
            for j, i in enumerate(idx)
        )
        results[out] = OutputResult(
            out, y, u_c, nu, float(k), expanded, (y - expanded, y + expanded), budget
        )

    correlation: dict[str, float | None] = {}
    for a, b in combinations(range(len(outputs)), 2):
        key = f"{outputs[a]},{outputs[b]}"
        if uc[a] == 0 or uc[b] == 0:
            correlation[key] = None
            warnings.append(
                f"r({outputs[a]}, {outputs[b]}) is undefined: an output has zero uncertainty"
            )
            continue
        value = float(cov[a, b] / (uc[a] * uc[b]))
        correlation[key] = min(1.0, max(-1.0, value))
    return GumResult(results, correlation, tuple(warnings))


def _depends_on_correlated(r: np.ndarray, idx: list[int], cu_row: np.ndarray) -> bool:
    """True when two inputs that both act on this output (c ≠ 0, u ≠ 0) are correlated."""
    active = [i for i in idx if cu_row[i] != 0]
    sub = r[np.ix_(active, active)]
    return bool(np.any(sub[~np.eye(len(active), dtype=bool)] != 0))


def correlations_from_readings(
    inputs: Mapping[str, InputQuantity], pairs: Iterable[Sequence[str]] | None = None
) -> list[list]:
    """[[a, b, r], ...] for pairs of inputs evaluated from simultaneous readings of equal length
    (JCGM 100:2008 §5.2.3, eqs. 14 and 17; Annex H.2). `pairs` names the pairs; None takes
    every pair of inputs that both have readings of the same length."""
    if pairs is None:
        with_readings = [name for name, q in inputs.items() if q.readings is not None]
        pairs = [
            (a, b)
            for a, b in combinations(with_readings, 2)
            if len(inputs[a].readings) == len(inputs[b].readings)
        ]
    result = []
    for n, pair in enumerate(pairs):
        path = f"correlations[{n}]"
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise InputError("must be a pair of input names", field=path)
        a, b = pair
        for name in (a, b):
            if name not in inputs:
                raise InputError(f"unknown input {name!r}", field=path)
        if a == b:
            raise InputError("an input is not correlated with itself", field=path)
        try:
            r = readings_correlation(inputs[a], inputs[b])
        except ValueError:
            raise InputError(
                f"{a} and {b} need simultaneous readings, the same number of each", field=path
            ) from None
        result.append([a, b, r])
    return result
