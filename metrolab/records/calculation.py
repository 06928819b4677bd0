"""The glue between a record and the template engine (`metrolab.metrology.record_template`):
the compiled template of a version (cached by the digest of its definition), the engine's
context built from what the record pinned, and the evaluation of the record's cells.

The context (docs/record-templates.md) is made of:
- `Record.context` as frozen at creation: item, commission, customer, method, cmc;
- "equipment" and "references" by role, from the record's `RecordEquipment` snapshots (the
  calibration in force on the day the record was made, as it then stood);
- "environment": the mean temperature and humidity of the conditions stored with the record
  at submission (empty before).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from metrolab.metrology.record_template import (
    Cell,
    CompiledTemplate,
    Evaluation,
    Role,
    compile_template,
)


@lru_cache(maxsize=64)
def _compiled(digest: str, text: str) -> CompiledTemplate:
    return compile_template(json.loads(text))


def compiled(version) -> CompiledTemplate:
    """The compiled template of a TemplateVersion (compiled once per definition)."""
    from metrolab.records.services.templates import definition_digest

    definition = version.definition or {}
    digest = version.digest or definition_digest(definition)
    return _compiled(digest, json.dumps(definition, sort_keys=True, ensure_ascii=False))


def _compiled_definition(definition: Mapping[str, Any]) -> CompiledTemplate:
    from metrolab.records.services.templates import definition_digest

    return _compiled(
        definition_digest(definition), json.dumps(definition, sort_keys=True, ensure_ascii=False)
    )


def roles_of(version) -> tuple[Role, ...]:
    """The equipment roles of a TemplateVersion (the engine's `CompiledTemplate.roles`:
    declared in the template's `roles`, or named by its header sources and rules)."""
    return compiled(version).roles


def template_roles(definition: Mapping[str, Any]) -> list[str]:
    """The names of the equipment roles a template definition names (`roles_of`)."""
    return [role.name for role in _compiled_definition(definition).roles]


def missing_roles(record, uses: Iterable[Any] | None = None) -> list[Role]:
    """The template's roles no equipment of the record holds (each one required: a record is
    not submitted while a reference instrument is missing)."""
    if uses is None:
        uses = record.equipment_used.all()
    held = {use.role for use in uses if use.role}
    return [role for role in roles_of(record.template_version) if role.name not in held]


def equipment_context(uses: Iterable[Any]) -> tuple[dict, dict]:
    """("equipment", "references") of the context from the record's equipment snapshots."""
    equipment: dict[str, dict] = {}
    references: dict[str, dict] = {}
    for use in uses:
        if not use.role:
            continue
        snap = use.snapshot or {}
        equipment[use.role] = {
            key: snap.get(key)
            for key in ("asset_no", "name", "model", "serial_no", "certificate_no", "due_date")
        }
        references[use.role] = {
            "certificate_no": snap.get("certificate_no"),
            "due_date": snap.get("due_date"),
            "points": list(snap.get("points") or ()),
        }
    return equipment, references


def environment_context(conditions: Mapping[str, Any] | None) -> dict:
    quantities = (conditions or {}).get("quantities") or {}
    out = {}
    for name in ("temperature", "humidity"):
        q = quantities.get(name) or {}
        mean = q.get("mean")
        if mean is not None:
            out[name] = f"{mean:.1f} {q.get('unit') or ''}".strip()
    return out


def context_of(record, uses: Iterable[Any] | None = None) -> dict:
    """The engine's context for `record` (see the module docstring)."""
    if uses is None:
        uses = record.equipment_used.all()
    equipment, references = equipment_context(uses)
    frozen = dict(record.context or {})
    return {
        **frozen,
        "equipment": equipment,
        "references": references,
        "environment": environment_context(record.conditions),
        "cmc": frozen.get("cmc"),
    }


def evaluate(record, cells: Mapping[str, str] | None = None, *, uses=None) -> Evaluation:
    """The evaluation of `cells` (default: the record's) in the record's context."""
    template = compiled(record.template_version)
    return template.evaluate(
        record.cells if cells is None else cells, context=context_of(record, uses)
    )


def input_cells(record, cells: Mapping[str, str] | None = None) -> dict[str, Cell]:
    """{cell id: Cell} of the cells people and instruments type, with the parameters the
    cells give (the points and repeats depend on them)."""
    template = compiled(record.template_version)
    values = record.cells if cells is None else cells
    return {cell.id: cell for cell in template.cells(values)}


def protected_names(record) -> set[str]:
    """Names of the template's parts no one types: computed values, summary values, header
    fields filled from the commission, fixed text."""
    template = compiled(record.template_version)
    names = {c.name for c in template.computed} | {c.name for c in template.summary}
    names |= {f"header.{h['name']}" for h in template.header if h.get("source") is not None}
    names |= {"fixed_text", "nominal", "decision", "results"}
    return names


def is_protected(cell_id: str, names: set[str]) -> bool:
    head = cell_id.split(".", 1)[0]
    if cell_id.startswith("header."):
        return cell_id in names
    return head in names
