"""Trend plots of the room dashboard (R6.11 "Real time"), drawn on the server as inline SVG: a
sensor's corrected values over a window with the requirement bands and limits, the min / max
envelope of bucketed values, gaps where the sensor was silent, and the values outside a
requirement marked.

The drawing stretches to the width it is shown at (`preserveAspectRatio="none"`, strokes and
dots keep their size through `vector-effect: non-scaling-stroke` in environment.css); the axis
labels are in two small SVGs of their own, positioned in percent, so that their text keeps its
size on a phone. No inline style (the CSP forbids it): only attributes and classes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from collections.abc import Callable, Sequence

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from metrolab.environment import selectors
from metrolab.environment.models import Requirement

SIZE = 1000  # the drawing's coordinates: 0..1000 both ways
Y_TICKS = 5
X_TICKS = 4  # intervals: five labels
MAX_MARKED = 300  # values outside a requirement marked at most


def _nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    norm = raw / magnitude
    for nice in (1, 2, 2.5, 5):
        if norm <= nice:
            return nice * magnitude
    return 10 * magnitude


def _c(value: float) -> str:
    return f"{value:.1f}"


def plot(
    points: Sequence[selectors.Point],
    requirements: Sequence[Requirement],
    start: dt.datetime,
    end: dt.datetime,
    *,
    daily: bool,
    title: str,
    number: Callable[[float], str],
) -> SafeString:
    """The plot's markup. `daily`: x labels as hours (a day's window) rather than dates."""
    lows = [p.minimum for p in points] + [float(r.low) for r in requirements if r.low is not None]
    highs = [p.maximum for p in points] + [
        float(r.high) for r in requirements if r.high is not None
    ]
    y_min, y_max = min(lows), max(highs)
    if not (math.isfinite(y_min) and math.isfinite(y_max)) or y_max - y_min > 1e300:
        y_min, y_max = max(y_min, -1e300), min(y_max, 1e300)
    if y_max - y_min < 1e-9:
        y_min, y_max = y_min - 1, y_max + 1
    pad = (y_max - y_min) * 0.08
    y_min, y_max = y_min - pad, y_max + pad
    t0, t1 = start.timestamp(), end.timestamp()
    span = max(t1 - t0, 1e-9)

    def x(moment: dt.datetime) -> float:
        return (moment.timestamp() - t0) / span * SIZE

    def y(value: float) -> float:
        return min(max((1 - (value - y_min) / (y_max - y_min)) * SIZE, -1), SIZE + 1)

    parts: list[str] = [format_html("<title>{}</title>", title)]
    # Grid and the y labels.
    step = _nice_step(y_max - y_min, Y_TICKS)
    y_labels = []
    first, last = y_min / step, y_max / step
    if math.isfinite(first) and math.isfinite(last) and last - first < 50:
        for k in range(math.ceil(first), math.floor(last + 1e-9) + 1):
            at = y(k * step)
            parts.append(
                format_html(
                    '<line x1="0" x2="{}" y1="{}" y2="{}" class="grid"/>', SIZE, _c(at), _c(at)
                )
            )
            y_labels.append((_c(at / SIZE * 100), number(k * step)))
    # The x labels, in the lab's time zone.
    x_labels = []
    for i in range(X_TICKS + 1):
        moment = timezone.localtime(start + (end - start) * i / X_TICKS)
        at = SIZE * i / X_TICKS
        parts.append(
            format_html('<line x1="{}" x2="{}" y1="0" y2="{}" class="grid"/>', _c(at), _c(at), SIZE)
        )
        anchor = "start" if i == 0 else "end" if i == X_TICKS else "middle"
        label = moment.strftime("%H:%M" if daily else "%m-%d")
        x_labels.append((_c(at / SIZE * 100), anchor, label))
    # The requirement bands and their limits.
    for req in requirements:
        top = 0 if req.high is None else max(y(float(req.high)), 0)
        bottom = SIZE if req.low is None else min(y(float(req.low)), SIZE)
        parts.append(
            format_html(
                '<rect x="0" y="{}" width="{}" height="{}" class="band{}"/>',
                _c(top),
                SIZE,
                _c(max(bottom - top, 0)),
                " several" if len(requirements) > 1 else "",
            )
        )
        for limit in (req.low, req.high):
            if limit is not None:
                at = _c(y(float(limit)))
                parts.append(
                    format_html(
                        '<line x1="0" x2="{}" y1="{}" y2="{}" class="limit"/>', SIZE, at, at
                    )
                )
    # Segments: a pause longer than three typical intervals breaks the line.
    gaps = [(b.time - a.time).total_seconds() for a, b in itertools.pairwise(points)]
    typical = statistics.median(gaps) if gaps else 0
    segments: list[list[selectors.Point]] = [[]]
    for i, point in enumerate(points):
        if i and typical and gaps[i - 1] > 3 * typical:
            segments.append([])
        segments[-1].append(point)
    for seg in segments:  # the min / max envelope of buckets
        if any(p.count > 1 and p.maximum > p.minimum for p in seg) and len(seg) > 1:
            outline = [f"{_c(x(p.time))},{_c(y(p.maximum))}" for p in seg] + [
                f"{_c(x(p.time))},{_c(y(p.minimum))}" for p in reversed(seg)
            ]
            parts.append(format_html('<polygon points="{}" class="envelope"/>', " ".join(outline)))
    for seg in segments:
        if len(seg) == 1:
            p = seg[0]
            if p.maximum > p.minimum:
                parts.append(
                    format_html(
                        '<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" class="line"/>',
                        _c(x(p.time)),
                        _c(y(p.maximum)),
                        _c(y(p.minimum)),
                    )
                )
            parts.append(
                format_html('<path d="M{} {}h0" class="dot"/>', _c(x(p.time)), _c(y(p.value)))
            )
        elif seg:
            d = " ".join(
                f"{'L' if i else 'M'}{_c(x(p.time))} {_c(y(p.value))}" for i, p in enumerate(seg)
            )
            parts.append(format_html('<path d="{}" class="line"/>', d))
    # The values outside a requirement, marked.
    outside = [
        p for p in points if any(not selectors.within(p.value, r.low, r.high) for r in requirements)
    ][:MAX_MARKED]
    if outside:
        d = " ".join(f"M{_c(x(p.time))} {_c(y(p.value))}h0" for p in outside)
        parts.append(format_html('<path d="{}" class="outside"/>', d))
    parts.append(format_html('<rect x="0" y="0" width="{0}" height="{0}" class="frame"/>', SIZE))

    y_axis = format_html_join(
        "", '<text x="100%" dx="-4" y="{}%" dy="4" class="tick y">{}</text>', y_labels
    )
    x_axis = format_html_join(
        "", '<text x="{}%" y="14" text-anchor="{}" class="tick x">{}</text>', x_labels
    )
    return format_html(
        '<div class="plot"><svg class="plot-y" aria-hidden="true">{}</svg>'
        '<svg class="plot-main" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img">{}</svg>'
        '<svg class="plot-x" aria-hidden="true">{}</svg></div>',
        y_axis,
        SIZE,
        SIZE,
        mark_safe("".join(parts)),  # noqa: S308 - each part built by format_html
        x_axis,
    )
