"""What other apps show on a customer's card (R9.1), below the instrument register: each
panel is a template and a function `context(user, customer)` giving its variables. Commissions
adds the customer's latest commissions (CommissionsConfig.ready)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CardPanel:
    template: str
    context: Callable[[Any, Any], dict[str, Any]]


card_panels: list[CardPanel] = []


def register_card_panel(panel: CardPanel) -> None:
    if panel not in card_panels:
        card_panels.append(panel)
