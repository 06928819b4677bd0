"""Procedures: the documented, validated format of the automatic part of a record (R8b, R6.2a;
issue 16). A procedure drives instruments by roles through set point → settle → read →
compare with tolerance (MET/CAL's step model) and names the record template cells its
readings go to. The format is described in `docs/procedures.md` and by `SCHEMA`.

    compiled = compile_procedure(definition, template=template_definition)  # ProcedureError
    plan = compiled.plan({"points": "1, 10"}, template=template_definition)  # concrete steps
    Executor(plan, drivers, ...).run()                                      # executor.py

Pure Python: no Django. Numbers are Decimal throughout (exact as written).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from metrolab.metrology.definitions import builtin_definitions, load_definition
from metrolab.metrology.record_template import (
    CompiledTemplate,
    TemplateError,
    _check,
    compile_template,
)
from metrolab.metrology.units import same_unit, unit_key

__all__ = [
    "FORMAT",
    "FUNCTION_UNITS",
    "SCHEMA",
    "CompiledProcedure",
    "MeasureStep",
    "Plan",
    "ProcedureError",
    "PromptStep",
    "SetupStep",
    "StandbyStep",
    "Tolerance",
    "builtin_procedures",
    "compile_procedure",
    "load_procedure",
]

FORMAT = "metrolab-procedure/1"
MAX_READINGS = 100
MAX_PLANNED_STEPS = 5000

#: The functions a step may use and the units each is measured in (compared with
#: `same_unit`: "Ω" and "Ω", "℃" and "°C" are one unit; nothing is converted).
FUNCTION_UNITS: dict[str, tuple[str, ...]] = {
    "dcv": ("V", "mV", "µV", "kV"),
    "acv": ("V", "mV", "µV", "kV"),
    "dci": ("A", "mA", "µA"),
    "aci": ("A", "mA", "µA"),
    "resistance": ("Ω", "mΩ", "kΩ", "MΩ", "GΩ"),
    "frequency": ("Hz", "kHz", "MHz"),
    "pressure": ("Pa", "kPa", "MPa", "hPa", "bar", "mbar", "psi"),
    "temperature": ("°C", "K"),
}

_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,62}$"
_CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
_LABEL = {
    "type": "object",
    "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
    "required": ["zh", "en"],
    "additionalProperties": False,
}
#: A number: a JSON number, exact decimal text, or {"parameter": name} of the record template.
_VALUE = {
    "type": ["number", "string", "object"],
    "properties": {"parameter": {"type": "string", "pattern": _NAME}},
    "required": ["parameter"],
    "additionalProperties": False,
}
_TOLERANCE = {
    "type": "object",
    "properties": {
        "percent": _VALUE,  # % of nominal
        "ppm": _VALUE,  # ppm of nominal
        "units": _VALUE,  # absolute, in the step's unit
        "range_ppm": _VALUE,  # ppm of the step's range
    },
    "minProperties": 1,
    "additionalProperties": False,
}
_ROLE = {"type": "string", "pattern": _NAME}
_STEP_COMMON = {
    "kind": {"enum": ["setup", "prompt", "measure", "standby"]},
    "name": {"type": "string", "pattern": _NAME},
    "title": _LABEL,
}

SETUP_SCHEMA = {
    "type": "object",
    "properties": {
        **_STEP_COMMON,
        "role": _ROLE,
        "reset": {"type": "boolean"},
        "self_test": {"type": "boolean"},
        "configure": {
            "type": "object",
            "properties": {
                "function": {"enum": list(FUNCTION_UNITS)},
                "range": _VALUE,
                "unit": {"type": "string", "minLength": 1},
            },
            "required": ["function", "unit"],
            "additionalProperties": False,
        },
    },
    "required": ["kind", "role"],
    "additionalProperties": False,
}
PROMPT_SCHEMA = {
    "type": "object",
    "properties": {**_STEP_COMMON, "message": _LABEL},
    "required": ["kind", "message"],
    "additionalProperties": False,
}
MEASURE_SCHEMA = {
    "type": "object",
    "properties": {
        **_STEP_COMMON,
        "function": {"enum": list(FUNCTION_UNITS)},
        "unit": {"type": "string", "minLength": 1},
        "range": _VALUE,
        "points": {
            "type": ["array", "object"],
            "items": {"type": ["number", "string"]},
            "minItems": 1,
            "properties": {"parameter": {"type": "string", "pattern": _NAME}},
            "required": ["parameter"],
            "additionalProperties": False,
        },
        "source": _ROLE,
        "read": _ROLE,
        "settle": {
            "type": "object",
            "properties": {
                "rule": {"enum": ["stdev", "wait"]},
                "last": {"type": "integer", "minimum": 2, "maximum": 100},
                "below": _VALUE,
                "interval": _VALUE,
                "seconds": _VALUE,
                "max_seconds": _VALUE,
            },
            "required": ["rule"],
            "additionalProperties": False,
        },
        "readings": {
            "type": ["integer", "object"],
            "minimum": 1,
            "maximum": MAX_READINGS,
            "properties": {"parameter": {"type": "string", "pattern": _NAME}},
            "required": ["parameter"],
            "additionalProperties": False,
        },
        "interval": _VALUE,
        "cells": {"type": "string", "minLength": 1, "maxLength": 200},
        "tolerance": _TOLERANCE,
        "standard_accuracy": _TOLERANCE,
    },
    "required": ["kind", "function", "unit", "points", "read", "settle", "readings", "cells"],
    "additionalProperties": False,
}
STANDBY_SCHEMA = {
    "type": "object",
    "properties": {**_STEP_COMMON, "roles": {"type": "array", "items": _ROLE, "minItems": 1}},
    "required": ["kind"],
    "additionalProperties": False,
}
STEP_SCHEMAS = {
    "setup": SETUP_SCHEMA,
    "prompt": PROMPT_SCHEMA,
    "measure": MEASURE_SCHEMA,
    "standby": STANDBY_SCHEMA,
}

#: The format as a JSON-Schema-like dict (the subset `record_template` checks); each step is
#: checked against `STEP_SCHEMAS[kind]`. `compile_procedure` then checks roles, units,
#: parameters and cells.
SCHEMA: dict[str, Any] = {
    "$id": FORMAT,
    "type": "object",
    "properties": {
        "format": {"const": FORMAT},
        "code": {"type": "string", "pattern": _CODE},
        "version": {"type": "string"},
        "title": _LABEL,
        "description": _LABEL,
        "sources": {"type": "array", "items": {"type": "string"}},
        "template": {"type": "string", "pattern": _CODE},
        "roles": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": _NAME},
                    "label": _LABEL,
                    "kind": {"enum": ["source", "meter", "reference"]},
                    "functions": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"enum": list(FUNCTION_UNITS)},
                    },
                    "template_role": {"type": "string", "pattern": _NAME},
                },
                "required": ["name", "label", "kind"],
                "additionalProperties": False,
            },
        },
        "steps": {"type": "array", "minItems": 1, "items": {"type": "object"}},
    },
    "required": ["format", "code", "version", "title", "template", "roles", "steps"],
    "additionalProperties": False,
}


class ProcedureError(ValueError):
    """A procedure definition (or a plan of it) that cannot be used. `field` is the dotted
    path of the first problem (e.g. "steps.3.cells"); `errors` maps every faulty path to its
    messages."""

    def __init__(self, message: str, *, field: str | None = None, errors=None):
        super().__init__(message if field is None else f"{field}: {message}")
        self.message = message
        self.field = field
        self.errors: dict[str, list[str]] = errors or {(field or ""): [message]}


# --- compiled parts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tolerance:
    """±(percent % of |nominal| + ppm ppm of |nominal| + units + range_ppm ppm of range),
    each part a Decimal or ("parameter", name) until planned."""

    percent: Any = None
    ppm: Any = None
    units: Any = None
    range_ppm: Any = None

    def limit(self, nominal: Decimal, range_: Decimal | None) -> Decimal:
        """The half-width of the tolerance at `nominal` (all parts resolved to Decimal)."""
        total = Decimal(0)
        if self.percent is not None:
            total += self.percent * abs(nominal) / 100
        if self.ppm is not None:
            total += self.ppm * abs(nominal) / 1_000_000
        if self.units is not None:
            total += self.units
        if self.range_ppm is not None and range_ is not None:
            total += self.range_ppm * abs(range_) / 1_000_000
        return total

    def to_json(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class SetupStep:
    kind = "setup"
    index: int
    name: str
    title: Mapping[str, str] | None
    role: str
    reset: bool = False
    self_test: bool = False
    function: str | None = None
    range: Decimal | None = None
    unit: str | None = None


@dataclass(frozen=True)
class PromptStep:
    kind = "prompt"
    index: int
    name: str
    title: Mapping[str, str] | None
    message: Mapping[str, str]


@dataclass(frozen=True)
class MeasureStep:
    """One point of a measure step: set the source to `nominal`, settle, take `readings`
    readings of the read role into `cells` (one cell id per reading), compare the mean with
    ±tolerance."""

    kind = "measure"
    index: int
    name: str
    title: Mapping[str, str] | None
    point: int  # from 1
    function: str
    unit: str
    nominal: Decimal
    range: Decimal | None
    source: str | None
    read: str
    settle: Mapping[str, Any]  # rule, last, below, interval, seconds, max_seconds (Decimals)
    readings: int
    interval: Decimal
    cells: tuple[str, ...]
    tolerance: Tolerance | None
    standard_accuracy: Tolerance | None

    def tolerance_limit(self) -> Decimal | None:
        return None if self.tolerance is None else self.tolerance.limit(self.nominal, self.range)

    def standard_limit(self) -> Decimal | None:
        if self.standard_accuracy is None:
            return None
        return self.standard_accuracy.limit(self.nominal, self.range)


@dataclass(frozen=True)
class StandbyStep:
    kind = "standby"
    index: int
    name: str
    title: Mapping[str, str] | None
    roles: tuple[str, ...]


Step = SetupStep | PromptStep | MeasureStep | StandbyStep


@dataclass(frozen=True)
class Plan:
    """A procedure's concrete steps for one record (points and parameters resolved)."""

    code: str
    version: str
    template: str
    roles: Mapping[str, Mapping[str, Any]]
    steps: tuple[Step, ...]

    def source_roles(self) -> tuple[str, ...]:
        return tuple(n for n, r in self.roles.items() if r["kind"] == "source")


@dataclass(frozen=True)
class CompiledProcedure:
    definition: Mapping[str, Any]
    code: str
    version: str
    title: Mapping[str, str]
    template: str
    roles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def plan(
        self,
        parameters: Mapping[str, Any] | None = None,
        *,
        template: Mapping[str, Any] | CompiledTemplate | None = None,
    ) -> Plan:
        """The concrete steps for a record with these parameter values (parameter name or
        "param.<name>" → text; missing: the template's default). Each measure step becomes
        one step per point. `template` (its definition or compiled form) is needed when the
        procedure uses the template's parameters or points; every cell is checked to be one
        of the record's cells. Raises ProcedureError."""
        compiled = _compiled_template(template)
        params: dict[str, Any] = {}
        cell_ids: set[str] | None = None
        nominals: list[Decimal | None] = []
        if compiled is not None:
            # The template's own parsing of its parameters and points (one home per rule).
            params = compiled._parameter_values(parameters or {})
            nominals = [n for _e, n in compiled._points(params)]
            cell_ids = {c.id for c in compiled.cells(parameters or {})}
        errors = _Errors()
        steps: list[Step] = []
        for i, raw in enumerate(self.definition["steps"]):
            path = f"steps.{i}"
            kind = raw["kind"]
            name = raw.get("name", f"{kind}{i + 1}")
            title = raw.get("title")
            if kind == "setup":
                conf = raw.get("configure") or {}
                steps.append(
                    SetupStep(
                        len(steps),
                        name,
                        title,
                        raw["role"],
                        bool(raw.get("reset")),
                        bool(raw.get("self_test")),
                        conf.get("function"),
                        _resolve(conf.get("range"), params, f"{path}.configure.range", errors),
                        conf.get("unit"),
                    )
                )
            elif kind == "prompt":
                steps.append(PromptStep(len(steps), name, title, raw["message"]))
            elif kind == "standby":
                roles = tuple(raw.get("roles") or self._source_roles())
                steps.append(StandbyStep(len(steps), name, title, roles))
            else:
                steps.extend(
                    self._measure_points(raw, path, name, title, params, nominals, errors, steps)
                )
            if len(steps) > MAX_PLANNED_STEPS:
                errors.add(path, f"too many steps (at most {MAX_PLANNED_STEPS})")
                break
        if cell_ids is not None:
            for step in steps:
                if isinstance(step, MeasureStep):
                    for cell in step.cells:
                        if cell not in cell_ids:
                            errors.add(
                                f"steps.{_source_index(self, step)}.cells",
                                f"the record has no cell {cell!r}",
                            )
        seen: dict[str, int] = {}
        for step in steps:
            if isinstance(step, MeasureStep):
                for cell in step.cells:
                    if cell in seen:
                        errors.add(
                            f"steps.{_source_index(self, step)}.cells",
                            f"the cell {cell!r} is filled twice",
                        )
                    seen[cell] = step.index
        errors.raise_if_any()
        return Plan(self.code, self.version, self.template, dict(self.roles), tuple(steps))

    def _source_roles(self) -> list[str]:
        return [n for n, r in self.roles.items() if r["kind"] == "source"]

    def _measure_points(self, raw, path, name, title, params, nominals, errors, steps):
        spec = raw["points"]
        if isinstance(spec, Mapping):
            points = list(nominals)
            if not points:
                errors.add(f"{path}.points", "the record has no points")
        else:
            points = [_number(v) for v in spec]
        range_ = _resolve(raw.get("range"), params, f"{path}.range", errors)
        readings = raw["readings"]
        if isinstance(readings, Mapping):
            value = _resolve(readings, params, f"{path}.readings", errors)
            readings = int(value) if value is not None and value == int(value) else 1
            if not 1 <= readings <= MAX_READINGS:
                errors.add(f"{path}.readings", f"must be from 1 to {MAX_READINGS}")
                readings = 1
        settle = {
            key: (
                value
                if key in ("rule", "last")
                else _resolve(value, params, f"{path}.settle.{key}", errors)
            )
            for key, value in raw["settle"].items()
        }
        interval = _resolve(raw.get("interval", "0"), params, f"{path}.interval", errors)
        tolerance = _tolerance(raw.get("tolerance"), params, f"{path}.tolerance", errors)
        standard = _tolerance(
            raw.get("standard_accuracy"), params, f"{path}.standard_accuracy", errors
        )
        out = []
        for number, nominal in enumerate(points, start=1):
            if nominal is None:
                errors.add(f"{path}.points", f"point {number} has no nominal value")
                continue
            cells = tuple(
                raw["cells"].replace("{point}", str(number)).replace("{repeat}", str(j))
                for j in range(1, readings + 1)
            )
            out.append(
                MeasureStep(
                    index=len(steps) + len(out),
                    name=f"{name}.{number}",
                    title=title,
                    point=number,
                    function=raw["function"],
                    unit=raw["unit"],
                    nominal=nominal,
                    range=range_,
                    source=raw.get("source"),
                    read=raw["read"],
                    settle=settle,
                    readings=readings,
                    interval=interval or Decimal(0),
                    cells=cells,
                    tolerance=tolerance,
                    standard_accuracy=standard,
                )
            )
        return out


def _source_index(proc: CompiledProcedure, step: MeasureStep) -> int:
    base = step.name.rsplit(".", 1)[0]
    for i, raw in enumerate(proc.definition["steps"]):
        if raw.get("name", f"{raw['kind']}{i + 1}") == base:
            return i
    return 0


# --- helpers -----------------------------------------------------------------------------------


class _Errors:
    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        messages = self.errors.setdefault(path, [])
        if message not in messages:
            messages.append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            path, messages = next(iter(self.errors.items()))
            raise ProcedureError(messages[0], field=path, errors=self.errors)


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{str(value)[:40]!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{str(value)[:40]!r} is not a finite number")
    return number


def _resolve(value: Any, params: Mapping[str, Any], path: str, errors: _Errors) -> Any:
    """A number spec resolved to a Decimal (None stays None)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        name = value["parameter"]
        if name not in params:
            errors.add(path, f"the record template has no parameter {name!r}")
            return None
        found = params[name]
        if not isinstance(found, Decimal):
            errors.add(path, f"the parameter {name!r} is not a single number")
            return None
        return found
    try:
        return _number(value)
    except ValueError as exc:
        errors.add(path, str(exc))
        return None


def _tolerance(spec, params, path, errors) -> Tolerance | None:
    if spec is None:
        return None
    parts = {key: _resolve(value, params, f"{path}.{key}", errors) for key, value in spec.items()}
    for key, value in parts.items():
        if value is not None and value < 0:
            errors.add(f"{path}.{key}", "must not be negative")
    return Tolerance(**parts)


def _compiled_template(template) -> CompiledTemplate | None:
    if template is None or isinstance(template, CompiledTemplate):
        return template
    try:
        return compile_template(template)
    except TemplateError as exc:
        raise ProcedureError(f"the record template is not valid: {exc}", field="template") from None


def _parameter_refs(value: Any, path: str) -> list[tuple[str, str]]:
    """Every {"parameter": name} inside a step, with its path."""
    found = []
    if isinstance(value, Mapping):
        if set(value) == {"parameter"} and isinstance(value["parameter"], str):
            return [(value["parameter"], path)]
        for key, item in value.items():
            found += _parameter_refs(item, f"{path}.{key}")
    return found


_CELL_PATTERN = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_{}]+)*)$")


# --- compiling ---------------------------------------------------------------------------------


def compile_procedure(
    definition: Mapping[str, Any],
    *,
    template: Mapping[str, Any] | CompiledTemplate | None = None,
) -> CompiledProcedure:
    """Check a procedure definition and compile it. With `template` (the record template's
    definition or compiled form) the parameters, inputs and equipment roles it names are
    checked against it. Raises ProcedureError naming every problem with its path."""
    if not isinstance(definition, Mapping):
        raise ProcedureError("a procedure is a JSON object")
    errors = _Errors()
    raw_errors: dict[str, list[str]] = {}
    _check(definition, SCHEMA, "", raw_errors)
    for path, messages in raw_errors.items():
        for message in messages:
            errors.add(path, message)
    steps = definition.get("steps") if isinstance(definition.get("steps"), list) else []
    for i, step in enumerate(steps):
        if not isinstance(step, Mapping):
            continue
        schema = STEP_SCHEMAS.get(step.get("kind"))
        if schema is None:
            errors.add(f"steps.{i}.kind", f"must be one of {', '.join(STEP_SCHEMAS)}")
            continue
        step_errors: dict[str, list[str]] = {}
        _check(step, schema, f"steps.{i}", step_errors)
        for path, messages in step_errors.items():
            for message in messages:
                errors.add(path, message)
    errors.raise_if_any()

    compiled_template = _compiled_template(template)
    if compiled_template is not None and compiled_template.code != definition["template"]:
        errors.add(
            "template",
            f"the procedure fills {definition['template']!r}, not {compiled_template.code!r}",
        )
    roles: dict[str, dict[str, Any]] = {}
    for i, role in enumerate(definition["roles"]):
        if role["name"] in roles:
            errors.add(f"roles.{i}.name", f"the role {role['name']!r} is declared twice")
        roles[role["name"]] = dict(role)
        if compiled_template is not None and "template_role" in role:
            known = {r.name for r in compiled_template.roles}
            if role["template_role"] not in known:
                errors.add(
                    f"roles.{i}.template_role",
                    f"the record template has no equipment role {role['template_role']!r}",
                )
    names: set[str] = set()
    template_params = (
        {p.name: p for p in compiled_template.parameters} if compiled_template else None
    )
    inputs = {i.name: i for i in compiled_template.inputs} if compiled_template else None
    for i, step in enumerate(steps):
        path = f"steps.{i}"
        kind = step["kind"]
        if "name" in step:
            if step["name"] in names:
                errors.add(f"{path}.name", f"the step name {step['name']!r} is used twice")
            names.add(step["name"])
        if template_params is not None:
            for name, ref_path in _parameter_refs(step, path):
                if name not in template_params:
                    errors.add(ref_path, f"the record template has no parameter {name!r}")
        if kind == "setup":
            _check_role(step["role"], roles, f"{path}.role", errors)
            conf = step.get("configure")
            if conf:
                _check_unit(conf["function"], conf["unit"], f"{path}.configure.unit", errors)
                _check_function(roles, step["role"], conf["function"], path, errors)
        elif kind == "standby":
            for j, role in enumerate(step.get("roles", ())):
                _check_role(role, roles, f"{path}.roles.{j}", errors, kind="source")
        elif kind == "measure":
            _check_measure(step, path, roles, template_params, inputs, compiled_template, errors)
    errors.raise_if_any()
    return CompiledProcedure(
        definition=definition,
        code=definition["code"],
        version=definition["version"],
        title=definition["title"],
        template=definition["template"],
        roles=roles,
    )


def _check_role(name, roles, path, errors, *, kind: str | None = None) -> None:
    if name not in roles:
        errors.add(path, f"the role {name!r} is not declared in roles")
    elif kind is not None and roles[name]["kind"] != kind:
        errors.add(path, f"the role {name!r} is not a {kind}")


def _check_unit(function: str, unit: str, path: str, errors: _Errors) -> None:
    if not any(same_unit(unit, u) for u in FUNCTION_UNITS[function]):
        errors.add(
            path,
            f"{unit!r} is not a unit of {function} ({', '.join(FUNCTION_UNITS[function])})",
        )


def _check_function(roles, role, function, path, errors) -> None:
    declared = roles.get(role, {}).get("functions")
    if declared and function not in declared:
        errors.add(f"{path}.function", f"the role {role!r} does not do {function}")


def _check_measure(step, path, roles, template_params, inputs, template, errors) -> None:
    _check_unit(step["function"], step["unit"], f"{path}.unit", errors)
    _check_role(step["read"], roles, f"{path}.read", errors)
    _check_function(roles, step["read"], step["function"], path, errors)
    if "source" in step:
        _check_role(step["source"], roles, f"{path}.source", errors, kind="source")
        _check_function(roles, step["source"], step["function"], path, errors)
    settle = step["settle"]
    needed = {"stdev": ("last", "below", "max_seconds"), "wait": ("seconds",)}[settle["rule"]]
    for key in needed:
        if key not in settle:
            errors.add(f"{path}.settle.{key}", f"is required for the {settle['rule']} rule")
    for key in ("last", "below"):
        if settle["rule"] == "wait" and key in settle:
            errors.add(f"{path}.settle.{key}", "belongs to the stdev rule")
    for key, value in settle.items():
        if key not in ("rule", "last") and not isinstance(value, Mapping):
            try:
                if _number(value) < 0:
                    errors.add(f"{path}.settle.{key}", "must not be negative")
            except ValueError as exc:
                errors.add(f"{path}.settle.{key}", str(exc))
    if isinstance(step["points"], list):
        for j, value in enumerate(step["points"]):
            try:
                _number(value)
            except ValueError as exc:
                errors.add(f"{path}.points.{j}", str(exc))
    elif template is not None and step["points"]["parameter"] != template.points_parameter:
        errors.add(
            f"{path}.points.parameter",
            f"the record template's points come from {template.points_parameter!r}",
        )
    cells = step["cells"]
    match = _CELL_PATTERN.match(cells)
    if not match or "{point}" not in cells:
        errors.add(f"{path}.cells", "must look like <input>.{point} or <input>.{point}.{repeat}")
        return
    repeated = "{repeat}" in cells
    readings = step["readings"]
    if not repeated and readings != 1:
        errors.add(f"{path}.cells", "several readings need {repeat} in the cell pattern")
    if inputs is not None:
        name = match.group(1)
        item = inputs.get(name)
        if item is None:
            errors.add(f"{path}.cells", f"the record template has no input {name!r}")
        else:
            if item.repeated != repeated:
                errors.add(
                    f"{path}.cells",
                    f"the input {name!r} is "
                    + ("repeated: use {point}.{repeat}" if item.repeated else "read once"),
                )
            if "{" not in item.unit and unit_key(item.unit) != unit_key(step["unit"]):
                errors.add(
                    f"{path}.unit", f"the input {name!r} is in {item.unit}, not {step['unit']}"
                )


# --- loading -----------------------------------------------------------------------------------

BUILTIN_DIRECTORY = Path(__file__).with_name("builtin_procedures")


def load_procedure(text: str) -> dict[str, Any]:
    """A procedure definition from its JSON text (or YAML text, when PyYAML is installed)."""
    return load_definition(text, error=ProcedureError, what="a procedure")


def builtin_procedures() -> dict[str, dict[str, Any]]:
    """The built-in procedure definitions (package data), by code."""
    return builtin_definitions(BUILTIN_DIRECTORY, error=ProcedureError, what="a procedure")
