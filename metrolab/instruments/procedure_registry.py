"""What procedures add to the platform when the instruments app is ready (R8b): their menu
entry beside the record templates' and the demo's built-in procedures (after the built-in
record templates they fill)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


def demo_load_builtin_procedures(*, actor: Any) -> dict[str, str]:
    """Load the built-in procedures (idempotent: a second run adds nothing)."""
    from metrolab.instruments.procedure_services import procedures_load_builtin

    return procedures_load_builtin(actor=actor)


def register_procedures() -> None:
    from metrolab.core.context_processors import NavItem, register_modules
    from metrolab.core.demo import register_demo

    register_modules(NavItem("procedures:list", _("Procedures"), "⚙", group="quality"))
    # After the built-in record templates (35), before the tasks flow (40).
    register_demo(demo_load_builtin_procedures, order=36)
