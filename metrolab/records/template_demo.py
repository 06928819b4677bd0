"""The demo's record templates: the built-ins, approved at load (R6.2d)."""

from __future__ import annotations

from typing import Any

from metrolab.records.services import templates_load_builtin


def demo_load_builtin_templates(*, actor: Any) -> dict[str, str]:
    """Load the built-in templates (idempotent: a second run adds nothing)."""
    return templates_load_builtin(actor=actor)
