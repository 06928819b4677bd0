"""Propagation of distributions by a Monte Carlo method (JCGM 101:2008, GUM Supplement 1;
JJF 1059.2-2012, which follows it clause for clause).

Each input quantity X_i is sampled from the probability distribution assigned to it (§6.4),
every output of the model is evaluated for all trials at once (§7.4, vectorised over numpy
arrays), and the distribution function of each output is summarised by its mean (the estimate
y, §7.6), its standard deviation (the standard uncertainty u(y), §7.6) and a coverage interval
for probability p (§7.7), either probabilistically symmetric or shortest.

The number of trials M is either fixed (§7.2; 10⁶ is the usual choice) or chosen by the
adaptive procedure of §7.9, which adds blocks of trials until the estimate, the standard
uncertainty and both interval endpoints are numerically stable to n_dig significant digits of
u(y). §8 compares a GUM result with the Monte Carlo interval (`validate_gum`).

Sampling (JCGM 101:2008 §6.4; r, r1, r2 are independent draws from R(0, 1), z from N(0, 1),
and a is the half-width of the interval [x − a, x + a]):

- normal N(x, u²), §6.4.7.4: ξ = x + u·z.
- rectangular R(x − a, x + a), §6.4.2.4: ξ = (x − a) + 2a·r.
- trapezoidal with top-to-base ratio β, §6.4.4.4: ξ = (x − a) + a·[(1 + β)·r1 + (1 − β)·r2].
- triangular, §6.4.5.4: ξ = (x − a) + a·(r1 + r2).
- arc sine (U-shaped), §6.4.6.4: ξ = x + a·sin(2π·r).
- scaled and shifted t, §6.4.9: a Type A input from n readings has t_{n−1}(x̄, s²/n)
  (§6.4.9.2) and is sampled as ξ = x̄ + (s/√n)·t_{n−1} (§6.4.9.7); an input given with a
  standard uncertainty u and finite degrees of freedom ν (e.g. from a calibration certificate
  quoting ν_eff) has t_ν(x, u²) (§6.4.9.3) and is sampled as ξ = x + u·t_ν. Its standard
  deviation is u·√(ν/(ν − 2)), larger than u, as the standard intends; for ν ≤ 2 it has no
  finite variance, so u(y) from Monte Carlo does not settle and the adaptive procedure stops
  at `max_trials` without converging.
- Degrees of freedom stated for a Type B input of another distribution (its reliability) do not
  change the sampling: JCGM 101 samples the distribution as stated.

Correlated inputs, §6.4.8: the inputs joined by non-zero correlation coefficients are sampled
together from the multivariate Gaussian N(x, V), V = D·R·D with D = diag(u_i), as
ξ = x + D·L·z where R = L·Lᵀ (Cholesky; §6.4.8.4; an eigen-decomposition is used instead when
R is singular, e.g. for r = ±1). A correlation may join only normal and t inputs: other
distributions have no joint distribution in JCGM 101, and asking for one is an error. Choice
for correlated t inputs (e.g. simultaneous Type A readings, GUM H.2): when every input of a
correlated group has the same degrees of freedom ν, the group is sampled from the multivariate
t-distribution with ν degrees of freedom (ξ = x + D·L·z / √(w/ν), one w ~ χ²_ν per trial), so
that each input keeps exactly its univariate §6.4.9 distribution t_ν(x_i, u_i²) and the inputs
keep the correlation r (for ν > 2); a correlation of 0.001 therefore changes the result by
little rather than switching the inputs to Gaussian. When the group mixes degrees of freedom
(or normal and t inputs), it is sampled from the multivariate Gaussian of §6.4.8 with the
standard uncertainties u_i: JCGM 101 gives no joint distribution for that case.
"""

from __future__ import annotations

import math
import numbers
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import numpy as np

from metrolab.metrology.inputs import (
    InputError,
    InputQuantity,
    correlation_matrix,
    parse_input,
)
from metrolab.metrology.model import Model, ModelError

FIXED_TRIALS = 10**6  # JCGM 101:2008 §7.2.2: 10⁶ usually gives a 95 % interval to 1-2 digits
MAX_TRIALS = 10**7
CHUNK = 500_000  # trials generated at once: bounds the memory of one step (~4 MB per input)
HISTOGRAM_BINS = 60
HISTOGRAM_TAIL = 0.0005  # the histogram spans the 0.05 % to 99.95 % quantiles
INTERVALS = ("symmetric", "shortest")
_NORMAL_LIKE = ("normal", "t")
_DIVISOR = {
    "rectangular": math.sqrt(3),
    "triangular": math.sqrt(6),
    "arcsine": math.sqrt(2),
}


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputDistribution:
    """The Monte Carlo summary of one output quantity Y (JCGM 101:2008 §7.5-7.7)."""

    name: str
    value: float  # ȳ, the average of the model values (§7.6, eq. 12)
    u: float  # standard deviation of the model values (§7.6, eq. 13)
    low: float  # coverage interval endpoints (§7.7)
    high: float
    histogram_edges: tuple[float, ...]
    histogram_counts: tuple[int, ...]
    values: np.ndarray = field(repr=False, compare=False)  # every model value, trial order

    @property
    def interval(self) -> tuple[float, float]:
        return (self.low, self.high)

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def to_dict(self) -> dict:
        return {
            "value": self.value,
            "u": self.u,
            "dof": None,
            "k": None,
            "U": self.half_width,
            "interval": [self.low, self.high],
            "histogram": {
                "edges": list(self.histogram_edges),
                "counts": list(self.histogram_counts),
            },
        }


@dataclass(frozen=True)
class MonteCarloResult:
    """The outputs of a Monte Carlo evaluation, with how it was run (so it can be repeated)."""

    outputs: dict[str, OutputDistribution]
    correlation: dict[str, float | None]  # "A,B": correlation of the model values of A and B
    trials: int
    p: float
    interval: str  # "symmetric" | "shortest"
    seed: int
    adaptive_digits: int | None = None
    converged: bool = True  # False when the adaptive procedure reached max_trials first

    def to_dict(self) -> dict:
        return {
            "outputs": {name: output.to_dict() for name, output in self.outputs.items()},
            "correlation": dict(self.correlation),
            "trials": self.trials,
            "method": "mc",
            "p": self.p,
            "interval": self.interval,
            "seed": self.seed,
            "adaptive_digits": self.adaptive_digits,
            "converged": self.converged,
        }


# --- sampling (JCGM 101:2008 §6.4) -------------------------------------------------------------


def _half_width(q: InputQuantity) -> float:
    if q.half_width is not None:
        return q.half_width
    if q.distribution == "trapezoidal":
        beta = q.beta or 0.0
        return q.u / math.sqrt((1 + beta * beta) / 6)
    return q.u * _DIVISOR[q.distribution]


def _sample_one(q: InputQuantity, rng: np.random.Generator, n: int) -> np.ndarray:
    """n draws of one independent input (JCGM 101:2008 §6.4)."""
    match q.distribution:
        case "normal":  # §6.4.7.4
            return q.value + q.u * rng.standard_normal(n)
        case "t":  # §6.4.9.7: x + u·t_ν, with u = s/√n for Type A
            if math.isinf(q.dof):
                return q.value + q.u * rng.standard_normal(n)
            return q.value + q.u * rng.standard_t(q.dof, n)
        case "rectangular":  # §6.4.2.4
            return q.value + _half_width(q) * (2.0 * rng.random(n) - 1.0)
        case "triangular":  # §6.4.5.4
            return q.value + _half_width(q) * (rng.random(n) + rng.random(n) - 1.0)
        case "arcsine":  # §6.4.6.4
            return q.value + _half_width(q) * np.sin(2.0 * np.pi * rng.random(n))
        case "trapezoidal":  # §6.4.4.4
            beta = q.beta or 0.0
            r1, r2 = rng.random(n), rng.random(n)
            return q.value + _half_width(q) * ((1 + beta) * r1 + (1 - beta) * r2 - 1.0)
    raise InputError(
        f"cannot sample the distribution {q.distribution!r}",
        field=f"inputs.{q.name}.distribution",
    )


def _factor(matrix: np.ndarray) -> np.ndarray:
    """L with L·Lᵀ = matrix (§6.4.8.4): Cholesky, or an eigen-decomposition when singular."""
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(matrix)
        return vectors * np.sqrt(np.clip(values, 0.0, None))


@dataclass(frozen=True)
class _Group:
    """Inputs sampled jointly (§6.4.8), or a single independent input."""

    members: tuple[InputQuantity, ...]
    factor: np.ndarray | None = None  # None for a single independent input
    t_dof: float | None = None  # common ν: multivariate t; None: multivariate Gaussian

    def sample(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        if self.factor is None:
            (q,) = self.members
            return {q.name: _sample_one(q, rng, n)}
        z = rng.standard_normal((n, len(self.members))) @ self.factor.T
        if self.t_dof is not None:
            z /= np.sqrt(rng.chisquare(self.t_dof, n) / self.t_dof)[:, None]
        return {q.name: q.value + q.u * z[:, i] for i, q in enumerate(self.members)}


def _groups(inputs: Sequence[InputQuantity], correlations: Sequence | None) -> list[_Group]:
    names = [q.name for q in inputs]
    matrix = correlation_matrix(names, correlations)  # validates names, r and consistency
    for n, (a, b, r) in enumerate(correlations or []):
        if float(r) == 0:
            continue
        for name in (a, b):
            q = inputs[names.index(name)]
            if q.distribution not in _NORMAL_LIKE:
                raise InputError(
                    f"input {name!r} has a {q.distribution} distribution; Monte Carlo "
                    "(JCGM 101:2008 §6.4.8) can correlate only normal and t inputs",
                    field=f"correlations[{n}]",
                )
    # Connected components of the graph of non-zero correlations.
    linked = matrix != 0
    seen: set[int] = set()
    groups = []
    for start in range(len(inputs)):
        if start in seen:
            continue
        component, stack = [], [start]
        seen.add(start)
        while stack:
            i = stack.pop()
            component.append(i)
            for j in np.flatnonzero(linked[i]):
                if int(j) not in seen:
                    seen.add(int(j))
                    stack.append(int(j))
        component.sort()
        members = tuple(inputs[i] for i in component)
        if len(members) == 1:
            groups.append(_Group(members))
            continue
        dofs = {q.dof if q.distribution == "t" else math.inf for q in members}
        t_dof = dofs.pop() if len(dofs) == 1 else None
        if t_dof is not None and math.isinf(t_dof):
            t_dof = None
        groups.append(_Group(members, _factor(matrix[np.ix_(component, component)]), t_dof))
    return groups


# --- summaries (JCGM 101:2008 §7.6-7.7, §7.9.2) ------------------------------------------------


def coverage_indices(m: int, p: float) -> tuple[int, int]:
    """q and, for the probabilistically symmetric interval, r (1-based) of JCGM 101:2008 §7.7:
    q = pM when that is an integer, else the integer part of pM + ½; r = (M − q)/2 when that
    is an integer, else the integer part of (M − q + 1)/2. pM is computed exactly from the
    decimal p as written (0.95 × 10⁶ = 950 000, not 950 000.000 000 1)."""
    q = int((Decimal(repr(float(p))) * m + Decimal("0.5")).to_integral_value(ROUND_FLOOR))
    r = (m - q + 1) // 2  # equals (M − q)/2 when M − q is even
    if r < 1 or q < 1:
        raise InputError(
            f"{m} trials are too few for a coverage probability of {p}", field="trials"
        )
    return q, r


def coverage_interval(sorted_values: np.ndarray, p: float, interval: str) -> tuple[float, float]:
    """[y_(r), y_(r+q)] from the model values in non-decreasing order (JCGM 101:2008 §7.7):
    r from `coverage_indices` for the probabilistically symmetric interval; for the shortest,
    the r* for which y_(r*+q) − y_(r*) is least over r = 1, ..., M − q."""
    m = sorted_values.shape[-1]
    q, r = coverage_indices(m, p)
    if interval == "symmetric":
        return float(sorted_values[r - 1]), float(sorted_values[r - 1 + q])
    widths = sorted_values[q:] - sorted_values[: m - q]
    best = int(np.argmin(widths))  # 0-based r* − 1; the first when several are equally short
    return float(sorted_values[best]), float(sorted_values[best + q])


def _block_intervals(sorted_blocks: np.ndarray, p: float, interval: str) -> np.ndarray:
    """coverage_interval for each row of a (blocks, M) array of sorted values."""
    m = sorted_blocks.shape[1]
    q, r = coverage_indices(m, p)
    if interval == "symmetric":
        return sorted_blocks[:, [r - 1, r - 1 + q]]
    widths = sorted_blocks[:, q:] - sorted_blocks[:, : m - q]
    best = np.argmin(widths, axis=1)
    rows = np.arange(len(sorted_blocks))
    return np.column_stack((sorted_blocks[rows, best], sorted_blocks[rows, best + q]))


def numerical_tolerance(u: float, ndig: int) -> float:
    """δ = ½·10ˡ, where u written with n_dig significant digits is c × 10ˡ, c an n_dig-digit
    integer (JCGM 101:2008 §7.9.2; JJF 1059.2-2012 §7.9.2). E.g. u = 0.0754, n_dig = 2:
    75 × 10⁻³, δ = 0.0005."""
    if isinstance(ndig, bool) or not isinstance(ndig, int) or ndig < 1:
        raise InputError("must be a whole number of at least 1", field="adaptive_digits")
    if not math.isfinite(u) or u < 0:
        raise InputError(f"needs a finite, non-negative standard uncertainty, not {u}", field="u")
    if u == 0:
        return 0.0
    exponent = math.floor(math.log10(u)) - ndig + 1
    c = round(u / 10.0**exponent)
    if c >= 10**ndig:  # u rounded up to the next power of ten (e.g. 0.0996 → 0.10)
        exponent += 1
    return 0.5 * 10.0**exponent


def _histogram(sorted_values: np.ndarray) -> tuple[tuple[float, ...], tuple[int, ...]]:
    m = len(sorted_values)
    lo = float(sorted_values[int(HISTOGRAM_TAIL * (m - 1))])
    hi = float(sorted_values[math.ceil((1 - HISTOGRAM_TAIL) * (m - 1))])
    if not hi > lo:  # every value (nearly) the same: one narrow bin around it
        pad = max(abs(lo), 1.0) * 1e-9
        lo, hi = lo - pad, hi + pad
    counts, edges = np.histogram(sorted_values, bins=HISTOGRAM_BINS, range=(lo, hi))
    return tuple(float(e) for e in edges), tuple(int(c) for c in counts)


def _summarise(name: str, values: np.ndarray, p: float, interval: str) -> OutputDistribution:
    ordered = np.sort(values)
    low, high = coverage_interval(ordered, p, interval)
    edges, counts = _histogram(ordered)
    return OutputDistribution(
        name=name,
        value=float(values.mean()),
        u=float(values.std(ddof=1)),
        low=low,
        high=high,
        histogram_edges=edges,
        histogram_counts=counts,
        values=values,
    )


def _correlations(outputs: Mapping[str, np.ndarray]) -> dict[str, float | None]:
    """Correlation coefficients between the model values of the outputs (JCGM 102:2011 §7.5
    for the covariance of several outputs; the same estimate as np.corrcoef)."""
    names = list(outputs)
    result: dict[str, float | None] = {}
    if len(names) < 2:
        return result
    with np.errstate(all="ignore"):
        matrix = np.corrcoef(np.vstack([outputs[n] for n in names]))
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            r = float(matrix[i, j])
            result[f"{a},{names[j]}"] = r if math.isfinite(r) else None
    return result


# --- the procedure ------------------------------------------------------------------------------


class _Sampler:
    """Draws trials of every input and evaluates every output on them (§7.3-7.4)."""

    def __init__(self, model: Model, groups: list[_Group], rng: np.random.Generator):
        self.model, self.groups, self.rng = model, groups, rng

    def draw(self, n: int) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        for group in self.groups:
            arrays.update(group.sample(self.rng, n))
        outputs = self.model.evaluate_arrays(arrays)
        result = {}
        for name, values in outputs.items():
            # own, writable copy, one value per trial even for an output that is a constant
            values = np.array(np.broadcast_to(values, (n,)), dtype=float)
            bad = ~np.isfinite(values)
            if bad.any():
                raise ModelError(
                    f"the model gives no finite value of {name} in {int(bad.sum())} of {n} "
                    "trials (e.g. a division by zero or the logarithm of a negative number): "
                    "check the distributions of the inputs",
                    field=name,
                )
            result[name] = values
        return result


def _prepare_inputs(model: Model, inputs: Mapping) -> list[InputQuantity]:
    if not isinstance(inputs, Mapping) or not inputs:
        raise InputError("give at least one input", field="inputs")
    quantities = []
    for name, spec in inputs.items():
        q = spec if isinstance(spec, InputQuantity) else parse_input(name, spec)
        if q.distribution not in _NORMAL_LIKE + tuple(_DIVISOR) + ("trapezoidal",):
            raise InputError(
                f"unknown distribution {q.distribution!r}", field=f"inputs.{name}.distribution"
            )
        if not (math.isfinite(q.value) and math.isfinite(q.u) and q.u >= 0):
            raise InputError("needs a finite value and uncertainty", field=f"inputs.{name}")
        quantities.append(q)
    given = {q.name for q in quantities}
    missing = [name for name in model.inputs if name not in given]
    if missing:
        raise InputError(
            f"the model uses {', '.join(missing)}, which is not among the inputs",
            field=f"inputs.{missing[0]}",
        )
    return quantities


def _check_options(p, trials, adaptive_digits, interval, max_trials) -> tuple[int, int | None]:
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0 < p < 1:
        raise InputError(f"must lie between 0 and 1, not {p!r}", field="coverage.p")
    if interval not in INTERVALS:
        raise InputError('must be "symmetric" or "shortest"', field="interval")
    if not _whole(max_trials) or max_trials < 1:
        raise InputError("must be a positive whole number", field="max_trials")
    minimum = max(math.ceil(100 / (1 - p)), 1000)
    if adaptive_digits is not None:
        if trials is not None:
            raise InputError(
                "give either a fixed number of trials or adaptive_digits, not both",
                field="trials",
            )
        if not _whole(adaptive_digits) or not 1 <= adaptive_digits <= 6:
            raise InputError("must be a whole number from 1 to 6", field="adaptive_digits")
        return 0, int(adaptive_digits)
    trials = FIXED_TRIALS if trials is None else trials
    if not _whole(trials):
        raise InputError("must be a whole number", field="trials")
    if not minimum <= trials <= max_trials:
        raise InputError(
            f"must lie between {minimum} (for p = {p}) and {max_trials}", field="trials"
        )
    return int(trials), None


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def run_monte_carlo(
    model: Model,
    inputs: Mapping[str, InputQuantity | Mapping],
    correlations: Sequence | None = None,
    *,
    p: float = 0.95,
    trials: int | None = None,
    adaptive_digits: int | None = None,
    interval: str = "symmetric",
    seed: int | None = None,
    max_trials: int = MAX_TRIALS,
) -> MonteCarloResult:
    """Propagate the distributions of the inputs through the model (JCGM 101:2008 §7).

    - `inputs`: name → InputQuantity (or its dict description, see `inputs.parse_input`).
    - `correlations`: [[input, input, r], ...] between normal or t inputs (§6.4.8).
    - `trials`: a fixed number M of trials (default 10⁶, §7.2); or `adaptive_digits` = n_dig
      for the adaptive procedure of §7.9, which stops at `max_trials` if it has not settled.
    - `interval`: "symmetric" (probabilistically symmetric) or "shortest" (§7.7).
    - `seed`: for numpy's PCG64 generator; when None a fresh one is drawn and reported in the
      result, so any run can be repeated exactly.
    """
    fixed, ndig = _check_options(p, trials, adaptive_digits, interval, max_trials)
    quantities = _prepare_inputs(model, inputs)
    groups = _groups(quantities, correlations)
    used = set(model.inputs)
    groups = [g for g in groups if any(q.name in used for q in g.members)]
    if seed is None:
        seed = secrets.randbits(63)
    elif not _whole(seed) or seed < 0:
        raise InputError("must be a non-negative whole number", field="seed")
    seed = int(seed)
    sampler = _Sampler(model, groups, np.random.Generator(np.random.PCG64(seed)))

    if ndig is None:
        values, converged = _fixed(sampler, fixed), True
    else:
        values, converged = _adaptive(sampler, p, interval, ndig, max_trials)
    outputs = {name: _summarise(name, v, p, interval) for name, v in values.items()}
    return MonteCarloResult(
        outputs=outputs,
        correlation=_correlations(values),
        trials=len(next(iter(values.values()))),
        p=p,
        interval=interval,
        seed=seed,
        adaptive_digits=ndig,
        converged=converged,
    )


def _fixed(sampler: _Sampler, m: int) -> dict[str, np.ndarray]:
    """M trials (§7.2), generated CHUNK at a time to bound the memory of the inputs."""
    values = {name: np.empty(m) for name in sampler.model.outputs}
    for start in range(0, m, CHUNK):
        n = min(CHUNK, m - start)
        for name, block in sampler.draw(n).items():
            values[name][start : start + n] = block
    return values


def _adaptive(
    sampler: _Sampler, p: float, interval: str, ndig: int, max_trials: int
) -> tuple[dict[str, np.ndarray], bool]:
    """The adaptive Monte Carlo procedure of JCGM 101:2008 §7.9.4.

    Blocks of M = max(⌈100/(1 − p)⌉, 10⁴) trials (b). After each block h ≥ 2 (f), for every
    output: s_y, s_u(y), s_ylow, s_yhigh, the standard deviations of the block results
    y⁽¹⁾...y⁽ʰ⁾ etc. divided by √h, i.e. s² = Σ (y⁽ʳ⁾ − ȳ)² / (h(h − 1)) (g); u(y) from all
    h·M values (h) gives δ (i, §7.9.2); stop when each of 2s_y, 2s_u(y), 2s_ylow, 2s_yhigh is
    at most δ (j). The results come from all h·M values (k). Several blocks are generated at
    once for speed; the test is still made after each block, and blocks drawn beyond the one
    that settles are discarded.
    """
    block = max(math.ceil(100 / (1 - p)), 10**4)
    if block > max_trials:
        raise InputError(f"must allow at least one block of {block} trials", field="max_trials")
    per_batch = max(1, CHUNK // block)
    names = sampler.model.outputs
    kept: dict[str, list[np.ndarray]] = {name: [] for name in names}
    tables: dict[str, list[np.ndarray]] = {name: [] for name in names}  # ȳ, u, y_low, y_high
    h = 0
    while (h + 1) * block <= max_trials:
        n_blocks = min(per_batch, max_trials // block - h)
        drawn = sampler.draw(n_blocks * block)
        batch = {}
        for name in names:
            rows = drawn[name].reshape(n_blocks, block)
            ends = _block_intervals(np.sort(rows, axis=1), p, interval)
            batch[name] = (
                rows,
                np.column_stack((rows.mean(axis=1), rows.std(axis=1, ddof=1), ends)),
            )
        for i in range(n_blocks):
            h += 1
            for name in names:
                rows, table = batch[name]
                kept[name].append(rows[i])
                tables[name].append(table[i])
            if h >= 2 and all(_stable(np.array(tables[n]), block, ndig) for n in names):
                return {n: np.concatenate(kept[n]) for n in names}, True
    return {n: np.concatenate(kept[n]) for n in names}, False


def _stable(table: np.ndarray, block: int, ndig: int) -> bool:
    """§7.9.4 g-j for one output; `table` has one row per block: ȳ, u(y), y_low, y_high."""
    h = len(table)
    spread = table.std(axis=0, ddof=1) / math.sqrt(h)  # §7.9.4 g
    # u(y) over all h·M values, pooled from the blocks' means and standard deviations.
    means, sds = table[:, 0], table[:, 1]
    total = h * block
    ss = (block - 1) * float(np.sum(sds * sds)) + block * float(np.sum((means - means.mean()) ** 2))
    delta = numerical_tolerance(math.sqrt(ss / (total - 1)), ndig)
    return bool(np.all(2 * spread <= delta))


# --- validation of the GUM (JCGM 101:2008 §8) --------------------------------------------------


def validate_gum(
    y: float, U: float, low: float, high: float, u: float, ndig: int = 2
) -> dict[str, float | bool]:
    """Compare the GUM interval y ± U with the Monte Carlo interval [low, high] (JCGM 101:2008
    §8.2): d_low = |y − U − y_low|, d_high = |y + U − y_high|; the GUM result is validated
    when both are at most δ, the numerical tolerance of u(y) with n_dig significant digits
    (§7.9.2). Pass the GUM standard uncertainty as `u` to follow the standard; δ is the same
    for the Monte Carlo u(y) whenever both agree to n_dig digits."""
    for name, number in (("y", y), ("U", U), ("low", low), ("high", high), ("u", u)):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InputError(f"must be a number, not {number!r}", field=name)
        if not math.isfinite(number):
            raise InputError("must be a finite number", field=name)
    delta = numerical_tolerance(float(u), ndig)
    d_low = abs(y - U - low)
    d_high = abs(y + U - high)
    return {
        "d_low": d_low,
        "d_high": d_high,
        "delta": delta,
        "validated": bool(d_low <= delta and d_high <= delta),
    }
