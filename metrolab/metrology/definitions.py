"""Loading the lab's JSON definitions (record templates, instrument procedures): one text →
one mapping, and a folder of built-in definitions by code. YAML is read too when PyYAML is
installed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_definition(text: str, *, error: type[Exception], what: str) -> dict[str, Any]:
    """A definition from its JSON text (or YAML text, when PyYAML is installed); `error` is
    raised, naming `what` ("a template"), when the text is neither or not an object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as json_error:
        try:
            import yaml  # optional: only when already installed
        except ImportError:
            raise error(f"not valid JSON: {json_error}") from None
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise error(f"neither valid JSON nor valid YAML: {exc}") from None
    if not isinstance(value, dict):
        raise error(f"{what} is a JSON object")
    return value


def builtin_definitions(
    directory: Path, *, error: type[Exception], what: str
) -> dict[str, dict[str, Any]]:
    """The definitions of the *.json files in `directory` (package data), by their code."""
    result = {}
    for path in sorted(directory.glob("*.json")):
        definition = load_definition(path.read_text(encoding="utf-8"), error=error, what=what)
        result[definition["code"]] = definition
    return result
