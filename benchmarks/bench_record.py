"""Benchmark of a record's calculations (issue 14: a record with 100 points and all its
calculations, goal ≤ 50 ms median), printed beside baselines measured in the same run on the
same machine (never asserted in tests: machines here are shared and noisy).

    uv run python benchmarks/bench_record.py

1. The JJG 52 pressure-gauge template with 100 points (5 readings per point, 10 computed
   values per point, 4 summary values, the decision): `CompiledTemplate.evaluate`.
2. The DMM DC-voltage template with 100 points × 5 repeated readings (mean, Type A, a
   three-term budget, U, the JJF 1094 decision and the CMC check per point).
Baselines: the same number of plain `rounding.round_places` calls as the record has values,
and evaluating `model.Model` (the measurement-model parser's evaluator) as often as the record
has formulas.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metrolab.metrology.model import Model
from metrolab.metrology.record_template import builtin_templates, compile_template
from metrolab.metrology.rounding import round_places

POINTS = 100


def median_of(function: Callable[[], object], repeat: int = 21) -> float:
    """Median of `repeat` timed runs after one warm-up, in seconds."""
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gauge_cells() -> dict[str, str]:
    percents = ", ".join(str(Decimal(i)) for i in range(POINTS))  # 0 ... 99 % of span
    cells = {"param.points": percents, "param.range_upper": "1.6"}
    for point in range(1, POINTS + 1):
        nominal = Decimal(point - 1) * Decimal("0.016")
        cells[f"standard.{point}"] = str(nominal)
        cells[f"up_before.{point}"] = str(nominal + Decimal("0.002"))
        cells[f"up_after.{point}"] = str(nominal + Decimal("0.004"))
        cells[f"down_before.{point}"] = str(nominal + Decimal("0.008"))
        cells[f"down_after.{point}"] = str(nominal + Decimal("0.006"))
    return cells


def dmm_cells() -> dict[str, str]:
    nominals = [Decimal(i) / 10 for i in range(1, POINTS + 1)]  # 0.1 ... 10 V
    cells = {"param.points": ", ".join(map(str, nominals)), "param.repeats": "5"}
    for point, nominal in enumerate(nominals, start=1):
        for j, offset in enumerate(("0.00002", "0.00003", "0.00002", "0.00001", "0.00002"), 1):
            cells[f"reading.{point}.{j}"] = str(nominal + Decimal(offset))
    return cells


def main() -> None:
    definitions = builtin_templates()
    gauge = compile_template(definitions["jjg52-2013-pressure-gauge"])
    dmm = compile_template(definitions["dmm-dc-voltage"])
    g_cells, d_cells = gauge_cells(), dmm_cells()
    context = {"cmc": {"value": "1", "unit": "ppm", "relative": True}}
    assert gauge.evaluate(g_cells, context={}).complete
    assert dmm.evaluate(d_cells, context=context).complete

    t_gauge = median_of(lambda: gauge.evaluate(g_cells, context={}))
    t_dmm = median_of(lambda: dmm.evaluate(d_cells, context=context))
    values = POINTS * (len(gauge.inputs) + len(gauge.computed))
    numbers = [Decimal(i) / 7 for i in range(values)]
    t_round = median_of(lambda: [round_places(x, 3) for x in numbers])
    formulas = POINTS * len(gauge.computed)
    model = Model.parse({"Y": "abs(a - b) + (c - d) * 0.5"})
    env = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}
    t_model = median_of(lambda: [model.evaluate(env) for _ in range(formulas)])

    rows = [
        (f"baseline: {values} × rounding.round_places", t_round),
        (f"baseline: {formulas} × model.Model.evaluate", t_model),
        (f"JJG 52 gauge record, {POINTS} points (goal ≤ 50 ms)", t_gauge),
        (f"DMM DC voltage record, {POINTS} points × 5 readings", t_dmm),
    ]
    print(f"{'what':58} {'median':>10} {'× round':>8} {'× model':>8}")
    for name, seconds in rows:
        print(
            f"{name:58} {seconds * 1000:8.2f} ms {seconds / t_round:8.2f} {seconds / t_model:8.2f}"
        )


if __name__ == "__main__":
    main()
