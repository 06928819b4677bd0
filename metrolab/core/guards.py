"""Database guards of other apps that the test-only `flush` lifts with the audit log's.

The audit log's triggers (core/audit.py) are not the only ones: an app may make its own tables
append-only or refuse changes to locked rows (records: approved original records, their trail
and signatures). Such an app registers how to remove and re-install its triggers here, in its
``AppConfig.ready()``; `flush` (core/management/commands/flush.py) removes every registered
guard before emptying the tables where settings allow it (the test suite, between
transactional tests) and installs them again afterwards.

    from metrolab.core.guards import register_guards
    register_guards("records", install=install_guards, remove=remove_guards)

`install(connection)` and `remove(connection)` run the app's SQL on that connection (SQLite
or PostgreSQL). Nothing else lifts them: in a running lab the triggers stay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

GuardStep = Callable[[Any], None]


@dataclass(frozen=True)
class Guards:
    name: str
    install: GuardStep
    remove: GuardStep


_registry: dict[str, Guards] = {}


def register_guards(name: str, *, install: GuardStep, remove: GuardStep) -> None:
    """Register (or replace) an app's guards under `name`."""
    _registry[name] = Guards(name, install, remove)


def registered_guards() -> list[Guards]:
    return list(_registry.values())


def remove_all(connection) -> None:
    for guards in registered_guards():
        guards.remove(connection)


def install_all(connection) -> None:
    for guards in registered_guards():
        guards.install(connection)
