"""The designer's live preview and test calculation (R6.2d): a definition compiled and
evaluated on sample values, as the record will show it, for the designer page and for
`POST /api/v1/record-templates/preview`.

Nothing here writes. The sample values: the template's own `sample` block when the format has
one ({"parameters", "cells", "context"}), else the parameters' defaults, readings equal to the
nominal values, and a context whose header sources show their path ("‹item.number›") and
whose reference equipment has a zero correction everywhere (`sample_context`). The designer
edits all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language

from metrolab.metrology.record_template import (
    CompiledTemplate,
    Evaluation,
    TemplateError,
    compile_template,
)

SAMPLE_RANGE = ("-1000000000", "1000000000")


def label(text: Any) -> str:
    """A {"zh", "en"} label in the page's language (Chinese unless English is asked for)."""
    if isinstance(text, Mapping):
        language = (get_language() or "zh-hans").lower()
        first, second = ("en", "zh") if language.startswith("en") else ("zh", "en")
        return str(text.get(first) or text.get(second) or "")
    return "" if text is None else str(text)


def sample_block(definition: Mapping[str, Any]) -> Mapping[str, Any]:
    sample = definition.get("sample") or definition.get("example") or {}
    return sample if isinstance(sample, Mapping) else {}


def _nest(target: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = target[part] = {}
        target = nxt
    target.setdefault(parts[-1], value)


def sample_context(
    definition: Mapping[str, Any], unit: str = "", roles: Iterable[str] = ()
) -> dict[str, Any]:
    """A context to test a definition with: its `sample` block's, else each header source
    showing its path, and each of its equipment `roles` (the compiled template's
    `CompiledTemplate.roles`) as a reference with a zero correction (and zero U, k = 2) over
    any value, in the record's unit."""
    given = sample_block(definition).get("context")
    if isinstance(given, Mapping):
        return dict(given)
    context: dict[str, Any] = {}
    for item in definition.get("header") or []:
        source = item.get("source") if isinstance(item, Mapping) else None
        if isinstance(source, str) and source:
            _nest(context, source, f"‹{source}›")
    roles = sorted(set(roles))
    if roles:
        context["references"] = {
            role: {
                "certificate_no": "‹certificate›",
                "due_date": None,
                "points": [
                    {
                        "nominal": end,
                        "unit": unit,
                        "correction": "0",
                        "expanded_uncertainty": "0",
                        "coverage_factor": "2",
                    }
                    for end in SAMPLE_RANGE
                ],
            }
            for role in roles
        }
    context.setdefault("cmc", None)
    return context


def sample_cells(compiled: CompiledTemplate, parameters: Mapping[str, Any]) -> dict[str, str]:
    """The `sample` block's cells, else each reading equal to its nominal value."""
    given = sample_block(compiled.definition).get("cells")
    if isinstance(given, Mapping):
        return {str(k): str(v) for k, v in given.items()}
    cells = {}
    for cell in compiled.cells(parameters):
        if cell.kind == "reading" and cell.nominal is not None:
            cells[cell.id] = format(cell.nominal, "f")
    return cells


def sample_parameters(compiled: CompiledTemplate) -> dict[str, str]:
    given = sample_block(compiled.definition).get("parameters")
    if isinstance(given, Mapping):
        return {
            f"param.{k}" if not str(k).startswith("param.") else str(k): _typed(v)
            for k, v in given.items()
        }
    return {}


def _typed(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


@dataclass
class Preview:
    """A definition tried on sample values: `errors` {path: [messages]} when it does not
    compile (then nothing else), else the compiled template, the cells as typed, the
    evaluation and what the page shows of it."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    compiled: CompiledTemplate | None = None
    values: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    evaluation: Evaluation | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.evaluation is not None

    # -- what the page shows --

    def parameters(self) -> list[dict[str, Any]]:
        out = []
        for p in self.compiled.parameters:
            cell = f"param.{p.name}"
            typed = self.values.get(cell)
            out.append(
                {
                    "cell": cell,
                    "label": label(p.label),
                    "type": p.type,
                    "choices": list(p.choices),
                    "value": typed if typed is not None else _typed(p.default),
                    "unit": self._unit(p.unit),
                }
            )
        return out

    def _unit(self, unit: str) -> str:
        return self.compiled._unit(unit, self.evaluation.parameters) if unit else ""

    def header(self) -> list[dict[str, Any]]:
        out = []
        for h in self.compiled.header:
            typed = h.get("source") is None
            cell = f"header.{h['name']}"
            out.append(
                {
                    "label": label(h["label"]),
                    "cell": cell if typed else "",
                    "value": self.values.get(cell, "")
                    if typed
                    else self.evaluation.header.get(h["name"]),
                    "source": h.get("source") or "",
                }
            )
        return out

    def columns(self) -> list[dict[str, Any]]:
        """The reading inputs, then the computed values shown."""
        params = self.evaluation.parameters
        inputs = [
            {
                "name": i.name,
                "label": label(i.label),
                "unit": self._unit(i.unit),
                "repeats": self.compiled._repeats(i, params),
            }
            for i in self.compiled.inputs
        ]
        computed = [
            {"name": c.name, "label": label(c.label), "unit": self._unit(c.unit)}
            for c in self.compiled.computed
            if c.show
        ]
        return [*inputs, *computed]

    def rows(self) -> list[dict[str, Any]]:
        params = self.evaluation.parameters
        problem_cells = {p["cell"]: p["message"] for p in self.evaluation.problems if p["cell"]}
        rows = []
        for number, point in enumerate(self.evaluation.points, start=1):
            readings = []
            for item in self.compiled.inputs:
                repeats = self.compiled._repeats(item, params)
                ids = (
                    [f"{item.name}.{number}"]
                    if repeats == 1
                    else [f"{item.name}.{number}.{j}" for j in range(1, repeats + 1)]
                )
                readings.append(
                    [
                        {
                            "cell": cell_id,
                            "value": self.values.get(cell_id, ""),
                            "problem": problem_cells.get(cell_id, ""),
                        }
                        for cell_id in ids
                    ]
                )
            computed = []
            for c in self.compiled.computed:
                if not c.show:
                    continue
                value = point.get(c.name)
                computed.append(
                    {
                        "name": c.name,
                        "text": _shown(value.text if value else None),
                        "applicable": value.applicable if value else True,
                    }
                )
            nominal = point.get("nominal")
            rows.append(
                {
                    "number": number,
                    "nominal": nominal.text if nominal else None,
                    "nominal_unit": nominal.unit if nominal else "",
                    "readings": readings,
                    "computed": computed,
                }
            )
        return rows

    def summary(self) -> list[dict[str, Any]]:
        return [
            {
                "name": c.name,
                "label": label(c.label),
                "text": _shown(self.evaluation.summary[c.name].text),
                "unit": self.evaluation.summary[c.name].unit,
                "applicable": self.evaluation.summary[c.name].applicable,
            }
            for c in self.compiled.summary
            if c.show and c.name in self.evaluation.summary
        ]

    def fixed_text(self) -> list[str]:
        return [
            label(item.get("text"))
            for item in self.compiled.definition.get("fixed_text") or []
            if isinstance(item, Mapping)
        ]


def _shown(text: Any) -> Any:
    if text == "true":
        return "✓"
    if text == "false":
        return "✗"
    return text


def preview(
    definition: Any,
    *,
    values: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Preview:
    """Compile `definition` and evaluate it on `values` (cell id → text; None: the sample
    values) in `context` (None: `sample_context`). Never raises for a bad definition: its
    problems are in `.errors`."""
    if not isinstance(definition, Mapping):
        return Preview(errors={"": ["A template definition is a JSON object."]})
    try:
        compiled = compile_template(definition)
    except TemplateError as exc:
        return Preview(
            errors={str(k): [str(m) for m in v] for k, v in exc.errors.items()} or {"": [str(exc)]}
        )
    if values is None:
        params = sample_parameters(compiled)
        values = {**params, **sample_cells(compiled, params)}
    values = {str(k): "" if v is None else str(v) for k, v in values.items()}
    if context is None:
        unit = next((c.unit for c in compiled.cells(values) if c.kind == "reading"), "")
        context = sample_context(definition, unit, [r.name for r in compiled.roles])
    evaluation = compiled.evaluate(values, context=context)
    return Preview(
        compiled=compiled, values=dict(values), context=dict(context), evaluation=evaluation
    )
