"""Record templates: the documented, validated data format of an electronic original record's
content and calculations, and its evaluator (R6.2d; T/CMA CC045 templates, calculation and
rounding; issue 14). The format is described in `docs/record-templates.md` and by `SCHEMA`.

    compiled = compile_template(definition)          # validates everything; raises TemplateError
    compiled.cells({"points": "0, 50, 100"})         # the cells a person or instrument fills
    result = compiled.evaluate(cells, context=ctx)   # never raises for missing or bad readings
    result.as_json(); result.results_table(); result.next_due(day)

Pure Python: no Django, no other part of MetroLab (the records app stores `as_json()`).

Cells (stable string ids, values typed as text):
- ``param.<name>``: a parameter (empty: its default);
- ``header.<name>``: a header field typed by the user (``"source": null``);
- ``<input>.<point>``: the reading of an input at a point (points numbered from 1);
- ``<input>.<point>.<repeat>``: one of the readings of a repeated input (``repeats`` a
  parameter, or a number above 1).

Formulas see unrounded values (GB/T 8170-2008 §3.3: round once, from the original value); each
value's `text` is rounded per its ``round`` spec for display and the certificate.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import keyword
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from metrolab.metrology import rounding
from metrolab.metrology.conformity import DECISIONS
from metrolab.metrology.definitions import builtin_definitions, load_definition
from metrolab.metrology.rules import (
    Environment,
    Rule,
    RuleError,
    cmc_satisfied,
    compile_rule,
)
from metrolab.metrology.units import same_unit

__all__ = [
    "EQUIPMENT_KINDS",
    "EVALUATION_FORMAT",
    "FORMAT",
    "SCHEMA",
    "Cell",
    "CompiledTemplate",
    "Evaluation",
    "Role",
    "TemplateError",
    "Value",
    "add_months",
    "builtin_templates",
    "compile_template",
    "load_template",
]

FORMAT = "metrolab-record-template/1"
EVALUATION_FORMAT = "metrolab-record-evaluation/1"
SERVICES = ("verification", "calibration", "testing", "inspection")
MAX_POINTS = 1000
MAX_REPEATS = 100
#: The kinds of equipment a role may ask for (the equipment register's kinds).
EQUIPMENT_KINDS = ("standard", "auxiliary", "software")
#: Names every point scope provides: the point's nominal value, its number (from 1), and the
#: entry of the points parameter it comes from.
POINT_NAMES = ("nominal", "point", "point_value")
_RESERVED = set(POINT_NAMES) | {"value", "n_points"}
_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,62}$"
_PATH = r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$"
_NUMBER = {"type": ["number", "string"]}  # numbers may be written as decimal text (exact)
_LABEL = {
    "type": "object",
    "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
    "required": ["zh", "en"],
    "additionalProperties": False,
}
_ROUND = {
    "type": "object",
    "properties": {
        "places": {"type": "integer", "minimum": -20, "maximum": 20},
        "sig": {"type": "integer", "minimum": 1, "maximum": 20},
        "interval": _NUMBER,
        "like": {"type": "string", "pattern": _NAME},
        "u": {"type": "integer", "minimum": 1, "maximum": 2},
    },
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}
_FORMULA = {"type": "string", "minLength": 1, "maxLength": 2000}
_COMPUTED = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": _NAME},
        "label": _LABEL,
        "expr": _FORMULA,
        "unit": {"type": "string"},
        "round": _ROUND,
        "when": _FORMULA,
        "show": {"type": "boolean"},
        "note": {"type": "string"},
    },
    "required": ["name", "label", "expr"],
    "additionalProperties": False,
}

#: The format as a JSON-Schema-like dict (draft 2020-12 keywords: type, properties, required,
#: additionalProperties, items, enum, const, pattern, minimum, maximum, minLength, maxLength,
#: minItems, maxItems, minProperties, maxProperties). `compile_template` checks a definition
#: against it, then checks names, formulas and their dependencies.
SCHEMA: dict[str, Any] = {
    "$id": FORMAT,
    "type": "object",
    "properties": {
        "format": {"const": FORMAT},
        "code": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"},
        "version": {"type": "string"},
        "title": _LABEL,
        "service": {"enum": list(SERVICES)},
        "discipline": {"type": "string"},
        "quantity": {"type": "string"},
        "unit": {"type": "string"},
        "sources": {"type": "array", "items": {"type": "string"}},
        "description": _LABEL,
        "parameters": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": _NAME},
                    "label": _LABEL,
                    "type": {"enum": ["number", "choice", "text", "numbers"]},
                    "choices": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "default": {"type": ["number", "string", "array", "null"]},
                    "unit": {"type": "string"},
                    "min": _NUMBER,
                    "max": _NUMBER,
                    "note": {"type": "string"},
                },
                "required": ["name", "label", "type"],
                "additionalProperties": False,
            },
        },
        "tables": {
            "type": "object",
            "additionalProperties": {"type": "object", "minProperties": 1},
        },
        "header": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": _NAME},
                    "label": _LABEL,
                    "source": {"type": ["string", "null"], "pattern": _PATH},
                },
                "required": ["name", "label", "source"],
                "additionalProperties": False,
            },
        },
        "points": {
            "type": "object",
            "properties": {
                "parameter": {"type": "string", "pattern": _NAME},
                "nominal": _FORMULA,
                "unit": {"type": "string"},
                "label": _LABEL,
            },
            "required": ["parameter"],
            "additionalProperties": False,
        },
        "inputs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": _NAME},
                    "label": _LABEL,
                    "unit": {"type": "string"},
                    "repeats": {"type": ["integer", "string"], "minimum": 1, "maximum": 100},
                    "decimals": {"type": "integer", "minimum": 0, "maximum": 12},
                    "min": _NUMBER,
                    "max": _NUMBER,
                    "optional": {"type": "boolean"},
                    "note": {"type": "string"},
                },
                "required": ["name", "label", "unit"],
                "additionalProperties": False,
            },
        },
        "computed": {"type": "array", "items": _COMPUTED},
        "summary": {"type": "array", "items": _COMPUTED},
        "decision": {"type": "string", "pattern": _NAME},
        "cmc_check": {
            "type": "object",
            "properties": {
                "uncertainty": {"type": "string", "pattern": _NAME},
                "value": {"type": "string", "pattern": _NAME},
            },
            "required": ["uncertainty"],
            "additionalProperties": False,
        },
        "interval": {
            "type": "object",
            "properties": {"months": _FORMULA, "note": {"type": "string"}},
            "required": ["months"],
            "additionalProperties": False,
        },
        "results": {
            "type": "object",
            "properties": {
                "columns": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "value": {"type": "string", "pattern": _NAME},
                            "label": _LABEL,
                            "unit": {"type": "string"},
                        },
                        "required": ["value", "label"],
                        "additionalProperties": False,
                    },
                },
                "summary": {"type": "array", "items": {"type": "string", "pattern": _NAME}},
            },
            "required": ["columns"],
            "additionalProperties": False,
        },
        "layout": {
            "type": "object",
            "properties": {
                "sections": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "title": _LABEL,
                            "kind": {
                                "enum": [
                                    "header",
                                    "parameters",
                                    "readings",
                                    "computed",
                                    "summary",
                                    "text",
                                ]
                            },
                            "fields": {
                                "type": "array",
                                "items": {"type": "string", "pattern": _NAME},
                            },
                        },
                        "required": ["title", "kind"],
                        "additionalProperties": False,
                    },
                }
            },
            "required": ["sections"],
            "additionalProperties": False,
        },
        "roles": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": _NAME},
                    "label": _LABEL,
                    "kind": {"enum": list(EQUIPMENT_KINDS)},
                    "match": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "minLength": 1},
                    },
                },
                "required": ["name"],
                "additionalProperties": False,
            },
        },
        "fixed_text": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string", "pattern": _NAME}, "text": _LABEL},
                "required": ["name", "text"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["format", "code", "title", "service", "unit", "points", "inputs"],
    "additionalProperties": False,
}


class TemplateError(ValueError):
    """A template definition that cannot be used. `field` is the dotted path of the first
    problem (e.g. "computed.2.expr"); `errors` maps every faulty path to its messages."""

    def __init__(self, message: str, *, field: str | None = None, errors=None):
        super().__init__(message if field is None else f"{field}: {message}")
        self.message = message
        self.field = field
        self.errors: dict[str, list[str]] = errors or {(field or ""): [message]}


# --- a small JSON-Schema checker (the subset SCHEMA uses) -------------------------------------

_TYPES = {
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _check(value: Any, schema: Mapping, path: str, errors: dict[str, list[str]]) -> None:
    def add(message: str) -> None:
        errors.setdefault(path, []).append(message)

    if "const" in schema and value != schema["const"]:
        add(f"must be {schema['const']!r}")
        return
    if "enum" in schema and value not in schema["enum"]:
        add(f"must be one of {', '.join(map(str, schema['enum']))}")
        return
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            add(f"must be of type {' or '.join(types)}")
            return
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            add("must not be empty")
        if len(value) > schema.get("maxLength", 10_000):
            add(f"is too long (at most {schema['maxLength']} characters)")
        if "pattern" in schema and not re.match(schema["pattern"], value):
            add(f"{value[:40]!r} is not a valid name here")
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            add(f"must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            add(f"must be at most {schema['maximum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            add(f"needs at least {_entries(schema['minItems'])}")
        if len(value) > schema.get("maxItems", 10_000):
            add(f"has too many entries (at most {schema['maxItems']})")
        if "items" in schema:
            for i, item in enumerate(value):
                _check(item, schema["items"], _join(path, i), errors)
    if isinstance(value, Mapping):
        if len(value) < schema.get("minProperties", 0):
            add(f"needs at least {_entries(schema['minProperties'])}")
        if len(value) > schema.get("maxProperties", 10_000):
            add(f"takes at most {schema['maxProperties']} entry")
        properties = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value:
                errors.setdefault(_join(path, key), []).append("is required")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                _check(item, properties[key], _join(path, key), errors)
            elif extra is False:
                errors.setdefault(_join(path, key), []).append("is not a key of this format")
            elif isinstance(extra, Mapping):
                _check(item, extra, _join(path, key), errors)


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


# --- compiled parts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One value a person or an instrument types. `kind` is "parameter", "header" or
    "reading"; `name` the parameter, header field or input it belongs to."""

    id: str
    kind: str
    name: str
    label: Mapping[str, str]
    unit: str = ""
    point: int | None = None
    repeat: int | None = None
    nominal: Decimal | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "label": dict(self.label),
            "unit": self.unit,
            "point": self.point,
            "repeat": self.repeat,
            "nominal": None if self.nominal is None else _plain(self.nominal),
        }


@dataclass(frozen=True)
class Value:
    """A value of the record: `raw` unrounded (Decimal, bool, text or a list; None when it
    cannot be computed yet), `text` as printed (rounded per the template), its `unit`, and
    `applicable` False where the item's `when` guard excluded it at this point."""

    raw: Any
    text: str | None
    unit: str = ""
    applicable: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "value": _json_raw(self.raw),
            "text": self.text,
            "unit": self.unit,
            "applicable": self.applicable,
        }


def _plain(number: Decimal) -> str:
    try:
        return rounding.format_plain(number)
    except rounding.RoundingError:
        return str(number)


def _json_raw(raw: Any) -> Any:
    if isinstance(raw, Decimal):
        return _plain(raw)
    if isinstance(raw, list):
        return [_json_raw(v) for v in raw]
    return raw


@dataclass(frozen=True)
class _Parameter:
    name: str
    label: Mapping[str, str]
    type: str
    choices: tuple[str, ...]
    default: Any
    unit: str
    low: Decimal | None
    high: Decimal | None


@dataclass(frozen=True)
class _Input:
    name: str
    label: Mapping[str, str]
    unit: str
    repeats: int | str  # a number, or the name of a number parameter
    decimals: int | None
    low: Decimal | None
    high: Decimal | None
    optional: bool

    @property
    def repeated(self) -> bool:
        """Whether the input is a list of readings (cells <input>.<point>.<repeat>): its
        repeats are a parameter or a number above 1, whatever the value on a given record."""
        return isinstance(self.repeats, str) or self.repeats > 1


@dataclass(frozen=True)
class _Computed:
    name: str
    label: Mapping[str, str]
    rule: Rule
    unit: str
    round: Mapping[str, Any] | None
    when: Rule | None
    show: bool


# --- parsing typed text -------------------------------------------------------------------------

_MINUS = str.maketrans({"−": "-", "－": "-", "＋": "+", "．": ".", "，": ","})


def _parse_number(text: str) -> Decimal:
    cleaned = text.strip().translate(_MINUS).replace(" ", "")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,4})?", cleaned):
        raise ValueError(text)
    number = Decimal(cleaned)
    if abs(number.adjusted()) > 999:
        raise ValueError(text)
    return number


def _decimal_or_none(value: Any) -> Decimal | None:
    if value is None:
        return None
    return rounding.to_decimal(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _split_numbers(text: str) -> list[str]:
    return [part for part in re.split(r"[,;，；、\s]+", text.translate(_MINUS).strip()) if part]


# --- the compiled template ------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    """An equipment role the template names: declared in `roles` (with what fits it), or only
    used (a header source "equipment.<role>…" / "references.<role>…", a rule's
    correction("<role>", …), reference_U / reference_k). `fits` tells whether a piece of
    equipment (its kind, its name and model) fits the role: every criterion the declaration
    gives holds (`kind` equal; one of the `match` words in the name or model, case
    ignored); a role without criteria fits any equipment."""

    name: str
    label: Mapping[str, str] | None = None
    kind: str | None = None
    match: tuple[str, ...] = ()
    declared: bool = False

    def fits(self, *, kind: str | None, texts: Sequence[str | None]) -> bool:
        if self.kind is not None and kind != self.kind:
            return False
        if self.match:
            haystack = " ".join(t for t in texts if t).casefold()
            return any(word.casefold() in haystack for word in self.match)
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": dict(self.label) if self.label else None,
            "kind": self.kind,
            "match": list(self.match),
            "declared": self.declared,
        }


_ROLE_SOURCE = re.compile(r"^(?:equipment|references)\.([A-Za-z0-9_]+)(?:\.|$)")


@dataclass(frozen=True)
class CompiledTemplate:
    """A checked template, reusable and cheap to evaluate (`compile_template`)."""

    definition: Mapping[str, Any]
    code: str
    title: Mapping[str, str]
    service: str
    unit: str
    parameters: tuple[_Parameter, ...]
    tables: Mapping[str, Any]
    header: tuple[Mapping[str, Any], ...]
    points_parameter: str
    nominal_rule: Rule | None
    inputs: tuple[_Input, ...]
    computed: tuple[_Computed, ...]  # in evaluation order
    summary: tuple[_Computed, ...]  # in evaluation order
    decision: str | None
    cmc_check: Mapping[str, str] | None
    interval_rule: Rule | None
    results: Mapping[str, Any] | None
    roles: tuple[Role, ...] = ()  # declared ones first, then those only used
    _order: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    # -- parameters and cells --

    def _parameter_values(
        self, typed: Mapping[str, Any], problems: list[dict] | None = None
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for p in self.parameters:
            raw = typed.get(f"param.{p.name}", typed.get(p.name))
            cell = f"param.{p.name}"
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                raw = p.default
            try:
                values[p.name] = None if raw is None else _parameter_value(p, raw)
            except ValueError as exc:
                values[p.name] = None
                if problems is not None:
                    problems.append(_problem(cell, exc.args[0], str(exc.args[1])))
        return values

    def _points(
        self, params: Mapping[str, Any], problems: list[dict] | None = None
    ) -> list[tuple[Decimal, Decimal | None]]:
        """(entry of the points parameter, nominal value) for each point."""
        entries = params.get(self.points_parameter) or []
        result = []
        for entry in entries[:MAX_POINTS]:
            nominal: Decimal | None = entry
            if self.nominal_rule is not None:
                scope = {**self.tables, **params, "value": entry}
                try:
                    computed = self.nominal_rule.evaluate(scope)
                    nominal = computed if isinstance(computed, Decimal) else None
                except RuleError as exc:
                    nominal = None
                    if problems is not None:
                        problems.append(
                            _problem(None, "calculation", exc.message, field="points.nominal")
                        )
            result.append((entry, nominal))
        return result

    def _repeats(self, item: _Input, params: Mapping[str, Any]) -> int:
        if isinstance(item.repeats, int):
            return item.repeats
        value = params.get(item.repeats)
        if not isinstance(value, Decimal) or value != value.to_integral_value():
            return 1
        return max(1, min(MAX_REPEATS, int(value)))

    def _unit(self, unit: str, params: Mapping[str, Any]) -> str:
        if "{" not in unit:
            return unit
        return re.sub(
            r"\{([A-Za-z][A-Za-z0-9_]*)\}",
            lambda m: _text(params.get(m.group(1))) if m.group(1) in params else self.unit,
            unit,
        )

    def cells(self, parameters: Mapping[str, Any] | None = None) -> list[Cell]:
        """Every cell of a record of this template with these parameter values (parameter
        name or "param.<name>" → text; missing: the default): parameters, typed header fields,
        then the readings point by point, input by input, repeat by repeat."""
        params = self._parameter_values(parameters or {})
        result = [
            Cell(f"param.{p.name}", "parameter", p.name, p.label, self._unit(p.unit, params))
            for p in self.parameters
        ]
        result += [
            Cell(f"header.{h['name']}", "header", h["name"], h["label"])
            for h in self.header
            if h.get("source") is None
        ]
        for number, (_entry, nominal) in enumerate(self._points(params), start=1):
            for item in self.inputs:
                unit = self._unit(item.unit, params)
                repeats = self._repeats(item, params)
                for j in range(1, repeats + 1):
                    cell_id = (
                        f"{item.name}.{number}.{j}" if item.repeated else f"{item.name}.{number}"
                    )
                    result.append(
                        Cell(
                            cell_id,
                            "reading",
                            item.name,
                            item.label,
                            unit,
                            number,
                            j if item.repeated else None,
                            nominal,
                        )
                    )
        return result

    # -- evaluation --

    def evaluate(
        self, cells: Mapping[str, str], *, context: Mapping[str, Any] | None = None
    ) -> Evaluation:
        """The record's values from its cells (cell id → typed text) and `context`: the header
        sources (nested dicts), "references" {role: {"certificate_no", "due_date", "points":
        [{"nominal", "unit", "correction", "expanded_uncertainty", "coverage_factor"}]}} and
        "cmc" {"value", "unit", "relative"} or None. Never raises for missing or bad cells."""
        context = context or {}
        problems: list[dict] = []
        complete = True
        params = self._parameter_values(cells, problems)
        for p in self.parameters:
            if params[p.name] is None and p.type != "text":
                complete = False
        base = {**self.tables, **params}
        env = Environment(
            references=_mapping(context.get("references")) or {},
            cmc=_mapping(context.get("cmc")),
            unit=self._unit(self.unit, params),
        )
        header = {
            h["name"]: (
                _text(_dig(context, h["source"]))
                if h.get("source")
                else _text(cells.get(f"header.{h['name']}")).strip()
            )
            or None
            for h in self.header
        }
        points_out: list[dict[str, Value]] = []
        raw_points: list[dict[str, Any]] = []
        applicable: list[set[str]] = []
        units = {i.name: self._unit(i.unit, params) for i in self.inputs}
        units.update({c.name: self._unit(c.unit, params) for c in self.computed})
        point_unit = self._unit(self.definition["points"].get("unit", "{unit}"), params)
        for number, (entry, nominal) in enumerate(self._points(params, problems), start=1):
            scope = dict(base)
            scope.update(nominal=nominal, point=Decimal(number), point_value=entry)
            for item in self.inputs:
                value, ok = self._reading(item, number, cells, params, problems)
                scope[item.name] = value
                if not ok and not item.optional:
                    complete = False
            excluded: set[str] = set()
            for c in self.computed:
                value, ok = _compute(c, scope, env, problems, number)
                if value is _NOT_APPLICABLE:
                    excluded.add(c.name)
                    scope[c.name] = None
                else:
                    scope[c.name] = value
                complete = complete and ok
            raw_points.append(scope)
            applicable.append(excluded)
            out = {"nominal": Value(nominal, _text(nominal) or None, point_unit)}
            for item in self.inputs:
                out[item.name] = Value(
                    scope[item.name], _text(scope[item.name]) or None, units[item.name]
                )
            for c in self.computed:
                if c.name in excluded:
                    out[c.name] = Value(None, None, units[c.name], applicable=False)
                else:
                    out[c.name] = Value(
                        scope[c.name], _format(scope[c.name], c.round, scope), units[c.name]
                    )
            points_out.append(out)
            if self.cmc_check and env.cmc:
                problem = self._cmc_problem(number, scope, env.cmc, out)
                if problem:
                    problems.append(problem)

        def column(name: str) -> list:
            return [
                scope.get(name)
                for scope, excluded in zip(raw_points, applicable, strict=True)
                if name not in excluded
            ]

        summary_env = Environment(
            references=env.references, cmc=env.cmc, columns=column, unit=env.unit
        )
        summary_scope = dict(base)
        summary_scope["n_points"] = Decimal(len(raw_points))
        summary_out: dict[str, Value] = {}
        for c in self.summary:
            value, ok = _compute(c, summary_scope, summary_env, problems, None)
            unit = self._unit(c.unit, params)
            if value is _NOT_APPLICABLE:
                summary_scope[c.name] = None
                summary_out[c.name] = Value(None, None, unit, applicable=False)
            else:
                summary_scope[c.name] = value
                summary_out[c.name] = Value(value, _format(value, c.round, summary_scope), unit)
            complete = complete and ok
        months = None
        if self.interval_rule is not None:
            try:
                found = self.interval_rule.evaluate(base)
                if isinstance(found, Decimal) and found == found.to_integral_value() and found > 0:
                    months = int(found)
            except RuleError as exc:
                problems.append(_problem(None, "calculation", exc.message, field="interval.months"))
        if not raw_points:
            complete = False
        decision = None
        if complete and self.decision:
            decision = _decision(summary_scope.get(self.decision))
        return Evaluation(
            template=self.code,
            parameters={p.name: params[p.name] for p in self.parameters},
            header=header,
            points=points_out,
            summary=summary_out,
            decision=decision,
            complete=complete,
            problems=problems,
            interval_months=months,
            _template=self,
        )

    def _reading(self, item: _Input, number: int, cells, params, problems):
        repeats = self._repeats(item, params)
        ids = (
            [f"{item.name}.{number}"]
            if not item.repeated
            else [f"{item.name}.{number}.{j}" for j in range(1, repeats + 1)]
        )
        values: list[Decimal | None] = []
        ok = True
        for cell_id in ids:
            text = cells.get(cell_id)
            if text is None or (isinstance(text, str) and not text.strip()):
                values.append(None)
                ok = False
                continue
            value = _check_reading(item, cell_id, text, problems)
            ok = ok and value is not None
            values.append(value)
        if not item.repeated:
            return values[0], ok
        return values, ok

    def _cmc_problem(self, number, scope, cmc, out) -> dict | None:
        name = self.cmc_check["uncertainty"]
        value_name = self.cmc_check.get("value", "nominal")
        shown = out.get(name)
        U = scope.get(name)
        if not isinstance(U, Decimal):
            return None
        if shown is not None and shown.text:
            with contextlib.suppress(ValueError):
                U = _parse_number(shown.text)  # the U the certificate would print
        value = scope.get(value_name)
        unit = str(cmc.get("unit") or "")
        other_unit = shown is not None and not same_unit(unit, shown.unit)
        if not cmc.get("relative") and unit and other_unit:
            return _problem(
                None,
                "cmc",
                f"point {number}: the authorised CMC is in {unit}, the uncertainty in "
                f"{shown.unit}; give the CMC in {shown.unit}",
                point=number,
                field=name,
            )
        try:
            ok = cmc_satisfied(cmc, U, value if isinstance(value, Decimal) else None)
        except rounding.RoundingError as exc:
            return _problem(None, "cmc", f"the authorised CMC cannot be read: {exc.message}")
        if ok is False:
            unit = cmc.get("unit") or ""
            return _problem(
                None,
                "below_cmc",
                f"point {number}: the expanded uncertainty {_plain(U)} is smaller than the "
                f"authorised CMC ({cmc.get('value')} {unit}"
                f"{', relative' if cmc.get('relative') else ''})",
                point=number,
                field=name,
            )
        return None


_NOT_APPLICABLE = object()


def _compute(c: _Computed, scope, env, problems, number):
    """(value, ok): the value (or _NOT_APPLICABLE); ok False when the rule failed."""
    try:
        if c.when is not None:
            guard = c.when.evaluate(scope, env)
            if guard is None:
                return None, True
            if guard is False:
                return _NOT_APPLICABLE, True
            if guard is not True:
                raise RuleError("a `when` guard must be a yes/no value")
        return c.rule.evaluate(scope, env), True
    except RuleError as exc:
        where = f"point {number}: " if number is not None else ""
        problems.append(
            _problem(
                None, "calculation", f"{where}{c.name}: {exc.message}", point=number, field=c.name
            )
        )
        return None, False


def _problem(cell, code, message, *, point=None, field=None) -> dict:
    return {"cell": cell, "point": point, "field": field, "code": code, "message": message}


def _check_reading(item: _Input, cell_id: str, text: Any, problems) -> Decimal | None:
    try:
        value = _parse_number(str(text))
    except ValueError:
        problems.append(
            _problem(
                cell_id, "not_a_number", f"{str(text)[:40]!r} is not a number", field=item.name
            )
        )
        return None
    if item.decimals is not None and -value.as_tuple().exponent > item.decimals:
        problems.append(
            _problem(
                cell_id,
                "too_many_decimals",
                f"{_plain(value)} has more than {item.decimals} decimal places",
                field=item.name,
            )
        )
        return None
    if (item.low is not None and value < item.low) or (item.high is not None and value > item.high):
        low = "" if item.low is None else _plain(item.low)
        high = "" if item.high is None else _plain(item.high)
        problems.append(
            _problem(
                cell_id,
                "out_of_range",
                f"{_plain(value)} is outside the allowed range [{low}, {high}]",
                field=item.name,
            )
        )
        return None
    return value


def _parameter_value(p: _Parameter, raw: Any) -> Any:
    """The typed value of a parameter; ValueError((code, message)) when it is not valid."""
    if p.type == "text":
        return str(raw)
    if p.type == "choice":
        text = _text(raw) if not isinstance(raw, str) else raw.strip()
        if text not in p.choices:
            raise ValueError("not_a_choice", f"{text!r} is not one of {', '.join(p.choices)}")
        return text
    if p.type == "number":
        number = _number_of(raw)
        _in_range(p, number)
        return number
    parts = raw if isinstance(raw, list) else _split_numbers(str(raw))
    numbers = [_number_of(part) for part in parts]
    if len(numbers) > MAX_POINTS:
        raise ValueError("out_of_range", f"at most {MAX_POINTS} numbers")
    for number in numbers:
        _in_range(p, number)
    return numbers


def _number_of(raw: Any) -> Decimal:
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError("not_a_number", f"{raw!r} is not a number")
    try:
        return _parse_number(repr(raw) if isinstance(raw, float) else str(raw))
    except ValueError:
        raise ValueError("not_a_number", f"{str(raw)[:40]!r} is not a number") from None


def _in_range(p: _Parameter, number: Decimal) -> None:
    if (p.low is not None and number < p.low) or (p.high is not None and number > p.high):
        raise ValueError("out_of_range", f"{_plain(number)} is outside the allowed range")


def _format(raw: Any, spec: Mapping[str, Any] | None, scope: Mapping[str, Any]) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, Decimal):
        return _text(raw)
    try:
        if not spec:
            return _plain(raw)
        if "places" in spec:
            return _plain(rounding.round_places(raw, spec["places"]))
        if "sig" in spec:
            return _plain(rounding.round_significant(raw, spec["sig"]))
        if "interval" in spec:
            return _plain(rounding.round_interval(raw, spec["interval"]))
        if "u" in spec:
            return _plain(rounding.round_uncertainty(raw, digits=spec["u"]))
        U = scope.get(spec["like"])
        if not isinstance(U, Decimal) or U <= 0:
            return None
        digits = spec.get("_digits", 2)
        return _plain(rounding.report(raw, U, digits=digits)[0])
    except rounding.RoundingError:
        return _plain(raw)


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _dig(context: Mapping[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        else:
            return None
    return value


def _decision(value: Any) -> str | None:
    if isinstance(value, bool):
        return "pass" if value else "fail"
    if isinstance(value, str) and value in DECISIONS:
        return value
    return None


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # unreachable


@dataclass
class Evaluation:
    """The values of one record. `points`: one dict per point (input, computed and "nominal"
    name → Value); `summary`: summary name → Value; `decision`: "pass", "fail", "undecided",
    "conditional_pass" or "conditional_fail" (None while incomplete or when the template has
    no decision); `complete`: every required reading and parameter is entered and valid and
    every rule could be evaluated; `problems`: [{"cell", "point", "field", "code",
    "message"}]."""

    template: str
    parameters: dict[str, Any]
    header: dict[str, str | None]
    points: list[dict[str, Value]]
    summary: dict[str, Value]
    decision: str | None
    complete: bool
    problems: list[dict[str, Any]]
    interval_months: int | None
    _template: CompiledTemplate = field(repr=False)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready, stable rendering (what the records app stores)."""
        return {
            "format": EVALUATION_FORMAT,
            "template": self.template,
            "parameters": {k: _json_raw(v) for k, v in self.parameters.items()},
            "header": dict(self.header),
            "points": [
                {"point": i, "values": {name: v.to_json() for name, v in point.items()}}
                for i, point in enumerate(self.points, start=1)
            ],
            "summary": {name: v.to_json() for name, v in self.summary.items()},
            "decision": self.decision,
            "complete": self.complete,
            "problems": [dict(p) for p in self.problems],
            "interval_months": self.interval_months,
        }

    def results_table(self) -> dict[str, Any]:
        """The results the certificate prints, per the template's `results`: {"columns":
        [{"name", "label", "unit"}], "rows": [{"point", "cells": [text]}], "summary":
        [{"name", "label", "text", "unit"}]}."""
        spec = self._template.results or {"columns": []}
        columns = []
        for column in spec["columns"]:
            unit = column.get("unit")
            if unit is None:
                unit = self.points[0][column["value"]].unit if self.points else ""
            else:
                unit = self._template._unit(unit, self.parameters)
            columns.append({"name": column["value"], "label": dict(column["label"]), "unit": unit})
        rows = [
            {
                "point": i,
                "cells": [
                    point[c["value"]].text if c["value"] in point else None for c in spec["columns"]
                ],
            }
            for i, point in enumerate(self.points, start=1)
        ]
        labels = {c.name: c.label for c in self._template.summary}
        summary = [
            {
                "name": name,
                "label": dict(labels[name]),
                "text": self.summary[name].text,
                "unit": self.summary[name].unit,
            }
            for name in spec.get("summary", [])
        ]
        return {"columns": columns, "rows": rows, "summary": summary}

    def next_due(self, day: dt.date) -> dt.date | None:
        """The last day of validity of a verification done on `day`: `interval_months` later,
        less one day (有效期至; e.g. 2026-12-07 with 6 months → 2027-06-06). None when the
        template defines no interval."""
        if self.interval_months is None:
            return None
        return add_months(day, self.interval_months) - dt.timedelta(days=1)


# --- compilation ------------------------------------------------------------------------------


class _Errors:
    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def rule(self, text: str, path: str) -> Rule | None:
        try:
            return compile_rule(text, field=path)
        except RuleError as exc:
            self.add(path, exc.message)
            return None


def _table(value: Any, path: str, errors: _Errors) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _table(v, _join(path, k), errors) for k, v in value.items()}
    try:
        return rounding.to_decimal(value)
    except rounding.RoundingError:
        errors.add(path, "a table entry must be a number (or a table)")
        return None


def _order(
    items: Sequence[Mapping],
    rules: dict[str, Rule | None],
    known: set[str],
    section: str,
    errors: _Errors,
) -> list[str]:
    """The items' names in an order where each comes after those it uses (errors on cycles)."""
    names = [item["name"] for item in items]
    index = {name: i for i, name in enumerate(names)}
    deps: dict[str, set[str]] = {}
    for i, name in enumerate(names):
        rule = rules.get(name)
        guard = rules.get(f"{name}#when")
        used = set()
        for r in (rule, guard):
            if r is not None:
                used |= r.names
        for unknown in sorted(used - known - set(names)):
            path = (
                f"{section}.{i}.expr" if rule and unknown in rule.names else f"{section}.{i}.when"
            )
            errors.add(path, f"unknown name {unknown!r}")
        deps[name] = used & set(names)
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, stack: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*stack[stack.index(name) :], name]
            errors.add(
                f"{section}.{index[name]}.expr",
                f"formulas refer to each other in a circle: {' → '.join(cycle)}",
            )
            return
        state[name] = 1
        for dep in sorted(deps[name]):
            visit(dep, [*stack, name])
        state[name] = 2
        order.append(name)

    for name in names:
        visit(name, [])
    return order


def compile_template(definition: Mapping[str, Any]) -> CompiledTemplate:
    """Check a template definition completely and compile its rules. Raises `TemplateError`
    with the first problem's `field` path and `errors` for all of them: unknown keys, wrong
    types, bad or duplicate names, formulas that are not allowed or use unknown names, cycles
    between formulas, references to things that do not exist."""
    errors = _Errors()
    _check(definition, SCHEMA, "", errors.errors)
    if errors.errors:
        _raise(errors)
    d = definition
    seen: dict[str, str] = {}

    def claim(name: str, path: str) -> None:
        if name in _RESERVED or keyword.iskeyword(name):
            errors.add(path, f"{name!r} is reserved (a name every rule has)")
        elif name in seen:
            errors.add(path, f"the name {name!r} is already used at {seen[name]}")
        else:
            seen[name] = path

    # parameters
    parameters = []
    for i, p in enumerate(d.get("parameters", [])):
        path = f"parameters.{i}"
        claim(p["name"], f"{path}.name")
        choices = tuple(p.get("choices", ()))
        if p["type"] == "choice" and not choices:
            errors.add(f"{path}.choices", "a choice parameter needs its choices")
        if p["type"] != "choice" and "choices" in p:
            errors.add(f"{path}.choices", "only a choice parameter has choices")
        try:
            low, high = _decimal_or_none(p.get("min")), _decimal_or_none(p.get("max"))
        except rounding.RoundingError:
            errors.add(f"{path}.min", "min and max must be numbers")
            low = high = None
        param = _Parameter(
            p["name"],
            p["label"],
            p["type"],
            choices,
            p.get("default"),
            p.get("unit", ""),
            low,
            high,
        )
        if param.default is not None:
            try:
                _parameter_value(param, param.default)
            except ValueError as exc:
                errors.add(f"{path}.default", str(exc.args[1]))
        parameters.append(param)
    by_param = {p.name: p for p in parameters}
    # tables
    tables = {}
    for name, table in d.get("tables", {}).items():
        if not re.match(_NAME, name):
            errors.add(f"tables.{name}", "is not a valid name")
            continue
        claim(name, f"tables.{name}")
        tables[name] = _table(table, f"tables.{name}", errors)
    # header
    header_names = set()
    for i, h in enumerate(d.get("header", [])):
        if h["name"] in header_names:
            errors.add(f"header.{i}.name", f"the header field {h['name']!r} is already defined")
        header_names.add(h["name"])
    # points
    points = d["points"]
    points_parameter = points["parameter"]
    if by_param.get(points_parameter) is None or by_param[points_parameter].type != "numbers":
        errors.add(
            "points.parameter", f"must name a parameter of type numbers, not {points_parameter!r}"
        )
    known_params = set(by_param) | set(tables)
    nominal_rule = None
    if "nominal" in points:
        nominal_rule = errors.rule(points["nominal"], "points.nominal")
        if nominal_rule is not None:
            for unknown in sorted(nominal_rule.names - known_params - {"value"}):
                errors.add("points.nominal", f"unknown name {unknown!r}")
    # inputs
    inputs = []
    for i, item in enumerate(d["inputs"]):
        path = f"inputs.{i}"
        claim(item["name"], f"{path}.name")
        repeats = item.get("repeats", 1)
        if isinstance(repeats, str) and (
            by_param.get(repeats) is None or by_param[repeats].type != "number"
        ):
            errors.add(
                f"{path}.repeats",
                f"must be a whole number or the name of a number parameter, not {repeats!r}",
            )
        try:
            low, high = _decimal_or_none(item.get("min")), _decimal_or_none(item.get("max"))
        except rounding.RoundingError:
            errors.add(f"{path}.min", "min and max must be numbers")
            low = high = None
        inputs.append(
            _Input(
                item["name"],
                item["label"],
                item["unit"],
                repeats,
                item.get("decimals"),
                low,
                high,
                item.get("optional", False),
            )
        )
    input_names = {i.name for i in inputs}
    point_known = known_params | input_names | set(POINT_NAMES)

    def compile_items(
        section: str, known: set[str], columns: set[str] | None
    ) -> tuple[_Computed, ...]:
        items = d.get(section, [])
        rules: dict[str, Rule | None] = {}
        for i, item in enumerate(items):
            path = f"{section}.{i}"
            claim(item["name"], f"{path}.name")
            rule = errors.rule(item["expr"], f"{path}.expr")
            rules[item["name"]] = rule
            if "when" in item:
                rules[f"{item['name']}#when"] = errors.rule(item["when"], f"{path}.when")
            for r, where in ((rule, "expr"), (rules.get(f"{item['name']}#when"), "when")):
                if r is None:
                    continue
                if columns is None and r.columns:
                    errors.add(f"{path}.{where}", "column() is only available in summary formulas")
                for col in sorted(r.columns - (columns or set())):
                    if columns is not None:
                        errors.add(f"{path}.{where}", f"column({col!r}): no such point value")
            spec = item.get("round")
            if spec and "interval" in spec:
                try:
                    rounding.round_interval(0, spec["interval"])
                except rounding.RoundingError as exc:
                    errors.add(f"{path}.round.interval", exc.message)
            if spec and "like" in spec and spec["like"] not in {x["name"] for x in items}:
                errors.add(f"{path}.round.like", f"{spec['like']!r} is not a value of this table")
        order = _order(items, rules, known, section, errors)
        by_name = {item["name"]: item for item in items}
        compiled = []
        for name in order:
            item = by_name[name]
            spec = dict(item["round"]) if "round" in item else None
            if spec and "like" in spec and spec["like"] in by_name:
                target = by_name[spec["like"]].get("round") or {}
                spec["_digits"] = target.get("u", 2)
            rule = rules.get(name)
            if rule is None:
                continue
            compiled.append(
                _Computed(
                    name,
                    item["label"],
                    rule,
                    item.get("unit", ""),
                    spec,
                    rules.get(f"{name}#when"),
                    item.get("show", True),
                )
            )
        return tuple(compiled)

    computed = compile_items("computed", point_known, None)
    point_values = input_names | {c["name"] for c in d.get("computed", [])} | {"nominal"}
    summary = compile_items("summary", known_params | {"n_points"}, point_values)
    summary_names = {c["name"] for c in d.get("summary", [])}
    computed_names = {c["name"] for c in d.get("computed", [])}
    decision = d.get("decision")
    if decision is not None and decision not in summary_names:
        errors.add("decision", f"must name a summary value, not {decision!r}")
    cmc_check = d.get("cmc_check")
    if cmc_check:
        if cmc_check["uncertainty"] not in computed_names:
            errors.add("cmc_check.uncertainty", "must name a computed value of the points")
        if cmc_check.get("value", "nominal") not in point_values:
            errors.add("cmc_check.value", "must name a value of the points")
    interval_rule = None
    if "interval" in d:
        interval_rule = errors.rule(d["interval"]["months"], "interval.months")
        if interval_rule is not None:
            for unknown in sorted(interval_rule.names - known_params):
                errors.add("interval.months", f"unknown name {unknown!r}")
    results = d.get("results")
    if results:
        for i, column in enumerate(results["columns"]):
            if column["value"] not in point_values:
                errors.add(
                    f"results.columns.{i}.value",
                    f"{column['value']!r} is not a value of the points",
                )
        for i, name in enumerate(results.get("summary", [])):
            if name not in summary_names:
                errors.add(f"results.summary.{i}", f"{name!r} is not a summary value")
    every = set(by_param) | header_names | point_values | summary_names
    for i, section in enumerate(d.get("layout", {}).get("sections", [])):
        for j, name in enumerate(section.get("fields", [])):
            if name not in every:
                errors.add(
                    f"layout.sections.{i}.fields.{j}", f"{name!r} is not a field of this template"
                )
    fixed = set()
    for i, text in enumerate(d.get("fixed_text", [])):
        if text["name"] in fixed:
            errors.add(f"fixed_text.{i}.name", "is already used")
        fixed.add(text["name"])
    roles = _roles(d, computed, summary, nominal_rule, interval_rule, errors)
    if errors.errors:
        _raise(errors)
    return CompiledTemplate(
        definition=definition,
        code=d["code"],
        title=d["title"],
        service=d["service"],
        unit=d["unit"],
        parameters=tuple(parameters),
        tables=tables,
        header=tuple(d.get("header", [])),
        points_parameter=points_parameter,
        nominal_rule=nominal_rule,
        inputs=tuple(inputs),
        computed=computed,
        summary=summary,
        decision=decision,
        cmc_check=cmc_check,
        interval_rule=interval_rule,
        results=results,
        roles=roles,
    )


def _roles(d, computed, summary, nominal_rule, interval_rule, errors: _Errors) -> tuple[Role, ...]:
    """The template's equipment roles: those declared in `roles`, in their order, then those
    only used (header sources, then rules). When `roles` is given, every role used must be
    declared there (each use not declared is an error at its path)."""
    declared: dict[str, Role] = {}
    for i, r in enumerate(d.get("roles", [])):
        if r["name"] in declared:
            errors.add(f"roles.{i}.name", f"the role {r['name']!r} is already declared")
            continue
        declared[r["name"]] = Role(
            r["name"], r.get("label"), r.get("kind"), tuple(r.get("match", ())), True
        )
    used: dict[str, str] = {}  # role → where it is first used
    for i, h in enumerate(d.get("header", [])):
        found = _ROLE_SOURCE.match(h.get("source") or "")
        if found:
            used.setdefault(found.group(1), f"header.{i}.source")
    if nominal_rule is not None:
        for role in sorted(nominal_rule.roles):
            used.setdefault(role, "points.nominal")
    for section, items in (("computed", computed), ("summary", summary)):
        index = {item["name"]: i for i, item in enumerate(d.get(section, []))}
        for c in sorted(items, key=lambda c: index.get(c.name, 0)):
            path = f"{section}.{index.get(c.name, 0)}"
            for role in sorted(c.rule.roles):
                used.setdefault(role, f"{path}.expr")
            for role in sorted(c.when.roles if c.when is not None else ()):
                used.setdefault(role, f"{path}.when")
    if interval_rule is not None:
        for role in sorted(interval_rule.roles):
            used.setdefault(role, "interval.months")
    if "roles" in d:
        for role, path in used.items():
            if role not in declared:
                errors.add(path, f"the role {role!r} is not declared in roles")
    return tuple(declared.values()) + tuple(Role(name) for name in used if name not in declared)


def _raise(errors: _Errors) -> None:
    path, messages = next(iter(errors.errors.items()))
    raise TemplateError(messages[0], field=path, errors=errors.errors)


# --- loading ------------------------------------------------------------------------------------

BUILTIN_DIRECTORY = Path(__file__).with_name("builtin_templates")


def load_template(text: str) -> dict[str, Any]:
    """A template definition from its JSON text (or YAML text, when PyYAML is installed)."""
    return load_definition(text, error=TemplateError, what="a template")


def builtin_templates() -> dict[str, dict[str, Any]]:
    """The built-in template definitions (package data), by code."""
    return builtin_definitions(BUILTIN_DIRECTORY, error=TemplateError, what="a template")
