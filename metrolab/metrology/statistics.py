"""Statistics of repeated readings and of instrument characteristics: the Type A evaluation
(JCGM 100:2008 §4.2, JJF 1059.1-2012 §4.3.2), the range method (极差法, JJF 1059.1-2012 §4.3.2),
repeatability, hysteresis, linearity, and the least-squares straight line with the uncertainties
of its coefficients and of a value predicted from it (JCGM 100:2008 Annex H.3).

Inputs are sequences of finite numbers (floats, ints, numpy numbers or numeric strings); sums
are accumulated with `math.fsum` so that long series of close readings lose no digits.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

__all__ = [
    "RANGE_COEFFICIENTS",
    "Hysteresis",
    "LineFit",
    "Linearity",
    "Prediction",
    "RangeEstimate",
    "StatisticsError",
    "fit_line",
    "hysteresis",
    "linearity",
    "mean",
    "range_method",
    "repeatability",
    "stdev",
    "stdev_of_mean",
]

#: Range coefficients C_n and the degrees of freedom ν of s = R / C_n for n = 2 ... 9 readings
#: (JJF 1059.1-2012 §4.3.2, Table 1, 极差系数 C 及自由度 ν). C_n is the expected range of n
#: normal readings in units of σ (the d₂ constant of control charts); ν ≈ ½ (d₂/d₃)².
RANGE_COEFFICIENTS: dict[int, tuple[float, float]] = {
    2: (1.13, 0.9),
    3: (1.69, 1.8),
    4: (2.06, 2.7),
    5: (2.33, 3.6),
    6: (2.53, 4.5),
    7: (2.70, 5.3),
    8: (2.85, 6.0),
    9: (2.97, 6.8),
}


class StatisticsError(ValueError):
    """Data that cannot be evaluated; `field` names the argument at fault (e.g. readings[3])."""

    def __init__(self, message: str, *, field: str):
        super().__init__(f"{field}: {message}")
        self.message = message
        self.field = field


def _numbers(values: object, field: str, *, minimum: int = 1) -> list[float]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise StatisticsError("must be a list of numbers", field=field)
    result = []
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal | str):
            raise StatisticsError(f"must be a number, not {value!r}", field=f"{field}[{i}]")
        try:
            number = float(value)
        except ValueError:
            raise StatisticsError(
                f"must be a number, not {value!r}", field=f"{field}[{i}]"
            ) from None
        if not math.isfinite(number):
            raise StatisticsError("must be a finite number", field=f"{field}[{i}]")
        result.append(number)
    if len(result) < minimum:
        raise StatisticsError(
            f"needs at least {minimum} value{'s' if minimum > 1 else ''}, got {len(result)}",
            field=field,
        )
    return result


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _sum_squares(values: list[float], centre: float) -> float:
    return math.fsum((v - centre) ** 2 for v in values)


def mean(readings: Sequence[float]) -> float:
    """The arithmetic mean x̄ of n readings, the best estimate of the quantity
    (JCGM 100:2008 §4.2.1, eq. 3; JJF 1059.1-2012 §4.3.2)."""
    return _mean(_numbers(readings, "readings"))


def stdev(readings: Sequence[float]) -> float:
    """The experimental standard deviation s(x_k) = √(Σ(x_k − x̄)² / (n − 1)), Bessel's formula
    (JCGM 100:2008 §4.2.2, eq. 4; JJF 1059.1-2012 §4.3.2); ν = n − 1."""
    values = _numbers(readings, "readings", minimum=2)
    return math.sqrt(_sum_squares(values, _mean(values)) / (len(values) - 1))


def stdev_of_mean(readings: Sequence[float]) -> float:
    """The experimental standard deviation of the mean s(x̄) = s(x_k)/√n, the standard
    uncertainty of a Type A evaluation (JCGM 100:2008 §4.2.3, eq. 5; JJF 1059.1-2012 §4.3.2)."""
    values = _numbers(readings, "readings", minimum=2)
    return stdev(values) / math.sqrt(len(values))


def repeatability(readings: Sequence[float]) -> float:
    """The repeatability of an instrument or a measurement, expressed as the experimental
    standard deviation of readings taken under repeatability conditions (JJF 1001-2011, term
    测量重复性; JCGM 200:2012 (VIM) §2.21; evaluated by Bessel's formula as in JJF 1094-2002)."""
    return stdev(_numbers(readings, "readings", minimum=2))


@dataclass(frozen=True)
class RangeEstimate:
    """s estimated from the range R = x_max − x_min of n readings: s = R / C_n, with ν degrees
    of freedom (极差法, JJF 1059.1-2012 §4.3.2, Table 1)."""

    n: int
    range: float
    c: float
    s: float
    dof: float

    def to_dict(self) -> dict[str, float]:
        return {"n": self.n, "range": self.range, "c": self.c, "s": self.s, "dof": self.dof}


def range_method(readings: Sequence[float]) -> RangeEstimate:
    """The experimental standard deviation by the range method, s = (x_max − x_min) / C_n, for
    2 to 9 readings of a quantity close to normally distributed (JJF 1059.1-2012 §4.3.2,
    Table 1). For more readings use `stdev` (Bessel), which the table does not extend."""
    values = _numbers(readings, "readings", minimum=2)
    n = len(values)
    if n not in RANGE_COEFFICIENTS:
        raise StatisticsError(
            f"the range method covers 2 to 9 readings, got {n}; use the experimental standard "
            "deviation (Bessel's formula) instead",
            field="readings",
        )
    c, dof = RANGE_COEFFICIENTS[n]
    spread = max(values) - min(values)
    return RangeEstimate(n=n, range=spread, c=c, s=spread / c, dof=dof)


@dataclass(frozen=True)
class Hysteresis:
    """Hysteresis (回程误差) at each calibration point, |rising − falling|, and its largest
    value, which is compared with the instrument's MPE (e.g. JJG 52 for pressure gauges)."""

    differences: tuple[float, ...]
    maximum: float
    index: int  # the (first) point where the maximum occurs

    def to_dict(self) -> dict[str, object]:
        return {"differences": list(self.differences), "maximum": self.maximum, "index": self.index}


def hysteresis(rising: Sequence[float], falling: Sequence[float]) -> Hysteresis:
    """|rising_i − falling_i| at each point, for readings taken at the same points on the
    increasing and on the decreasing run, and the largest of them."""
    up = _numbers(rising, "rising")
    down = _numbers(falling, "falling")
    if len(up) != len(down):
        raise StatisticsError(
            f"needs one falling reading per rising reading ({len(up)}), got {len(down)}",
            field="falling",
        )
    differences = tuple(abs(a - b) for a, b in zip(up, down, strict=True))
    maximum = max(differences)
    return Hysteresis(differences, maximum, differences.index(maximum))


@dataclass(frozen=True)
class Prediction:
    """A value read from the fitted line at x, and its standard uncertainty
    (JCGM 100:2008 H.3.4, eqs. H.15-H.16)."""

    x: float
    y: float
    u: float

    def to_dict(self) -> dict[str, float]:
        return {"x": self.x, "y": self.y, "u": self.u}


@dataclass(frozen=True)
class LineFit:
    """The ordinary least-squares line y = intercept + slope · x through n points, with the
    standard uncertainties of both coefficients, their correlation coefficient, and the
    residual standard deviation s on dof = n − 2 degrees of freedom (JCGM 100:2008 H.3,
    eqs. H.13-H.14)."""

    intercept: float
    slope: float
    u_intercept: float
    u_slope: float
    r_intercept_slope: float
    r: float | None  # correlation of x and y; None when all y are equal (undefined)
    s: float
    dof: int
    n: int
    x_mean: float
    sxx: float  # Σ(x − x̄)²
    predict: tuple[Prediction, ...] = ()

    def y(self, x: float) -> float:
        return self.intercept + self.slope * x

    def prediction(self, x: float) -> Prediction:
        """y(x₀) = a + b·x₀ with u²(y) = u²(a) + x₀² u²(b) + 2 x₀ u(a) u(b) r(a, b)
        (JCGM 100:2008 H.3.4, eq. H.16), evaluated in the equivalent centred form
        s² (1/n + (x₀ − x̄)²/Σ(x − x̄)²), which does not lose digits when x̄ is far from 0."""
        x0 = _numbers([x], "predict_at")[0]
        u = self.s * math.sqrt(1 / self.n + (x0 - self.x_mean) ** 2 / self.sxx)
        return Prediction(x0, self.y(x0), u)

    def to_dict(self) -> dict[str, object]:
        return {
            "intercept": self.intercept,
            "slope": self.slope,
            "u_intercept": self.u_intercept,
            "u_slope": self.u_slope,
            "r_intercept_slope": self.r_intercept_slope,
            "r": self.r,
            "s": self.s,
            "dof": self.dof,
            "predict": [p.to_dict() for p in self.predict],
        }


def _paired(x: Sequence[float], y: Sequence[float], minimum: int) -> tuple[list, list]:
    xs = _numbers(x, "x", minimum=minimum)
    ys = _numbers(y, "y", minimum=minimum)
    if len(xs) != len(ys):
        raise StatisticsError(f"needs one y per x ({len(xs)}), got {len(ys)}", field="y")
    return xs, ys


def fit_line(x: Sequence[float], y: Sequence[float], predict_at: Sequence[float] = ()) -> LineFit:
    """Fit y = a + b·x by ordinary least squares, the y values carrying the scatter and x taken
    as exact (JCGM 100:2008 H.3.2-H.3.4, the thermometer calibration line).

    b = Σ(x − x̄)(y − ȳ)/Σ(x − x̄)², a = ȳ − b x̄; s² = Σ(y − a − b x)²/(n − 2);
    u²(a) = s² Σx² / (n Σ(x − x̄)²), u²(b) = s²/Σ(x − x̄)², r(a, b) = −Σx / √(n Σx²)
    (eqs. H.13-H.14, written about the mean, which is algebraically the same). For each x₀ in
    `predict_at`, the value on the line and its standard uncertainty (eq. H.16).
    Needs at least three points (ν = n − 2 ≥ 1) and at least two different x.
    """
    xs, ys = _paired(x, y, minimum=3)
    n = len(xs)
    x_mean, y_mean = _mean(xs), _mean(ys)
    sxx = _sum_squares(xs, x_mean)
    if sxx == 0:
        raise StatisticsError("needs at least two different x values", field="x")
    syy = _sum_squares(ys, y_mean)
    sxy = math.fsum((a - x_mean) * (b - y_mean) for a, b in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = y_mean - slope * x_mean
    residuals = [b - intercept - slope * a for a, b in zip(xs, ys, strict=True)]
    s = math.sqrt(math.fsum(r * r for r in residuals) / (n - 2))
    sum_x2 = math.fsum(a * a for a in xs)
    fit = LineFit(
        intercept=intercept,
        slope=slope,
        u_intercept=s * math.sqrt(sum_x2 / (n * sxx)),
        u_slope=s / math.sqrt(sxx),
        r_intercept_slope=-math.fsum(xs) / math.sqrt(n * sum_x2),
        r=sxy / math.sqrt(sxx * syy) if syy > 0 else None,
        s=s,
        dof=n - 2,
        n=n,
        x_mean=x_mean,
        sxx=sxx,
    )
    points = _numbers(predict_at, "predict_at", minimum=0)
    predictions = tuple(fit.prediction(x0) for x0 in points)
    return replace(fit, predict=predictions)


@dataclass(frozen=True)
class Linearity:
    """The linearity (non-linearity error, 线性度) of a calibration curve: the largest deviation
    of the readings from their least-squares line, absolute and as a fraction of the span."""

    fit: LineFit
    deviations: tuple[float, ...]  # y_i − (a + b x_i), signed
    max_deviation: float  # the largest |deviation|
    at_x: float  # where it occurs
    span: float
    relative: float  # max_deviation / span

    def to_dict(self) -> dict[str, object]:
        return {
            "deviations": list(self.deviations),
            "max_deviation": self.max_deviation,
            "at_x": self.at_x,
            "span": self.span,
            "relative": self.relative,
            "fit": self.fit.to_dict(),
        }


def linearity(x: Sequence[float], y: Sequence[float], span: float | None = None) -> Linearity:
    """Least-squares (independent) linearity: ξ_L = max |y_i − (a + b x_i)| / Y_FS.

    Convention: the reference line is the ordinary least-squares line through the calibration
    points (最小二乘线性度, as in GB/T 18459-2001 for the static characteristics of sensors), and
    the full-scale span Y_FS is the output span of that line over the calibrated range,
    |b| (x_max − x_min), unless `span` gives the nominal span (e.g. the instrument's full scale).
    """
    xs, ys = _paired(x, y, minimum=3)
    fit = fit_line(xs, ys)
    deviations = tuple(b - fit.y(a) for a, b in zip(xs, ys, strict=True))
    largest = max(range(len(deviations)), key=lambda i: abs(deviations[i]))
    if span is None:
        full_scale = abs(fit.slope) * (max(xs) - min(xs))
        if full_scale == 0:
            raise StatisticsError(
                "the fitted line is flat, so its span is zero; give the span", field="span"
            )
    else:
        full_scale = _numbers([span], "span")[0]
        if full_scale <= 0:
            raise StatisticsError("must be greater than zero", field="span")
    maximum = abs(deviations[largest])
    return Linearity(
        fit=fit,
        deviations=deviations,
        max_deviation=maximum,
        at_x=xs[largest],
        span=full_scale,
        relative=maximum / full_scale,
    )
