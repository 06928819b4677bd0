"""Who is acting, for which request, and under which service: carried through one call stack.

The request middleware fills the request part; the `service` decorator fills the service part;
the audit log reads both (R7.2d: complete system log). Context variables keep concurrent
requests (threads, async tasks) apart.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RequestInfo:
    """What the audit log needs to know about the HTTP request being served."""

    request_id: str = ""
    client_ip: str | None = None
    user: Any = None  # an authenticated user, or None
    token: Any = None  # the ApiToken used, when the request authenticated with one


@dataclass
class ServiceCall:
    """One running service: its action name, who asked and why."""

    action: str
    actor: Any = None
    reason: str = ""
    wrote: list[str] = field(default_factory=list)


_request: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar(
    "metrolab_request", default=None
)
_service: contextvars.ContextVar[ServiceCall | None] = contextvars.ContextVar(
    "metrolab_service", default=None
)


def current_request() -> RequestInfo | None:
    return _request.get()


def set_request(info: RequestInfo | None) -> contextvars.Token:
    return _request.set(info)


def reset_request(token: contextvars.Token) -> None:
    _request.reset(token)


def update_request(**changes: Any) -> None:
    """Refine the current request info (e.g. once authentication has identified the user).
    Outside a request (no info set by the middleware) there is nothing to refine: creating
    one here would outlive the call and lend its user to later, unrelated audit events."""
    info = _request.get()
    if info is not None:
        _request.set(RequestInfo(**{**info.__dict__, **changes}))


def current_service() -> ServiceCall | None:
    return _service.get()


def push_service(call: ServiceCall) -> contextvars.Token:
    return _service.set(call)


def pop_service(token: contextvars.Token) -> None:
    _service.reset(token)
