"""Presentation of audit events on the audit page."""

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from metrolab.core import audit_names

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
def action_name(code: str) -> str:
    return audit_names.action_name(code)


@register.filter
def object_type_name(code: str) -> str:
    return audit_names.object_type_name(code)


def _field_label(object_type: str, name: str) -> str:
    """A recorded field's verbose name (`status` → 状态); the name when the model has none."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return name
    for candidate in (name, name.removesuffix("_id")):
        try:
            field = model._meta.get_field(candidate)
        except FieldDoesNotExist:
            continue
        return str(getattr(field, "verbose_name", name))
    return name


@register.filter
def change_rows(event_or_changes) -> list[tuple[str, str, str]]:
    """(field, before, after) rows for an event's recorded changes, fields named as their
    models label them."""
    changes = getattr(event_or_changes, "changes", event_or_changes)
    object_type = getattr(event_or_changes, "object_type", "")
    rows = []
    for code, value in (changes or {}).items():
        name = _field_label(object_type, code) if object_type else code
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
