"""What the record pages show of a record's template: the entry sheet (parameters, typed header
fields, the readings table point by point with a column per repeat, the computed columns with
their units and rounding, the summary, the decision, and each problem beside its cell), built
from the engine's evaluation (`services.record_preview` for the live page, the stored or
replayed results elsewhere). Presentation only: every value and rule comes from the template
engine (metrolab.metrology.record_template) through `records.calculation`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from metrolab.core.components import register_tones
from metrolab.records import calculation
from metrolab.records.labels import problem_message, token_text


class Decision(models.TextChoices):
    """A record's decision as its badge shows it (the engine's decisions, and "incomplete")."""

    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    UNDECIDED = "undecided", _("Undecided")
    CONDITIONAL_PASS = "conditional_pass", _("Conditional pass")
    CONDITIONAL_FAIL = "conditional_fail", _("Conditional fail")
    INCOMPLETE = "incomplete", _("Incomplete")


register_tones(
    Decision,
    {
        Decision.PASS: "green",
        Decision.FAIL: "red",
        Decision.UNDECIDED: "yellow",
        Decision.CONDITIONAL_PASS: "green",
        Decision.CONDITIONAL_FAIL: "red",
        Decision.INCOMPLETE: "neutral",
    },
)


def decision_of(value: str | None) -> Decision:
    return Decision(value) if value in Decision.values else Decision.INCOMPLETE


def label(text: Mapping[str, str] | str | None) -> str:
    """A template's {"zh", "en"} label in the page's language."""
    if not isinstance(text, Mapping):
        return str(text or "")
    zh = (translation.get_language() or "").startswith("zh")
    return str((text.get("zh") if zh else text.get("en")) or text.get("en") or text.get("zh") or "")


def _shown(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """A computed value as a cell shows it: its text, ✓ / ✗ for yes/no, "n/a" where the
    template's `when` excludes it at this point."""
    value = value or {}
    raw = value.get("value")
    if value.get("applicable") is False:
        return {"text": "", "na": True, "flag": None}
    if isinstance(raw, bool):
        return {"text": "✓" if raw else "✗", "na": False, "flag": raw}
    return {"text": token_text(value.get("text")), "na": False, "flag": None}


def _computed_names(template, definition: Mapping[str, Any]) -> list[str]:
    names = [c.name for c in template.computed]
    for section in (definition.get("layout") or {}).get("sections") or ():
        if section.get("kind") == "computed" and section.get("fields"):
            return [n for n in section["fields"] if n in names]
    return [c.name for c in template.computed if c.show]


def sheet(
    record,
    typed: Mapping[str, str],
    evaluation: Mapping[str, Any],
    cells: list[Mapping[str, Any]],
) -> dict[str, Any]:
    """The entry sheet of `record` for the values `typed` (cell id → text), their
    `evaluation` (the engine's `as_json()`) and the template's `cells` for them (`Cell.to_json`).
    """
    version = record.template_version
    template = calculation.compiled(version)
    definition = version.definition or {}
    problems = list(evaluation.get("problems") or ())
    by_cell: dict[str, list[str]] = {}
    by_value: dict[tuple[int, str], list[str]] = {}
    labels = {c["id"]: c for c in cells}
    listed = []
    for problem in problems:
        cell = problem.get("cell")
        message = problem_message(problem)
        if cell:
            by_cell.setdefault(cell, []).append(message)
        if problem.get("point") and problem.get("field"):
            by_value.setdefault((problem["point"], problem["field"]), []).append(message)
        where = labels.get(cell) if cell else None
        listed.append(
            {
                "cell": cell or "",
                "code": problem.get("code") or "",
                "where": _where(where) if where else "",
                "message": message,
            }
        )

    params_given = evaluation.get("parameters") or {}
    parameters = []
    for p in template.parameters:
        cell_id = f"param.{p.name}"
        cell = labels.get(cell_id) or {}
        given = typed.get(cell_id)
        default = default_text(p.default)
        parameters.append(
            {
                "id": cell_id,
                "label": label(p.label),
                "unit": cell.get("unit") or "",
                "type": p.type,
                "choices": list(p.choices),
                "value": given if given not in (None, "") else ("" if default is None else default),
                "typed": given or "",
                "shown": _param_text(params_given.get(p.name)),
                "problems": by_cell.get(cell_id, []),
            }
        )

    header_values = evaluation.get("header") or {}
    header = [
        {
            "id": f"header.{h['name']}",
            "label": label(h["label"]),
            "value": (
                typed.get(f"header.{h['name']}", "")
                if h.get("source") is None
                else header_values.get(h["name"]) or ""
            ),
            "editable": h.get("source") is None,
            "problems": by_cell.get(f"header.{h['name']}", []),
        }
        for h in template.header
    ]

    readings = [c for c in cells if c["kind"] == "reading"]
    points: dict[int, list[Mapping[str, Any]]] = {}
    for cell in readings:
        points.setdefault(cell["point"], []).append(cell)
    first = points.get(min(points)) if points else []
    columns = []
    for item in template.inputs:
        of_item = [c for c in first if c["name"] == item.name]
        columns.append(
            {
                "name": item.name,
                "label": label(item.label),
                "unit": of_item[0]["unit"] if of_item else "",
                "repeats": [c["repeat"] for c in of_item],
            }
        )
    point_values = {p["point"]: p["values"] for p in evaluation.get("points") or ()}
    nominal_unit = ""
    for values in point_values.values():
        nominal_unit = (values.get("nominal") or {}).get("unit") or ""
        break
    computed_names = _computed_names(template, definition)
    computed_labels = {c.name: c.label for c in template.computed}
    computed_columns = []
    for name in computed_names:
        unit = ""
        for values in point_values.values():
            unit = (values.get(name) or {}).get("unit") or ""
            break
        computed_columns.append({"name": name, "label": label(computed_labels[name]), "unit": unit})
    rows = []
    for number in sorted(points):
        values = point_values.get(number) or {}
        rows.append(
            {
                "point": number,
                "nominal": (values.get("nominal") or {}).get("text") or "",
                "cells": [
                    {
                        "id": c["id"],
                        "value": typed.get(c["id"], ""),
                        "unit": c["unit"],
                        "label": f"{label(c['label'])}"
                        + (f" #{c['repeat']}" if c.get("repeat") else ""),
                        "problems": by_cell.get(c["id"], []),
                    }
                    for c in points[number]
                ],
                "computed": [
                    {
                        "name": name,
                        **_shown(values.get(name)),
                        "problems": by_value.get((number, name), []),
                    }
                    for name in computed_names
                ],
            }
        )
    summary_labels = {c.name: c.label for c in template.summary}
    summary = []
    for name, value in (evaluation.get("summary") or {}).items():
        if name not in summary_labels:
            continue
        shown = _shown(value)
        if name == template.decision and value.get("text"):
            shown["text"] = str(decision_of(value.get("text")).label)
        summary.append(
            {"name": name, "label": label(summary_labels[name]), **shown, "unit": value["unit"]}
        )
    fixed = [label(t["text"]) for t in definition.get("fixed_text") or ()]
    return {
        "title": label(definition.get("title")),
        "parameters": parameters,
        "header": header,
        "columns": columns,
        "repeat_columns": sum(max(1, len(c["repeats"])) for c in columns),
        "has_repeats": any(r is not None for c in columns for r in c["repeats"]),
        "nominal_label": label((definition.get("points") or {}).get("label")) or str(_("Nominal")),
        "nominal_unit": nominal_unit,
        "computed_columns": computed_columns,
        "rows": rows,
        "summary": summary,
        "decision": decision_of(evaluation.get("decision")),
        "complete": bool(evaluation.get("complete")),
        "problems": listed,
        "fixed_text": fixed,
        "signature": "|".join(c["id"] for c in cells),
    }


def default_text(default: Any) -> str:
    """A parameter's default as its input shows it."""
    if isinstance(default, list):
        return ", ".join(str(v) for v in default)
    return "" if default is None else str(default)


def without_untouched_defaults(record, posted: Mapping[str, str]) -> dict[str, str]:
    """The values posted, less the parameters the record has no value for and that still show
    their default (the form shows defaults; keeping them out leaves no trail entry, and no
    reason asked after a return, for what nobody changed)."""
    template = calculation.compiled(record.template_version)
    defaults = {f"param.{p.name}": default_text(p.default) for p in template.parameters}
    return {
        k: v
        for k, v in posted.items()
        if not (k in defaults and k not in record.cells and v.strip() == defaults[k])
    }


def _where(cell: Mapping[str, Any]) -> str:
    text = label(cell.get("label"))
    if cell.get("point"):
        text = str(_("point %(n)s") % {"n": cell["point"]}) + " · " + text
    if cell.get("repeat"):
        text += f" #{cell['repeat']}"
    return text


def _param_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return token_text(value)


def cell_labels(record, cells: Mapping[str, str] | None = None) -> dict[str, str]:
    """{cell id: its label in the page's language, with the point and repeat}; the trail's
    equipment roles ("equipment.<asset no.>.role") too."""
    from metrolab.records.services.records import role_cell

    roles = {
        role_cell(asset_no): str(_("Role of equipment %(asset_no)s") % {"asset_no": asset_no})
        for asset_no in record.equipment_used.values_list("equipment__asset_no", flat=True)
    }
    try:
        found = calculation.input_cells(record, cells)
    except Exception:  # a template that no longer compiles still shows its trail
        return roles
    return {**roles, **{cell_id: _where(cell.to_json()) for cell_id, cell in found.items()}}
