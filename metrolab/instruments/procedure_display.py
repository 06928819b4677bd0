"""A procedure definition as people read it (R8b; docs/procedures.md): its roles and its steps
as table rows (function, range, nominal, tolerance, roles, settle rule, readings, target
cells), each row with the problems found at its place (paths "steps.3..." / "roles.1...").
Pure presentation: nothing here checks the definition (`compile_procedure` does)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _


def label(value: Any) -> str:
    """A {"zh", "en"} label in the active language."""
    if isinstance(value, Mapping):
        first = "zh" if (get_language() or "zh").startswith("zh") else "en"
        return str(value.get(first) or value.get("en") or value.get("zh") or "")
    return str(value or "")


def number(value: Any) -> str:
    """A number as written, or the record template's parameter it comes from."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        # named as the record's cells name it (param.<name>)
        return _("parameter %(name)s") % {"name": f"param.{value.get('parameter', '?')}"}
    return str(value)


#: The step and role kinds of the format (docs/procedures.md), as people read them.
STEP_KINDS = {
    "setup": gettext_lazy("set up"),
    "prompt": gettext_lazy("operator prompt"),
    "measure": gettext_lazy("measure"),
    "standby": gettext_lazy("standby"),
}
ROLE_KINDS = {"source": gettext_lazy("signal source"), "meter": gettext_lazy("meter")}


def tolerance(spec: Any, unit: str = "") -> str:
    """± the parts of a tolerance, e.g. "± (10 ppm of reading + 5 ppm of range)"."""
    if not isinstance(spec, Mapping) or not spec:
        return ""
    parts = []
    for key, value in spec.items():
        if key == "percent":
            parts.append(_("%(value)s %% of nominal") % {"value": number(value)})
        elif key == "ppm":
            parts.append(_("%(value)s ppm of nominal") % {"value": number(value)})
        elif key == "range_ppm":
            parts.append(_("%(value)s ppm of range") % {"value": number(value)})
        else:
            parts.append(f"{number(value)} {unit}".strip())
    return "± (" + " + ".join(parts) + ")" if len(parts) > 1 else "± " + parts[0]


def settle(spec: Any) -> str:
    if not isinstance(spec, Mapping):
        return ""
    if spec.get("rule") == "wait":
        return _("wait %(seconds)s s") % {"seconds": number(spec.get("seconds"))}
    text = _("standard deviation of the last %(n)s readings below %(below)s") % {
        "n": spec.get("last", "?"),
        "below": number(spec.get("below")),
    }
    extra = []
    if "interval" in spec:
        extra.append(_("every %(s)s s") % {"s": number(spec["interval"])})
    if "max_seconds" in spec:
        extra.append(_("at most %(s)s s") % {"s": number(spec["max_seconds"])})
    return f"{text} ({', '.join(extra)})" if extra else text


def _points(spec: Any) -> str:
    if isinstance(spec, Mapping):
        return _("the record's points (%(name)s)") % {"name": number(spec)}
    if isinstance(spec, list):
        return ", ".join(str(v) for v in spec)
    return ""


def _faults(errors: Mapping[str, list[str]], prefix: str) -> list[dict[str, Any]]:
    return [
        {"path": path, "messages": messages}
        for path, messages in errors.items()
        if path == prefix or path.startswith(prefix + ".")
    ]


def step_rows(definition: Any, errors: Mapping[str, list[str]] | None = None) -> list[dict]:
    """One row per step of the definition, with the problems at its place."""
    errors = errors or {}
    steps = definition.get("steps") if isinstance(definition, Mapping) else None
    rows = []
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        step = step if isinstance(step, Mapping) else {}
        kind = str(step.get("kind", ""))
        unit = str(step.get("unit", ""))
        configure = step.get("configure") if isinstance(step.get("configure"), Mapping) else {}
        roles = ""
        if kind == "measure":
            roles = " → ".join(str(r) for r in (step.get("source"), step.get("read")) if r)
        elif kind == "setup":
            roles = str(step.get("role", ""))
        elif kind == "standby":
            roles = ", ".join(str(r) for r in step.get("roles") or []) or _("every source")
        function = step.get("function") or configure.get("function") or ""
        rows.append(
            {
                "index": i + 1,
                "path": f"steps.{i}",
                "kind": kind,
                "kind_label": str(STEP_KINDS.get(kind, kind)),
                "name": str(step.get("name", "")),
                "title": label(step.get("title")) or label(step.get("message")),
                "function": str(function),
                "unit": unit or str(configure.get("unit", "")),
                "range": number(step.get("range", configure.get("range"))),
                "nominal": _points(step.get("points")),
                "tolerance": tolerance(step.get("tolerance"), unit),
                "roles": roles,
                "settle": settle(step.get("settle")),
                "readings": number(step.get("readings")),
                "cells": str(step.get("cells", "")),
                "faults": _faults(errors, f"steps.{i}"),
            }
        )
    return rows


def role_rows(definition: Any, errors: Mapping[str, list[str]] | None = None) -> list[dict]:
    """One row per role: its name, label, kind, functions and the record template's role."""
    errors = errors or {}
    roles = definition.get("roles") if isinstance(definition, Mapping) else None
    rows = []
    for i, role in enumerate(roles if isinstance(roles, list) else []):
        role = role if isinstance(role, Mapping) else {}
        rows.append(
            {
                "name": str(role.get("name", "")),
                "label": label(role.get("label")),
                "kind": str(role.get("kind", "")),
                "kind_label": str(ROLE_KINDS.get(role.get("kind"), role.get("kind") or "")),
                "functions": ", ".join(str(f) for f in role.get("functions") or []),
                "template_role": str(role.get("template_role", "")),
                "faults": _faults(errors, f"roles.{i}"),
            }
        )
    return rows


def other_faults(errors: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """The problems not at a step or a role (the whole, code, template, format...)."""
    return [
        {"path": path, "messages": messages}
        for path, messages in errors.items()
        if not (path.startswith("steps.") or path.startswith("roles."))
    ]
