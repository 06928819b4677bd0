"""Presentation of audit events on the audit page."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

ACTOR_TYPES = {
    "user": _("user"),
    "token": _("API token"),
    "system": _("system"),
    "anonymous": _("anonymous"),
}


@register.filter
def actor_type(code: str) -> str:
    return ACTOR_TYPES.get(code, code)


def _text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


@register.filter
def change_rows(changes) -> list[tuple[str, str, str]]:
    """(field, before, after) rows for an event's recorded changes."""
    rows = []
    for name, value in (changes or {}).items():
        if isinstance(value, dict) and set(value) == {"before", "after"}:
            rows.append((name, _text(value["before"]), _text(value["after"])))
        elif isinstance(value, dict) and set(value) <= {"added", "removed"}:
            rows.append(
                (
                    name,
                    _text(value.get("removed", [])) if "removed" in value else "",
                    _text(value.get("added", [])) if "added" in value else "",
                )
            )
        else:
            rows.append((name, "", _text(value)))
    return rows
