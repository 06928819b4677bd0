"""The service-layer mechanism: every write of lab data goes through a function decorated with
`@service("<entity>.<action>")` (R6.2c, R7.2d).

The decorator runs the function in one transaction and names the audit events its writes
produce (`AuditedModel` records them automatically, with before and after values). Every
service takes a required keyword argument `actor=`: the person acting (`request.user`, an API
token's user) or `metrolab.core.permissions.SYSTEM` for the lab's own processes (the demo,
the worker, the CLI). A call without an actor, or with `actor=None`, is a programming error
(TypeError): it would otherwise skip the checks the service makes (core/permissions.py). A
service called by another service is given its actor explicitly (`actor=actor`). The reason
comes from the keyword argument `reason=`. A service that wrote no audited row still leaves
one event, so that every service call is visible in the log. A reason longer than
`text.REASON` is refused before anything runs: the audit log keeps the reason in every event
the call leaves (R7.2).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from metrolab.core import audit
from metrolab.core.context import ServiceCall, current_service, pop_service, push_service
from metrolab.core.errors import CoreRefusal


class ServiceError(Exception):
    """A refusal a user can cause and understand (shown as is, in their language). `code` is
    a member of a refusal-code enum (metrolab/core/errors.py), whose status the API answers
    with; by default a refusal of the values sent (422)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = CoreRefusal.INVALID,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self._errors = errors or {}

    @property
    def errors(self) -> dict[str, list[str]]:
        """Every field at fault at once ({field: [messages]}; "" for the object as a whole)
        when the refusal comes from validating a whole object (core.validation); otherwise
        the one field at fault (its current name: an API may rename it to its own)."""
        if self._errors:
            return self._errors
        return {self.field: [self.message]} if self.field else {}

    @errors.setter
    def errors(self, value: dict[str, list[str]]) -> None:
        self._errors = value


def service(action: str, *, record_calls: bool = True) -> Callable:
    """Make `func` a service named `action`. With record_calls=False a call that changed
    nothing leaves no event (for idempotent housekeeping such as role synchronisation)."""

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from metrolab.core.text import REASON, text_checked

            actor = kwargs.get("actor")
            if actor is None:
                raise TypeError(
                    f"{func.__module__}.{func.__qualname__}() (service {action!r}) needs "
                    "actor=: the person acting, or metrolab.core.permissions.SYSTEM for the "
                    "lab's own processes (the demo, the worker, the CLI)."
                )
            outer = current_service()
            reason = kwargs.get("reason") or ""
            if isinstance(reason, str):
                text_checked(reason, limit=REASON, field="reason", label=_("Reason"))
            call = ServiceCall(
                action=action,
                actor=actor,
                reason=reason,
            )
            token = push_service(call)
            try:
                with transaction.atomic():
                    audit.lock_chain()
                    result = func(*args, **kwargs)
                    if record_calls and not call.wrote:
                        audit.record(action, operation="call", reason=call.reason)
            finally:
                pop_service(token)
            if outer is not None and call.wrote:
                outer.wrote.extend(call.wrote)
            return result

        wrapper.audit_action = action
        return wrapper

    return decorator
