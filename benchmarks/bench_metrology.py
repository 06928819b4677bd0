"""Benchmarks of the metrology library, printed as ratios against baselines measured in the
same run on the same machine (never asserted in tests: machines here are shared and noisy).

    uv run python benchmarks/bench_metrology.py

1. Monte Carlo, 10⁶ trials, 5 inputs of mixed distributions through a non-linear model
   (goal: ≤ 0.3 s). Baseline: numpy alone drawing 5 × 10⁶ normal numbers and summing them,
   the least work any implementation must do.
2. GUM budget of a 20-input model (u_c by the law of propagation, sensitivity coefficients
   exact), side by side with the `uncertainties` package and GTC (the GUM Tree Calculator)
   on the same model, which also confirm the numbers.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrolab.metrology.gum import evaluate_gum
from metrolab.metrology.inputs import parse_inputs
from metrolab.metrology.model import Model
from metrolab.metrology.montecarlo import run_monte_carlo


def best_of(function: Callable[[], object], repeat: int = 7) -> float:
    """Median of `repeat` timed runs after one warm-up, in seconds."""
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def monte_carlo() -> list[tuple[str, float, str]]:
    model = Model.parse({"Y": "(a + b) * (1 + c * (d - 20)) / sqrt(1 + e^2)"})
    inputs = parse_inputs(
        {
            "a": {"value": 100.0, "u": 0.05},
            "b": {"readings": [0.12, 0.15, 0.11, 0.14, 0.13, 0.12]},
            "c": {"value": 1.1e-5, "distribution": "rectangular", "half_width": 2e-6},
            "d": {"value": 20.5, "distribution": "triangular", "half_width": 0.5},
            "e": {"value": 0.0, "distribution": "arcsine", "half_width": 0.01},
        }
    )
    mc = best_of(lambda: run_monte_carlo(model, inputs, trials=10**6, seed=1))
    rng = np.random.default_rng(1)
    base = best_of(lambda: rng.standard_normal((5, 10**6)).sum(axis=0))
    return [
        ("numpy baseline: 5 × 10⁶ normals, summed", base, "1.00"),
        ("MetroLab Monte Carlo, 10⁶ trials × 5 inputs", mc, f"{mc / base:.2f}"),
    ]


def gum_20() -> tuple[list[tuple[str, float, str]], list[str]]:
    names = [f"x{i}" for i in range(20)]
    # A product of ratios and sums: non-linear in every input.
    expression = " + ".join(
        f"{a} * {b} / (1 + {c}^2)"
        for a, b, c in zip(names[0::3], names[1::3], names[2::3], strict=False)
    )
    expression += " + x18 * exp(x19 / 10)"
    values = {n: 1.0 + 0.1 * i for i, n in enumerate(names)}
    us = {n: 0.01 * (1 + i % 5) for i, n in enumerate(names)}
    model = Model.parse({"Y": expression})
    inputs = parse_inputs({n: {"value": values[n], "u": us[n]} for n in names})
    ours = evaluate_gum(model, inputs).to_dict()["outputs"]["Y"]
    t_ours = best_of(lambda: evaluate_gum(model, inputs), repeat=51)

    from uncertainties import ufloat, umath

    def with_uncertainties():
        x = {n: ufloat(values[n], us[n]) for n in names}
        y = sum(
            x[a] * x[b] / (1 + x[c] ** 2)
            for a, b, c in zip(names[0::3], names[1::3], names[2::3], strict=False)
        )
        y = y + x["x18"] * umath.exp(x["x19"] / 10)
        return y.nominal_value, y.std_dev

    t_unc = best_of(with_uncertainties, repeat=51)
    _y_unc, u_unc = with_uncertainties()
    rows = [
        ("uncertainties package (baseline)", t_unc, "1.00"),
        ("MetroLab GUM budget", t_ours, f"{t_ours / t_unc:.2f}"),
    ]
    checks = [f"u_c: MetroLab {ours['u']:.12g}, uncertainties {u_unc:.12g}"]
    try:
        import GTC

        def with_gtc():
            x = {n: GTC.ureal(values[n], us[n]) for n in names}
            y = sum(
                x[a] * x[b] / (1 + x[c] ** 2)
                for a, b, c in zip(names[0::3], names[1::3], names[2::3], strict=False)
            )
            y = y + x["x18"] * GTC.exp(x["x19"] / 10)
            return GTC.value(y), GTC.uncertainty(y)

        t_gtc = best_of(with_gtc, repeat=51)
        rows.append(("GTC (GUM Tree Calculator)", t_gtc, f"{t_gtc / t_unc:.2f}"))
        checks.append(f"u_c: GTC {with_gtc()[1]:.12g}")
    except ImportError:
        checks.append("GTC is not installed: skipped")
    assert abs(ours["u"] - u_unc) <= 1e-12 * ours["u"], checks
    return rows, checks


def main() -> None:
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}")
    print("\n1. Monte Carlo (goal: ≤ 0.3 s)")
    for label, seconds, ratio in monte_carlo():
        print(f"   {label:<46} {seconds * 1000:9.1f} ms   ratio {ratio}")
    print("\n2. GUM, 20-input model")
    rows, checks = gum_20()
    for label, seconds, ratio in rows:
        print(f"   {label:<46} {seconds * 1e6:9.1f} µs   ratio {ratio}")
    for line in checks:
        print(f"   {line}")


if __name__ == "__main__":
    main()
