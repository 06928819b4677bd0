"""What other apps show on a piece of equipment's card (R6.5), below its details and status:
each panel is a template and a function `context(user, equipment)` giving its variables (the
template reads them as `panel`). Instruments adds the instrument connection, its checks and
the procedure runs that used the piece (InstrumentsConfig.ready)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DetailPanel:
    template: str
    context: Callable[[Any, Any], dict[str, Any]]


detail_extenders: list[DetailPanel] = []


def register_detail_panel(panel: DetailPanel) -> None:
    if panel not in detail_extenders:
        detail_extenders.append(panel)


def detail_panels(user, equipment) -> list[dict[str, Any]]:
    """The panels of `equipment`'s card for `user`: [{"template", "context"}]; a panel whose
    context is None is left out (nothing to show to this user)."""
    shown = []
    for panel in detail_extenders:
        context = panel.context(user, equipment)
        if context is not None:
            shown.append({"template": panel.template, "context": context})
    return shown
