"""How the core tells people something (the audit chain alert, R7.2b) without knowing how
messages travel: the notifications app registers its `notify()` here in
NotificationsConfig.ready. The keyword arguments are notify()'s (event, subject, body,
recipient_user, channels, payload, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

senders: list[Callable[..., Any]] = []


def notify(**message: Any) -> None:
    """Give the message to every registered sender."""
    for send in senders:
        send(**message)
