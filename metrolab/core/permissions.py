"""Who may do what inside a service: the one home for the checks services make (R7.2, R6.4).

Pages and API operations declare who may reach them (`core/access.py`); a service checks again,
because it is also called by the worker, the CLI, the demo and other services. Every service
takes a required `actor`:

- a person (`User`) or an API token's user: checked against the roles the service names;
- `SYSTEM`, the lab's own processes (the demo seeder, the worker, scheduled jobs, the CLI):
  trusted by role checks, recorded in the audit log as the system;
- anything else (an anonymous visitor, None) is not trusted: a role check refuses it.

    from metrolab.core.permissions import SYSTEM, require_person, require_roles

    require_roles(actor, METHOD_EDITORS, message=_("Only the quality manager ..."))
    user = require_person(actor, (DIRECTOR,))   # a person must act (signatures, approvals)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from metrolab.core.errors import CoreRefusal
from metrolab.core.service import ServiceError


class SystemActor:
    """The lab's own processes. Not a person: it signs nothing, and holds no role, but role
    checks let it pass, because what it does was decided by a person or by the lab's rules."""

    pk = None
    is_authenticated = False
    is_anonymous = False
    is_active = True
    is_superuser = False

    def __init__(self, name: str = "system"):
        self.name = name

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"SystemActor({self.name!r})"

    def has_role(self, *codes: str) -> bool:
        return False

    def get_username(self) -> str:
        return self.name


SYSTEM = SystemActor()


def is_system(actor: Any) -> bool:
    return isinstance(actor, SystemActor)


def current_actor() -> Any:
    """Who runs the service being called, for code a service calls without naming its actor
    (listeners, notices): that call's actor, or SYSTEM outside any service."""
    from metrolab.core.context import current_service

    call = current_service()
    return call.actor if call is not None else SYSTEM


def person(actor: Any):
    """The signed-in person behind `actor` (a user, or an API token's user), or None for the
    system and for anonymous visitors."""
    user = getattr(actor, "user", None) if actor.__class__.__name__ == "ApiToken" else actor
    if getattr(user, "is_authenticated", False) and getattr(user, "pk", None) is not None:
        return user
    return None


def holds(actor: Any, roles: Iterable[str]) -> bool:
    """Whether `actor` is a person who is a superuser or holds one of `roles`."""
    user = person(actor)
    return user is not None and (user.is_superuser or user.has_role(*roles))


def require_roles(actor: Any, roles: Iterable[str], *, message: str | None = None):
    """Refuse (403, code "forbidden") unless `actor` is the system or a person holding one of
    `roles` (or a superuser). Returns the person, or None for the system."""
    if is_system(actor):
        return None
    if not holds(actor, roles):
        raise ServiceError(
            message or _("You are not allowed to do this."), code=CoreRefusal.FORBIDDEN
        )
    return person(actor)


def require_person(actor: Any, roles: Iterable[str] | None = None, *, message: str | None = None):
    """A person must act (a signature, an approval, a record only a person can make): refuse
    the system and anonymous visitors; with `roles`, the person must hold one of them."""
    user = person(actor)
    if user is None:
        raise ServiceError(_("A signed-in person must record this."), code=CoreRefusal.FORBIDDEN)
    if roles is not None and not holds(user, roles):
        raise ServiceError(
            message or _("You are not allowed to do this."), code=CoreRefusal.FORBIDDEN
        )
    return user
