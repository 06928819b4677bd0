"""Server-rendered SVG plots for the calculator page (no chart library, no script)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def histogram_svg(
    edges: Sequence[float],
    counts: Sequence[int],
    interval: Sequence[float],
    gum_interval: Sequence[float] | None = None,
    *,
    label: str = "",
    width: int = 640,
    height: int = 240,
) -> str:
    """A histogram of Monte Carlo values with the coverage interval marked (and the GUM
    interval, dashed, for comparison)."""
    if not counts or len(edges) != len(counts) + 1:
        return ""
    left, right, top, bottom = 48, 12, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    lo, hi = edges[0], edges[-1]
    peak = max(counts) or 1
    span = (hi - lo) or 1.0

    def x_of(v: float) -> float:
        return left + (v - lo) / span * plot_w

    base = top + plot_h

    def vline(x: float, css: str) -> str:
        return f'<line x1="{x:.2f}" x2="{x:.2f}" y1="{top}" y2="{base}" class="{css}"/>'

    def text(x: float, y: float, css: str, value: str) -> str:
        return f'<text x="{x:.2f}" y="{y}" class="{css}">{escape(value)}</text>'

    bars = []
    for i, c in enumerate(counts):
        x0, x1 = x_of(edges[i]), x_of(edges[i + 1])
        h = c / peak * plot_h
        w = max(x1 - x0 - 0.5, 0.5)
        bars.append(
            f'<rect x="{x0:.2f}" y="{base - h:.2f}" width="{w:.2f}" height="{h:.2f}" class="bar"/>'
        )
    marks = []
    for value in interval:
        x = x_of(value)
        marks.append(vline(x, "mc") + text(x, height - 20, "tick", _fmt(value)))
    for value in gum_interval or ():
        if lo <= value <= hi:
            marks.append(vline(x_of(value), "gum"))
    axis = (
        f'<line x1="{left}" x2="{left + plot_w}" y1="{base}" y2="{base}" class="axis"/>'
        + text(left, height - 4, "tick start", _fmt(lo))
        + text(left + plot_w, height - 4, "tick end", _fmt(hi))
    )
    title = f"<title>{escape(label)}</title>" if label else ""
    return (
        f'<svg class="histogram" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">{title}{"".join(bars)}{axis}{"".join(marks)}</svg>'
    )
