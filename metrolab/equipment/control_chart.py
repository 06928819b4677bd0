"""Control charts of intermediate checks (期间核查): the Shewhart tests for special causes and
an SVG drawing of the chart. Pure Python, no Django: a metrologist can use it alone.

The tests are those of ISO 7870-2:2013 "Control charts — Part 2: Shewhart control charts"
(identical national adoption GB/T 17989.2-2020), numbered as there (they go back to the
Western Electric handbook, 1956, and L. S. Nelson, J. Qual. Technol. 16 (1984) 237-239):

- test 1: one point beyond a control limit (beyond zone A);
- test 2: nine points in a row on one side of the centre line;
- test 3: six points in a row steadily increasing or decreasing;
- test 5: two out of three points in a row beyond 2σ (in zone A or beyond) on the same side.

σ is taken from the chart's own limits, which are drawn at ±3σ: σ = (UCL − CL) / 3 above the
centre line and (CL − LCL) / 3 below it, so that charts with unequal limits work too. All
comparisons are exact (fractions), so a point just inside a limit is never counted outside
because of binary rounding. A point ON a limit is not beyond it; a point ON the centre line is
on neither side (it ends a run of test 2); equal neighbours end a trend of test 3.

A point "breaks" a test when the pattern is completed by that point: the test evaluates the
series ending at it. `rules_broken(values, limits)` answers for the latest point, which is what
a new check result is judged by.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from html import escape

Number = int | float | Decimal | Fraction | str

TEST_BEYOND_LIMITS = 1
TEST_RUN_ONE_SIDE = 2
TEST_TREND = 3
TEST_TWO_OF_THREE_BEYOND_2_SIGMA = 5
TESTS = (TEST_BEYOND_LIMITS, TEST_RUN_ONE_SIDE, TEST_TREND, TEST_TWO_OF_THREE_BEYOND_2_SIGMA)

RUN_LENGTH = 9  # test 2
TREND_LENGTH = 6  # test 3


def _exact(value: Number) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        # A float stands for the decimal a person typed, not its binary neighbour.
        return Fraction(Decimal(repr(value)))
    if isinstance(value, str):
        return Fraction(Decimal(value.strip()))
    return Fraction(value)


@dataclass(frozen=True)
class Limits:
    """A chart's centre line and control limits (at ±3σ), and its warning limits if drawn
    elsewhere than ±2σ."""

    centre: Fraction
    lower: Fraction
    upper: Fraction
    lower_warning: Fraction | None = None
    upper_warning: Fraction | None = None

    @classmethod
    def of(
        cls,
        centre: Number,
        lower: Number,
        upper: Number,
        lower_warning: Number | None = None,
        upper_warning: Number | None = None,
    ) -> Limits:
        limits = cls(
            _exact(centre),
            _exact(lower),
            _exact(upper),
            None if lower_warning is None else _exact(lower_warning),
            None if upper_warning is None else _exact(upper_warning),
        )
        if not limits.lower < limits.centre < limits.upper:
            raise ValueError("the limits must satisfy LCL < CL < UCL")
        return limits

    @property
    def sigma_upper(self) -> Fraction:
        return (self.upper - self.centre) / 3

    @property
    def sigma_lower(self) -> Fraction:
        return (self.centre - self.lower) / 3

    @property
    def warning(self) -> tuple[Fraction, Fraction]:
        """The warning limits drawn: as given, else at ±2σ."""
        low = self.lower_warning
        high = self.upper_warning
        if low is None:
            low = self.centre - 2 * self.sigma_lower
        if high is None:
            high = self.centre + 2 * self.sigma_upper
        return low, high

    def side(self, x: Fraction) -> int:
        """+1 above the centre line, -1 below, 0 on it."""
        return (x > self.centre) - (x < self.centre)

    def beyond_control(self, x: Fraction) -> bool:
        return x > self.upper or x < self.lower

    def beyond_two_sigma(self, x: Fraction) -> int:
        """+1 beyond +2σ, -1 beyond -2σ (zone A or beyond), 0 otherwise."""
        if x > self.centre + 2 * self.sigma_upper:
            return 1
        if x < self.centre - 2 * self.sigma_lower:
            return -1
        return 0


def _test_1(xs: list[Fraction], limits: Limits) -> bool:
    return limits.beyond_control(xs[-1])


def _test_2(xs: list[Fraction], limits: Limits) -> bool:
    if len(xs) < RUN_LENGTH:
        return False
    sides = {limits.side(x) for x in xs[-RUN_LENGTH:]}
    return len(sides) == 1 and 0 not in sides


def _test_3(xs: list[Fraction], limits: Limits) -> bool:
    if len(xs) < TREND_LENGTH:
        return False
    tail = xs[-TREND_LENGTH:]
    steps = [b - a for a, b in itertools.pairwise(tail)]
    return all(s > 0 for s in steps) or all(s < 0 for s in steps)


def _test_5(xs: list[Fraction], limits: Limits) -> bool:
    # The pattern is completed by the latest point only when that point is itself beyond 2σ;
    # otherwise the same pattern was already signalled at an earlier point.
    side = limits.beyond_two_sigma(xs[-1])
    if side == 0 or len(xs) < 2:
        return False
    return any(limits.beyond_two_sigma(x) == side for x in xs[-3:-1])


_CHECKS = {
    TEST_BEYOND_LIMITS: _test_1,
    TEST_RUN_ONE_SIDE: _test_2,
    TEST_TREND: _test_3,
    TEST_TWO_OF_THREE_BEYOND_2_SIGMA: _test_5,
}


def rules_broken(values: Sequence[Number], limits: Limits) -> list[int]:
    """The tests (their ISO 7870-2 numbers, ascending) that the LATEST value of the series
    breaks; empty when it is in control or the series is empty."""
    xs = [_exact(v) for v in values]
    if not xs:
        return []
    return [number for number, check in _CHECKS.items() if check(xs, limits)]


def evaluate(values: Sequence[Number], limits: Limits) -> list[list[int]]:
    """For every point of the series, the tests it breaks (judged on the series up to it)."""
    xs = [_exact(v) for v in values]
    return [rules_broken(xs[: i + 1], limits) for i in range(len(xs))]


# --- drawing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartPoint:
    label: str  # shown under the axis (e.g. the date)
    value: Number
    broken: tuple[int, ...] = ()  # the tests this point breaks (drawn red)


def _fmt(x: Fraction | float) -> str:
    """A value as a short, readable number for the limit labels."""
    text = f"{float(x):.6g}"
    return text.replace("e-0", "e-").replace("e+0", "e+")


def chart_svg(
    points: Sequence[ChartPoint],
    limits: Limits,
    *,
    title: str = "",
    unit: str = "",
    width: int = 640,
    height: int = 260,
    broken_caption: str = "",
) -> str:
    """The control chart as an inline SVG: the points joined in order, the centre line, the
    warning limits (dashed) and control limits, and the points that break a test in red with
    the tests named in their tooltip. Scales to its container (viewBox); no script."""
    left, right, top, bottom = 56, 70, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    low_warn, high_warn = limits.warning
    values = [_exact(p.value) for p in points]
    span_low = min([limits.lower, low_warn, *values])
    span_high = max([limits.upper, high_warn, *values])
    pad = (span_high - span_low) * Fraction(8, 100) or Fraction(1)
    y_min, y_max = float(span_low - pad), float(span_high + pad)

    def y(v: Fraction) -> float:
        return round(top + plot_h * (y_max - float(v)) / (y_max - y_min), 2)

    def x(i: int) -> float:
        n = len(points)
        if n <= 1:
            return round(left + plot_w / 2, 2)
        return round(left + plot_w * i / (n - 1), 2)

    label = title + (f" ({unit})" if unit else "")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="control-chart" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafbfd" '
        f'stroke="#dde3ea"/>',
    ]
    lines = [
        ("ucl", "UCL", limits.upper, "#b3261e", ""),
        ("uwl", "UWL", high_warn, "#a36b00", ' stroke-dasharray="6 4"'),
        ("cl", "CL", limits.centre, "#1e7b34", ""),
        ("lwl", "LWL", low_warn, "#a36b00", ' stroke-dasharray="6 4"'),
        ("lcl", "LCL", limits.lower, "#b3261e", ""),
    ]
    for css, name, value, colour, dash in lines:
        yy = y(value)
        out.append(
            f'<line class="limit {css}" x1="{left}" x2="{left + plot_w}" y1="{yy}" y2="{yy}" '
            f'stroke="{colour}" stroke-width="1.2"{dash}/>'
        )
        out.append(
            f'<text class="limit-label {css}" x="{left + plot_w + 4}" y="{yy + 4}" '
            f'font-size="11" fill="{colour}">{name} {escape(_fmt(value))}</text>'
        )
    if points:
        path = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values))
        out.append(
            f'<polyline class="series" points="{path}" fill="none" stroke="#0b5394" '
            f'stroke-width="1.5"/>'
        )
        for i, (point, v) in enumerate(zip(points, values, strict=True)):
            broken = bool(point.broken)
            tip = f"{point.label}: {_fmt(v)}{(' ' + unit) if unit else ''}"
            if broken:
                tests = ", ".join(str(t) for t in point.broken)
                tip += f" — {broken_caption or 'tests'} {tests}"
            out.append(
                f'<circle class="point{" broken" if broken else ""}" cx="{x(i)}" cy="{y(v)}" '
                f'r="{4.5 if broken else 3.5}" fill="{"#b3261e" if broken else "#0b5394"}" '
                f'stroke="#fff" stroke-width="1"><title>{escape(tip)}</title></circle>'
            )
        ticks = sorted({0, len(points) - 1, *range(0, len(points), max(1, len(points) // 6))})
        for i in ticks:
            out.append(
                f'<text class="tick" x="{x(i)}" y="{height - bottom + 16}" font-size="10" '
                f'fill="#66717d" text-anchor="middle">{escape(points[i].label)}</text>'
            )
    out.append(
        f'<text class="axis-label" x="{left - 6}" y="{top + 10}" font-size="10" fill="#66717d" '
        f'text-anchor="end">{escape(unit)}</text>'
    )
    out.append("</svg>")
    return "".join(out)
