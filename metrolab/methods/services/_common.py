"""What the methods services share: who may edit the library, and reading the input."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _

from metrolab.core.permissions import require_roles
from metrolab.core.service import ServiceError
from metrolab.methods.roles import METHOD_EDITORS


def check_editor(actor: Any) -> None:
    """The library is kept by the quality manager and administrators; the system (the demo)
    is trusted, an anonymous visitor is not."""
    require_roles(
        actor,
        METHOD_EDITORS,
        message=_("Only the quality manager or an administrator may edit the methods library."),
    )


def fields_copied(instance: Model, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Set the fields named in `data` (text without surrounding blanks); a field not in
    `allowed` is refused."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ServiceError(_("Unknown field: %s") % ", ".join(sorted(unknown)))
    for name, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(instance, name, value)


def text(value: str) -> str:
    """Text as the services keep it: without surrounding blanks (None: "")."""
    return (value or "").strip()
